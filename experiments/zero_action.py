"""PD on the reference, no policy: how far each clip is tracked with a zero residual action.

Every clip plays from its first frame in its own environment (the expert's evaluation, clip
i in env i) with action 0, i.e. PD targets = the reference pose of the step's target frame;
a clip fails at the first frame whose mean body distance exceeds PHC's 0.5 m. This is the
floor any trained expert must beat, and a physics-only comparison of humanoid settings.

Usage (humanoid overrides as JSON; ``{}`` = today's default):

    .venv/bin/python experiments/zero_action.py runs/motions/cmu '{}'
    .venv/bin/python experiments/zero_action.py procedural \\
        '{"timestep_s": 0.0055555556, "contact_solref": null, "contact_solimp": [0.9, 0.95, 0.001]}'
"""

from __future__ import annotations

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

from physhmr_jax.agents import acting
from physhmr_jax.envs import imitation
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert import evaluate as expert_evaluate
from physhmr_jax.expert.build import build_expert


def zero_action_tracking(motions: str, overrides: dict) -> dict:
    config = expert_config.default_config("cpu")
    config.motions.path = motions
    config.humanoid.update(overrides)
    expert = build_expert(config)
    env, lib = expert.env, expert.motion_lib
    steps = expert_evaluate.steps_per_clip(expert)

    def zero_policy(obs, key):
        del key
        return jnp.zeros((obs.shape[0], imitation.ACTION_SIZE)), {acting.LOG_PROB: jnp.zeros(obs.shape[0])}

    @jax.jit
    def play():
        record = expert_evaluate.record_tracking(lib)
        return expert_evaluate.play_from_first_frames(env, zero_policy, lib, lib.num_clips, max(steps), record).extras

    extras = jax.tree.map(np.asarray, play())
    rows = expert_evaluate.tracking_results(
        [c.name for c in expert.clips],
        steps,
        extras[expert_evaluate.SIM_BODY_POS],
        extras[expert_evaluate.REF_BODY_POS],
    )
    return {
        "motions": motions,
        "overrides": overrides,
        "substeps": expert.humanoid.substeps,
        "frames_tracked": {r["clip"]: f"{r['frames_tracked']}/{r['frames']}" for r in rows},
    }


if __name__ == "__main__":
    print(json.dumps(zero_action_tracking(sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}"))))
