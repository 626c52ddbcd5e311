"""Whether each clip's centre of mass obeys its contacts (``physhmr_jax/motion/dynamics.py``).

Prints per clip: flight frames, the worst horizontal centre-of-mass acceleration and the
worst error of the vertical one against -g in flight (both 0 for a physical motion), the
worst moment about the centre of mass per kg in flight (0 physical), and the worst pull
the floor would need in contact frames (<= 0 physical), and how far the zero-moment point (where
the floor's force must act) falls outside the feet in contact frames (0 physical). A clip that fails these cannot be
tracked exactly by any policy: its error grows every flight.

Usage (``docs/expert.md``, section on the references' physics; seconds per clip):

    .venv/bin/python experiments/reference_physics.py procedural --per-type 1
    .venv/bin/python experiments/reference_physics.py runs/motions/cmu_no_cartwheels --contact-m 0.03
    .venv/bin/python experiments/reference_physics.py procedural --per-type 1 --by-body   # who swings in flight

``--by-body``: for each flight (airborne frames a..b inside the clip), the change of the angular
momentum about the centre of mass from a to b, in total and for the bodies that change it
most (their translational part m (p - c) x (v - v_c), central differences; the bodies' own
spin is left out, small for limbs). A physical flight changes it by 0.
"""

from __future__ import annotations

import argparse

import mujoco
import numpy as np

from physhmr_jax.expert.build import load_motions
from physhmr_jax.humanoid import mjcf
from physhmr_jax.motion.dynamics import CONTACT_M, ReferenceDynamics, reference_dynamics


def flight_momentum_by_body(clip, model, dynamics: ReferenceDynamics, top: int = 4) -> list[str]:
    """One line per flight (``dynamics.airborne`` frames): the change of angular momentum
    about the centre of mass over it."""
    data = mujoco.MjData(model)
    qpos = np.concatenate([clip.root_pos_m, clip.root_quat, clip.dof], axis=-1)
    pos = []
    for q in qpos:
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        pos.append(data.xipos.copy())
    pos, com = np.array(pos), dynamics.com_m
    vel, com_vel = np.gradient(pos, 1 / clip.fps, axis=0), np.gradient(com, 1 / clip.fps, axis=0)
    momentum = model.body_mass[None, :, None] * np.cross(pos - com[:, None], vel - com_vel[:, None])  # [T, B, 3]
    lines = []
    for f, end in dynamics.flights():
        change = momentum[end] - momentum[f]  # [B, 3]
        worst = np.argsort(-np.linalg.norm(change, axis=-1))[:top]
        named = ", ".join(
            f"{mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, int(b))} {np.linalg.norm(change[b]):.1f}"
            for b in worst
        )
        lines.append(
            f"  {clip.name} frames {f}-{end}: |change| {np.linalg.norm(change.sum(axis=0)):.1f} kg m^2/s; most: {named}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("motions", help="a folder of clip .npz files, clip files, or 'procedural'")
    parser.add_argument("--per-type", type=int, default=2, help="procedural clips per type")
    parser.add_argument("--contact-m", type=float, default=CONTACT_M, help="sole height that counts as a foot down")
    parser.add_argument("--by-body", action="store_true", help="each flight's change of angular momentum by body")
    args = parser.parse_args()
    clips = load_motions(args.motions, procedural_per_type=args.per_type)
    model = mjcf.build_model(clips[0].skeleton)
    print(
        f"{'clip':>12} {'flight':>6} {'horiz acc':>9} {'vert err':>8} {'moment/kg':>9} {'pull':>6} {'zmp out':>7}  (m/s^2, N m/kg, share)"
    )
    for clip in clips:
        same_body = clip.skeleton is clips[0].skeleton
        body = model if same_body else mjcf.build_model(clip.skeleton)
        dynamics = reference_dynamics(clip, body, contact_m=args.contact_m)
        s = dynamics.summary()
        print(
            f"{clip.name:>12} {s['flight_frames']:6d} {s['flight_horizontal_acc']:9.2f} "
            f"{s['flight_vertical_acc_error']:8.2f} {s['flight_torque_per_kg']:9.2f} {s['contact_pull']:6.2f} "
            f"{s['contact_zmp_outside']:7.2f}"
        )
        for line in flight_momentum_by_body(clip, body, dynamics) if args.by_body else []:
            print(line)


if __name__ == "__main__":
    main()
