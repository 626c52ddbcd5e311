"""Rotation helpers against scipy and hand-worked cases."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from scipy.spatial.transform import Rotation

from physhmr_jax.geometry import rotations as rot


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
