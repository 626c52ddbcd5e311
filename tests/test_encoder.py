"""Person crops, the image encoder, its features and the kinematic baseline.

Modules: vision/crop.py, vision/encoder_model.py, vision/encoder_train.py,
vision/encoder_features.py, geometry/root_placement.py.
"""

from __future__ import annotations

import dataclasses
import json

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from physhmr_jax import cli
from physhmr_jax.agents.run_dir import RunDirError
from physhmr_jax.expert.export import load_policy
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.geometry.root_placement import place_root
from physhmr_jax.humanoid.skeleton import BODY_INDEX
from physhmr_jax.motion.procedural import generate_library
from physhmr_jax.vision import synth
from physhmr_jax.vision.crop import crop_frames, person_boxes, to_crop_coords
from physhmr_jax.vision.encoder_features import baseline_errors, load_features
from physhmr_jax.vision.encoder_model import FEATURE_DIM, encode_sample, get_config, init_params, make_encoder
from physhmr_jax.vision.encoder_train import camera_frame_targets, load_encoder, pelvis_rotation_from_joints
from physhmr_jax.vision.shards import VideoFileError, load_sample, save_sample

PX = 48


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Two procedural clips (one train, one test), two cameras each, 48 px, 0.5 s."""
    clips = generate_library(1, seed=0, motion_types=("walk", "squat"), duration_s=0.5)
    out = tmp_path_factory.mktemp("encoder_data")
    synth.synth_dataset(clips, out, cameras_per_clip=2, width=PX, height=PX, seed=1, test_fraction=0.5, progress=False)
    return out


@pytest.fixture(scope="module")
def clean_sample(tmp_path_factory):
    clips = generate_library(1, seed=0, motion_types=("walk",), duration_s=0.5)
    out = tmp_path_factory.mktemp("encoder_clean")
    synth.synth_dataset(clips, out, cameras_per_clip=1, width=PX, height=PX, seed=2, test_fraction=0.0,
                        render=False, noise=False, progress=False)  # fmt: skip
    return load_sample(next(out.glob("*/*.npz")))


# ----------------------------------------------------------------------------- crops


def test_crop_maps_keypoint_to_expected_pixel():
    frame = np.zeros((1, 80, 100, 3), np.uint8)
    frame[0, 25, 35] = 255  # pixel (col 35, row 25): centre (35.5, 25.5)
    kp = np.array([[[35.5, 25.5]]], np.float32)
    # Box centre (40, 30), side 20 -> top-left corner (30, 20).
    # out 20 (1 px per crop px): crop point (35.5 - 30, 25.5 - 20) = (5.5, 5.5), pixel (5, 5),
    # whose centre samples the image exactly at (35.5, 25.5): the full 255.
    box = np.array([[40.0, 30.0, 20.0]], np.float32)
    np.testing.assert_allclose(to_crop_coords(kp, box, 20), [[[5.5, 5.5]]])
    crop = crop_frames(frame, box, 20)
    assert crop.shape == (1, 20, 20, 3) and crop[0, 5, 5, 0] == 255 and crop.sum() == 3 * 255
    # out 10 (2 px per crop px): the keypoint lands at (2.75, 2.75), crop pixel (2, 2); that
    # pixel's centre is the image point 30 + 2.5 * 2 = 35 (x) and 25 (y), halfway between
    # pixel centres 34.5/35.5 and 24.5/25.5: bilinear weight 0.5 * 0.5 of 255 -> 64.
    np.testing.assert_allclose(to_crop_coords(kp, box, 10), [[[2.75, 2.75]]])
    crop = crop_frames(frame, box, 10)
    assert crop[0, 2, 2, 0] == 64 and np.unravel_index(crop[0, ..., 0].argmax(), (10, 10)) == (2, 2)


def test_crop_pads_off_frame_and_boxes_follow_keypoints():
    frame = np.full((1, 40, 40, 3), 200, np.uint8)
    # A box centred on the image corner: its top-left quarter lies outside -> zeros.
    crop = crop_frames(frame, np.array([[0.0, 0.0, 20.0]]), 10)
    assert (crop[0, :5, :5] == 0).all() and (crop[0, 5:, 5:] == 200).all()
    kp = np.array([[[10, 10], [30, 50]], [[0, 0], [0, 0]], [[10, 10], [12, 14]]], np.float32)
    conf = np.array([[1, 1], [0, 0], [1, 0]], np.float32)
    boxes = person_boxes(kp, conf, image_size=(40, 40), margin=0.2)
    # frame 0: extent (20, 40) -> side 40 * 1.4 = 56 about the centre (20, 30);
    # frame 1 has no keypoint and copies its nearest frame (0, ties go to the earlier);
    # frame 2: one keypoint -> the minimum side (8 px) about it.
    np.testing.assert_allclose(boxes, [[20, 30, 56], [20, 30, 56], [10, 10, 8]])


# ----------------------------------------------------------------------------- targets, network


def test_targets_are_root_relative_camera_frame(dataset):
    sample = load_sample(next(dataset.glob("train/*.npz")))
    joints_rel, root_6d, root_cam = camera_frame_targets(sample)
    T = sample.num_frames
    assert joints_rel.shape == (T, 24, 3) and root_6d.shape == (T, 6) and root_cam.shape == (T, 3)
    assert np.abs(joints_rel[:, 0]).max() == 0
    # Back to the world: R_wc (p_cam) + t_wc gives the ground truth.
    world = np.einsum("tij,tnj->tni", sample.R_wc, joints_rel + root_cam[:, None]) + sample.t_wc[:, None]
    np.testing.assert_allclose(world, sample.joints3d, atol=1e-5)
    # The 6D is R_wc^T R_root's first two columns.
    R_root = np.asarray(rot.quat_to_matrix(jnp.asarray(sample.root_quat)))
    R_cam = np.einsum("tji,tjk->tik", sample.R_wc, R_root)
    np.testing.assert_allclose(root_6d, np.concatenate([R_cam[..., 0], R_cam[..., 1]], -1), atol=1e-5)
    assert (root_cam[:, 2] > 2.0).all()  # in front of the camera, 3-6 m away


def test_pelvis_frame_fallback_turns_with_the_body(dataset):
    joints = load_sample(next(dataset.glob("train/*.npz"))).joints3d[:3].astype(np.float64)
    R = pelvis_rotation_from_joints(joints)
    np.testing.assert_allclose(np.einsum("tji,tjk->tik", R, R), np.broadcast_to(np.eye(3), R.shape), atol=1e-9)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-9)
    # y points from the right hip to the left hip.
    hips = joints[:, BODY_INDEX["L_Hip"]] - joints[:, BODY_INDEX["R_Hip"]]
    assert (np.einsum("ti,ti->t", R[..., 1], hips) > 0).all()
    turn = np.asarray(rot.quat_to_matrix(rot.quat_from_axis_angle(jnp.array([0.0, 0.0, 1.0]), jnp.array(0.7))))
    turned = pelvis_rotation_from_joints(joints @ turn.T + np.array([1.0, 2.0, 0.0]))
    np.testing.assert_allclose(turned, turn @ R, atol=1e-5)


def test_encoder_output_shapes():
    config = get_config("tiny")
    model = make_encoder(config)
    params = init_params(model, config, jax.random.PRNGKey(0))
    crops = np.random.default_rng(0).integers(0, 255, (3, config.crop_px, config.crop_px, 3), dtype=np.uint8)
    out = jax.jit(model.apply)({"params": params}, crops)
    assert out.features.shape == (3, FEATURE_DIM) and out.features.dtype == jnp.float32
    assert out.joints_rel_cam.shape == (3, 24, 3) and out.root_6d_cam.shape == (3, 6)
    assert float(jnp.abs(out.joints_rel_cam[:, 0]).max()) == 0.0
    assert bool(jnp.isfinite(out.features).all())
    with pytest.raises(ValueError, match="unknown encoder preset"):
        get_config("huge")


# ----------------------------------------------------------------------------- training, features, eval (CLI)


def test_tiny_training_features_and_eval(dataset, tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["encoder", "train", "--data", str(dataset), "--out", str(run), "--preset", "tiny"]) == 0
    history = json.loads((run / "history.json").read_text())
    config = json.loads((run / "config.json").read_text())
    assert config["crop_px"] == 32 and config["steps"] == 60
    # 60 steps at batch 16 on 2 shards x 16 frames. The initial loss on the fixed probe
    # batch is ~0.9 (joints ~0.5 m off, rotations random); learning the mean pose alone
    # halves it (measured: 0.90 -> 0.47 on CMU shards).
    assert history["final"]["loss"] < 0.7 * history["initial"]["loss"], (history["initial"], history["final"])
    assert history["final"]["joint_error_m"] < 0.6 * history["initial"]["joint_error_m"]
    assert history["history"][-1]["step"] == 60

    shard = next(dataset.glob("test/*.npz"))
    before = load_sample(shard)
    assert cli.main(["encoder", "features", "--encoder", str(run), "--data", str(dataset)]) == 0
    after = load_sample(shard)
    assert after.features.shape == (before.num_frames, 512) and after.features.dtype == np.float32
    assert np.isfinite(after.features).all() and after.features.std() > 0
    np.testing.assert_array_equal(after.kp2d, before.kp2d)
    np.testing.assert_array_equal(after.frames, before.frames)
    model, params, cfg = load_encoder(run)  # features are the model's, frame by frame
    out = encode_sample(model, params, cfg, after)
    np.testing.assert_allclose(out.features, after.features, atol=1e-5)
    # The head's root orientation estimate is stored beside the features (the student reads it).
    assert after.root_6d_estimate.shape == (before.num_frames, 6)
    np.testing.assert_allclose(out.root_6d_cam, after.root_6d_estimate, atol=1e-5)
    # The run as one file (what physhmr_jax/pretrained ships): the same weights and config;
    # read as another kind of network, it is refused in one line naming the file.
    capsys.readouterr()
    assert cli.main(["export", "encoder", "--run", str(run), "--out", str(tmp_path / "enc.npz"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "encoder"
    _, file_params, file_cfg = load_encoder(tmp_path / "enc.npz")
    chex.assert_trees_all_equal(file_params, params)
    assert file_cfg.to_dict() == cfg.to_dict()
    with pytest.raises(RunDirError, match="an exported encoder, not an exported expert"):
        load_policy(tmp_path / "enc.npz")

    capsys.readouterr()
    assert cli.main(["encoder", "eval", "--encoder", str(run), "--data", str(dataset), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    test_frames = sum(load_sample(p, load_frames=False).num_frames for p in dataset.glob("test/*.npz"))
    assert result["split"] == "test" and result["shards"] == 2 and result["frames"] == test_frames
    for key in ("mpjpe_mm", "pa_mpjpe_mm", "g_mpjpe_mm", "root_error_mm", "root_orientation_error_deg",
                "oracle_g_mpjpe_mm"):  # fmt: skip
        assert np.isfinite(result[key]) and result[key] > 0, (key, result)


def test_cli_errors_name_the_file(tmp_path, capsys):
    code = cli.main(["encoder", "eval", "--encoder", str(tmp_path), "--data", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USER_ERROR and err.startswith("error: ") and "config.json" in err, err
    code = cli.main(["video", "show", str(tmp_path / "nope.npz"), "--out", str(tmp_path / "x.mp4")])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USER_ERROR and "nope.npz: no such file" in err, err


# ----------------------------------------------------------------------------- features contract


def test_features_of_any_width_round_trip_and_are_optional(clean_sample, tmp_path):
    assert clean_sample.features is None
    with pytest.raises(VideoFileError, match="encoder features"):
        load_features(clean_sample)
    T = clean_sample.num_frames
    other = dataclasses.replace(clean_sample, features=np.arange(T * 7, dtype=np.float64).reshape(T, 7))
    loaded = load_sample(save_sample(tmp_path / "f.npz", other))
    assert load_features(loaded).shape == (T, 7) and loaded.features.dtype == np.float32
    with pytest.raises(VideoFileError, match="'features' has shape"):
        save_sample(tmp_path / "bad.npz", dataclasses.replace(clean_sample, features=np.zeros((T + 1, 7))))
    # Synthetic shards carry the root's world orientation (optional key, unit wxyz).
    assert clean_sample.root_quat.shape == (T, 4)
    with pytest.raises(VideoFileError, match="'root_quat' is not unit norm"):
        save_sample(tmp_path / "bad.npz", dataclasses.replace(clean_sample, root_quat=2 * clean_sample.root_quat))


# ----------------------------------------------------------------------------- kinematic baseline


def test_root_on_pelvis_ray_hand_worked():
    # f = 100 px, principal point (50, 50). Pelvis at (0, 0, 5) m in the camera -> pixel (50, 50).
    # Joint 1 at root + (1, 0, 0): (1, 0, 5) -> u = 50 + 100 * 1 / 5 = 70.
    # Joint 2 at root + (0, -0.5, 0.5): (0, -0.5, 5.5) -> v = 50 - 100 * 0.5 / 5.5 = 40.909.
    # Normalised coords: m_1 = (0.2, 0), m_2 = (0, -1/11). With a = P_xy - m P_z, b = m_p - m:
    #   joint 1: a = (1, 0), b = (-0.2, 0); joint 2: a = (0, -0.5 + 0.5/11), b = (0, 1/11)
    #   z = -sum a.b / sum b.b = (0.2 + 0.4545/11) / (0.04 + 1/121) = 0.24132 / 0.048264 = 5.
    K = np.array([[100.0, 0, 50], [0, 100.0, 50], [0, 0, 1]])
    P = np.array([[[0, 0, 0], [1, 0, 0], [0, -0.5, 0.5]]], np.float64)
    kp = np.array([[[50, 50], [70, 50], [50, 50 - 100 * 0.5 / 5.5]]])
    conf = np.ones((1, 3))
    root, solved = place_root(P, kp, conf, K)
    np.testing.assert_allclose(root, [[0, 0, 5]], atol=1e-5)
    assert solved.all()
    # A skeleton 10% too big seen at the same pixels sits 10% farther: a scales by 1.1.
    np.testing.assert_allclose(place_root(1.1 * P, kp, conf, K)[0], [[0, 0, 5.5]], atol=1e-5)
    # Without the pelvis keypoint the free least squares finds the same exact root.
    np.testing.assert_allclose(place_root(P, kp, np.array([[0.0, 1, 1]]), K)[0], [[0, 0, 5]], atol=1e-5)
    # A frame without enough keypoints copies its neighbour.
    P2, kp2 = np.concatenate([P, P]), np.concatenate([kp, kp])
    root, solved = place_root(P2, kp2, np.array([[1.0, 1, 1], [0, 0, 1]]), K)
    assert solved.tolist() == [True, False]
    np.testing.assert_allclose(root, [[0, 0, 5], [0, 0, 5]], atol=1e-5)


def test_baseline_is_exact_for_the_true_pose(clean_sample):
    joints_rel, _, _ = camera_frame_targets(clean_sample)
    errors = baseline_errors(joints_rel, clean_sample)
    for key in ("mpjpe_m", "pa_mpjpe_m", "g_mpjpe_m", "root_error_m"):
        assert errors[key].shape == (clean_sample.num_frames,)
        assert errors[key].max() < 1e-3, (key, errors[key].max())  # float32 keypoints: sub-mm
    # A 1 cm error on every non-root joint costs 23/24 cm of MPJPE.
    shifted = joints_rel.copy()
    shifted[:, 1:, 0] += 0.01
    np.testing.assert_allclose(baseline_errors(shifted, clean_sample)["mpjpe_m"], 0.01 * 23 / 24, atol=1e-5)
