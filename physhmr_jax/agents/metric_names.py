"""Names of the metrics the training driver, the logs and the plots rely on.

One module so that a name is spelled once: the PPO iteration writes these keys, the run
directory's CSV and TensorBoard log them, the progress bar and ``curves.png`` read them.
An environment's own per-step metrics are logged under :func:`env_metric` of the name the
environment publishes (e.g. ``physhmr_jax.envs.imitation.BODY_DISTANCE_MEAN``).
"""

from __future__ import annotations

# Totals.
ENV_STEPS = "env_steps"  # env steps per seed so far (the x axis of every curve)

# Rollout (training episodes, which start at random clip times).
REWARD_MEAN = "rollout/reward_mean"
EPISODES = "rollout/episodes"  # episodes that ended within the rollout
EPISODE_LENGTH = "rollout/episode_length_mean"
EPISODE_RETURN = "rollout/episode_return_mean"
# Ended episodes that reached the time limit or the clip's end without failing. Not the
# evaluation success rate (every clip from its first frame): that is EVAL_SUCCESS_RATE.
EPISODE_SUCCESS_RATE = "rollout/success_rate"
TERMINATION_RATE = "rollout/termination_rate"
TRUNCATION_RATE = "rollout/truncation_rate"
VALUE_MEAN = "rollout/value_mean"
NONFINITE_TRANSITIONS = "rollout/nonfinite_transitions"
# Environments left out of this iteration's update because their physics went non-finite
# (or a transition of theirs was not finite) somewhere in the rollout.
DROPPED_ENVS = "rollout/dropped_envs"
# Distillation: MSE of the acting policy's mean action to the teacher's, on the rollout.
TEACHER_ACTION_MSE = "rollout/teacher_action_mse"

# Motion prior (AMP, ``physhmr_jax.agents.amp``): the rollout's mean style reward; the
# discriminator's loss metrics are logged under :func:`amp_metric`.
STYLE_REWARD_MEAN = "amp/style_reward_mean"

# Updates.
APPROX_KL = "sgd/approx_kl"
SKIPPED_UPDATES = "sgd/skipped_updates"

# Evaluation inside training (every clip from its first frame, mean actions): every name
# an evaluation logs starts with EVAL_PREFIX.
EVAL_PREFIX = "eval/"
EVAL_SUCCESS_RATE = EVAL_PREFIX + "success_rate"


def current_policy_eval_metric(name: str) -> str:
    """Where a run keeps a moving average of its policy (``ppo.policy_average_decay``), the
    evaluation metric ``name`` (``eval/...``) of the current weights: ``eval/current/...``."""
    return EVAL_PREFIX + "current/" + name.removeprefix(EVAL_PREFIX)


# An environment's per-step metric that is 1 where its physics went non-finite and the
# environment was reset (the training wrappers publish it; ``physhmr_jax.envs.wrappers``).
NAN_RESET = "nan"


def env_metric(name: str) -> str:
    """The logged name of an environment's per-step metric ``name`` (its rollout mean)."""
    return f"env/{name}"


def sgd_metric(name: str) -> str:
    """The logged name of a loss metric ``name`` (mean over epochs and minibatches)."""
    return f"sgd/{name}"


def amp_metric(name: str) -> str:
    """The logged name of a discriminator metric ``name`` (mean over its epochs and minibatches)."""
    return f"amp/{name}"


def curriculum_metric(name: str) -> str:
    """The logged name of a start curriculum's metric ``name`` (``physhmr_jax.agents.curriculum``)."""
    return f"curriculum/{name}"
