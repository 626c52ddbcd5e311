"""Synthetic video benchmark generator (physhmr_jax/vision/synth.py)."""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest

from physhmr_jax.geometry.camera import Camera, pixel_rays, project
from physhmr_jax.geometry.rays import ray_offsets
from physhmr_jax.humanoid.skeleton import BODY_NAMES
from physhmr_jax.motion.procedural import generate_library
from physhmr_jax.vision import synth
from physhmr_jax.vision.shards import load_sample

W = H = 64


@pytest.fixture(scope="module")
def clips():
    return generate_library(1, seed=0, motion_types=("walk", "squat"), duration_s=0.5)


@pytest.fixture(scope="module")
def clean_set(clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("synth_clean")
    m = synth.synth_dataset(
        clips, out, cameras_per_clip=2, width=W, height=H, seed=3, test_fraction=0.5, noise=False, progress=False
    )
    return out, m


@pytest.fixture(scope="module")
def noisy_set(clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("synth_noisy")
    m = synth.synth_dataset(clips, out, cameras_per_clip=2, width=W, height=H, seed=4, render=False, progress=False)
    return out, m


def _samples(out):
    return {p.stem: (p.parent.name, load_sample(p)) for p in sorted(out.glob("*/*.npz"))}


def test_shards_load_with_right_shapes_and_split_by_clip(clips, clean_set):
    out, manifest = clean_set
    samples = _samples(out)
    assert len(samples) == 4 and manifest["counts"]["shards"] == 4
    assert json.loads((out / "manifest.json").read_text())["counts"] == manifest["counts"]
    assert manifest["render_frames_per_s"] > 0
    splits: dict[str, set] = {}
    for name, (split, s) in samples.items():
        T = clips[0].num_frames
        assert s.kp2d.shape == (T, 24, 2) and s.conf.shape == (T, 24)
        assert s.frames.shape == (T, H, W, 3) and s.frames.dtype == np.uint8
        assert s.joints3d.shape == (T, 24, 3) and s.R_wc.shape == (T, 3, 3) and s.t_wc.shape == (T, 3)
        assert s.joint_names == BODY_NAMES and s.image_size == (W, H)
        assert name == f"{s.motion_name}_{s.camera_id}" and s.motion_source.startswith("procedural")
        assert s.frames.std() > 1.0  # not a blank image
        splits.setdefault(s.motion_name, set()).add(split)
    assert all(len(v) == 1 for v in splits.values()), splits  # no clip in both splits
    assert {next(iter(v)) for v in splits.values()} == {"train", "test"}
    # deterministic split
    assert synth.split_clips(["a", "b", "c"], seed=1, test_fraction=0.3) == synth.split_clips(
        ["c", "b", "a"], seed=1, test_fraction=0.3
    )


def test_clean_keypoints_are_exact_projections_on_rays(clean_set):
    for _, s in _samples(clean_set[0]).values():
        cam = Camera(K=jnp.asarray(s.K), R_wc=jnp.asarray(s.R_wc), t_wc=jnp.asarray(s.t_wc))
        uv, depth = project(cam, jnp.asarray(s.joints3d))
        vis = s.conf > 0
        assert vis.mean() > 0.8
        np.testing.assert_array_equal(s.kp2d[vis], np.asarray(uv)[vis])
        assert np.all(np.asarray(depth) > 0)
        origin, d = pixel_rays(cam, jnp.asarray(s.kp2d))
        off = np.linalg.norm(np.asarray(ray_offsets(jnp.asarray(s.joints3d), origin, d)), axis=-1)
        assert off[vis].max() <= 1e-4, off[vis].max()


def test_rendered_person_is_where_the_camera_says(clips):
    clip = clips[0]
    joints = synth.clip_joints3d(clip)
    model, cam_id = synth.build_render_model(clip.skeleton)
    for k, moving in enumerate((False, True)):
        rng = np.random.default_rng(10 + k)
        cam = synth.random_camera(rng, joints[:, 0], T=clip.num_frames, width=W, height=H, moving=moving, fps=clip.fps)
        uv, _ = synth.project_joints(cam["K"], cam["R_wc"], cam["t_wc"], joints)
        frames = slice(0, None, 5)
        mask = synth.render_frames(
            model, cam_id, synth._clip_qpos(clip)[frames], cam["K"], cam["R_wc"][frames], cam["t_wc"][frames],
            width=W, height=H, segmentation=True,
        )  # fmt: skip
        for m, p in zip(mask, uv[frames], strict=True):
            assert m.sum() > 10
            ij = np.clip(np.floor(p).astype(int), 0, W - 1)
            assert m[ij[0, 1], ij[0, 0]], "pelvis pixel is not on the person"
            ys, xs = np.nonzero(m)
            # every joint sits inside its geoms: a person pixel within ~1 px (thin limbs at 64 px)
            centres = np.stack([xs + 0.5, ys + 0.5], axis=-1)
            nearest = np.linalg.norm(p[:, None] - centres[None], axis=-1).min(axis=1)
            assert nearest.max() <= 1.5, nearest.max()
            centroid = np.array([xs.mean() + 0.5, ys.mean() + 0.5])
            assert np.linalg.norm(centroid - p.mean(0)) < 3.0


def test_moving_cameras_move_and_static_do_not(clips):
    joints = synth.clip_joints3d(clips[0])
    T = clips[0].num_frames
    rng = np.random.default_rng(0)
    static = synth.random_camera(rng, joints[:, 0], T=T, width=W, height=H, moving=False)
    moving = synth.random_camera(rng, joints[:, 0], T=T, width=W, height=H, moving=True)
    assert np.ptp(static["t_wc"], axis=0).max() == 0 and np.ptp(static["R_wc"], axis=0).max() == 0
    assert np.linalg.norm(moving["t_wc"][-1] - moving["t_wc"][0]) > 0.05
    assert np.abs(moving["R_wc"][-1] - moving["R_wc"][0]).max() > 1e-3
    for cam in (static, moving):
        d = np.linalg.norm(cam["t_wc"][:, :2] - joints[:, 0, :2].mean(0), axis=-1)
        assert 2.0 < d.min() and d.max() < 7.0
        assert 0.8 <= cam["t_wc"][0, 2] <= 2.0 and 40 <= cam["fovy_deg"] <= 70


def test_corruption_drops_joints_and_stays_finite(noisy_set):
    samples = _samples(noisy_set[0])
    dropped = 0
    for _, s in samples.values():
        assert s.frames is None
        assert np.isfinite(s.kp2d).all()
        zero = s.conf == 0
        assert np.all(s.kp2d[zero] == 0)
        assert np.all((s.conf[~zero] > 0.5) & (s.conf[~zero] <= 1.0))
        cam = Camera(K=jnp.asarray(s.K), R_wc=jnp.asarray(s.R_wc), t_wc=jnp.asarray(s.t_wc))
        uv = np.asarray(project(cam, jnp.asarray(s.joints3d))[0])
        err = np.linalg.norm(s.kp2d - uv, axis=-1)[~zero]
        assert 0 < np.median(err) < 0.1 * H  # noisy, but near the truth
        dropped += int(zero.sum())
    assert dropped > 0
    assert sum(sh["dropped"] for sh in noisy_set[1]["shards"]) > 0
