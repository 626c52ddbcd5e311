"""Drawing shards: keypoints by confidence, bones, ray errors, videos and strips (vision/show.py)."""

from __future__ import annotations

import dataclasses

import imageio.v3 as iio
import numpy as np
import pytest

from physhmr_jax import cli
from physhmr_jax.humanoid.skeleton import BODY_NAMES
from physhmr_jax.vision import show
from physhmr_jax.vision.shards import BODY25_NAMES, COCO17_NAMES, VideoSample, save_sample

GREEN, RED = show.conf_rgb(1.0), show.conf_rgb(0.0)


def _sample(T=4, W=40, H=30, frames=True, joints3d=False) -> VideoSample:
    rng = np.random.default_rng(0)
    kp = np.tile(np.array([[10.0, 10.0], [30.0, 20.0]] + [[20.0, 15.0]] * 22, np.float32), (T, 1, 1))
    conf = np.ones((T, 24), np.float32)
    conf[:, 2:] = 0.0  # only the pelvis and the left hip
    kp[:, 2:] = 0.0
    R_wc = np.tile(np.eye(3, dtype=np.float32), (T, 1, 1))
    return VideoSample(
        kp2d=kp, conf=conf, K=np.array([[20.0, 0, W / 2], [0, 20.0, H / 2], [0, 0, 1]]), R_wc=R_wc,
        t_wc=np.zeros((T, 3)), fps=30.0, joint_names=BODY_NAMES, image_size=(W, H),
        frames=rng.integers(0, 60, (T, H, W, 3), dtype=np.uint8) if frames else None,
        joints3d=np.tile([0.0, -1.0, 5.0], (T, 24, 1)) if joints3d else None, name="toy",
    )  # fmt: skip


def test_bones_of_each_keypoint_set():
    assert len(show.bones_for(BODY_NAMES)) == 23  # the kinematic tree
    assert len(show.bones_for(COCO17_NAMES)) == 19  # COCO's skeleton
    assert len(show.bones_for(BODY25_NAMES)) == 24  # OpenPose's pairs
    assert show.bones_for(("a", "b")) == []
    assert show.conf_rgb(0.5) == (255, 255, 0) and GREEN == (0, 255, 0) and RED == (255, 0, 0)


def test_draw_frame_colours_keypoints_and_skips_missing():
    image = np.zeros((20, 20, 3), np.uint8)
    kp = np.array([[10.5, 10.5], [3.5, 3.5], [15.5, 4.5]])
    conf = np.array([1.0, 0.0, 0.1])
    out = show.draw_frame(image, kp, conf, [(0, 1)])
    assert tuple(out[10, 10]) == GREEN
    assert tuple(out[3, 3]) == (0, 0, 0)  # conf 0: neither dot nor bone
    assert out[4, 15, 0] > 200 and out[4, 15, 1] < 80  # conf 0.1: red-ish
    assert out[6:9, 6:9].max() == 0  # the bone to a missing keypoint is not drawn
    # Upscaled by 3: the keypoint moves to 31.5 and the image to 60 px.
    big = show.draw_frame(image, kp, conf, [], scale=3)
    assert big.shape == (60, 60, 3) and tuple(big[31, 31]) == GREEN


def test_ray_error_segment_joins_keypoint_and_true_projection():
    image = np.zeros((30, 30, 3), np.uint8)
    out = show.draw_frame(image, np.array([[5.5, 15.5]]), np.array([1.0]), [], true_uv=np.array([[25.5, 15.5]]))
    cyan = np.all(out == np.array(show.RAY_ERROR_RGB, np.uint8), axis=-1)
    assert cyan[15, 10:20].all()  # along the segment
    assert cyan[13:18, 25].sum() >= 3  # the cross at the true projection


def test_draw_sample_grey_canvas_and_truth(tmp_path):
    s = _sample(frames=False, joints3d=True)
    drawn = show.draw_sample(s, label=False)
    scale = show.display_scale(30)  # 256 / 30 -> 9
    assert scale == 9 and drawn.shape == (4, 30 * 9, 40 * 9, 3)
    assert tuple(drawn[0, 5, 5]) == (show.CANVAS_GREY,) * 3
    # Every true joint at (0, -1, 5) m (camera = world here), f = 20 px, centre (20, 15):
    # it projects to (20, 15 - 20 / 5) = (20, 11); x 9 -> (180, 99). The pelvis keypoint
    # (10, 10) -> (90, 90): the segment passes x = 135 at y = 94.5.
    cyan = np.all(drawn[0] == np.array(show.RAY_ERROR_RGB, np.uint8), axis=-1)
    assert cyan[93:97, 135].any() and cyan[97:102, 180].any()
    assert not cyan[:, :80].any()  # nothing left of the keypoints
    zoomed = show.draw_sample(s, frame_indices=[1], zoom_px=64)
    assert zoomed.shape == (1, 64, 64, 3)


def test_show_writes_video_and_strip(tmp_path, capsys):
    shard = save_sample(tmp_path / "toy.npz", _sample(T=5))
    out, png = tmp_path / "toy.mp4", tmp_path / "toy.png"
    assert cli.main(["video", "show", str(shard), "--out", str(out), "--png", str(png)]) == 0
    video = iio.imread(out)
    assert video.shape[0] == 5 and video.shape[1:3] == (270, 360)
    strip = iio.imread(png)
    assert strip.shape == (show.STRIP_ZOOM_PX, 5 * show.STRIP_ZOOM_PX, 3)
    strip_png = tmp_path / "strip.png"
    assert cli.main(["video", "strip", str(tmp_path), "--out", str(strip_png), "--frames", "3"]) == 0
    assert iio.imread(strip_png).shape == (256, 3 * 256, 3)


def test_contact_sheet_needs_samples():
    with pytest.raises(ValueError, match="at least one"):
        show.contact_sheet([])
    s = dataclasses.replace(_sample(), conf=np.zeros((4, 24), np.float32), kp2d=np.zeros((4, 24, 2), np.float32))
    assert show.contact_sheet([s], 2, zoom_px=None).shape == (270, 2 * 360, 3)  # nothing visible: whole frames
