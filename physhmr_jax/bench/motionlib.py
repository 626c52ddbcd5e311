"""MotionLib lookup cost against one MJX control step at the same batch size.

``physhmr bench motionlib --num-envs 4096 --json`` times ``MotionLib.state_at`` for N
(clip, time) pairs (jitted, steady state) and one vmapped MJX control step for N
humanoids, and reports the ratio (target: < 5%).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from physhmr_jax.bench.env import initial_states
from physhmr_jax.humanoid import simulation
from physhmr_jax.humanoid.quiet_mjx import mjx
from physhmr_jax.motion.library import build_motion_lib
from physhmr_jax.motion.procedural import generate_library


def _time(fn, *args, repeats: int) -> float:
    jax.block_until_ready(fn(*args))
    t0 = time.perf_counter()
    for _ in range(repeats):
        out = fn(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - t0) / repeats


def run_motionlib_bench(num_envs: int, *, seed: int = 0) -> dict:
    lib = build_motion_lib(generate_library(num_clips_per_type=2, seed=seed))
    clip_ids, times = lib.sample(jax.random.PRNGKey(seed), num_envs)
    lookup = jax.jit(lambda motion_lib, ids, t: motion_lib.state_at(ids, t))
    lookup_s = _time(lookup, lib, clip_ids, times, repeats=20)

    humanoid = simulation.make_humanoid()
    qpos, targets = initial_states(humanoid, num_envs, seed)
    model = humanoid.mjx_model

    data = jax.jit(jax.vmap(lambda q: mjx.forward(model, mjx.make_data(model).replace(qpos=q))))(
        jnp.asarray(qpos, jnp.float32)
    )
    step = jax.jit(jax.vmap(lambda d, c: simulation.pd_step(model, d, c, humanoid.substeps)))
    step_s = _time(step, data, jnp.asarray(targets, jnp.float32), repeats=2)
    return {
        "num_envs": num_envs,
        "num_clips": lib.num_clips,
        "num_frames": lib.num_frames,
        "state_at_ms": round(1e3 * lookup_s, 3),
        "env_control_step_ms": round(1e3 * step_s, 1),
        "state_at_fraction_of_step": float(np.round(lookup_s / step_s, 5)),
        "backend": jax.default_backend(),
    }
