"""The humanoid's motion prior for AMP (:mod:`physhmr_jax.agents.amp`).

A transition's features are the PHC proprioception (358, :func:`imitation.proprioception_from_bodies`:
root height, body positions, rotations and velocities in the root's heading frame) before and
after the step, 716 in all. The policy's come from the observations the rollout already has:
both envs put the proprioception first in ``obs`` (the expert's and the student's), and the
episode wrapper keeps the observation before any auto-reset in ``final_obs``. The motion
set's come from the same function applied to the motion library's body states at a random
clip time t and at t + dt, so the two sides are the same quantities measured the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array

from physhmr_jax.agents import amp
from physhmr_jax.envs.imitation import PROPRIOCEPTION_SIZE, BodyKinematics, proprioception_from_bodies
from physhmr_jax.motion.library import MotionLib, MotionState

FEATURE_SIZE = 2 * PROPRIOCEPTION_SIZE


def reference_proprioception(ref: MotionState) -> Array:
    """[..., 358] the proprioception a humanoid in the reference state ``ref`` [...] observes."""
    body = BodyKinematics(pos=ref.body_pos, quat=ref.body_quat, lin_vel=ref.body_lin_vel, ang_vel=ref.body_ang_vel)
    flat = jax.tree.map(lambda x: x.reshape((-1,) + x.shape[-2:]), body)
    return jax.vmap(proprioception_from_bodies)(flat).reshape(ref.body_pos.shape[:-2] + (PROPRIOCEPTION_SIZE,))


def make_motion_prior(dt: float, motion_lib_of: Callable[[Any], MotionLib]) -> amp.MotionPrior:
    """The prior over the clips of ``motion_lib_of(env_data)``, transitions ``dt`` seconds long."""

    def features(state, next_state) -> Array:
        before = state.obs[..., :PROPRIOCEPTION_SIZE]
        after = next_state.final_obs[..., :PROPRIOCEPTION_SIZE]
        return jnp.concatenate([before, after], axis=-1)

    def sample(key: Array, env_data: Any, n: int) -> Array:
        lib = motion_lib_of(env_data)
        clip_ids, times = lib.sample_starts(key, n, dt)
        before = reference_proprioception(lib.state_at(clip_ids, times))
        after = reference_proprioception(lib.state_at(clip_ids, times + dt))
        return jnp.concatenate([before, after], axis=-1)

    return amp.MotionPrior(features, sample, FEATURE_SIZE)


def shapes_only() -> amp.MotionPrior:
    """A prior that only tells its feature size: enough to build the training state a
    checkpoint of a run with ``ppo.amp_weight`` > 0 is restored into."""

    def unavailable(*args):
        raise TypeError("shapes_only(): this motion prior has no data; use make_motion_prior")

    return amp.MotionPrior(unavailable, unavailable, FEATURE_SIZE)


__all__ = ["FEATURE_SIZE", "make_motion_prior", "reference_proprioception", "shapes_only"]
