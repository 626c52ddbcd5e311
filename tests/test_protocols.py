"""The two evaluation protocols (eval/protocols.py) on hand-worked cases: a standing pose
that drifts 1 cm per frame, a rigidly moved copy, a deformed copy, and a floor."""

import numpy as np
import pytest

from physhmr_jax.eval import protocols

FEET = (1, 2)  # joints 1 and 2 of the toy skeleton are its feet
DRIFT_M = 0.01  # metres per frame


def _pose(num_joints: int = 6) -> np.ndarray:
    """A fixed pose: pelvis at 0.9 m, two feet on the floor, the rest above."""
    rng = np.random.default_rng(0)
    pose = rng.uniform(-0.3, 0.3, (num_joints, 3)) + np.array([0.0, 0.0, 1.0])
    pose[0] = [0.0, 0.0, 0.9]
    pose[1] = [0.1, 0.1, 0.0]
    pose[2] = [-0.1, 0.1, 0.0]
    return pose


def _still(num_frames: int) -> np.ndarray:
    return np.repeat(_pose()[None], num_frames, axis=0)


def _drifting(num_frames: int) -> np.ndarray:
    """The still pose sliding along x by DRIFT_M per frame (every joint, feet included)."""
    t = np.arange(num_frames)[:, None, None]
    return _still(num_frames) + DRIFT_M * t * np.array([1.0, 0.0, 0.0])


def _rotated(x: np.ndarray, angle: float, shift) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return x @ rot.T + np.asarray(shift)


def test_clips_of():
    assert protocols.clips_of(250) == [slice(0, 100), slice(100, 200)]  # the 50-frame tail is dropped
    assert protocols.clips_of(50) == [slice(0, 50)]  # shorter than a clip: one clip


def test_rigid_alignment_removes_a_rigid_motion_but_no_scale():
    gt = _drifting(30)
    np.testing.assert_allclose(protocols.rigid_align_sequence(_rotated(gt, 0.5, [1.0, -2.0, 0.3]), gt), gt, atol=1e-4)
    scaled = 1.1 * gt
    assert np.abs(np.asarray(protocols.rigid_align_sequence(scaled, gt)) - gt).max() > 0.01


def test_height_variance_by_hand():
    # Per-frame lowest points 0, 0.01, ..., 0.07 m (8 frames): the lowest quarter is 0 and 0.01,
    # variance 0.005^2 = 2.5e-5 m^2 -> 25 (x 1e6).
    joints = np.zeros((8, 3, 3))
    joints[:, :, 2] = 1.0
    joints[:, 0, 2] = 0.01 * np.arange(8)[::-1]  # any frame order
    assert protocols.height_variance(joints) == pytest.approx(25.0, rel=1e-6)


def test_physhmr_clip_of_a_drift_by_hand():
    """A standing pose drifting 1 cm/frame against the same pose standing still, 100 frames.

    The whole-clip rigid fit removes the mean offset and no rotation (the drift is a pure,
    centred translation): frame t is off by 0.01 (t - 49.5) m. Hand-worked: W-MPJPE (the
    aligned global error) 0.01 x mean|t - 49.5| = 250 mm; WA (refitted on the first frame)
    0.01 x mean t = 495 mm; PA and root-relative 0; pelvis velocity error 10 mm/frame,
    acceleration 0; the still feet are in contact at every step, the predicted feet slide
    10 mm/frame; the lowest point never changes height: height variance 0.
    """
    row = protocols.physhmr_clip(_drifting(100), _still(100), foot_indices=FEET)
    assert row["pa_mpjpe_mm"] == pytest.approx(0.0, abs=1e-2)
    assert row["mpjpe_mm"] == pytest.approx(0.0, abs=1e-2)
    assert row["w_mpjpe_mm"] == pytest.approx(250.0, rel=1e-3)
    assert row["wa_mpjpe_mm"] == pytest.approx(495.0, rel=1e-3)
    assert row["pelvis_vel_error"] == pytest.approx(10.0, rel=1e-3)
    assert row["pelvis_accel_error"] == pytest.approx(0.0, abs=1e-2)
    assert row["foot_sliding_mm"] == pytest.approx(10.0, rel=1e-3)
    assert row["height_variance"] == pytest.approx(0.0, abs=1e-3)
    assert row["ground_penetration_mm"] == pytest.approx(0.0, abs=1e-6)
    assert not row["failed"]


def test_physhmr_protocol_counts_and_drops_failures():
    gt = _still(200)
    good = _rotated(gt, 0.3, [0.5, 0.2, 0.0])  # rigidly moved: every error 0 after alignment
    bad = gt.copy()
    bad[100:, 3:] += np.array([[0.4, 0.0, 0.0], [-0.4, 0.0, 0.0], [0.0, 0.4, 0.0]])  # second clip: not a similarity
    bad[:, :, 2] -= 0.02  # and 2 cm into the floor throughout
    result = protocols.physhmr_protocol([(good, gt), (bad, gt)], foot_indices=FEET, names=["good", "bad"])
    assert result["protocol"] == "physhmr" and result["clips"] == 4
    failed = [(r["sequence"], r["start_frame"]) for r in result["per_clip"] if r["failed"]]
    assert failed == [("bad", 100)]  # PA-MPJPE 162 mm > 100 mm (the other clips: 0)
    assert result["failure_rate"] == 0.25
    # The averages are over the three clips that did not fail: all exact but the sunken one.
    assert result["pa_mpjpe_mm"] == pytest.approx(0.0, abs=1e-2)
    # Penetration is measured before alignment: 20 mm in one kept clip of three.
    assert result["ground_penetration_mm"] == pytest.approx(20.0 / 3.0, rel=1e-3)


def test_phc_sequence_of_a_drift_by_hand():
    """PHC, no alignment: the mean body distance at frame t is 0.01 t m, so the drift fails
    at frame 51 (> 0.5 m); the errors are over the 51 frames before: G-MPJPE 0.01 x mean(0..50)
    = 250 mm, root-relative and PA 0."""
    row = protocols.phc_sequence(_drifting(100), _still(100), foot_indices=FEET)
    assert row["success"] is False and row["frames_tracked"] == 51 and row["frames"] == 100
    assert row["g_mpjpe_mm"] == pytest.approx(250.0, rel=1e-3)
    assert row["mpjpe_mm"] == pytest.approx(0.0, abs=1e-2)
    assert row["pa_mpjpe_mm"] == pytest.approx(0.0, abs=1e-2)
    assert row["accel_error_mm"] == pytest.approx(0.0, abs=1e-2)
    still = protocols.phc_protocol([(_drifting(100), _still(100)), (_still(80), _still(80))], names=["d", "s"])
    assert still["success_rate"] == 0.5 and still["g_mpjpe_mm"] == pytest.approx(125.0, rel=1e-3)
    assert still["success_only"]["g_mpjpe_mm"] == pytest.approx(0.0, abs=1e-3)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="T, J, 3"):
        protocols.phc_sequence(np.zeros((5, 4, 3)), np.zeros((5, 3, 3)))
