"""Tests for physhmr_jax.vision.video_import, .video_frames (through import_video) and .shards.

Keypoint files are hand-written here (COCO results JSON, OpenPose per-frame JSON) with the
irregularities real detectors produce; every one must be filled in *and* counted.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from physhmr_jax.humanoid.skeleton import BODY_INDEX, BODY_NAMES, RAY_BODIES
from physhmr_jax.vision.shards import (
    BODY25_NAMES,
    COCO17_NAMES,
    VideoFileError,
    VideoSample,
    load_sample,
    save_sample,
    to_ray_keypoints,
)
from physhmr_jax.vision.video_import import VideoImportWarning, import_video

W, H = 640, 480
RAY_L_WRIST = RAY_BODIES.index(BODY_INDEX["L_Wrist"])  # 4


def _kp(num_joints: int, offset: float = 0.0, scale: float = 1.0, conf: float = 0.9) -> np.ndarray:
    """[J, 3] keypoints: joint j at (100 + offset + scale*j, 50 + offset + 2*scale*j), confidence ``conf``."""
    j = np.arange(num_joints, dtype=float)
    return np.stack([100.0 + offset + scale * j, 50.0 + offset + 2.0 * scale * j, np.full(num_joints, conf)], -1)


def _coco(image_id, kp, **extra):
    entry = {"image_id": image_id} if image_id is not None else {}
    return {**entry, "category_id": 1, "keypoints": np.asarray(kp).ravel().tolist(), **extra}


def _write(path, obj):
    path.write_text(json.dumps(obj))
    return path


def _openpose_frame(*people):
    return {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": p.ravel().tolist()} for p in people]}


# ----- COCO ------------------------------------------------------------------------------


def _coco_file(tmp_path):
    """5 frames: 0 one person; 1 two people; 2 nobody; 3 absent (gap); 4 a zero-confidence wrist."""
    wrist = COCO17_NAMES.index("left_wrist")
    kp4 = _kp(17, offset=4.0)
    kp4[wrist] = (999.0, 999.0, 0.0)  # detectors write junk x/y with c = 0
    entries = [
        _coco(0, _kp(17), score=0.9, track_id=1),
        _coco(1, _kp(17, offset=1.0, scale=1.0), bbox=[0, 0, 10, 10], score=0.95, track_id=7),  # small, higher score
        _coco(1, _kp(17, offset=1.0, scale=5.0), bbox=[0, 0, 100, 200], score=0.6, track_id=1),  # largest
        {"image_id": 2, "keypoints": [], "score": 0.0},  # processed frame, nobody
        _coco(4, kp4, score=0.8, track_id=1),
    ]
    return _write(tmp_path / "dets.json", entries)


def test_coco_irregularities_are_filled_and_counted(tmp_path):
    path = _coco_file(tmp_path)
    with pytest.warns(VideoImportWarning, match="frames_missing=1"):
        sample = import_video(None, path, "coco", width=W, height=H, fps=25)
    r = sample.import_report
    assert (r["frames"], r["frames_without_person"], r["frames_missing"], r["multiple_people_frames"]) == (5, 1, 1, 1)
    assert sample.kp2d.shape == (5, 17, 2) and sample.conf.shape == (5, 17)
    assert sample.joint_names == COCO17_NAMES and sample.fps == 25.0
    np.testing.assert_allclose(sample.kp2d[0], _kp(17)[:, :2])
    # Frame 1: the largest box (scale 5) wins over the higher score.
    np.testing.assert_allclose(sample.kp2d[1], _kp(17, offset=1.0, scale=5.0)[:, :2])
    # Frames 2 (nobody) and 3 (gap): every confidence 0, finite placeholder keypoints.
    assert not sample.conf[2:4].any() and not sample.kp2d[2:4].any()
    # Frame 4: the zero-confidence wrist has conf 0 and kp2d (0, 0), the others are kept.
    wrist = COCO17_NAMES.index("left_wrist")
    assert sample.conf[4, wrist] == 0.0 and tuple(sample.kp2d[4, wrist]) == (0.0, 0.0)
    assert np.all(np.delete(sample.conf[4], wrist) == np.float32(0.9))
    assert r["joints_zero_conf"] == 1 and np.isfinite(sample.kp2d).all()


def test_coco_person_selection_by_score_and_track(tmp_path):
    path = _coco_file(tmp_path)
    with pytest.warns(VideoImportWarning):
        by_score = import_video(None, path, "coco", width=W, height=H, person="score")
    np.testing.assert_allclose(by_score.kp2d[1], _kp(17, offset=1.0)[:, :2])
    with pytest.warns(VideoImportWarning, match="frames_without_person=3.*frames_track_absent=2"):
        track7 = import_video(None, path, "coco", width=W, height=H, person=7)
    # Track 7 exists only in frame 1. Without it: frames 0 and 4 (someone else: track absent)
    # and frame 2 (nobody) = 3; frame 3 is a gap (frames_missing), not counted here.
    assert track7.import_report["frames_without_person"] == 3 and track7.conf[[0, 2, 3, 4]].max() == 0.0
    with pytest.raises(
        VideoFileError, match=r"dets\.json: track id 3 appears in no frame \(track ids present: \[1, 7\]\)"
    ):
        import_video(None, path, "coco", width=W, height=H, person=3)


def test_coco_frame_key_and_first_frame_id(tmp_path):
    # 1-based "frame" numbers: first_frame_id=1 maps frame 1 to index 0, no gap, no warning.
    path = _write(tmp_path / "one_based.json", [_coco(None, _kp(17), frame=f) for f in (1, 2, 3)])
    sample = import_video(None, path, "coco", width=W, height=H, fps=30, fov_deg=60, first_frame_id=1)
    assert sample.num_frames == 3 and sample.import_report["frames_missing"] == 0
    with pytest.raises(VideoFileError, match="frame number 1 is below first_frame_id=2"):
        import_video(None, path, "coco", width=W, height=H, first_frame_id=2)


def test_out_of_range_confidence_and_nonfinite_keypoints(tmp_path):
    kp = _kp(17)
    kp[0, 2] = 1.3  # a heatmap maximum above 1
    kp[1] = (np.nan, 5.0, 0.8)  # confident but not finite
    kp[2, 2] = -0.1
    path = _write(tmp_path / "d.json", [_coco(0, kp)])  # json writes NaN as the literal NaN
    with pytest.warns(VideoImportWarning, match="joints_nonfinite=1; conf_clipped=2"):
        s = import_video(None, path, "coco", fx=500.0, width=W, height=H, fps=30)
    assert tuple(s.conf[0, :3]) == (1.0, 0.0, 0.0) and tuple(s.kp2d[0, 1]) == (0.0, 0.0)
    assert s.import_report["joints_zero_conf"] == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "empty file"),
        ("   \n", "empty file"),
        ('[{"image_id": 0, "keypoints": [1, 2', "malformed JSON"),
        ("[]", r"no keypoint entries \(empty list\)"),
        ('{"image_id": 0}', "expected a list of COCO keypoint results"),
        (json.dumps([_coco(0, _kp(16))]), r"entry 0 \(frame 0\): 48 keypoint numbers, expected 51"),
        (json.dumps([_coco(0, _kp(17)), _coco("a.jpg", _kp(17))]), "entry 1: 'image_id' must be an integer"),
        (json.dumps([_coco(0, _kp(17, conf=0.0))]), "no person with a confident keypoint"),
    ],
)
def test_bad_coco_files_name_file_and_problem(tmp_path, content, problem):
    path = tmp_path / "bad_dets.json"
    path.write_text(content)
    with pytest.raises(VideoFileError, match=problem) as err:
        import_video(None, path, "coco", width=W, height=H)
    assert str(err.value).startswith(f"{path}: ")


# ----- OpenPose --------------------------------------------------------------------------


def _openpose_frames():
    """Frame 0 one person, 1 nobody, 2 absent (gap), 3 two people (small, large)."""
    return {
        0: _openpose_frame(_kp(25)),
        1: _openpose_frame(),
        3: _openpose_frame(_kp(25, scale=1.0), _kp(25, offset=3.0, scale=4.0)),
    }


def test_openpose_folder_and_list_file(tmp_path):
    folder = tmp_path / "op"
    folder.mkdir()
    for i, frame in _openpose_frames().items():
        _write(folder / f"clip_{i:012d}_keypoints.json", frame)
    with pytest.warns(VideoImportWarning):
        sample = import_video(None, folder, "openpose", width=W, height=H, fx=500.0)
    r = sample.import_report
    assert (r["frames"], r["frames_without_person"], r["frames_missing"], r["multiple_people_frames"]) == (4, 1, 1, 1)
    assert sample.joint_names == BODY25_NAMES and sample.kp2d.shape == (4, 25, 2)
    np.testing.assert_allclose(sample.kp2d[3], _kp(25, offset=3.0, scale=4.0)[:, :2])  # largest
    assert not sample.conf[1:3].any()

    # The same frames as one JSON list (frame i = element i; the gap becomes a processed empty frame).
    frames = _openpose_frames()
    listed = _write(tmp_path / "op.json", [frames.get(i, _openpose_frame()) for i in range(4)])
    with pytest.warns(VideoImportWarning):
        from_list = import_video(None, listed, "openpose", width=W, height=H, fx=500.0)
    np.testing.assert_array_equal(from_list.kp2d, sample.kp2d)
    np.testing.assert_array_equal(from_list.conf, sample.conf)
    assert (from_list.import_report["frames_without_person"], from_list.import_report["frames_missing"]) == (2, 0)


def test_bad_openpose_files_name_the_file(tmp_path):
    folder = tmp_path / "op"
    folder.mkdir()
    _write(folder / "v_000000000000_keypoints.json", _openpose_frame(_kp(25)))
    coco18 = _write(folder / "v_000000000001_keypoints.json", _openpose_frame(_kp(18)))
    with pytest.raises(VideoFileError, match="person 0 \\(BODY_25\\): 54 keypoint numbers, expected 75") as err:
        import_video(None, folder, "openpose", width=W, height=H)
    assert str(err.value).startswith(f"{coco18}: ")
    coco18.write_text('{"people": [')
    with pytest.raises(VideoFileError, match="malformed JSON") as err:
        import_video(None, folder, "openpose", width=W, height=H)
    assert str(coco18) in str(err.value)
    empty = tmp_path / "empty_op"
    empty.mkdir()
    with pytest.raises(VideoFileError, match="no OpenPose"):
        import_video(None, empty, "openpose", width=W, height=H)
    with pytest.raises(VideoFileError, match=r"no frames \(empty list\)"):
        import_video(None, _write(tmp_path / "e.json", []), "openpose", width=W, height=H)


# ----- camera ----------------------------------------------------------------------------


def test_camera_from_fov_fx_and_default(tmp_path):
    path = _write(tmp_path / "d.json", [_coco(0, _kp(17)), _coco(1, _kp(17))])
    # fov 90 deg vertical, H = 480: fy = (480 / 2) / tan(45 deg) = 240; fx = fy (square pixels),
    # principal point at the image centre (320, 240).
    s = import_video(None, path, "coco", fov_deg=90.0, width=W, height=H, fps=30)
    np.testing.assert_allclose(s.K, [[240.0, 0.0, 320.0], [0.0, 240.0, 240.0], [0.0, 0.0, 1.0]], rtol=1e-6)
    s = import_video(None, path, "coco", fx=800.0, width=W, height=H, fps=30)
    np.testing.assert_allclose(s.K, [[800.0, 0.0, 320.0], [0.0, 800.0, 240.0], [0.0, 0.0, 1.0]])
    with pytest.warns(VideoImportWarning, match="assumed a 60 degree vertical field of view"):
        s = import_video(None, path, "coco", width=W, height=H, fps=30)
    # Default guess: fy = 240 / tan(30 deg) = 415.69.
    np.testing.assert_allclose(s.K[1, 1], 240.0 / math.tan(math.radians(30.0)), rtol=1e-6)
    assert "default" in s.import_report["intrinsics"]
    with pytest.raises(ValueError, match="not both"):
        import_video(None, path, "coco", fx=500.0, fov_deg=60.0, width=W, height=H)
    with pytest.raises(ValueError, match="image size is unknown"):
        import_video(None, path, "coco", fx=500.0)


def test_static_camera_extrinsics(tmp_path):
    path = _write(tmp_path / "d.json", [_coco(f, _kp(17)) for f in range(3)])
    level = import_video(None, path, "coco", fx=500.0, width=W, height=H, fps=30, camera_height_m=1.2)
    # Level camera looking along +x: image right = world -y, image down = world -z.
    assert level.R_wc.shape == (3, 3, 3) and level.t_wc.shape == (3, 3)
    np.testing.assert_allclose(level.R_wc[2], [[0, 0, 1], [-1, 0, 0], [0, -1, 0]], atol=1e-6)
    np.testing.assert_allclose(level.t_wc, np.tile([0.0, 0.0, 1.2], (3, 1)))
    # Pitched down 30 deg: a far point at camera height (the horizon) appears above the centre,
    # at v = cy - fy * tan(30 deg) = 240 - 500 * 0.5774 = 51.3 px.
    pitched = import_video(None, path, "coco", fx=500.0, width=W, height=H, fps=30, camera_height_m=1.2, pitch_deg=30)
    R, t = pitched.R_wc[0].astype(float), pitched.t_wc[0].astype(float)
    p_cam = R.T @ (np.array([1e4, 0.0, 1.2]) - t)
    uv = (pitched.K.astype(float) @ (p_cam / p_cam[2]))[:2]
    np.testing.assert_allclose(uv, [320.0, 240.0 - 500.0 * math.tan(math.radians(30.0))], atol=1e-2)


# ----- frames ----------------------------------------------------------------------------


def _write_mp4(path, num_frames=5, height=32, width=48, fps=10):
    import imageio.v2 as iio

    frames = np.zeros((num_frames, height, width, 3), np.uint8)
    for i in range(num_frames):
        frames[i, :, : 8 * (i + 1)] = 200  # a bar growing to the right
    iio.mimwrite(path, frames, fps=fps, macro_block_size=16)
    return path


# imageio-ffmpeg starts ffmpeg with fork+exec (no Python runs in the child), which JAX's
# fork-after-threads warning cannot tell apart from a real fork.
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")
def test_mp4_import_size_count_fps(tmp_path):
    video = _write_mp4(tmp_path / "v.mp4")
    path = _write(tmp_path / "d.json", [_coco(f, _kp(17)) for f in range(5)])
    s = import_video(video, path, "coco", fov_deg=90.0)
    assert s.frames.shape == (5, 32, 48, 3) and s.frames.dtype == np.uint8
    assert s.image_size == (48, 32) and s.fps == pytest.approx(10.0)
    assert s.import_report["fps_source"] == "video"
    # fy = (32 / 2) / tan(45 deg) = 16, principal point (48 / 2, 32 / 2).
    np.testing.assert_allclose(s.K, [[16.0, 0.0, 24.0], [0.0, 16.0, 16.0], [0.0, 0.0, 1.0]], rtol=1e-6)
    assert s.frames[4, :, :36].mean() > 150 and s.frames[0, :, 16:].mean() < 50  # decoded, not garbage

    # Keypoints ending early: trailing video frames are frames_missing; beyond the video: error.
    short = _write(tmp_path / "short.json", [_coco(f, _kp(17)) for f in range(3)])
    with pytest.warns(VideoImportWarning, match="frames_missing=2"):
        assert import_video(video, short, "coco", fov_deg=90.0).num_frames == 5
    long = _write(tmp_path / "long.json", [_coco(f, _kp(17)) for f in range(6)])
    with pytest.raises(VideoFileError, match="reach frame 5 .* has 5 frames"):
        import_video(video, long, "coco", fov_deg=90.0)
    with pytest.raises(ValueError, match="disagree with the frames"):
        import_video(video, path, "coco", fov_deg=90.0, width=640, height=480)


def test_image_folder_natural_order(tmp_path):
    import imageio.v2 as iio

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(11):  # frame_2 must come before frame_10
        iio.imwrite(folder / f"frame_{i}.png", np.full((8, 12, 3), i, np.uint8))
    path = _write(tmp_path / "d.json", [_coco(f, _kp(17)) for f in range(11)])
    with pytest.warns(VideoImportWarning, match="fps unknown"):
        s = import_video(folder, path, "coco", fx=10.0)
    assert s.frames.shape == (11, 8, 12, 3) and list(s.frames[:, 0, 0, 0]) == list(range(11))


# ----- shards ----------------------------------------------------------------------------


def _synthetic_sample(T=4):
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.0, 1.0, (T, 24)).astype(np.float32)
    conf[1, 3] = 0.0
    return VideoSample(
        kp2d=rng.uniform(0, 64, (T, 24, 2)),
        conf=conf,
        K=np.array([[50.0, 0, 32], [0, 50.0, 24], [0, 0, 1]]),
        R_wc=np.tile(np.array([[0.0, 0, 1], [-1, 0, 0], [0, -1, 0]]), (T, 1, 1)),
        t_wc=np.tile([0.0, 0.0, 1.5], (T, 1)),
        fps=30.0,
        joint_names=BODY_NAMES,
        frames=rng.integers(0, 256, (T, 48, 64, 3), dtype=np.uint8),
        image_size=(64, 48),
        joints3d=rng.normal(size=(T, 24, 3)),
        motion_name="walk",
        motion_source="procedural:walk:0",
        camera_id="static_2",
        name="walk_static_2",
        source="synthetic",
        import_report={"frames": T, "notes": ["x"]},
    )


def test_shard_round_trip(tmp_path):
    sample = _synthetic_sample()
    path = save_sample(tmp_path / "shards" / "s.npz", sample)
    assert sorted(p.name for p in path.parent.iterdir()) == ["s.npz"]  # no temporary left behind
    loaded = load_sample(path)
    for field in ("kp2d", "conf", "K", "R_wc", "t_wc", "frames", "joints3d"):
        np.testing.assert_array_equal(getattr(loaded, field), getattr(sample, field), err_msg=field)
    for field in ("fps", "joint_names", "image_size", "motion_name", "motion_source", "camera_id", "name", "source"):
        assert getattr(loaded, field) == getattr(sample, field), field
    assert loaded.import_report == sample.import_report
    assert load_sample(path, load_frames=False).frames is None


def test_imported_sample_round_trip(tmp_path):
    with pytest.warns(VideoImportWarning):
        sample = import_video(None, _coco_file(tmp_path), "coco", width=W, height=H, fps=25)
    loaded = load_sample(save_sample(tmp_path / "real.npz", sample))
    np.testing.assert_array_equal(loaded.kp2d, sample.kp2d)
    assert loaded.frames is None and loaded.joints3d is None and loaded.import_report == sample.import_report


def test_shard_validation_errors(tmp_path):
    sample = _synthetic_sample()
    kp = sample.kp2d.copy()
    kp[2, 5] = np.nan  # conf[2, 5] > 0
    bad = VideoSample(**{**sample.__dict__, "kp2d": kp})
    with pytest.raises(
        VideoFileError, match=r"bad\.npz: 'kp2d' has NaN/inf where conf > 0 \(1 keypoint\(s\), first at frame 2\)"
    ):
        save_sample(tmp_path / "bad.npz", bad)
    assert not list(tmp_path.iterdir())
    raw = tmp_path / "raw.npz"
    np.savez(raw, kp2d=kp, conf=sample.conf, K=sample.K, R_wc=sample.R_wc, t_wc=sample.t_wc, fps=30.0,
             joint_names=np.array(BODY_NAMES))  # fmt: skip
    with pytest.raises(VideoFileError, match=r"raw\.npz: 'kp2d' has NaN/inf where conf > 0"):
        load_sample(raw)
    np.savez(raw, kp2d=sample.kp2d, conf=sample.conf)
    with pytest.raises(VideoFileError, match=r"raw\.npz: not a video sample shard: missing key\(s\) \['K', 'R_wc'"):
        load_sample(raw)
    np.savez(raw, kp2d=sample.kp2d, conf=sample.conf[:, :5], K=sample.K, R_wc=sample.R_wc, t_wc=sample.t_wc,
             fps=30.0, joint_names=np.array(BODY_NAMES))  # fmt: skip
    with pytest.raises(VideoFileError, match=r"'conf' has shape \(4, 5\), expected \(4, 24\)"):
        load_sample(raw)
    with pytest.raises(VideoFileError, match="no such file"):
        load_sample(tmp_path / "nope.npz")


# ----- ray keypoints ---------------------------------------------------------------------


def test_to_ray_keypoints_order(tmp_path):
    # Joint j of the file sits at x = 100 + j, so x names the source joint.
    path = _write(tmp_path / "d.json", [_coco(0, _kp(17))])
    coco = import_video(None, path, "coco", fx=500.0, width=W, height=H, fps=30)
    kp, conf = to_ray_keypoints(coco)
    assert kp.shape == (1, 12, 2) and conf.shape == (1, 12)
    assert kp[0, RAY_L_WRIST, 0] == 100 + COCO17_NAMES.index("left_wrist")  # 109
    expected = [COCO17_NAMES.index(n) for n in (
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")]  # fmt: skip
    np.testing.assert_array_equal(kp[0, :, 0], 100 + np.array(expected))

    op = _write(tmp_path / "op.json", [_openpose_frame(_kp(25))])
    kp, conf = to_ray_keypoints(import_video(None, op, "openpose", fx=500.0, width=W, height=H, fps=30))
    assert kp[0, RAY_L_WRIST, 0] == 100 + BODY25_NAMES.index("LWrist")  # 107
    assert np.all(conf == np.float32(0.9))

    # A body-named set lacking the wrists: those ray joints get conf 0 (and kp 0).
    names = [n for n in BODY_NAMES if "Wrist" not in n]
    partial = VideoSample(
        kp2d=np.ones((2, len(names), 2)), conf=np.ones((2, len(names))), K=coco.K,
        R_wc=np.tile(np.eye(3), (2, 1, 1)), t_wc=np.zeros((2, 3)), fps=30.0, joint_names=names,
    )  # fmt: skip
    kp, conf = to_ray_keypoints(partial)
    wrists = [RAY_BODIES.index(BODY_INDEX[n]) for n in ("L_Wrist", "R_Wrist")]
    assert not conf[:, wrists].any() and not kp[:, wrists].any()
    assert conf[:, [i for i in range(12) if i not in wrists]].all()


def test_cli_video_import_writes_a_shard_and_reports_errors(tmp_path, capsys):
    from physhmr_jax import cli
    from physhmr_jax.vision.shards import load_sample

    kp_path = _coco_file(tmp_path)
    out = tmp_path / "real.npz"
    args = ["video", "import", "--keypoints", str(kp_path), "--format", "coco", "--width", str(W),
            "--height", str(H), "--fov", "50", "--camera-height", "1.2", "--out", str(out), "--json"]  # fmt: skip
    assert cli.main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    sample = load_sample(out)
    assert printed["frames"] == sample.kp2d.shape[0] and sample.kp2d.shape[1:] == (17, 2)
    assert sample.joints3d is None and sample.frames is None
    # --fov 50 (vertical) at 480 px: fy = 240 / tan(25 deg) = 514.7.
    np.testing.assert_allclose(sample.K[1, 1], 240.0 / np.tan(np.radians(25.0)), rtol=1e-5)
    np.testing.assert_allclose(sample.t_wc[:, 2], 1.2, atol=1e-6)
    # A keypoint file that does not exist: one line naming it, exit status 2.
    missing = tmp_path / "nope.json"
    assert cli.main([*args[:3], str(missing), *args[4:]]) == cli.EXIT_USER_ERROR
    assert capsys.readouterr().err.strip() == f"error: {missing}: no such file or folder"
