"""Stepping the humanoid in MJX: PD control at 30 Hz over several physics substeps.

Pure functions of (mjx.Model, mjx.Data); ``jax.vmap`` them over environments. The
reference-state helpers turn a :class:`~physhmr_jax.motion.library.MotionState` into MuJoCo's
generalised coordinates (free joint: world position, wxyz quaternion, world linear
velocity and *body-frame* angular velocity, as MuJoCo defines them).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import ml_collections
import mujoco
import numpy as np

from physhmr_jax.config_io import ConfigError
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.kinematics import world_sole_points
from physhmr_jax.humanoid.quiet_mjx import mjx
from physhmr_jax.humanoid.skeleton import Skeleton, mean_skeleton, standing_dof

CONTROL_HZ = 30.0


@dataclasses.dataclass(frozen=True)
class Humanoid:
    """A built humanoid: the MuJoCo model, its MJX copy, the config (``mjcf.default_config()``
    fields) it was built from and the control timing."""

    mj_model: mujoco.MjModel
    mjx_model: mjx.Model
    config: ml_collections.ConfigDict
    skeleton: Skeleton
    substeps: int

    @property
    def control_dt_s(self) -> float:
        return self.substeps * float(self.mj_model.opt.timestep)


def make_humanoid(skeleton: Skeleton | None = None, config: ml_collections.ConfigDict | None = None) -> Humanoid:
    """The humanoid of ``skeleton`` (the mean body when None) built from ``config``
    (``mjcf.default_config()`` when None)."""
    skeleton = skeleton or mean_skeleton()
    config = mjcf.default_config() if config is None else config
    mj_model = mjcf.build_model(skeleton, config)
    return Humanoid(
        mj_model=mj_model,
        mjx_model=_shareable(put_model(mj_model, config.impl)),
        config=config,
        skeleton=skeleton,
        substeps=mjcf.control_substeps(config, CONTROL_HZ),
    )


IMPLS = ("jax", "warp")


def put_model(mj_model: mujoco.MjModel, impl: str = "jax") -> mjx.Model:
    """``mj_model`` on the device with MJX's implementation ``impl`` (``IMPLS``); a bad name or
    a missing Warp install is a :class:`ConfigError` saying what to do."""
    if impl not in IMPLS:
        raise ConfigError(f"humanoid.impl must be one of {list(IMPLS)}, got {impl!r}")
    try:
        return mjx.put_model(mj_model, impl=impl)
    except (RuntimeError, ImportError) as err:  # MJX: "warp-lang is not installed. ..."
        raise ConfigError(
            f"humanoid.impl={impl!r} is not available here ({err}); MuJoCo Warp runs on NVIDIA GPUs "
            "and needs `pip install mujoco-warp warp-lang` (docs/benchmarks.md), or use impl 'jax'"
        ) from None


def _shareable(model: mjx.Model) -> mjx.Model:
    """Make humanoids of different sizes hit the same compiled functions.

    Everything that depends on the skeleton is a traced array in ``mjx.Model`` except
    ``geom_rbound_hfield``, a static numpy copy of the bounding radii that MJX reads only
    for height-field collisions. The humanoid has no height field, so a constant there
    changes nothing but the jit cache key (one 30-60 s compile instead of one per body).
    """
    impl = model._impl
    if hasattr(impl, "geom_rbound_hfield"):
        impl = impl.replace(geom_rbound_hfield=np.zeros_like(impl.geom_rbound_hfield))
        model = model.replace(_impl=impl)
    return model


def qpos_qvel_from_state(state) -> tuple[jax.Array, jax.Array]:
    """MotionState (any batch) -> (qpos [..., 76], qvel [..., 75])."""
    qpos = jnp.concatenate([state.root_pos, state.root_quat, state.dof], axis=-1)
    ang_local = rot.quat_rotate_inv(state.root_quat, state.root_ang_vel)
    qvel = jnp.concatenate([state.root_lin_vel, ang_local, state.dof_vel], axis=-1)
    return qpos, qvel


def data_from_state(model: mjx.Model, state) -> mjx.Data:
    """An mjx.Data at the reference state, kinematics computed (one environment)."""
    qpos, qvel = qpos_qvel_from_state(state)
    data = mjx.make_data(model).replace(qpos=qpos, qvel=qvel, ctrl=state.dof)
    return mjx.forward(model, data)


def pd_step(model: mjx.Model, data: mjx.Data, targets: jax.Array, substeps: int) -> mjx.Data:
    """One control step: hold PD ``targets`` [69] for ``substeps`` physics steps."""
    data = data.replace(ctrl=targets)

    def physics_step(d, _):
        return mjx.step(model, d), None

    data, _ = jax.lax.scan(physics_step, data, None, length=substeps)
    return data


def standing_qpos(skeleton: Skeleton) -> jax.Array:
    """[76] the standing pose (``skeleton.standing_dof``) facing +x with the soles on z = 0."""
    dof = standing_dof()
    quat = jnp.array([1.0, 0.0, 0.0, 0.0])
    lowest = world_sole_points(jnp.zeros(3), quat, dof, skeleton)[:, 2].min()
    return jnp.concatenate([jnp.array([0.0, 0.0, -float(lowest)]), quat, jnp.asarray(dof, jnp.float32)])


def rollout_pd(model: mjx.Model, data: mjx.Data, targets: jax.Array, substeps: int) -> jax.Array:
    """Play PD targets [T, 69] from ``data``; returns qpos [T, 76] after each control step."""

    def control_step(d, target):
        d = pd_step(model, d, target, substeps)
        return d, d.qpos

    _, qpos = jax.lax.scan(control_step, data, targets)
    return qpos


# Batched and compiled once per process for every model of the same structure (the model
# is an argument, so humanoids of different sizes share the compiled function).
rollout_pd_batch = jax.jit(jax.vmap(rollout_pd, in_axes=(None, 0, 0, None)), static_argnums=3)
data_from_state_batch = jax.jit(jax.vmap(data_from_state, in_axes=(None, 0)))
