"""PD on the reference under the training-only pelvis assist (``envs/assist.py``), no policy.

Every clip plays from its first frame with a zero residual action (PD targets = the
reference pose of the step's target frame) and the assist's wrench at a fixed level. Prints,
per level, the first frame whose mean body distance exceeds PHC's 0.5 m, then
for the last level the pelvis error and the three bodies farthest from the reference every
few frames: where a clip fails first when the pelvis is held. (The failing frame F means
frames 0..F-1 were tracked, ``experiments/zero_action.py``'s count at level 0.)

Usage (``docs/expert.md``, the pelvis assist section; about 2 min on the dev CPU):

    .venv/bin/python experiments/assist_probe.py runs/motions/cmu2 --levels 0 0.5 1
    .venv/bin/python experiments/assist_probe.py runs/motions/cmu2 --levels 1 --lead 0.2
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

from physhmr_jax.envs import assist, imitation
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.build import build_expert
from physhmr_jax.humanoid.skeleton import BODY_NAMES

FAILURE_M = 0.5  # PHC's rule on the mean body distance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("motions", help="a folder of clip .npz files, or 'procedural'")
    parser.add_argument("--levels", type=float, nargs="+", default=[0.0, 1.0])
    parser.add_argument("--lead", type=float, default=0.0, help="env.target_lead_s of the residual offset")
    parser.add_argument("--frames", type=int, default=40, help="control steps played per clip")
    args = parser.parse_args()

    config = expert_config.default_config("cpu")
    config.motions.path = args.motions
    config.env.action_mode = "residual"
    config.env.target_lead_s = args.lead
    expert = build_expert(config)
    env, lib = expert.env, expert.motion_lib
    assisted = assist.AssistedEnv(env, assist.AssistGains.from_env_config(env.config))
    names = [c.name for c in expert.clips]
    frames = [c.num_frames for c in expert.clips]

    def play(clip, level):
        state = env.reset_to(jax.random.PRNGKey(0), lib, clip, jnp.float32(0.0))
        data = assist.AssistedData(lib, level)

        def step(state, _):
            state = assisted.step(state, jnp.zeros(env.action_size), data)
            ref = lib.state_at(state.clip_id, state.time_s)
            body = imitation.body_kinematics(state.data)
            return state, jnp.linalg.norm(body.pos - ref.body_pos, axis=-1)  # [24]

        return jax.lax.scan(step, state, None, length=args.frames)[1]

    played = jax.jit(jax.vmap(play, in_axes=(0, None)))
    clips = jnp.arange(len(names))
    for level in args.levels:
        distance = np.asarray(played(clips, jnp.float32(level)))  # [C, T, 24]
        failed = []
        for c, name in enumerate(names):
            last = min(args.frames, frames[c] - 1)  # distance[c, t] is frame t + 1's
            over = np.nonzero(distance[c, :last].mean(axis=-1) > FAILURE_M)[0]
            failed.append(f"{name} at frame {over[0] + 1}" if over.size else f"{name} not in {last} frames")
        print(f"level {level:.2f}, lead {args.lead:.2f} s: fails " + ", ".join(failed))
    for c, name in enumerate(names):
        for t in range(2, args.frames, 4):
            worst = np.argsort(-distance[c, t])[:3]
            far = ", ".join(f"{BODY_NAMES[i]} {distance[c, t, i]:.2f}" for i in worst)
            print(
                f"  {name} frame {t + 1}: pelvis {distance[c, t, 0]:.3f} m, mean {distance[c, t].mean():.3f} m; {far}"
            )


if __name__ == "__main__":
    main()
