"""The policy a training state stands for, and the moving average of its weights.

With ``ppo.policy_average_decay`` d > 0 a run keeps, beside the weights it trains, their
moving average (``TrainingState.policy_average``): after each iteration
average <- d * average + (1 - d) * policy, starting at the initial policy. Training never
reads it; evaluations, exports and a teacher read from the run play it
(:func:`policy_params`). Without it (d = 0, the field None) a state stands for its current
weights.
"""

from __future__ import annotations

from typing import Any

import jax

from physhmr_jax.agents import acting


def init(policy: Any, decay: float) -> Any:
    """The average a fresh run starts with: ``policy`` where one is kept, else None."""
    return policy if decay > 0 else None


def update(average: Any, policy: Any, decay: float) -> Any:
    """``average`` after an iteration that ended at ``policy`` (None stays None)."""
    if average is None:
        return None
    return jax.tree.map(lambda a, p: decay * a + (1.0 - decay) * p, average, policy)


def restart(training_state: Any, policy: Any) -> Any:
    """``training_state`` with its average (where kept) restarted at ``policy``: for a state
    whose weights were replaced (another run's start, the random baseline)."""
    if getattr(training_state, "policy_average", None) is None:
        return training_state
    return training_state.replace(policy_average=policy)


def policy_params(training_state: Any) -> acting.PolicyParams:
    """The policy a training state stands for: what evaluations play, exports write and a
    distillation teacher acts with. The weights' moving average where the run keeps one,
    else the current weights; the current observation statistics."""
    average = training_state.policy_average
    policy = training_state.params["policy"] if average is None else average
    return acting.PolicyParams({"policy": policy}, training_state.normalizer_params)


def as_policy_params(state: Any) -> acting.PolicyParams:
    """``state`` if it already is a policy (``acting.PolicyParams``), else :func:`policy_params` of it."""
    return state if isinstance(state, acting.PolicyParams) else policy_params(state)


def current_policy_params(training_state: Any) -> acting.PolicyParams:
    """The policy training acts with (its current weights), average or not."""
    return acting.PolicyParams({"policy": training_state.params["policy"]}, training_state.normalizer_params)


__all__ = ["as_policy_params", "current_policy_params", "init", "policy_params", "restart", "update"]
