"""Failure-weighted clip sampling: the training episodes start more often in the clips the
expert fails (PHC's hard-negative mining), as a :class:`~physhmr_jax.agents.curriculum.Curriculum`.

PHC evaluates every motion now and then and samples the failed ones more often. Here the
training rollouts themselves are the evidence, counted inside the compiled iteration (so a
resumed run is exact and nothing waits on an evaluation): per clip, discounted counts of
the steps played and the failures (terminations) among them,

    steps_c <- decay * steps_c + steps of clip c in this rollout
    fails_c <- decay * fails_c + failures in clip c in this rollout
    rate_c   = (fails_c + PRIOR_FAILURES) / (steps_c + PRIOR_STEPS)   (failures per step)

and the next rollout's resets draw clip c with probability

    p_c = (1 - floor) * base_c * rate_c / sum_k base_k * rate_k  +  floor * base_c

where ``base`` is the library's own ``clip_weight`` (by duration): the first term is the
share of the failures clip c would see under ``base``, the second keeps every clip in play
(a clip that is held is still rehearsed, at ``floor`` of its old share). The pseudo-counts
make an unplayed clip look like one failing every 20 steps, so it is tried early.
Works on the training env (``envs/wrappers.py``) around the imitation env: it reads the
clip of each step's state (``state.inner.clip_id``).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import struct

from physhmr_jax.agents import acting
from physhmr_jax.config_io import ConfigError
from physhmr_jax.motion.library import MotionLib

CLIP_ID = "clip_id"  # Transition.extras key: the clip each step played
PRIOR_FAILURES = 1.0  # pseudo-counts of every clip's rate: 1 failure in 20 steps
PRIOR_STEPS = 20.0


@struct.dataclass
class ClipFailures:
    """Discounted per-clip counts [C] from the rollouts so far."""

    steps: jax.Array
    failures: jax.Array


@dataclasses.dataclass(frozen=True)
class FailureWeightedClips:
    """Clips drawn by their failure rate in training (module docstring).

    num_clips: the library's clips (the state's size); decay: per iteration, of the counts
    (0.9: about the last 10 rollouts); floor: the share of the library's own weights kept.
    """

    num_clips: int
    decay: float = 0.9
    floor: float = 0.2

    def __post_init__(self):
        if self.num_clips < 1:
            raise ConfigError(f"failure-weighted clip sampling needs at least one clip, not {self.num_clips}")
        if not 0.0 <= self.decay < 1.0:
            raise ConfigError(f"motions.failure_decay must be within [0, 1), not {self.decay}")
        if not 0.0 < self.floor <= 1.0:
            raise ConfigError(f"motions.failure_floor must be within (0, 1], not {self.floor}")

    def init(self) -> ClipFailures:
        zeros = jnp.zeros((self.num_clips,), jnp.float32)
        return ClipFailures(steps=zeros, failures=zeros)

    def rates(self, state: ClipFailures) -> jax.Array:
        """[C] failures per step (with the pseudo-counts)."""
        return (state.failures + PRIOR_FAILURES) / (state.steps + PRIOR_STEPS)

    def weights(self, state: ClipFailures, base: jax.Array) -> jax.Array:
        """[C] sampling probabilities from the library's own ``base`` weights."""
        failing = base * self.rates(state)
        return (1.0 - self.floor) * failing / jnp.sum(failing) + self.floor * base

    def apply(self, state: ClipFailures, motion_lib: MotionLib) -> MotionLib:
        return motion_lib.replace(clip_weight=self.weights(state, motion_lib.clip_weight))

    def record(self, state, action, next_state) -> dict[str, jax.Array]:
        del action, next_state
        return {CLIP_ID: state.inner.clip_id.astype(jnp.float32)}  # float: the rollout zeroes invalid fields

    def update(self, state: ClipFailures, transitions: acting.Transition) -> tuple[ClipFailures, dict[str, jax.Array]]:
        clip = transitions.extras[CLIP_ID].reshape(-1).astype(jnp.int32)
        valid = transitions.valid.reshape(-1)
        steps = jax.ops.segment_sum(valid, clip, num_segments=self.num_clips)
        failures = jax.ops.segment_sum(transitions.terminated.reshape(-1) * valid, clip, num_segments=self.num_clips)
        state = ClipFailures(steps=self.decay * state.steps + steps, failures=self.decay * state.failures + failures)
        rates = self.rates(state)
        return state, {"failure_rate_max": jnp.max(rates), "failure_rate_min": jnp.min(rates)}


def make_clip_sampling(kind: str, num_clips: int, *, decay: float = 0.9, floor: float = 0.2):
    """The curriculum of ``motions.clip_sampling``: None for ``"duration"`` (the library's
    own weights, fixed), :class:`FailureWeightedClips` for ``"failure"``."""
    if kind == "duration":
        return None
    if kind == "failure":
        return FailureWeightedClips(num_clips, decay=decay, floor=floor)
    raise ConfigError(f"unknown motions.clip_sampling {kind!r} (use 'duration' or 'failure')")


__all__ = ["CLIP_ID", "PRIOR_FAILURES", "PRIOR_STEPS", "ClipFailures", "FailureWeightedClips", "make_clip_sampling"]
