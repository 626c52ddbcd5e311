"""VideoLib: packing shards against a MotionLib, frame lookup, the root estimate, and errors."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from video_fixtures import FPS, synthetic_motion_lib, synthetic_video

from physhmr_jax.geometry.rays import ray_observation
from physhmr_jax.humanoid.skeleton import RAY_BODIES
from physhmr_jax.vision.shards import VideoFileError
from physhmr_jax.vision.video_lib import build_video_lib


@pytest.fixture(scope="module")
def motion_lib():
    return synthetic_motion_lib()


@pytest.fixture(scope="module")
def videos(motion_lib):
    return [
        synthetic_video(motion_lib, 0, 40, [4.0, -3.0, 1.5], "walk_cam0"),
        synthetic_video(motion_lib, 1, 20, [-3.0, 2.0, 2.0], "turn_cam1"),
    ]


def test_packing_and_frame_lookup(motion_lib, videos):
    lib = build_video_lib(videos, motion_lib)
    assert lib.num_videos == 2 and lib.num_frames == 60 and lib.feature_size == 8
    np.testing.assert_array_equal(lib.video_clip_id, [0, 1])
    np.testing.assert_array_equal(lib.video_start, [0, 40])
    np.testing.assert_allclose(lib.video_duration_s, [39 / FPS, 19 / FPS], rtol=1e-6)
    frame_at = jax.jit(lambda lib, v, t: lib.frame_at(v, t))
    # round(t * fps), clamped to the video: 0.49 frame -> 0, 0.51 -> 1, past the end -> last, negative -> 0.
    video_ids = jnp.array([0, 0, 1, 1, 0])
    times = jnp.array([0.49, 0.51, 100.0, -1.0, 10.0]) / FPS
    frame = frame_at(lib, video_ids, times)
    np.testing.assert_array_equal(frame.frame, [0, 1, 19, 0, 10])
    rows = [(0, 0), (0, 1), (1, 19), (1, 0), (0, 10)]
    np.testing.assert_array_equal(frame.features, np.stack([videos[v].features[f] for v, f in rows]))
    np.testing.assert_allclose(frame.kp2d, np.stack([videos[v].kp2d[f][list(RAY_BODIES)] for v, f in rows]))
    np.testing.assert_allclose(frame.camera.t_wc, np.stack([videos[v].t_wc[f] for v, f in rows]))
    np.testing.assert_allclose(frame.camera.K, np.stack([videos[v].K for v, _ in rows]))
    # The world root estimate R_wc R_cam is the clip's root rotation (the estimate here is exact).
    for (v, f), q in zip(rows, np.asarray(frame.root_quat_estimate), strict=True):
        assert abs(abs(float(np.dot(q, videos[v].root_quat[f]))) - 1.0) < 1e-5
    assert frame_at._cache_size() == 1
    ids, t = lib.sample(jax.random.PRNGKey(0), 1000)
    assert set(np.unique(ids).tolist()) == {0, 1}
    assert np.all(np.asarray(t) <= np.asarray(lib.video_duration_s)[np.asarray(ids)] + 1e-6)


def test_root_position_estimate_for_the_ablation(motion_lib, videos):
    """Packed on request: the kinematic baseline's pelvis (exact estimates here: the true
    pelvis); zeros otherwise; a shard without the pose estimate is named."""
    lib = build_video_lib(videos, motion_lib, root_position=True)
    frame = lib.frame_at(jnp.array([0, 1]), jnp.array([5.0, 12.0]) / FPS)
    np.testing.assert_allclose(
        frame.root_pos_estimate, [videos[0].joints3d[5, 0], videos[1].joints3d[12, 0]], atol=1e-4
    )
    assert float(jnp.abs(build_video_lib(videos, motion_lib).root_pos_estimate).max()) == 0.0
    bare = dataclasses.replace(videos[1], joints_rel_cam_estimate=None, source="turn_cam1.npz")
    with pytest.raises(VideoFileError, match=r"turn_cam1\.npz: has no 'joints_rel_cam_estimate'"):
        build_video_lib([videos[0], bare], motion_lib, root_position=True)


def test_rays_of_a_frame_pass_through_the_reference_joints(motion_lib, videos):
    """The lookup gives each time its own frame: the reference bodies lie on that frame's rays."""
    lib = build_video_lib(videos, motion_lib)
    video_ids = jnp.array([0, 0, 1])
    times = jnp.array([0.0, 17.0, 12.0]) / FPS
    frame = lib.frame_at(video_ids, times)
    ref = motion_lib.state_at(lib.video_clip_id[video_ids], times)
    obs = ray_observation(ref.body_pos, ref.root_quat, frame.camera, frame.kp2d, frame.conf)
    assert np.abs(np.asarray(obs[:, :36])).max() < 1e-4
    # One frame later the bodies have moved off the rays: the lookup is not stuck on one frame.
    later = motion_lib.state_at(lib.video_clip_id[video_ids], times + 5 / FPS)
    moved = ray_observation(later.body_pos, later.root_quat, frame.camera, frame.kp2d, frame.conf)
    assert np.abs(np.asarray(moved[:, :36])).max() > 1e-2


def test_errors_name_the_shard(motion_lib, videos):
    import dataclasses

    with pytest.raises(VideoFileError, match="walk_cam0: has no 'features'"):
        build_video_lib([dataclasses.replace(videos[0], features=None, source="walk_cam0")], motion_lib)
    with pytest.raises(VideoFileError, match="has no 'root_6d_estimate'"):
        build_video_lib([dataclasses.replace(videos[0], root_6d_estimate=None)], motion_lib)
    with pytest.raises(VideoFileError, match="shows motion 'jump', which is not in the motion set"):
        build_video_lib([dataclasses.replace(videos[0], motion_name="jump")], motion_lib)
    with pytest.raises(VideoFileError, match="lasts 1.300 s but its motion 'turn' only 0.800 s"):
        build_video_lib([dataclasses.replace(videos[0], motion_name="turn")], motion_lib)
    odd = dataclasses.replace(videos[1], features=np.zeros((20, 3), np.float32))
    with pytest.raises(VideoFileError, match="'features' has 3 columns, the other shards 8"):
        build_video_lib([videos[0], odd], motion_lib)


def test_bench_student_videos_are_exact():
    """``physhmr bench student``'s videos (no rendering): one per clip, packed against the
    clips' own library; the rays pass through the reference joints and the root estimate is
    the clip's root rotation."""
    from video_fixtures import synthetic_clip

    from physhmr_jax.bench.student import exact_videos
    from physhmr_jax.motion.library import build_motion_lib

    clips = [synthetic_clip("walk", 40, 0.5), synthetic_clip("turn", 25, -1.0)]
    videos = exact_videos(clips, feature_size=16)
    lib = build_video_lib(videos, build_motion_lib(clips))
    assert lib.num_videos == 2 and lib.feature_size == 16 and lib.num_frames == 65
    video_ids, times = jnp.array([0, 1, 0]), jnp.array([3.0, 20.0, 39.0]) / FPS
    frame = lib.frame_at(video_ids, times)
    ref = build_motion_lib(clips).state_at(lib.video_clip_id[video_ids], times)
    obs = ray_observation(ref.body_pos, ref.root_quat, frame.camera, frame.kp2d, frame.conf)
    assert np.abs(np.asarray(obs[:, :36])).max() < 1e-3
    dots = np.abs(np.sum(np.asarray(frame.root_quat_estimate) * np.asarray(ref.root_quat), -1))
    np.testing.assert_allclose(dots, 1.0, atol=1e-5)
