"""Physical plausibility of human motion from the joint positions alone: foot clearance,
contact labels, foot sliding, ground penetration, floating and foot height std.

  * WHAM / GVHMR's ``compute_foot_sliding``: a foot point is in contact for a step when
    its ground-truth displacement is < 1 cm/frame (``contact_steps_from_displacement``),
    and the error is the predicted displacement over those steps (we use foot joints or
    sole points where WHAM uses four SMPL foot vertices, which we do not have);
  * ground penetration, floating, foot height std and the height-contact foot sliding
    are this project's definitions (documented on each function), computed from the
    motion alone, as physics-based papers do; foot height std is what PhysHMR reports
    as "height variance".

Conventions as :mod:`physhmr_jax.eval.metrics`: world frame z up (floor at ``floor_z_m``),
metres, joint arrays ``[..., T, J, 3]``; foot indices are static Python ints. Every
function is pure ``jax.numpy``, jittable and vmappable, and returns metres (per frame for
displacements).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from jax import Array

# WHAM's ground-truth contact label: a foot point moving less than 1 cm in one frame.
CONTACT_DISPLACEMENT_M = 0.01
# A foot point within 5 cm of its standing height counts as touching the floor: loose
# enough for flat-foot noise, tight enough that a swing foot (10-20 cm up) does not.
CONTACT_HEIGHT_M = 0.05


def foot_clearance_m(
    joints: Array,
    foot_indices: Sequence[int],
    *,
    floor_z_m: float = 0.0,
    foot_rest_height_m: float | Array = 0.0,
) -> Array:
    """Height of each foot point above where it would rest on the floor.

    ``z - floor_z_m - foot_rest_height_m``: 0 when the point is where it sits on a
    standing foot, negative when below (penetrating). ``foot_rest_height_m`` (scalar or
    [F]) is the height of each point above the sole when standing flat: 0 for sole points
    or contact sites; for joint centres (ankle ~0.07 m, toe ~0.02-0.03 m on our humanoid)
    pass their standing heights, or the metrics below treat a flat foot as lifted.

    Args:
      joints: [..., T, J, 3].
      foot_indices: F joint indices (static).

    Returns:
      [..., T, F] clearance in metres.
    """
    z = joints[..., jnp.asarray(foot_indices), 2]
    return z - floor_z_m - jnp.asarray(foot_rest_height_m, dtype=joints.dtype)


def contact_steps_from_frames(contact: Array) -> Array:
    """A foot is in contact for the step t -> t+1 when it is in contact at both frames.

    contact: [..., T, F] bool -> [..., T-1, F] bool.
    """
    return contact[..., :-1, :] & contact[..., 1:, :]


def contact_steps_from_displacement(
    joints: Array,
    foot_indices: Sequence[int],
    *,
    threshold_m: float = CONTACT_DISPLACEMENT_M,
) -> Array:
    """WHAM's contact label: a foot point whose 3D displacement in one step is < threshold.

    Args:
      joints: [..., T, J, 3] (WHAM labels from the ground truth).
      foot_indices: F joint indices.

    Returns:
      [..., T-1, F] bool, contact during step t -> t+1.
    """
    return foot_step_displacement_m(joints, foot_indices, horizontal=False) < threshold_m


def foot_step_displacement_m(joints: Array, foot_indices: Sequence[int], *, horizontal: bool = True) -> Array:
    """Distance each foot point moves per frame step, in xy only or in 3D.

    joints: [..., T, J, 3] -> [..., T-1, F] metres per frame.
    """
    feet = joints[..., jnp.asarray(foot_indices), :]
    step = feet[..., 1:, :, :] - feet[..., :-1, :, :]
    if horizontal:
        step = step[..., :2]
    return jnp.linalg.norm(step, axis=-1)


def foot_sliding_m(
    joints: Array,
    foot_indices: Sequence[int],
    *,
    contact_steps: Array | None = None,
    contact_height_m: float = CONTACT_HEIGHT_M,
    floor_z_m: float = 0.0,
    foot_rest_height_m: float | Array = 0.0,
    horizontal: bool = True,
) -> tuple[Array, Array]:
    """Foot sliding: how far feet move per frame while they are in contact.

    A foot point is in contact for step t -> t+1 when ``contact_steps`` says so, or, when
    it is None, when its clearance (``foot_clearance_m``) is below ``contact_height_m`` at
    both frames. Its sliding for that step is its horizontal (xy) displacement, or 3D when
    ``horizontal`` is False (WHAM's choice). The mean is over contact instances (foot
    points x steps), as WHAM concatenates them; 0, not NaN, when there is none.

    Args:
      joints: [..., T, J, 3].
      foot_indices: F joint indices (static), e.g. ``skeleton.FOOT_BODIES``.
      contact_steps: optional [..., T-1, F] bool contact per step (e.g. from
        ``contact_steps_from_displacement(gt, ...)`` or ``contact_steps_from_frames``).

    Returns:
      mean_m [...]: mean sliding per contact instance, metres per frame;
      per_step_m [..., T-1]: mean over the feet in contact at each step (0 if none).
    """
    disp = foot_step_displacement_m(joints, foot_indices, horizontal=horizontal)
    if contact_steps is None:
        clearance = foot_clearance_m(joints, foot_indices, floor_z_m=floor_z_m, foot_rest_height_m=foot_rest_height_m)
        contact_steps = contact_steps_from_frames(clearance < contact_height_m)
    mask = jnp.broadcast_to(contact_steps, disp.shape).astype(disp.dtype)
    per_step = jnp.sum(disp * mask, axis=-1) / jnp.maximum(jnp.sum(mask, axis=-1), 1.0)
    mean = jnp.sum(disp * mask, axis=(-2, -1)) / jnp.maximum(jnp.sum(mask, axis=(-2, -1)), 1.0)
    return mean, per_step


def _lowest_clearance_m(joints, foot_indices, floor_z_m, foot_rest_height_m) -> Array:
    clearance = foot_clearance_m(joints, foot_indices, floor_z_m=floor_z_m, foot_rest_height_m=foot_rest_height_m)
    return jnp.min(clearance, axis=-1)  # [..., T]


def ground_penetration_m(
    joints: Array,
    foot_indices: Sequence[int],
    *,
    floor_z_m: float = 0.0,
    foot_rest_height_m: float | Array = 0.0,
) -> tuple[Array, Array]:
    """Ground penetration: how deep the lowest foot point is below the floor.

    Per frame ``max(0, -min_f clearance_f)`` (see ``foot_clearance_m``); the mean is over
    all frames (frames above ground count as 0). ``per_frame_m.max(-1)`` is the max variant.

    Args:
      joints: [..., T, J, 3]; foot_indices: F joint indices.

    Returns:
      mean_m [...], per_frame_m [..., T] (metres).
    """
    per_frame = jnp.maximum(0.0, -_lowest_clearance_m(joints, foot_indices, floor_z_m, foot_rest_height_m))
    return jnp.mean(per_frame, axis=-1), per_frame


def floating_m(
    joints: Array,
    foot_indices: Sequence[int],
    *,
    float_threshold_m: float = CONTACT_HEIGHT_M,
    floor_z_m: float = 0.0,
    foot_rest_height_m: float | Array = 0.0,
) -> tuple[Array, Array]:
    """Floating: how far the lowest foot point is above the contact band.

    Per frame ``max(0, min_f clearance_f - float_threshold_m)``; mean over all frames.
    Flight phases of jumps and runs count too, so compare against the ground truth's
    own value on such motions. Pass every joint index as ``foot_indices`` to use the
    lowest body point instead of the lowest foot point.

    Args:
      joints: [..., T, J, 3]; foot_indices: F joint indices.

    Returns:
      mean_m [...], per_frame_m [..., T] (metres).
    """
    lowest = _lowest_clearance_m(joints, foot_indices, floor_z_m, foot_rest_height_m)
    per_frame = jnp.maximum(0.0, lowest - float_threshold_m)
    return jnp.mean(per_frame, axis=-1), per_frame


def foot_height_std_m(
    joints: Array,
    foot_indices: Sequence[int],
    *,
    contact: Array | None = None,
    contact_height_m: float = CONTACT_HEIGHT_M,
    floor_z_m: float = 0.0,
    foot_rest_height_m: float | Array = 0.0,
) -> Array:
    """Standard deviation of the lowest foot point's clearance over contact frames.

    This is what PhysHMR reports as "height variance" (in mm, hence a standard deviation,
    not a variance): on a flat floor the supporting foot should stay at one height. A
    frame counts when ``contact`` [..., T] says so, or, when None, when the lowest
    clearance is below ``contact_height_m``. 0 when no frame is in contact.

    Args:
      joints: [..., T, J, 3]; foot_indices: F joint indices.

    Returns:
      [...] standard deviation in metres.
    """
    lowest = _lowest_clearance_m(joints, foot_indices, floor_z_m, foot_rest_height_m)
    if contact is None:
        contact = lowest < contact_height_m
    mask = jnp.broadcast_to(contact, lowest.shape).astype(lowest.dtype)
    count = jnp.maximum(jnp.sum(mask, axis=-1), 1.0)
    mean = jnp.sum(lowest * mask, axis=-1) / count
    var = jnp.sum(mask * (lowest - mean[..., None]) ** 2, axis=-1) / count
    return jnp.sqrt(var)


__all__ = [
    "CONTACT_DISPLACEMENT_M",
    "CONTACT_HEIGHT_M",
    "foot_clearance_m",
    "contact_steps_from_frames",
    "contact_steps_from_displacement",
    "foot_step_displacement_m",
    "foot_sliding_m",
    "ground_penetration_m",
    "floating_m",
    "foot_height_std_m",
]
