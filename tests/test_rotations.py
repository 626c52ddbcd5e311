"""Rotation helpers against scipy and hand-worked cases."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from scipy.spatial.transform import Rotation

from physhmr_jax.geometry import rotations as rot
from physhmr_jax.geometry import rotations_np as rot_np


def _random_quats(n, seed=0):
    q = Rotation.random(n, random_state=seed).as_quat(scalar_first=True)
    return jnp.asarray(q, jnp.float32)


def test_quat_matrix_round_trip_matches_scipy():
    q = _random_quats(64)
    m = rot.quat_to_matrix(q)
    expected = Rotation.from_quat(np.asarray(q), scalar_first=True).as_matrix()
    chex.assert_trees_all_close(m, expected, atol=1e-5)
    q2 = rot.matrix_to_quat(m)
    # q and -q are the same rotation: compare |<q, q2>| = 1.
    np.testing.assert_allclose(np.abs(np.sum(np.asarray(q * q2), -1)), 1.0, atol=1e-5)


def test_quat_rotate_and_mul_compose():
    q1, q2 = _random_quats(32, 1), _random_quats(32, 2)
    v = jax.random.normal(jax.random.PRNGKey(0), (32, 3))
    a = rot.quat_rotate(rot.quat_mul(q1, q2), v)
    b = rot.quat_rotate(q1, rot.quat_rotate(q2, v))
    chex.assert_trees_all_close(a, b, atol=1e-5)
    chex.assert_trees_all_close(rot.quat_rotate_inv(q1, rot.quat_rotate(q1, v)), v, atol=1e-5)


def test_euler_xyz_is_intrinsic_and_inverts():
    angles = jnp.array([[0.3, -0.5, 1.2], [-1.0, 0.2, -2.5]])
    q = rot.euler_xyz_to_quat(angles)
    # Intrinsic x-y-z == scipy's uppercase "XYZ".
    expected = Rotation.from_euler("XYZ", np.asarray(angles)).as_quat(scalar_first=True)
    np.testing.assert_allclose(np.abs(np.sum(np.asarray(q) * expected, -1)), 1.0, atol=1e-6)
    chex.assert_trees_all_close(rot.matrix_to_euler_xyz(rot.quat_to_matrix(q)), angles, atol=1e-5)


def test_rotvec_exp_log_and_zero_gradient():
    rv = jnp.array([[0.1, -0.2, 0.3], [0.0, 0.0, 0.0], [2.0, 1.0, -0.5]])
    chex.assert_trees_all_close(rot.quat_to_rotvec(rot.quat_from_rotvec(rv)), rv, atol=1e-5)
    g = jax.grad(lambda x: rot.quat_from_rotvec(x).sum())(jnp.zeros(3))
    assert np.all(np.isfinite(g))  # smooth at zero: the IK differentiates through it there


def test_slerp_midpoint_and_shortest_arc():
    z = jnp.array([0.0, 0.0, 1.0])
    q0 = rot.quat_from_axis_angle(z, jnp.array(0.0))
    q1 = rot.quat_from_axis_angle(z, jnp.array(1.0))
    mid = rot.quat_slerp(q0, q1, jnp.array(0.5))
    chex.assert_trees_all_close(mid, rot.quat_from_axis_angle(z, jnp.array(0.5)), atol=1e-6)
    # -q1 is the same rotation; slerp must still take the 0.5 rad path, not the long way.
    chex.assert_trees_all_close(jnp.abs(rot.quat_slerp(q0, -q1, jnp.array(0.5))), jnp.abs(mid), atol=1e-6)


def test_heading_and_6d():
    yaw = 0.7
    q = rot.quat_mul(
        rot.quat_from_axis_angle(jnp.array([0.0, 0.0, 1.0]), jnp.array(yaw)),
        rot.quat_from_axis_angle(jnp.array([0.0, 1.0, 0.0]), jnp.array(0.3)),
    )
    np.testing.assert_allclose(rot.heading_angle(q), yaw, atol=1e-6)
    chex.assert_trees_all_close(rot.sixd_to_matrix(rot.quat_to_6d(q)), rot.quat_to_matrix(q), atol=1e-6)
    # Angular velocity of a 0.3 rad turn about z in 0.1 s is 3 rad/s about z.
    w = rot.angular_velocity(
        jnp.array([1.0, 0, 0, 0]), rot.quat_from_axis_angle(jnp.array([0.0, 0.0, 1.0]), jnp.array(0.3)), 0.1
    )
    chex.assert_trees_all_close(w, jnp.array([0.0, 0.0, 3.0]), atol=1e-5)


# ---------------------------------------------------------------------------------------
# The numpy twins (geometry/rotations_np.py) for the host-side motion code.


def _random_matrices(n, seed=0):
    return Rotation.random(n, random_state=seed).as_matrix()


def test_np_axis_rotation_and_euler_match_scipy_and_jax():
    rng = np.random.default_rng(0)
    angles = rng.uniform(-np.pi, np.pi, size=(32, 3))
    for axis, name in enumerate("xyz"):
        np.testing.assert_allclose(
            rot_np.axis_rotation(axis, angles[:, axis]),
            Rotation.from_euler(name, angles[:, axis : axis + 1]).as_matrix(),
            atol=1e-12,
        )
    m = rot_np.euler_xyz_to_matrix(angles)
    # Intrinsic x-y-z == scipy's uppercase "XYZ" == the JAX euler_xyz_to_quat.
    np.testing.assert_allclose(m, Rotation.from_euler("XYZ", angles).as_matrix(), atol=1e-12)
    m_jax = rot.quat_to_matrix(rot.euler_xyz_to_quat(jnp.asarray(angles, jnp.float32)))
    np.testing.assert_allclose(m, np.asarray(m_jax), atol=1e-5)
    # The inverse returns the middle angle in [-pi/2, pi/2]: compare through the matrices,
    # and with the JAX inverse.
    back = rot_np.matrix_to_euler_xyz(m)
    assert np.all(np.abs(back[:, 1]) <= np.pi / 2)
    np.testing.assert_allclose(rot_np.euler_xyz_to_matrix(back), m, atol=1e-12)
    np.testing.assert_allclose(back, np.asarray(rot.matrix_to_euler_xyz(jnp.asarray(m, jnp.float32))), atol=1e-4)


def test_np_matrix_to_quat_matches_scipy_and_jax():
    m = _random_matrices(64, 1)
    q = rot_np.matrix_to_quat(m)
    assert np.all(q[:, 0] >= 0.0)
    expected = Rotation.from_matrix(m).as_quat(scalar_first=True)
    expected *= np.where(expected[:, :1] < 0, -1.0, 1.0)  # the same sign convention: w >= 0
    np.testing.assert_allclose(q, expected, atol=1e-10)
    np.testing.assert_allclose(q, np.asarray(rot.matrix_to_quat(jnp.asarray(m, jnp.float32))), atol=1e-5)
    # A 90 deg yaw: cos 45 deg about z; the near-zero components are off by at most ~1e-8.
    yaw = rot_np.axis_rotation(2, np.pi / 2)
    np.testing.assert_allclose(rot_np.matrix_to_quat(yaw), [np.sqrt(0.5), 0.0, 0.0, np.sqrt(0.5)], atol=1e-7)


def test_np_rotvec_matches_jax():
    rv = np.random.default_rng(2).normal(size=(4, 8, 3))
    m = rot_np.rotvec_to_matrix(rv)
    assert m.shape == (4, 8, 3, 3)
    m_jax = rot.quat_to_matrix(rot.quat_from_rotvec(jnp.asarray(rv, jnp.float32)))
    np.testing.assert_allclose(m, np.asarray(m_jax), atol=1e-5)


def test_np_rotation_between_takes_a_to_b():
    rng = np.random.default_rng(3)
    a = np.array([0.0, 1.0, 0.0])
    b = rng.normal(size=(32, 3))
    b /= np.linalg.norm(b, axis=-1, keepdims=True)
    m = rot_np.rotation_between(a, b)
    np.testing.assert_allclose(np.einsum("tij,j->ti", m, a), b, atol=1e-12)
    np.testing.assert_allclose(m @ np.swapaxes(m, -1, -2), np.broadcast_to(np.eye(3), m.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=1e-12)
    # Smallest: the rotation angle is the angle between a and b, arccos(a . b).
    angle = np.linalg.norm(Rotation.from_matrix(m).as_rotvec(), axis=-1)
    np.testing.assert_allclose(angle, np.arccos(np.clip(b @ a, -1.0, 1.0)), atol=1e-7)


def test_np_wrap_angle():
    # 3 pi/2 -> -pi/2; -pi stays; pi wraps to -pi (the range is [-pi, pi)).
    np.testing.assert_allclose(
        rot_np.wrap_angle(np.array([1.5 * np.pi, -np.pi, np.pi, 0.3])), [-np.pi / 2, -np.pi, -np.pi, 0.3]
    )


def test_np_continuous_euler_and_quat():
    # A knee bending through 120 deg stays (0, b, 0), not (pi, pi - b, pi), and a full yaw
    # turn unwraps past pi.
    knee = np.linspace(0.0, np.deg2rad(120), 20)
    yaw = np.linspace(0.0, 3 * np.pi, 20)
    angles = np.stack(
        [np.stack([np.zeros(20), knee, np.zeros(20)], -1), np.stack([np.zeros(20), np.zeros(20), yaw], -1)], 1
    )
    euler = rot_np.continuous_euler_xyz(rot_np.euler_xyz_to_matrix(angles))
    np.testing.assert_allclose(euler, angles, atol=1e-9)
    # Quaternions of a 3 pi yaw sweep: no sign flip between frames, w >= 0 first, and the
    # rotations are the given ones (exact for an axis-aligned rotation: scipy's extraction).
    q = rot_np.continuous_quat_wxyz(rot_np.axis_rotation(2, yaw))
    assert q[0, 0] >= 0.0 and np.all(np.sum(q[1:] * q[:-1], axis=-1) > 0.0)
    np.testing.assert_allclose(q, np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], -1), atol=1e-12)


def test_np_y_up_to_ours():
    # y up, facing +z, left +x -> ours: up (0,1,0) -> +z, facing (0,0,1) -> +x, left (1,0,0) -> +y.
    c = rot_np.Y_UP_TO_OURS
    np.testing.assert_array_equal(c @ [0.0, 1.0, 0.0], [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(c @ [0.0, 0.0, 1.0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(c @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    assert np.linalg.det(c) == 1.0
