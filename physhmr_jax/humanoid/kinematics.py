"""Forward kinematics of the SMPL-topology humanoid in JAX.

Agrees with MuJoCo's ``mj_kinematics`` on the MJCF from :mod:`physhmr_jax.humanoid.mjcf`
(``xpos[1:]`` and ``xquat[1:]``): body frames sit at their joints, every body frame is
world-aligned in the rest pose, and the three hinges of a body (x, y, z, in that order)
compose as ``q_body = q_parent * qx(a) * qy(b) * qz(c)``.

Offsets are data (not baked into the function), so one compiled FK serves clips with
different skeletons, and ``jax.vmap`` batches over frames, clips or environments.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.skeleton import FOOT_BODIES, NUM_BODIES, NUM_DOF, PARENTS, Skeleton


def dof_to_local_quats(dof: Array) -> Array:
    """[..., 69] hinge angles -> [..., 23, 4] local rotations of bodies 1..23."""
    return rot.euler_xyz_to_quat(dof.reshape(dof.shape[:-1] + (NUM_BODIES - 1, 3)))


def forward_kinematics(root_pos: Array, root_quat: Array, dof: Array, offsets: Array) -> tuple[Array, Array]:
    """Body positions and orientations in the world.

    Args:
      root_pos: [..., 3] pelvis position (metres).
      root_quat: [..., 4] pelvis orientation (wxyz).
      dof: [..., 69] hinge angles (radians).
      offsets: [24, 3] or [..., 24, 3] bone offsets (metres), parent frame.

    Returns:
      body_pos: [..., 24, 3] joint positions in the world.
      body_quat: [..., 24, 4] body orientations in the world (wxyz).
    """
    assert dof.shape[-1] == NUM_DOF, dof.shape
    local = dof_to_local_quats(dof)
    batch = jnp.broadcast_shapes(root_pos.shape[:-1], root_quat.shape[:-1], dof.shape[:-1])
    offsets = jnp.broadcast_to(offsets, batch + (NUM_BODIES, 3))
    pos = [jnp.broadcast_to(root_pos, batch + (3,))]
    quat = [jnp.broadcast_to(root_quat, batch + (4,))]
    for b in range(1, NUM_BODIES):
        p = PARENTS[b]
        pos.append(pos[p] + rot.quat_rotate(quat[p], offsets[..., b, :]))
        quat.append(rot.quat_mul(quat[p], local[..., b - 1, :]))
    return jnp.stack(pos, axis=-2), jnp.stack(quat, axis=-2)


def sole_points(body_pos: Array, body_quat: Array, sole_local: Array) -> Array:
    """World positions of the four foot sole points (L heel, L toe tip, R heel, R toe tip).

    Args:
      body_pos, body_quat: [..., 24, 3], [..., 24, 4] from :func:`forward_kinematics`.
      sole_local: [4, 3] from ``mjcf.sole_points_local(skeleton)``.

    Returns: [..., 4, 3].
    """
    idx = jnp.array(FOOT_BODIES)
    return body_pos[..., idx, :] + rot.quat_rotate(body_quat[..., idx, :], sole_local)


@jax.jit
def _world_sole_points(root_pos, root_quat, dof, offsets, sole_local):
    body_pos, body_quat = forward_kinematics(root_pos, root_quat, dof, offsets)
    return sole_points(body_pos, body_quat, sole_local)


def world_sole_points(root_pos, root_quat, dof, skeleton: Skeleton) -> np.ndarray:
    """Host convenience: [..., 4, 3] sole points (numpy) for poses of ``skeleton``."""
    return np.asarray(
        _world_sole_points(
            jnp.asarray(root_pos, jnp.float32),
            jnp.asarray(root_quat, jnp.float32),
            jnp.asarray(dof, jnp.float32),
            jnp.asarray(skeleton.offsets_m, jnp.float32),
            jnp.asarray(mjcf.sole_points_local(skeleton), jnp.float32),
        )
    )


def _ancestor_mask() -> np.ndarray:
    """[24, 23] mask[b, j-1] = 1 when body j is b itself or one of its ancestors (j >= 1)."""
    mask = np.zeros((NUM_BODIES, NUM_BODIES - 1))
    for b in range(NUM_BODIES):
        j = b
        while j > 0:
            mask[b, j - 1] = 1.0
            j = PARENTS[j]
    return mask


_ANCESTORS = _ancestor_mask()


def hinge_axes_world(body_quat: Array, dof: Array) -> Array:
    """World axes of the 69 hinges: [..., 24, 4], [..., 69] -> [..., 23, 3, 3] (body, hinge, xyz).

    Hinge x of body b turns about its parent's x axis, hinge y about the parent frame after
    the x rotation, hinge z about the body's own z axis (see :func:`forward_kinematics`).
    """
    angles = dof.reshape(dof.shape[:-1] + (NUM_BODIES - 1, 3))
    parent_quat = body_quat[..., jnp.array(PARENTS[1:]), :]
    eye = jnp.eye(3, dtype=body_quat.dtype)
    qx = rot.quat_from_axis_angle(jnp.broadcast_to(eye[0], angles.shape), angles[..., 0])
    axis_x = rot.quat_rotate(parent_quat, jnp.broadcast_to(eye[0], angles.shape))
    axis_y = rot.quat_rotate(rot.quat_mul(parent_quat, qx), jnp.broadcast_to(eye[1], angles.shape))
    axis_z = rot.quat_rotate(body_quat[..., 1:, :], jnp.broadcast_to(eye[2], angles.shape))
    return jnp.stack([axis_x, axis_y, axis_z], axis=-2)


def position_jacobian(body_pos: Array, body_quat: Array, dof: Array) -> Array:
    """Analytic Jacobian of the 24 joint positions with respect to the pose.

    Pose increments are (root translation [3], root rotation vector in the world [3],
    hinge angles [69]). Column k of a hinge about world axis ``a`` at joint ``p_j`` moves a
    descendant joint ``p_b`` by ``a x (p_b - p_j)``; a world rotation ``w`` of the root
    moves it by ``w x (p_b - p_root)``.

    Returns: [..., 24, 3, 75].
    """
    batch = body_pos.shape[:-2]
    axes = hinge_axes_world(body_quat, dof)  # [..., 23, 3, 3]
    joint_pos = body_pos[..., 1:, :]  # hinge centres: the body's own joint
    # lever[b, j] = p_b - p_j  -> [..., 24, 23, 3]
    lever = body_pos[..., :, None, :] - joint_pos[..., None, :, :]
    cols = jnp.cross(axes[..., None, :, :, :], lever[..., :, :, None, :])  # [..., 24, 23, 3(hinge), 3(xyz)]
    cols = cols * jnp.asarray(_ANCESTORS, body_pos.dtype)[:, :, None, None]
    hinge = jnp.moveaxis(cols.reshape(batch + (NUM_BODIES, NUM_DOF, 3)), -1, -2)  # [..., 24, 3, 69]
    eye = jnp.eye(3, dtype=body_pos.dtype)
    trans = jnp.broadcast_to(eye, batch + (NUM_BODIES, 3, 3))
    rel = body_pos - body_pos[..., :1, :]
    # w x r = -[r]x w: the skew matrix of -r.
    rx, ry, rz = rel[..., 0], rel[..., 1], rel[..., 2]
    zero = jnp.zeros_like(rx)
    root_rot = jnp.stack(
        [jnp.stack([zero, rz, -ry], -1), jnp.stack([-rz, zero, rx], -1), jnp.stack([ry, -rx, zero], -1)], axis=-2
    )
    return jnp.concatenate([trans, root_rot, hinge], axis=-1)
