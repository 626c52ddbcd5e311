"""Is it the sampling noise that ends an expert's training episodes?

A trained expert's policy plays its training env (reference state initialisation, PHC's
termination when any body is 0.25 m off, auto-reset) for ``--steps`` control steps in
``--envs`` environments, once with its mean action and once per action std with Gaussian
noise about it; printed per seed: terminations (failures), truncations (clip ends, time
limit) and the mean episode length. If the mean action fails much less often than the
sampled actions, the fixed std of PPO's behaviour policy ends the training episodes, not
what the policy has learned (``docs/expert.md``).

    .venv/bin/python experiments/noise_probe.py runs/expert/walks_3substeps [--iteration N]

256 envs x 150 steps x 4 policies x 2 seeds took about 12 min on the 2-core dev CPU.
"""

from __future__ import annotations

import argparse
import math

import jax
import jax.numpy as jnp

from physhmr_jax.agents import acting, ppo
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert import evaluate as expert_evaluate
from physhmr_jax.expert.build import build_expert

LOG_STDS = (-2.9, -3.5, -4.2)  # std 0.055 (PHC), 0.030, 0.015


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="an expert run directory")
    parser.add_argument("--iteration", type=int, default=None, help="checkpoint (default: the latest)")
    parser.add_argument("--envs", type=int, default=256)
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args()
    expert = build_expert(expert_config.load_config(args.run))
    states = expert_evaluate.restore_training_state(args.run, expert, iteration=args.iteration)
    env, networks = expert.training_env, ppo.make_networks(expert.env, expert.ppo_config)

    # The std is an argument of one compiled play, not acting.make_policy's: that samples at the
    # networks' own std, which would mean one network config and one MJX compile per std.
    def play(params, normalizer, key, log_std, deterministic):
        def policy(obs, k):
            mean, _ = networks.policy(params, normalizer, obs)
            return (mean if deterministic else mean + jnp.exp(log_std) * jax.random.normal(k, mean.shape)), {}

        start = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, args.envs), expert.motion_lib)
        step = acting.batched_step(env, expert.motion_lib)
        _, transitions = acting.rollout(step, policy, start, key, args.steps)
        return transitions.terminated.sum(), transitions.truncated.sum()

    play = jax.jit(play, static_argnums=4)
    total = args.envs * args.steps
    for seed in range(int(states.iteration.shape[0])):
        state = expert_evaluate.seed_state(states, seed)
        named = (("mean action", 0.0, True), *((f"std {math.exp(s):.3f}", s, False) for s in LOG_STDS))
        for name, log_std, deterministic in named:
            ends = play(
                state.params, state.normalizer_params, jax.random.PRNGKey(1), jnp.float32(log_std), deterministic
            )
            terminated, truncated = (float(x) for x in ends)
            print(
                f"seed {seed} {name}: {total} steps, {terminated:.0f} terminations, {truncated:.0f} truncations, "
                f"mean episode {total / max(terminated + truncated, 1):.1f} steps",
                flush=True,
            )


if __name__ == "__main__":
    main()
