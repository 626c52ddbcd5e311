"""Pixel-as-ray input cost against one MJX control step at the same batch size.

``physhmr bench rays --num-envs 4096 --json`` times the jitted
:func:`~physhmr_jax.geometry.rays.ray_observation` (12 rays lifted with a per-env camera,
offsets of the simulated joints, heading frame, masks) for N environments, compile time
apart from the steady state (after ``block_until_ready``), and compares it with one env
control step (the default humanoid's ``mjcf.control_substeps`` of MJX physics with PD
control) measured by :func:`physhmr_jax.bench.env.bench_mjx`. The env step may be measured
at fewer envs (``env_num_envs``, default 256: compiling and stepping 4096 MJX humanoids
takes minutes on a CPU) and is then scaled linearly to N, which the output states
(``env_step_scaled_from``). Linear scaling is what a CPU does (the batch runs serially
over cores); on an accelerator a small batch underuses the device, so there measure at N
(``--env-num-envs N``).

Target: the ray input costs < 2% of a control step.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from physhmr_jax.bench.env import bench_mjx, initial_states
from physhmr_jax.geometry.camera import Camera, intrinsics_from_fov, look_at
from physhmr_jax.geometry.rays import ray_observation
from physhmr_jax.humanoid import simulation
from physhmr_jax.humanoid.skeleton import NUM_BODIES, RAY_BODIES

IMAGE_PX = 1024  # a typical video frame size for the intrinsics; the cost does not depend on it


def ray_inputs(num_envs: int, seed: int = 0) -> tuple:
    """Random but plausible inputs for N envs: joints near a standing person, a camera per env.

    Returns (joints_world [N, 24, 3], root_quat [N, 4], camera with batch [N],
    kp2d [N, 12, 2], conf [N, 12]); a tenth of the keypoints are missing (conf 0).
    """
    rng = np.random.default_rng(seed)
    joints = rng.normal(scale=0.3, size=(num_envs, NUM_BODIES, 3)) + np.array([0.0, 0.0, 1.0])
    quat = rng.normal(size=(num_envs, 4))
    quat /= np.linalg.norm(quat, axis=-1, keepdims=True)
    az = rng.uniform(0, 2 * np.pi, num_envs)
    eye = np.stack([4 * np.cos(az), 4 * np.sin(az), np.full(num_envs, 1.5)], axis=-1)
    R_wc = look_at(jnp.asarray(eye, jnp.float32), jnp.zeros((num_envs, 3)) + jnp.array([0.0, 0.0, 1.0]))
    K = intrinsics_from_fov(jnp.full((num_envs,), 60.0), IMAGE_PX, IMAGE_PX)
    camera = Camera(K=K.astype(jnp.float32), R_wc=R_wc.astype(jnp.float32), t_wc=jnp.asarray(eye, jnp.float32))
    kp = rng.uniform(0, IMAGE_PX, size=(num_envs, len(RAY_BODIES), 2))
    conf = np.where(rng.random((num_envs, len(RAY_BODIES))) < 0.1, 0.0, rng.uniform(0.5, 1.0, (num_envs, 12)))
    f32 = lambda x: jnp.asarray(x, jnp.float32)
    return f32(joints), f32(quat), camera, f32(kp), f32(conf)


def bench_ray_observation(num_envs: int, *, repeats: int = 50, seed: int = 0) -> dict:
    """Compile time and steady-state time of one jitted ray_observation over N envs."""
    args = ray_inputs(num_envs, seed)
    fn = jax.jit(ray_observation)
    t0 = time.perf_counter()
    compiled = fn.lower(*args).compile()
    compile_s = time.perf_counter() - t0
    out = jax.block_until_ready(compiled(*args))  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        out = compiled(*args)
    jax.block_until_ready(out)
    step_s = (time.perf_counter() - t0) / repeats
    return {
        "compile_s": compile_s,
        "step_s": step_s,
        "obs_dim": int(out.shape[-1]),
        "finite": bool(jnp.isfinite(out).all()),
    }


def run_rays_bench(num_envs: int = 4096, *, env_num_envs: int = 256, env_control_steps: int = 2, seed: int = 0) -> dict:
    rays = bench_ray_observation(num_envs, seed=seed)
    humanoid = simulation.make_humanoid()
    qpos, targets = initial_states(humanoid, env_num_envs, seed)
    env = bench_mjx(humanoid, qpos, targets, env_control_steps)
    step_s_measured = 1.0 / env["control_steps_per_s"] * env_num_envs  # one control step of env_num_envs
    step_s = step_s_measured * num_envs / env_num_envs
    return {
        "num_envs": num_envs,
        "backend": jax.default_backend(),
        "device": str(jax.devices()[0].device_kind),
        "ray_obs_dim": rays["obs_dim"],
        "ray_obs_finite": rays["finite"],
        "ray_compile_s": round(rays["compile_s"], 3),
        "ray_observation_ms": round(1e3 * rays["step_s"], 4),
        "env_step_measured_num_envs": env_num_envs,
        "env_step_measured_ms": round(1e3 * step_s_measured, 2),
        "env_step_scaled_from": f"{env_num_envs} envs, linear" if env_num_envs != num_envs else "measured at num_envs",
        "env_compile_s": round(env["compile_s"], 2),
        "env_control_step_ms": round(1e3 * step_s, 2),
        "ray_fraction_of_step": float(np.round(rays["step_s"] / step_s, 6)),
        "target_fraction": 0.02,
    }
