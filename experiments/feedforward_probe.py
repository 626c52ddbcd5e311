"""How long PD on the reference holds each clip with an inverse-dynamics feed-forward term.

A PD servo (``<position kp kv>``: force = kp (target - q) - kv qdot) at the reference pose
and velocity gives force -kv qdot_ref: it supplies none of the torque the reference motion
needs (gravity, inertia, ground reaction through the stance leg). The torque it needs,
tau_ref, is MuJoCo's inverse dynamics of the reference (``mj_inverse`` at the reference qpos,
qvel and a finite-difference qacc, contacts included); the target that makes the servo
supply it at the reference state is

    target = dof_ref + (tau_ref + kv dof_vel_ref) / kp.

The first 6 components of the inverse (the pelvis' free joint) have no actuator: they are the
force a "hand of god" would need, reported as a measure of how physical the reference is.
This probe plays every clip from its first frame with that target (scaled terms below) and
prints the frame at which PHC's failure rule (mean body distance > 0.5 m) first fires:

    .venv/bin/python experiments/feedforward_probe.py runs/motions/cmu2

Rows: lead 0.2 s without feed-forward (today's best open-loop offset, docs/expert.md), the
exact velocity term kv/kp, and both with tau_ref / kp scaled by 0.5 and 1. One compiled
program serves every row (the targets are an argument).
"""

from __future__ import annotations

import argparse
import copy
import time

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

from physhmr_jax.eval.metrics import SUCCESS_THRESHOLD_M
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.build import build_expert
from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.simulation import qpos_qvel_from_state
from physhmr_jax.humanoid.skeleton import BODY_NAMES, FOOT_BODIES


