"""Contact quality of humanoid settings in MuJoCo C: the study behind the 3-substep default.

For each setting (a JSON object of ``mjcf.default_config`` overrides; ``{}`` = today's
default) it prints, on the mean body unless a clip brings its own:

* ``hold``: the first frame of each clip held by PD for 1 s from rest (the reference pose,
  zero velocities): the lowest sole point (mm, negative = below the floor);
* ``open``: the first two clips' PD targets played open loop for 1 s from the reference
  state: the lowest sole point (impacts; the humanoid may fall, which is fine here);
* ``stand``: the standing pose held 5 s: the pelvis's highest rise and final change (mm) and
  the largest height of the lowest sole point (mm; > 5 means both feet left the floor);
* ``perturbed``: 16 standing poses with 0.03 rad noise on every hinge held 4 s: how many
  fell (pelvis 0.2 m lower; PD alone does not balance, so compare settings, not to zero);
* MuJoCo C physics steps/s standing (single thread).

Usage (clips: any imported ``.npz``; the procedural walk_1 and run_2 always come first):

    .venv/bin/physhmr motion import ../shared/data/mocap/cmu/02_01.bvh \\
        ../shared/data/mocap/cmu/16_17.bvh --out runs/motions/cmu_walks
    .venv/bin/python experiments/contact_study.py \\
        '[{"timestep_s": 0.0055555556, "contact_solref": null, "contact_solimp": [0.9, 0.95, 0.001]}, {}]' \\
        runs/motions/cmu_walks/02_01.npz runs/motions/cmu_walks/16_17.npz
"""

from __future__ import annotations

import json
import sys
import time

import jax.numpy as jnp
import mujoco
import numpy as np

from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.kinematics import world_sole_points
from physhmr_jax.humanoid.simulation import qpos_qvel_from_state, standing_qpos
from physhmr_jax.humanoid.skeleton import mean_skeleton
from physhmr_jax.motion.clip import load_clip
from physhmr_jax.motion.library import build_motion_lib
from physhmr_jax.motion.procedural.generate import generate_clip


def _lowest_sole_mm(qs: np.ndarray, skeleton) -> np.ndarray:
    """[T] the lowest sole point per physics step (mm)."""
    return 1000 * world_sole_points(qs[:, :3], qs[:, 3:7], qs[:, 7:], skeleton)[..., 2].min(-1)


def _play(model, data, ctrl_of_step, steps: int, substeps: int) -> np.ndarray:
    qs = []
    for k in range(steps):
        data.ctrl[:] = ctrl_of_step(k)
        for _ in range(substeps):
            mujoco.mj_step(model, data)
            qs.append(data.qpos.copy())
    return np.array(qs)


def clip_rows(config, lib, clips) -> dict:
    substeps = mjcf.control_substeps(config)
    row = {}
    for i, clip in enumerate(clips):
        model = mjcf.build_model(clip.skeleton, config)
        ref = lib.state_at(jnp.array([i]), jnp.zeros(1))
        qpos, qvel = qpos_qvel_from_state(ref)
        for mode in ("hold", "open") if i < 2 else ("hold",):
            data = mujoco.MjData(model)
            data.qpos[:] = np.asarray(qpos[0])
            data.qvel[:] = 0.0 if mode == "hold" else np.asarray(qvel[0])
            mujoco.mj_forward(model, data)
            if mode == "hold":
                ctrl = lambda k, ref=ref: np.asarray(ref.dof[0])  # noqa: E731
            else:
                ctrl = lambda k, i=i: np.asarray(lib.state_at(jnp.array([i]), jnp.array([(k + 1) / 30.0])).dof[0])  # noqa: E731
            qs = _play(model, data, ctrl, 30, substeps)
            row[f"{mode} {clip.name}"] = (
                round(float(_lowest_sole_mm(qs, clip.skeleton).min()), 1) if np.isfinite(qs).all() else "NaN"
            )
    return row


def stand_rows(config) -> dict:
    skeleton = mean_skeleton()
    model = mjcf.build_model(skeleton, config)
    q0 = np.asarray(standing_qpos(skeleton))
    data = mujoco.MjData(model)
    data.qpos[:] = q0
    t0 = time.perf_counter()
    qs = _play(model, data, lambda k: q0[7:], int(round(5 * 30)), mjcf.control_substeps(config))
    c_rate = len(qs) / (time.perf_counter() - t0)
    row = {}
    if np.isfinite(qs).all():
        lowest = _lowest_sole_mm(qs, skeleton)
        row["stand rise/final/airborne (mm)"] = (
            round(1000 * float(qs[:, 2].max() - q0[2]), 1), round(1000 * float(qs[-1, 2] - q0[2]), 1),
            round(float(lowest.max()), 1),
        )  # fmt: skip
    else:
        row["stand rise/final/airborne (mm)"] = "NaN"
    rng = np.random.default_rng(0)
    ranges = mjcf.joint_ranges_rad()
    fell = 0
    for _ in range(16):
        pose = np.clip(q0[7:] + rng.normal(scale=0.03, size=q0.size - 7), ranges[:, 0], ranges[:, 1])
        data = mujoco.MjData(model)
        data.qpos[:] = q0
        data.qpos[7:] = pose
        data.qpos[2] -= world_sole_points(q0[:3], q0[3:7], pose, skeleton)[:, 2].min()
        z0 = float(data.qpos[2])
        qs = _play(model, data, lambda k, pose=pose: pose, 4 * 30, mjcf.control_substeps(config))
        fell += int(not np.isfinite(qs).all() or qs[-1, 2] < z0 - 0.2)
    row["perturbed fell (of 16)"] = fell
    row["C physics steps/s"] = round(c_rate)
    return row


def main(argv: list[str]) -> None:
    settings = json.loads(argv[0])
    clips = [generate_clip("walk", seed=1), generate_clip("run", seed=2)] + [load_clip(p) for p in argv[1:]]
    lib = build_motion_lib(clips)
    for overrides in settings:
        config = mjcf.default_config(**overrides)
        row = {"setting": overrides, "substeps": mjcf.control_substeps(config)}
        row |= clip_rows(config, lib, clips) | stand_rows(config)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
