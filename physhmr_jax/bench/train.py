"""What the learner costs: PPO training env steps/s against env-only stepping at the same N.

``physhmr bench train --num-envs N --json`` builds the expert (procedural motions, mean
body) with a PPO preset at N environments and measures, in one process:

  * training: the sharded, seed-vmapped iteration of :class:`physhmr_jax.agents.runner.Trainer`
    (rollout of ``horizon`` steps with policy and value networks, GAE, ``num_epochs`` x
    minibatch SGD, normaliser update); first call (compile + run) reported apart, then
    ``iterations`` timed calls;
  * env only: the same training environments stepped ``horizon`` times by the same
    rollout (:func:`physhmr_jax.agents.acting.rollout`) with a noise policy (no networks,
    no learning);
  * ``ratio_train_vs_env``: training env steps/s over env-only env steps/s (1.0 = a free
    learner); peak resident memory of the process (``ru_maxrss``).

``--set section.name=value`` (repeatable) measures an option's cost, e.g.
``--set ppo.symmetric_networks=true``.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence

import jax
import numpy as np

from physhmr_jax import config_io
from physhmr_jax.agents import acting, ppo, runner, sharding
from physhmr_jax.agents import metric_names as names
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.build import Expert, build_expert
from physhmr_jax.expert.train import make_trainer


def _env_only(expert: Expert, num_envs: int, horizon: int, iterations: int) -> dict:
    env, lib = expert.training_env, expert.motion_lib
    noise_std = float(np.exp(expert.ppo_config.log_std_init))

    def noise_policy(obs, key):
        return noise_std * jax.random.normal(key, (obs.shape[0], env.action_size)), {}

    @jax.jit
    def reset(key):
        return jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, num_envs), lib)

    @jax.jit
    def run(state, key):
        state, transitions = acting.rollout(acting.batched_step(env, lib), noise_policy, state, key, horizon)
        return state, transitions.reward.mean()

    state = reset(jax.random.PRNGKey(0))
    start = time.perf_counter()
    state, _ = jax.block_until_ready(run(state, jax.random.PRNGKey(1)))
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(iterations):
        state, _ = run(state, jax.random.PRNGKey(2 + i))
    jax.block_until_ready(state)
    steady_s = (time.perf_counter() - start) / iterations
    return {"env_compile_and_first_s": first_s, "env_seconds_per_horizon": steady_s,
            "env_only_steps_per_s": num_envs * horizon / steady_s}  # fmt: skip


def device_description() -> str:
    """The devices a benchmark ran on, for its JSON: ``platform xN (kind)``."""
    return f"{jax.devices()[0].platform} x{len(jax.devices())} ({jax.devices()[0].device_kind})"


def time_trainer(trainer: runner.Trainer, env_data, iterations: int) -> dict:
    """Init, the first (compiling) iteration, then ``iterations`` timed ones of ``trainer``."""
    env_data = trainer.place_env_data(env_data)
    start = time.perf_counter()
    state = jax.block_until_ready(trainer.init(jax.random.PRNGKey(0), env_data))
    init_s = time.perf_counter() - start
    start = time.perf_counter()
    state, metrics = jax.block_until_ready(trainer.step(state, env_data))
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(iterations):
        state, metrics = trainer.step(state, env_data)
    jax.block_until_ready((state, metrics))
    return {
        "init_s": init_s,
        "compile_and_first_s": first_s,
        "seconds_per_iteration": (time.perf_counter() - start) / iterations,
        "reward_mean_last": float(np.mean(sharding.to_host(metrics[names.REWARD_MEAN]))),
    }


def run_train_bench(
    *, num_envs: int = 1024, preset: str = "cpu", iterations: int = 3, settings: Sequence[tuple[str, object]] = ()
) -> dict:
    """Training and env-only env steps/s of ``preset`` at ``num_envs`` (one seed), with
    ``settings`` (``(section.name, value)``, as ``--set`` gives them) applied last."""
    overrides = {"num_envs": num_envs, "num_seeds": 1}
    cfg = ppo.get_config(expert_config.PRESETS[preset]["ppo"])
    batch = num_envs * cfg.horizon
    if batch % cfg.minibatch_size:  # keep the preset's minibatch size when it divides
        overrides["minibatch_size"] = batch // max(1, round(batch / cfg.minibatch_size))
    config = expert_config.default_config(preset, **overrides)
    config_io.set_values(config, settings)
    expert = build_expert(config)
    timing = time_trainer(make_trainer(expert), expert.motion_lib, iterations)
    train_sps = num_envs * expert.ppo_config.horizon / timing["seconds_per_iteration"]
    train_peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    env = _env_only(expert, num_envs, expert.ppo_config.horizon, iterations)
    return {
        "device": device_description(),
        "preset": preset,
        "num_envs": num_envs,
        "horizon": expert.ppo_config.horizon,
        "num_epochs": expert.ppo_config.num_epochs,
        "minibatch_size": expert.ppo_config.minibatch_size,
        "policy_hidden": list(expert.ppo_config.policy_hidden),
        "settings": {name: value for name, value in settings},
        "init_s": timing["init_s"],
        "train_compile_and_first_s": timing["compile_and_first_s"],
        "train_seconds_per_iteration": timing["seconds_per_iteration"],
        "train_env_steps_per_s": train_sps,
        **env,
        "ratio_train_vs_env": train_sps / env["env_only_steps_per_s"],
        "peak_rss_gib_after_training": train_peak_gib,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "reward_mean_last": timing["reward_mean_last"],
    }


__all__ = ["device_description", "run_train_bench", "time_trainer"]