def reference_torques(expert, steps: int, contact_height_m: float) -> tuple[np.ndarray, ...]:
    """(tau [C, steps, 69] at each step's target time, the reference dof velocity there
    [C, steps, 69], root force [C, steps] N, root torque [C, steps] N m): ``mj_inverse`` of
    the reference, qacc by central differences."""
    env, lib, model = expert.env, expert.motion_lib, expert.humanoid.mj_model
    h = 0.5 * env.dt
    times = (np.arange(steps) + 1) * env.dt  # the target time of step k is (k + 1) dt
    clips = np.arange(lib.num_clips)

    @jax.jit
    def states(t):
        grid_c, grid_t = jnp.meshgrid(jnp.asarray(clips), t, indexing="ij")
        return qpos_qvel_from_state(lib.state_at(grid_c, grid_t))  # times clamped to each clip

    qpos, qvel = (np.asarray(x, np.float64) for x in states(jnp.asarray(times)))
    _, qvel_after = (np.asarray(x, np.float64) for x in states(jnp.asarray(times + h)))
    _, qvel_before = (np.asarray(x, np.float64) for x in states(jnp.asarray(times - h)))
    qacc = (qvel_after - qvel_before) / (2 * h)
    # The inverse without contacts: the generalised force the whole motion needs, pelvis
    # included. The ground's share is then the point forces at the sole points within
    # contact_height_m of the floor that best explain the pelvis' 6 components (damped least
    # squares, no friction cone: a probe, not a contact solver), and the joints' torque is
    # the rest.
    free_model = copy.copy(model)
    free_model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONTACT
    data = mujoco.MjData(free_model)
    sole_local = mjcf.sole_points_local(expert.humanoid.skeleton)
    sole_bodies = [b + 1 for b in FOOT_BODIES]  # MuJoCo body 0 is the world
    assert [model.body(b).name for b in sole_bodies] == [BODY_NAMES[b] for b in FOOT_BODIES]
    jacp = np.zeros((3, model.nv))
    tau = np.zeros(qvel.shape)
    residual = np.zeros(qvel.shape[:-1] + (6,))
    for c in clips:
        for k in range(steps):
            data.qpos[:], data.qvel[:], data.qacc[:] = qpos[c, k], qvel[c, k], qacc[c, k]
            mujoco.mj_inverse(free_model, data)
            need = data.qfrc_inverse.copy()
            jacobians = []
            for body, local in zip(sole_bodies, sole_local, strict=True):
                point = data.xpos[body] + data.xmat[body].reshape(3, 3) @ local
                if point[2] < contact_height_m:
                    mujoco.mj_jac(free_model, data, jacp, None, point, body)
                    jacobians.append(jacp.copy())
            if jacobians:
                jc = np.concatenate(jacobians)  # [3n, nv]: generalised force = jc.T @ f
                a = jc[:, :6].T
                f = a.T @ np.linalg.solve(a @ a.T + 1e-6 * np.eye(6), need[:6])
                need = need - jc.T @ f
            tau[c, k] = need
            residual[c, k] = need[:6]
    return (
        tau[..., 6:],
        qvel[..., 6:],
        np.linalg.norm(residual[..., :3], axis=-1),
        np.linalg.norm(residual[..., 3:], axis=-1),
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("motions", help="a clip .npz, a folder of them, or 'procedural'")
    parser.add_argument("--steps", type=int, default=0, help="control steps per clip (0: the longest clip)")
    parser.add_argument("--contact-height", type=float, default=0.03, help="sole points below this (m) bear load")
    parser.add_argument(
        "--torque-clip",
        type=float,
        default=0.0,
        help="clip |tau_ref| to this (N m; 0 = off): qacc spikes of mocap noise",
    )
    args = parser.parse_args(argv)

    expert = build_expert(expert_config.default_config("cpu"), motions=args.motions)
    env, lib, model = expert.env, expert.motion_lib, expert.humanoid.mj_model
    steps = args.steps or int(np.ceil(float(np.max(np.asarray(lib.clip_duration_s))) / env.dt))
    kp = np.asarray(model.actuator_gainprm[:, 0])
    kv = -np.asarray(model.actuator_biasprm[:, 2])
    t0 = time.perf_counter()
    tau, dof_vel, root_force, root_torque = reference_torques(expert, steps, args.contact_height)
    if args.torque_clip > 0:
        tau = np.clip(tau, -args.torque_clip, args.torque_clip)
    weight = float(np.sum(model.body_mass)) * 9.81
    print(
        f"{lib.num_clips} clip(s), {steps} steps each; inverse dynamics {time.perf_counter() - t0:.1f} s; "
        f"failure: mean body distance > {SUCCESS_THRESHOLD_M} m; body weight {weight:.0f} N"
    )
    for i, name in enumerate(expert.clips):
        n = min(int(lib.clip_num_frames[i]) - 1, steps)
        print(
            f"  {name.name}: |tau_ref| median {np.median(np.abs(tau[i, :n])):.1f} N m, max {np.abs(tau[i, :n]).max():.0f}; "
            f"offset tau/kp median {np.median(np.abs(tau[i, :n] / kp)):.3f} rad; pelvis residual force median "
            f"{np.median(root_force[i, :n]):.0f} N, torque {np.median(root_torque[i, :n]):.0f} N m"
        )

    @jax.jit
    def play(offsets):  # offsets [C, steps, 69] added to the reference dof of each step
        def one(clip_id, offset):
            start = env.reset_to(jax.random.PRNGKey(0), lib, clip_id, 0.0)

            def body(state, off):
                ref = lib.state_at(state.clip_id, state.time_s + env.dt)
                action = env.targets_to_action(ref.dof + off, env.residual_offset(ref))
                state = env.step(state, action, lib)
                return state, state.metrics["body_distance_mean_m"]

            return jax.lax.scan(body, start, offset)[1]

        return jax.vmap(one)(jnp.arange(lib.num_clips), offsets)

    rows = {}
    for lead_name, lead in (("lead 0.2 s", 0.2), ("lead kv/kp", kv / kp)):
        for scale in (0.0, 0.5, 1.0):
            rows[f"{lead_name}, tau_ref/kp x {scale:g}"] = lead * dof_vel + scale * tau / kp
    for label, offsets in rows.items():
        t0 = time.perf_counter()
        distance = np.asarray(play(jnp.asarray(offsets, jnp.float32)))
        cells = []
        for i, name in enumerate(expert.clips):
            n = min(int(lib.clip_num_frames[i]) - 1, steps)
            failed = distance[i, :n] > SUCCESS_THRESHOLD_M
            cells.append(f"{name.name}: held {int(np.argmax(failed)) if failed.any() else n}/{n}")
        print(f"{label}: " + " | ".join(cells) + f"  ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
