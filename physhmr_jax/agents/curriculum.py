"""Start curricula: how a training env's episodes start, adapted to what the rollouts show.

PHC samples the motions its expert fails on more often (hard-negative mining). Here such a
rule is a :class:`Curriculum`: a state (a pytree kept in ``ppo.TrainingState.curriculum``,
so it is checkpointed, resumed exactly and vmapped with its seed) and the pure functions
the PPO iteration calls inside its one compiled program:

1. ``apply(state, env_data) -> env_data``: the data the iteration's rollout plays (for the
   imitation env, the motion library with its clip weights replaced);
2. ``record(state, action, next_state) -> {name: [B]}``: what it reads of each step
   (a rollout record hook; the batched states before and after the step);
3. ``update(state, transitions [T, B]) -> (state, {name: []})``: after the rollout.

The generic PPO knows nothing of clips or motions; the imitation env's failure-weighted
clip sampling is :class:`physhmr_jax.envs.clip_sampling.FailureWeightedClips`.
"""

from __future__ import annotations

from typing import Any, Protocol

import jax

from physhmr_jax.agents import acting


class Curriculum(Protocol):
    def init(self) -> Any:
        """The state before any rollout (the env's own start distribution)."""
        ...

    def apply(self, state: Any, env_data: Any) -> Any:
        """``env_data`` as the next rollout plays it (its resets draw from the result)."""
        ...

    def record(self, state: Any, action: jax.Array, next_state: Any) -> dict[str, jax.Array]:
        """Rollout record hook: the fields ``update`` reads from each transition."""
        ...

    def update(self, state: Any, transitions: acting.Transition) -> tuple[Any, dict[str, jax.Array]]:
        """The state after a rollout ``[T, B]`` and scalar metrics (logged under ``metric_names.curriculum_metric``)."""
        ...


__all__ = ["Curriculum"]
