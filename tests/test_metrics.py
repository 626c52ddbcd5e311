"""Tests for physhmr_jax.eval (metrics, physical, summary): each expected value is worked out
in a comment."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from physhmr_jax.eval import metrics as M
from physhmr_jax.eval import physical as P
from physhmr_jax.eval.summary import summarize

J = 24
FEET = (3, 7)  # L_Ankle, R_Ankle in the project's body order
ATOL_M = 1e-5  # float32 on poses of ~1 m: alignment residuals are ~1e-6 m


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _random_motion(rng: np.random.Generator, num_frames: int) -> np.ndarray:
    """[T, J, 3] a random pose (spread ~0.3 m) plus a smooth random-walk root path."""
    pose = rng.normal(scale=0.3, size=(J, 3))
    path = np.cumsum(rng.normal(scale=0.01, size=(num_frames, 1, 3)), axis=0)
    wiggle = rng.normal(scale=0.02, size=(num_frames, J, 3))
    return (pose[None] + path + wiggle).astype(np.float32)


def _similarity(x: np.ndarray, scale: float, rot: np.ndarray, t: np.ndarray) -> np.ndarray:
    return (scale * x @ rot.T + t).astype(np.float32)


def test_pa_mpjpe_removes_similarity_transform():
    rng = np.random.default_rng(0)
    gt = _random_motion(rng, 4)
    rot = _random_rotation(rng)
    pred = _similarity(gt, 1.3, rot, np.array([1.0, -2.0, 0.5]))
    # pred = 1.3 R gt + t is exactly a similarity copy: aligned error 0 per frame ...
    np.testing.assert_allclose(M.pa_mpjpe_m(pred, gt), np.zeros(4), atol=ATOL_M)
    # ... while the root-relative error is not (rotation and scale stay after the root is
    # removed; joints are ~0.4 m from the root, so the error is a sizeable part of that).
    assert np.all(np.asarray(M.mpjpe_m(pred, gt)) > 0.05)
    # The fitted transform is the inverse: scale 1/1.3, rotation R^T.
    scale, r_fit, _ = M.procrustes_transform(pred[0], gt[0])
    np.testing.assert_allclose(scale, 1 / 1.3, rtol=1e-5)
    np.testing.assert_allclose(r_fit, rot.T, atol=1e-5)


def test_procrustes_never_reflects():
    rng = np.random.default_rng(1)
    gt = rng.normal(scale=0.3, size=(J, 3)).astype(np.float32)
    mirrored = gt * np.array([-1.0, 1.0, 1.0], dtype=np.float32)
    # A mirror image of a generic 3D point set is not reachable by a proper rotation, so
    # the fit keeps det R = +1 and leaves a clearly non-zero residual.
    _, r_fit, _ = M.procrustes_transform(mirrored, gt)
    np.testing.assert_allclose(np.linalg.det(r_fit), 1.0, atol=1e-5)
    residual = np.mean(np.linalg.norm(M.procrustes_align(mirrored, gt) - gt, axis=-1))
    assert residual > 0.01


def test_mpjpe_one_joint_offset():
    rng = np.random.default_rng(2)
    gt = _random_motion(rng, 3)
    pred = gt.copy()
    pred[:, 5, 0] += 0.24
    # One of 24 joints off by 0.24 m: 0.24 / 24 = 0.01 m per frame, root-relative and global.
    np.testing.assert_allclose(M.mpjpe_m(pred, gt), np.full(3, 0.01), atol=ATOL_M)
    np.testing.assert_allclose(M.g_mpjpe_m(pred, gt), np.full(3, 0.01), atol=ATOL_M)
    # Moving the root instead moves the 23 other joints by -0.24 m relative to it:
    # 23 * 0.24 / 24 = 0.23 m root-relative, still 0.01 m global.
    pred = gt.copy()
    pred[:, 0, 0] += 0.24
    np.testing.assert_allclose(M.mpjpe_m(pred, gt), np.full(3, 0.23), atol=ATOL_M)
    np.testing.assert_allclose(M.g_mpjpe_m(pred, gt), np.full(3, 0.01), atol=ATOL_M)


def test_root_translation_is_invisible_to_mpjpe_but_not_g_mpjpe():
    rng = np.random.default_rng(3)
    gt = _random_motion(rng, 5)
    pred = gt + np.array([0.3, 0.4, 0.0], dtype=np.float32)
    # Root-relative: the offset cancels -> 0. Global: |(0.3, 0.4, 0)| = 0.5 m on every joint.
    np.testing.assert_allclose(M.mpjpe_m(pred, gt), np.zeros(5), atol=ATOL_M)
    np.testing.assert_allclose(M.g_mpjpe_m(pred, gt), np.full(5, 0.5), atol=ATOL_M)


def _feet_motion(num_frames: int, *, left_z: float, right_z: float, speed_m_s: float, fps: float) -> np.ndarray:
    """[T, J, 3] with every joint at 1 m height except two feet moving along +x."""
    x = np.zeros((num_frames, J, 3), dtype=np.float32)
    x[..., 2] = 1.0
    path = speed_m_s * np.arange(num_frames) / fps
    x[:, FEET[0], 0] = path
    x[:, FEET[0], 2] = left_z
    x[:, FEET[1], 0] = path
    x[:, FEET[1], 2] = right_z
    return x


def test_foot_sliding_constant_speed_in_contact():
    # Left foot on the floor sliding at 0.6 m/s at 30 fps: 0.6 / 30 = 0.02 m per frame.
    # Right foot 0.3 m up moves the same way but is not in contact, so it does not count.
    joints = _feet_motion(10, left_z=0.0, right_z=0.3, speed_m_s=0.6, fps=30.0)
    mean, per_step = P.foot_sliding_m(joints, FEET)
    np.testing.assert_allclose(mean, 0.02, atol=1e-6)
    np.testing.assert_allclose(per_step, np.full(9, 0.02), atol=1e-6)


def test_foot_sliding_lifted_feet_is_zero_not_nan():
    # Both feet 0.3 m up: no contact instance; the mean must be 0 (guarded), not 0/0.
    joints = _feet_motion(10, left_z=0.3, right_z=0.3, speed_m_s=0.6, fps=30.0)
    mean, per_step = P.foot_sliding_m(joints, FEET)
    np.testing.assert_allclose(mean, 0.0)
    np.testing.assert_allclose(per_step, np.zeros(9))


def test_foot_sliding_wham_contact_from_ground_truth():
    # GT feet stand still (displacement 0 < 1 cm/frame: contact every step); the prediction
    # slides both at 0.02 m/frame -> WHAM's foot sliding 0.02 m per frame.
    gt = _feet_motion(6, left_z=0.0, right_z=0.0, speed_m_s=0.0, fps=30.0)
    pred = _feet_motion(6, left_z=0.0, right_z=0.0, speed_m_s=0.6, fps=30.0)
    contact = P.contact_steps_from_displacement(gt, FEET)
    chex.assert_shape(contact, (5, 2))
    assert bool(jnp.all(contact))
    mean, _ = P.foot_sliding_m(pred, FEET, contact_steps=contact, horizontal=False)
    np.testing.assert_allclose(mean, 0.02, atol=1e-6)
    # GT feet moving 0.02 m/frame (> 1 cm) are never in contact -> 0.
    contact = P.contact_steps_from_displacement(pred, FEET)
    mean, _ = P.foot_sliding_m(pred, FEET, contact_steps=contact, horizontal=False)
    np.testing.assert_allclose(mean, 0.0)


def test_ground_penetration_floating_and_rest_height():
    # Left foot 2 cm below the floor, right foot 10 cm above: the lowest point is 0.02 m deep.
    joints = _feet_motion(4, left_z=-0.02, right_z=0.1, speed_m_s=0.0, fps=30.0)
    mean, per_frame = P.ground_penetration_m(joints, FEET)
    np.testing.assert_allclose(mean, 0.02, atol=1e-6)
    np.testing.assert_allclose(per_frame, np.full(4, 0.02), atol=1e-6)
    # A joint centre that rests 0.025 m above the sole, seen at 0.005 m: also 0.02 m deep.
    joints = _feet_motion(4, left_z=0.005, right_z=0.125, speed_m_s=0.0, fps=30.0)
    mean, _ = P.ground_penetration_m(joints, FEET, foot_rest_height_m=0.025)
    np.testing.assert_allclose(mean, 0.02, atol=1e-6)
    # Floating: both feet at 0.15 m, threshold 0.05 m -> 0.10 m per frame; no penetration.
    joints = _feet_motion(4, left_z=0.15, right_z=0.2, speed_m_s=0.0, fps=30.0)
    np.testing.assert_allclose(P.floating_m(joints, FEET, float_threshold_m=0.05)[0], 0.10, atol=1e-6)
    np.testing.assert_allclose(P.ground_penetration_m(joints, FEET)[0], 0.0)


def test_foot_height_std_over_contact_frames():
    # Lowest foot heights 0.00, 0.02, 0.00, 0.02, then two lifted frames at 0.3 m (no
    # contact, excluded). Contact heights have mean 0.01 and every deviation is 0.01 ->
    # std 0.01 m.
    joints = _feet_motion(6, left_z=0.0, right_z=0.4, speed_m_s=0.0, fps=30.0)
    joints[:, FEET[0], 2] = [0.0, 0.02, 0.0, 0.02, 0.3, 0.3]
    np.testing.assert_allclose(P.foot_height_std_m(joints, FEET), 0.01, atol=1e-6)
    # No contact at all -> 0, not NaN.
    joints[:, FEET[0], 2] = 0.3
    np.testing.assert_allclose(P.foot_height_std_m(joints, FEET), 0.0)


def test_wa_and_w_mpjpe_of_whole_sequence_similarity_copy_is_zero():
    rng = np.random.default_rng(4)
    gt = _random_motion(rng, 250)  # windows of 100, 100 and a partial 50
    pred = _similarity(gt, 0.8, _random_rotation(rng), np.array([3.0, 1.0, -0.5]))
    np.testing.assert_allclose(M.wa_mpjpe_m(pred, gt), np.zeros(250), atol=ATOL_M)
    np.testing.assert_allclose(M.w_mpjpe_m(pred, gt), np.zeros(250), atol=ATOL_M)
    # A rigid first-two-frame fit cannot undo the 0.8 scale.
    assert float(jnp.mean(M.w_mpjpe_m(pred, gt, with_scale=False))) > 0.01


def test_w_mpjpe_counts_drift_after_the_first_two_frames_of_each_window():
    rng = np.random.default_rng(5)
    gt = _random_motion(rng, 150)  # windows [0, 100) and [100, 150)
    pred = gt + np.array([0.1, 0.0, 0.0], dtype=np.float32)
    pred[[0, 1, 100, 101]] = gt[[0, 1, 100, 101]]
    # Each window's first two frames match exactly, so its fit is the identity and every
    # other frame keeps its 0.1 m offset: 98 + 48 frames at 0.1 m, 4 frames at 0.
    expected = np.full(150, 0.1)
    expected[[0, 1, 100, 101]] = 0.0
    np.testing.assert_allclose(M.w_mpjpe_m(pred, gt), expected, atol=ATOL_M)
    # Mean (WHAM's number): 146 * 0.1 / 150 = 0.097333 m.
    np.testing.assert_allclose(jnp.mean(M.w_mpjpe_m(pred, gt)), 146 * 0.1 / 150, atol=ATOL_M)
    # WA fits every frame of the window, so it absorbs part of the drift: 0 < WA < W.
    wa = float(jnp.mean(M.wa_mpjpe_m(pred, gt)))
    assert 0.0 < wa < 146 * 0.1 / 150


def test_accel_and_vel_error():
    rng = np.random.default_rng(6)
    gt = _random_motion(rng, 10)
    drift = np.array([0.01, 0.02, 0.02], dtype=np.float32)  # |drift| = 0.03 m/frame
    pred = gt + np.arange(10, dtype=np.float32)[:, None, None] * drift
    # Constant velocity has zero second difference; the velocity error is |drift|.
    np.testing.assert_allclose(M.accel_error_m_per_frame2(pred, gt), np.zeros(8), atol=ATOL_M)
    np.testing.assert_allclose(M.vel_error_m_per_frame(pred, gt), np.full(9, 0.03), atol=ATOL_M)
    # Frame 5 bumped by d = 0.03 m: a_t = x_t - 2 x_{t+1} + x_{t+2} sees it at t = 3, 4, 5
    # with weights 1, -2, 1 -> errors 0.03, 0.06, 0.03, mean over 8 entries 0.12 / 8 = 0.015.
    pred = gt.copy()
    pred[5, :, 2] += 0.03
    expected = np.zeros(8)
    expected[3:6] = [0.03, 0.06, 0.03]
    np.testing.assert_allclose(M.accel_error_m_per_frame2(pred, gt), expected, atol=ATOL_M)
    np.testing.assert_allclose(jnp.mean(M.accel_error_m_per_frame2(pred, gt)), 0.015, atol=ATOL_M)


def test_tracking_success():
    rng = np.random.default_rng(7)
    gt = _random_motion(rng, 6)
    good = gt + np.array([0.0, 0.0, 0.4], dtype=np.float32)  # 0.4 m <= 0.5 m every frame
    bad = good.copy()
    bad[3] += np.array([0.0, 0.0, 0.2], dtype=np.float32)  # frame 3 at 0.6 m > 0.5 m
    success, dist = M.tracking_success(np.stack([good, bad]), np.stack([gt, gt]))
    np.testing.assert_array_equal(success, [True, False])
    expected = np.full((2, 6), 0.4)
    expected[1, 3] = 0.6
    np.testing.assert_allclose(dist, expected, atol=ATOL_M)


def test_jit_matches_eager_and_batch_dims_work():
    rng = np.random.default_rng(8)
    gt = np.stack([_random_motion(rng, 130) for _ in range(2)])  # [B=2, T=130, J, 3]
    pred = gt + rng.normal(scale=0.05, size=gt.shape).astype(np.float32)
    for fn in (M.pa_mpjpe_m, M.w_mpjpe_m, M.accel_error_m_per_frame2):
        batched = fn(pred, gt)
        chex.assert_shape(batched, (2, 130 - 2 * (fn is M.accel_error_m_per_frame2)))
        chex.assert_trees_all_close(jax.jit(fn)(pred, gt), batched, atol=1e-6)
        if fn is not M.pa_mpjpe_m:  # pa is per frame already; skip a slow eager retrace
            # Batch dims are independent: the batch result equals vmap over sequences.
            chex.assert_trees_all_close(jax.vmap(fn)(pred, gt), batched, atol=1e-6)
    # The windowed metric, where padding and reshapes could mix sequences, sequence by sequence.
    singles = jnp.stack([M.wa_mpjpe_m(pred[b], gt[b]) for b in range(2)])
    chex.assert_trees_all_close(M.wa_mpjpe_m(pred, gt), singles, atol=1e-6)
    sliding, per_step = jax.jit(lambda x: P.foot_sliding_m(x, FEET))(pred)
    chex.assert_shape(sliding, (2,))
    chex.assert_shape(per_step, (2, 129))


def test_summarize_units_and_keys():
    rng = np.random.default_rng(9)
    gt = _random_motion(rng, 120)
    pred = gt + np.array([0.06, 0.08, 0.0], dtype=np.float32)  # rigid 0.1 m offset
    out = summarize(pred, gt, fps=30.0, foot_indices=FEET)
    # A constant offset: every aligned, root-relative and derivative error is 0; the global
    # error is 0.1 m = 100 mm, under the 0.5 m failure distance.
    for key in ("mpjpe_mm", "pa_mpjpe_mm", "wa_mpjpe_mm", "w_mpjpe_mm", "accel_error_mm_per_frame2",
                "accel_error_mm_s2", "vel_error_mm_per_frame", "vel_error_mm_s"):  # fmt: skip
        assert abs(out[key]) < 0.05, (key, out[key])
    np.testing.assert_allclose(out["g_mpjpe_mm"], 100.0, atol=0.01)
    assert out["success_rate"] == 1.0
    assert all(isinstance(v, float) and np.isfinite(v) for v in out.values())
    # A 0.6 m/s drift at 30 fps is 0.02 m/frame = 20 mm/frame = 600 mm/s velocity error.
    drift = np.arange(120, dtype=np.float32)[:, None, None] * np.array([0.02, 0.0, 0.0], dtype=np.float32)
    out = summarize(gt + drift, gt, fps=30.0, foot_indices=FEET)
    np.testing.assert_allclose(out["vel_error_mm_per_frame"], 20.0, atol=0.01)
    np.testing.assert_allclose(out["vel_error_mm_s"], 600.0, atol=0.5)


def test_summarize_rejects_bad_input():
    gt = np.zeros((10, J, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="same shape"):
        summarize(gt[:5], gt, fps=30.0, foot_indices=FEET)
    with pytest.raises(ValueError, match="fps"):
        summarize(gt, gt, fps=0.0, foot_indices=FEET)
