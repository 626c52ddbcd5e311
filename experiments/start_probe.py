"""Where a clip's loss is decided: the frames an expert checkpoint tracks when the clip starts
at later frames (from the reference's state there, mean action), and from its first frame
under sampled actions (the policy's noise, as in training).

A clip lost at frame F from its first frame but held from every start after some frame S < F
is lost to what the policy does before S: a curriculum that starts training episodes where the
failures *happen* (after S) starts them where the policy already holds the clip.

Usage (session 31, dev CPU, about 4 min for 2 seeds, most of it the compile):

    .venv/bin/python experiments/start_probe.py runs/expert/teacher_procedural8_v5_symnet_decay_failseg4_term05 \\
        jump_0 --sampled 32 --starts 0 80 5
"""

from __future__ import annotations

import argparse
import functools

import jax
import jax.numpy as jnp
import numpy as np

from physhmr_jax.agents import acting, policy_average, ppo
from physhmr_jax.eval import protocols
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert import evaluate
from physhmr_jax.expert.build import build_expert


def frames_tracked(sim: np.ndarray, ref: np.ndarray, lengths: list[int]) -> list[int]:
    """[T, N, J, 3] simulated and reference bodies -> per rollout j the frames PHC's rule
    tracks of its first ``lengths[j]`` (``eval/protocols.phc_sequence``, as ``eval expert``)."""
    return [protocols.phc_sequence(sim[:n, j], ref[:n, j])["frames_tracked"] for j, n in enumerate(lengths)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="an expert run directory")
    parser.add_argument("clip", help="a clip of the run's library, e.g. jump_0")
    parser.add_argument("--iteration", type=int, default=None, help="checkpoint (default: the latest)")
    parser.add_argument("--sampled", type=int, default=32, help="rollouts from the first frame with sampled actions")
    parser.add_argument("--starts", type=int, nargs=3, default=(0, 80, 5), metavar=("FIRST", "STOP", "STEP"),
                        help="start frames range(FIRST, STOP, STEP), mean action")  # fmt: skip
    args = parser.parse_args()

    expert = build_expert(expert_config.load_config(args.run))
    names = [c.name for c in expert.clips]
    if args.clip not in names:
        parser.error(f"{args.clip!r} is not a clip of {args.run} (its clips: {', '.join(names)})")
    clip_index = names.index(args.clip)
    steps = evaluate.steps_per_clip(expert)[clip_index]
    starts = np.arange(*args.starts)
    if starts.size == 0 or starts.min() < 0 or starts.max() >= steps:
        parser.error(f"--starts must give frames within 0..{steps - 1} of {args.clip}, not {list(starts)}")
    states = evaluate.restore_training_state(args.run, expert, iteration=args.iteration)
    env, lib = expert.env, expert.motion_lib
    networks = ppo.make_networks(env, expert.ppo_config, expert.mirror)
    record = evaluate.record_tracking(lib)

    @functools.partial(jax.jit, static_argnums=(2,))
    def play(policy_params, start_s, deterministic, key):
        policy = acting.make_policy(
            networks, policy_params.params, policy_params.normalizer_params, deterministic=deterministic
        )
        count = start_s.shape[0]
        ids = jnp.full((count,), clip_index, jnp.int32)
        state = jax.vmap(env.reset_to, in_axes=(0, None, 0, 0))(jax.random.split(key, count), lib, ids, start_s)
        _, transitions = acting.rollout(acting.batched_step(env, lib), policy, state, key, steps, record=record)
        return transitions.extras[evaluate.SIM_BODY_POS], transitions.extras[evaluate.REF_BODY_POS]  # [T, count, J, 3]

    for seed in range(int(states.iteration.shape[0])):
        params = policy_average.as_policy_params(evaluate.seed_state(states, seed))
        sim, ref = map(np.asarray, play(params, jnp.zeros(args.sampled), False, jax.random.PRNGKey(seed + 1)))
        tracked = frames_tracked(sim, ref, [steps] * args.sampled)
        held = sum(t >= steps for t in tracked)
        print(f"seed {seed} {args.clip}: sampled actions from frame 0: held {held}/{args.sampled}; "
              f"frames tracked {sorted(tracked)}")  # fmt: skip
        sim, ref = map(np.asarray, play(params, jnp.asarray(starts * env.dt, jnp.float32), True, jax.random.PRNGKey(0)))
        tracked = frames_tracked(sim, ref, [steps - int(s) for s in starts])
        print(
            f"seed {seed} {args.clip}: mean action from start frame S, lost at frame (* held to the end): "
            + " ".join(f"{s}:{t + s}{'*' if t >= steps - s else ''}" for s, t in zip(starts, tracked, strict=True))
        )


if __name__ == "__main__":
    main()
