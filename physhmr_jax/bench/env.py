"""Environment throughput: MJX humanoids under PD control vs MuJoCo C on the same model.

``physhmr bench env --num-envs N --json`` reports, from one process and one model:
  * MJX: compile time, then steady-state control steps/s (30 Hz) and physics steps/s for
    N environments stepped by one jitted, vmapped function;
  * MuJoCo C single-threaded: physics steps/s of one ``mj_step`` loop;
  * MuJoCo C multi-threaded: physics steps/s of ``mujoco.rollout`` over N states with one
    thread per core;
  * ``ratio_vs_c_single`` and ``ratio_vs_c_threads``: MJX physics steps/s over those;
  * MuJoCo C's control steps/s with the same substeps beside MJX's (physics steps/s over
    substeps), and which MJX implementation ran (``impl``: ``jax`` or ``warp``).

Every environment starts from the standing pose with a small random perturbation and
holds perturbed PD targets, so contacts and joint motion are exercised (a humanoid
falling over is fine: the cost per step is what is measured).
"""

from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp
import ml_collections
import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from physhmr_jax.humanoid import mjcf, simulation
from physhmr_jax.humanoid.quiet_mjx import mjx


def default_config() -> ml_collections.ConfigDict:
    """Settings of :func:`run_env_bench` (locked; override fields by assignment)."""
    config = ml_collections.ConfigDict(
        {
            "num_envs": 512,
            "control_steps": 30,  # timed MJX control steps (1 s of simulated time)
            "c_physics_steps": 2000,  # timed single-threaded MuJoCo C physics steps
            "seed": 0,
            "humanoid": mjcf.default_config(),  # the model benchmarked
        }
    )
    config.lock()
    return config


def initial_states(humanoid: simulation.Humanoid, num_envs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    qpos = np.tile(np.asarray(simulation.standing_qpos(humanoid.skeleton)), (num_envs, 1))
    qpos[:, 7:] += rng.normal(scale=0.05, size=(num_envs, qpos.shape[1] - 7))
    ranges = mjcf.joint_ranges_rad()
    qpos[:, 7:] = np.clip(qpos[:, 7:], ranges[:, 0], ranges[:, 1])
    targets = np.clip(qpos[:, 7:] + rng.normal(scale=0.05, size=qpos[:, 7:].shape), ranges[:, 0], ranges[:, 1])
    return qpos, targets


def bench_mjx(humanoid: simulation.Humanoid, qpos: np.ndarray, targets: np.ndarray, control_steps: int) -> dict:
    model = humanoid.mjx_model

    def init(q):
        return mjx.forward(model, mjx.make_data(model).replace(qpos=q))

    @jax.jit
    def run(data, ctrl):
        def control_step(d, _):
            return jax.vmap(simulation.pd_step, in_axes=(None, 0, 0, None))(model, d, ctrl, humanoid.substeps), None

        data, _ = jax.lax.scan(control_step, data, None, length=control_steps)
        return data

    data = jax.jit(jax.vmap(init))(jnp.asarray(qpos, jnp.float32))
    ctrl = jnp.asarray(targets, jnp.float32)
    t0 = time.perf_counter()
    compiled = run.lower(data, ctrl).compile()
    compile_s = time.perf_counter() - t0
    jax.block_until_ready(compiled(data, ctrl))  # warm-up
    t0 = time.perf_counter()
    out = jax.block_until_ready(compiled(data, ctrl))
    elapsed = time.perf_counter() - t0
    n = qpos.shape[0]
    return {
        "compile_s": compile_s,
        "control_steps_per_s": n * control_steps / elapsed,
        "physics_steps_per_s": n * control_steps * humanoid.substeps / elapsed,
        "nan_envs": int(jnp.isnan(out.qpos).any(-1).sum()),
    }


def bench_c_single(humanoid: simulation.Humanoid, qpos: np.ndarray, targets: np.ndarray, steps: int) -> float:
    model = humanoid.mj_model
    data = mujoco.MjData(model)
    data.qpos[:] = qpos[0]
    data.ctrl[:] = targets[0]
    mujoco.mj_forward(model, data)
    for _ in range(20):
        mujoco.mj_step(model, data)
    t0 = time.perf_counter()
    for _ in range(steps):
        mujoco.mj_step(model, data)
    return steps / (time.perf_counter() - t0)


def bench_c_threads(
    humanoid: simulation.Humanoid, qpos: np.ndarray, targets: np.ndarray, physics_steps: int
) -> tuple[float, int]:
    model = humanoid.mj_model
    nthread = os.cpu_count() or 1
    datas = [mujoco.MjData(model) for _ in range(nthread)]
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    state = np.zeros((qpos.shape[0], mujoco.mj_stateSize(model, spec)))
    for i in range(qpos.shape[0]):
        datas[0].qpos[:] = qpos[i]
        datas[0].qvel[:] = 0
        mujoco.mj_getState(model, datas[0], state[i], spec)
    control = np.repeat(targets[:, None, :], physics_steps, axis=1)
    mj_rollout.rollout(model, datas, state, control[:, :2])  # warm-up
    t0 = time.perf_counter()
    mj_rollout.rollout(model, datas, state, control)
    return qpos.shape[0] * physics_steps / (time.perf_counter() - t0), nthread


def run_env_bench(config: ml_collections.ConfigDict | None = None) -> dict:
    """The benchmark's result dict (``config``: :func:`default_config` when None)."""
    config = default_config() if config is None else config
    humanoid = simulation.make_humanoid(config=config.humanoid)
    qpos, targets = initial_states(humanoid, config.num_envs, config.seed)
    mjx_result = bench_mjx(humanoid, qpos, targets, config.control_steps)
    c_single = bench_c_single(humanoid, qpos, targets, config.c_physics_steps)
    # Enough rollout work to time reliably, about as many physics steps as MJX did.
    c_threads, nthread = bench_c_threads(
        humanoid, qpos, targets, max(10, config.control_steps * humanoid.substeps // 4)
    )
    return {
        "num_envs": config.num_envs,
        "device": str(jax.devices()[0].device_kind),
        "backend": jax.default_backend(),
        "impl": humanoid.config.impl,
        "jax": jax.__version__,
        "mujoco": mujoco.__version__,
        "timestep_s": humanoid.config.timestep_s,
        "substeps": humanoid.substeps,
        "contacts": humanoid.config.contacts,
        "solver_iterations": humanoid.config.solver_iterations,
        "ls_iterations": humanoid.config.ls_iterations,
        "mjx_compile_s": round(mjx_result["compile_s"], 2),
        "mjx_control_steps_per_s": round(mjx_result["control_steps_per_s"], 1),
        "mjx_physics_steps_per_s": round(mjx_result["physics_steps_per_s"], 1),
        "mjx_nan_envs": mjx_result["nan_envs"],
        "c_single_physics_steps_per_s": round(c_single, 1),
        "c_threads_physics_steps_per_s": round(c_threads, 1),
        "c_threads": nthread,
        "c_single_control_steps_per_s": round(c_single / humanoid.substeps, 1),
        "c_threads_control_steps_per_s": round(c_threads / humanoid.substeps, 1),
        "ratio_vs_c_single": round(mjx_result["physics_steps_per_s"] / c_single, 3),
        "ratio_vs_c_threads": round(mjx_result["physics_steps_per_s"] / c_threads, 3),
    }
