"""The results table's pieces on hand-worked cases (no simulation): smoothing, the kinematic
baseline's placement, both protocols per method, the markdown, the errors naming the shard."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from video_fixtures import synthetic_motion_lib, synthetic_video

from physhmr_jax.eval import results
from physhmr_jax.vision.shards import VideoFileError, save_sample


@pytest.fixture(scope="module")
def samples():
    lib = synthetic_motion_lib()
    return [
        synthetic_video(lib, 0, 40, [4.0, -3.0, 1.5], "walk_test"),
        synthetic_video(lib, 1, 25, [-3.0, 2.0, 2.0], "turn_test"),
    ]


def test_smooth_is_a_centred_moving_average():
    x = np.array([0.0, 0.0, 3.0, 0.0, 0.0, 6.0])
    np.testing.assert_allclose(results.smooth(x, 3), [0.0, 1.0, 1.0, 1.0, 2.0, 4.0])
    np.testing.assert_array_equal(results.smooth(x, 1), x)
    ramp = np.arange(10.0)[:, None, None] * np.ones((1, 24, 3))
    np.testing.assert_allclose(results.smooth(ramp, 5)[2:-2], ramp[2:-2])  # linear motion is kept
    with pytest.raises(Exception, match="odd"):
        results.smooth(x, 4)


def test_kinematic_baseline_with_the_true_pose_is_exact(samples):
    """Exact root-relative pose + exact keypoints: the pelvis ray places the root exactly."""
    kin = results.kinematic_sequences(samples)
    assert kin.names == ["walk_test", "turn_test"]
    for pred, gt in zip(kin.pred, kin.gt, strict=True):
        assert np.abs(pred - gt).max() < 1e-3
    row = results.method_row(kin)
    assert row["success_rate"] == 1.0 and row["failure_rate"] == 0.0
    assert row["pa_mpjpe_mm"] < 1.0 and row["w_mpjpe_mm"] < 1.0 and row["phc"]["g_mpjpe_mm"] < 1.0


def test_method_row_counts_failures_under_both_protocols(samples):
    """A 0.6 m offset: PHC's rule fails it from frame 0; PhysHMR's rigid alignment removes a
    constant offset (no failure). A pose scrambled per frame fails PhysHMR's 100 mm rule."""
    gt = [s.joints3d for s in samples]
    shifted = results.MethodSequences("shifted", ["a", "b"], [g + np.array([0.6, 0, 0]) for g in gt], gt)
    row = results.method_row(shifted)
    assert row["success_rate"] == 0.0 and row["failure_rate"] == 0.0
    assert row["w_mpjpe_mm"] < 1.0 and row["phc"]["g_mpjpe_mm"] == pytest.approx(600.0, abs=1e-2)
    rng = np.random.default_rng(0)
    scrambled = [g + rng.normal(scale=0.3, size=g.shape) for g in gt]
    row = results.method_row(results.MethodSequences("noise", ["a", "b"], scrambled, gt))
    assert row["failure_rate"] == 1.0 and row["pa_mpjpe_mm"] is None  # failures leave the means
    table = results.markdown_table([results.method_row(shifted), row], split="test", videos=2)
    lines = table.splitlines()
    assert lines[2].startswith("| method | PA-MPJPE") and len(lines) == 13
    assert lines[4].startswith("| shifted | 0.0") and "| 0% |" in lines[4]
    assert lines[5].startswith("| noise | –") and "| 100% |" in lines[5]
    # PHC's table: the shifted row fails from frame 0 (0% success) with its 600 mm error shown.
    assert lines[9].startswith("| method | Success | G-MPJPE") and lines[11].startswith("| shifted | 0% | 600.0")


def test_missing_estimate_or_truth_names_the_shard(samples, tmp_path):
    from physhmr_jax.vision.shards import load_sample

    back = load_sample(save_sample(tmp_path / "ok.npz", samples[0]))
    np.testing.assert_array_equal(back.joints_rel_cam_estimate, samples[0].joints_rel_cam_estimate)
    with pytest.raises(VideoFileError, match=r"'joints_rel_cam_estimate' has shape \(40, 2, 3\)"):
        dataclasses.replace(samples[0], joints_rel_cam_estimate=np.zeros((40, 2, 3))).validate()
    bare = dataclasses.replace(samples[0], joints_rel_cam_estimate=None, source=str(tmp_path / "v.npz"))
    with pytest.raises(VideoFileError, match=r"v\.npz: has no 'joints_rel_cam_estimate'"):
        results.kinematic_sequences([bare])
    save_sample(tmp_path / "data" / "test" / "x.npz", dataclasses.replace(samples[0], joints3d=None))
    with pytest.raises(VideoFileError, match=r"x\.npz: has no ground-truth 'joints3d'"):
        results.load_split(tmp_path / "data", "test")
    assert results.parse_runs(["distilled=runs/a", "runs/b"]) == [("distilled", "runs/a"), ("b", "runs/b")]
