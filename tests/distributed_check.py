"""The humanoid PPO case shared by ``tests/test_ppo.py`` and its 4-device subprocess.

``humanoid_case()`` is the smoke-config MJX humanoid on a standing clip; the test module
and this script build exactly the same programs from it.

  python tests/distributed_check.py OUT_DIR

runs one iteration of that case on a mesh of 4 forced CPU host devices (the 8 envs split
2 per device) and writes ``OUT_DIR/params.npz`` (the parameters after the iteration) and
``OUT_DIR/result.json`` (device count, shards of the env state, reward mean).
XLA_FLAGS must be set before JAX starts, hence a separate process.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
NUM_HOST_DEVICES = 4
FPS = 30.0
CLIP_FRAMES = 301  # 10 s
WALK_SPEED_M_S = 0.1


def standing_clip(num_frames: int = CLIP_FRAMES):
    """The standing pose (10 s by default) while the root glides forward at 0.1 m/s."""
    from physhmr_jax.humanoid.skeleton import mean_skeleton, standing_dof
    from physhmr_jax.motion.clip import Clip
    from physhmr_jax.motion.retarget import ground_clip

    t = np.arange(num_frames) / FPS
    root_pos = np.array([0.0, 0.0, 0.9]) + WALK_SPEED_M_S * t[:, None] * np.array([1.0, 0.0, 0.0])
    root_quat = np.tile([1.0, 0.0, 0.0, 0.0], (num_frames, 1))
    dof = np.tile(standing_dof(), (num_frames, 1))
    return ground_clip(Clip("stand_glide", FPS, root_pos, root_quat, dof, mean_skeleton()))


def humanoid_case():
    """(training env, motion_lib, config): the smoke preset on the standing clip."""
    from physhmr_jax.agents import ppo
    from physhmr_jax.envs import imitation, wrappers
    from physhmr_jax.humanoid.simulation import make_humanoid
    from physhmr_jax.motion.library import build_motion_lib

    env = imitation.ImitationEnv(make_humanoid())
    env = wrappers.wrap_for_training(env, episode_length_steps=env.config.episode_length_steps)
    return env, build_motion_lib([standing_clip()]), ppo.get_config("smoke")


def make_trainer(env, config, mesh=None, compiler_options=None):
    """The driver the expert's training runs, around PPO on ``env``."""
    from physhmr_jax.agents import ppo, runner

    return runner.Trainer(
        ppo.make_algorithm(env, config), num_seeds=config.num_seeds, mesh=mesh, compiler_options=compiler_options
    )


def flat_params(params) -> dict[str, np.ndarray]:
    import jax

    return {jax.tree_util.keystr(p): np.asarray(x) for p, x in jax.tree_util.tree_flatten_with_path(params)[0]}


def main(out_dir: Path) -> None:
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={NUM_HOST_DEVICES}"
    )
    os.environ.setdefault("MUJOCO_GL", "egl")
    import jax

    jax.config.update("jax_compilation_cache_dir", str(REPO / ".cache" / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 2.0)
    from physhmr_jax.agents import metric_names, sharding

    out_dir.mkdir(parents=True, exist_ok=True)
    env, motion_lib, config = humanoid_case()
    trainer = make_trainer(env, config, sharding.make_mesh())
    lib = trainer.place_env_data(motion_lib)
    state = trainer.init(jax.random.PRNGKey(0), lib)
    state, metrics = trainer.step(state, lib)
    np.savez(out_dir / "params.npz", **flat_params(sharding.to_host(state.training_state.params)))
    result = {
        "devices": len(jax.devices()),
        "env_state_shards": len(jax.tree.leaves(state.env_state)[0].sharding.device_set),
        "reward_mean": float(sharding.to_host(metrics[metric_names.REWARD_MEAN])[0]),
    }
    (out_dir / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
