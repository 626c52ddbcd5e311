"""Procedural motion library: validity, determinism, joint ranges, foot grounding and skating."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.kinematics import forward_kinematics, sole_points
from physhmr_jax.humanoid.skeleton import BODY_INDEX
from physhmr_jax.motion.clip import load_clip
from physhmr_jax.motion.procedural import (
    MOTION_TYPES,
    PARAMETER_RANGES,
    PLANNERS,
    generate_clip,
    generate_library,
    parameter_ranges,
    write_library,
)
from physhmr_jax.motion.procedural.params import PARAMS_TYPES, sample_params

SEEDS = (0, 1, 2)
GROUNDED_TYPES = ("walk", "turn", "sidestep", "squat", "reach", "wave")
NEAR_GROUND_M = 0.01


@jax.jit
def _fk(root_pos, root_quat, dof, offsets, sole_local):
    body_pos, body_quat = forward_kinematics(root_pos, root_quat, dof, offsets)
    return body_pos, sole_points(body_pos, body_quat, sole_local)


@pytest.fixture(scope="module")
def clips():
    """{(type, seed): (clip, body_pos [T, 24, 3], soles [T, 4, 3])}, 4 s at 30 fps each."""
    out = {}
    for motion_type in MOTION_TYPES:
        for seed in SEEDS:
            clip = generate_clip(motion_type, seed=seed)
            body_pos, soles = _fk(
                jnp.asarray(clip.root_pos_m, jnp.float32), jnp.asarray(clip.root_quat, jnp.float32),
                jnp.asarray(clip.dof, jnp.float32), jnp.asarray(clip.skeleton.offsets_m, jnp.float32),
                jnp.asarray(mjcf.sole_points_local(clip.skeleton), jnp.float32),
            )  # fmt: skip
            out[motion_type, seed] = (clip, np.asarray(body_pos, np.float64), np.asarray(soles, np.float64))
    return out


def test_at_least_six_types_with_ranges():
    assert len(MOTION_TYPES) >= 6 and len(set(MOTION_TYPES)) == len(MOTION_TYPES)
    assert set(PARAMETER_RANGES) == set(MOTION_TYPES)
    assert parameter_ranges("walk")["speed_mps"] == (0.8, 1.6)
    assert parameter_ranges("run")["speed_mps"] == (2.5, 3.5)
    with pytest.raises(ValueError, match="unknown motion type"):
        generate_clip("moonwalk", seed=0)


def test_every_type_has_a_planner_and_a_typed_record():
    assert set(PLANNERS) == set(PARAMS_TYPES) == set(MOTION_TYPES)
    for motion_type in MOTION_TYPES:
        fields = {f.name for f in dataclasses.fields(PARAMS_TYPES[motion_type])}
        assert set(PARAMETER_RANGES[motion_type]) | {"sign"} <= fields, motion_type
        params, _ = sample_params(motion_type, 0, 1.0)
        for name, (lo, hi) in PARAMETER_RANGES[motion_type].items():
            assert lo <= getattr(params, name) <= hi, (motion_type, name)


def test_lengths_scale_with_the_body():
    # The same stream at twice the leg length: every *_m parameter doubles, the rest stay.
    small, _ = sample_params("jump", 5, 1.0)
    large, _ = sample_params("jump", 5, 2.0)
    for name in PARAMETER_RANGES["jump"]:
        factor = 2.0 if name.endswith("_m") else 1.0
        assert getattr(large, name) == factor * getattr(small, name), name


@pytest.mark.parametrize("motion_type", MOTION_TYPES)
def test_valid_deterministic_and_seeded(clips, motion_type):
    clip = clips[motion_type, 0][0]
    clip.validate()
    assert clip.num_frames == 121 and clip.fps == 30.0  # 4 s at 30 fps, both ends included
    assert clip.source == f"procedural:{motion_type}:0"
    again = generate_clip(motion_type, seed=0)
    for a, b in ((clip.root_pos_m, again.root_pos_m), (clip.root_quat, again.root_quat), (clip.dof, again.dof)):
        np.testing.assert_array_equal(a, b)
    other = clips[motion_type, 1][0]
    assert np.abs(other.dof - clip.dof).max() > 0.05  # another seed, another motion (> 3 deg somewhere)
    assert np.abs(other.root_pos_m - clip.root_pos_m).max() > 0.01


@pytest.mark.parametrize("motion_type", MOTION_TYPES)
def test_joint_ranges_and_heights(clips, motion_type):
    ranges = mjcf.joint_ranges_rad()
    for seed in SEEDS:
        clip = clips[motion_type, seed][0]
        assert np.all(np.isfinite(clip.dof)) and np.all(np.isfinite(clip.root_pos_m))
        assert np.all(clip.dof >= ranges[:, 0] - 1e-9) and np.all(clip.dof <= ranges[:, 1] + 1e-9)
        if motion_type != "jump":  # the jump's flight lifts the pelvis above 1.1 m
            z = clip.root_pos_m[:, 2]
            assert 0.6 <= z.min() and z.max() <= 1.1, (seed, z.min(), z.max())
        # Not a T-pose at the start: both hands well below the shoulders in the first frame
        # (the wave raises one hand later), or swinging with the arms of a runner.
        body_pos = clips[motion_type, seed][1]
        for side in ("L", "R"):
            drop = body_pos[0, BODY_INDEX[f"{side}_Shoulder"], 2] - body_pos[0, BODY_INDEX[f"{side}_Wrist"], 2]
            assert drop > 0.15, (seed, side, drop)


@pytest.mark.parametrize("motion_type", MOTION_TYPES)
def test_feet_on_the_ground(clips, motion_type):
    for seed in SEEDS:
        soles = clips[motion_type, seed][2]
        lowest = soles[..., 2].min(-1)
        # Measured: every type's lowest sole point is 0.0 mm (float32 FK noise) in contact frames.
        assert lowest.min() >= -0.005, (seed, lowest.min())
        if motion_type in GROUNDED_TYPES:
            assert np.mean(lowest <= NEAR_GROUND_M) >= 0.95, seed
    if motion_type == "jump":
        for seed in SEEDS:
            soles = clips["jump", seed][2]
            left, right = soles[:, :2, 2].min(-1), soles[:, 2:, 2].min(-1)
            # Measured 12-20 flight frames (0.4-0.67 s) per 4 s clip, seeds 0-4.
            assert np.sum((left >= 0.05) & (right >= 0.05)) >= 3, seed


@pytest.mark.parametrize("motion_type", ["walk", "turn", "run", "sidestep"])
def test_no_foot_skating(clips, motion_type):
    for seed in SEEDS:
        soles = clips[motion_type, seed][2]
        near = soles[:-1, :, 2] < NEAR_GROUND_M
        step = np.linalg.norm(soles[1:, :, :2] - soles[:-1, :, :2], axis=-1)
        # Measured mean over near-ground sole points, seeds 0-4: walk 0.42-0.86, turn 0.25-0.57,
        # run 0.90-1.13, sidestep 0.25-0.63 mm/frame (the stance foot is pinned by construction;
        # what remains is the swing foot just before touchdown or after lift-off).
        assert step[near].mean() <= 0.005, (seed, step[near].mean())


def _heading(clip):
    return np.unwrap(np.asarray(rot.heading_angle(jnp.asarray(clip.root_quat))))


def test_walk_and_run_speeds(clips):
    for motion_type in ("walk", "run"):
        lo, hi = parameter_ranges(motion_type)["speed_mps"]
        for seed in SEEDS:
            clip = clips[motion_type, seed][0]
            speed = np.linalg.norm(np.diff(clip.root_pos_m[:, :2], axis=0), axis=-1).mean() * clip.fps
            # The pelvis sways a few cm sideways, which adds < 2% to the path length.
            assert 0.98 * lo <= speed <= 1.02 * hi, (motion_type, seed, speed)
            # Forward along the heading: net displacement over 4 s is nearly the speed times 4 s.
            net = np.linalg.norm(clip.root_pos_m[-1, :2] - clip.root_pos_m[0, :2]) / clip.duration_s
            assert net == pytest.approx(speed, rel=0.05)


def test_turn_and_sidestep_directions(clips):
    for seed in SEEDS:
        turn = clips["turn", seed][0]
        heading = _heading(turn)
        # Turn rate 25-60 deg/s after a ramp that starts within 1 s: at least 45 deg in 4 s.
        assert abs(heading[-1] - heading[0]) >= np.deg2rad(45), seed
        assert np.abs(np.diff(heading)).max() <= np.deg2rad(5), seed  # smooth: < 5 deg per frame

        side = clips["sidestep", seed][0]
        h0 = _heading(side).mean()
        move = side.root_pos_m[-1, :2] - side.root_pos_m[0, :2]
        forward = move @ np.array([np.cos(h0), np.sin(h0)])
        lateral = move @ np.array([-np.sin(h0), np.cos(h0)])
        assert abs(lateral) >= 0.8 and abs(lateral) > 5 * abs(forward), (seed, forward, lateral)


def test_wave_raises_a_hand_above_the_shoulder(clips):
    for seed in SEEDS:
        body_pos = clips["wave", seed][1]
        above = [
            body_pos[:, BODY_INDEX[f"{s}_Hand"], 2] - body_pos[:, BODY_INDEX[f"{s}_Shoulder"], 2] for s in ("L", "R")
        ]
        assert max(a.max() for a in above) > 0.2, seed  # measured 0.33-0.40 m (seeds 0-4)


def test_library_files(tmp_path):
    paths = write_library(tmp_path, 2, seed=3, motion_types=("walk", "squat"), duration_s=1.0)
    assert sorted(p.name for p in paths) == ["squat_0.npz", "squat_1.npz", "walk_0.npz", "walk_1.npz"]
    clips = generate_library(2, seed=3, motion_types=("walk", "squat"), duration_s=1.0)
    loaded = load_clip(tmp_path / "walk_1.npz")
    assert loaded.name == "walk_1" and loaded.source == clips[1].source == "procedural:walk:3001"
    np.testing.assert_allclose(loaded.dof, clips[1].dof, atol=1e-6)
    assert clips[0].source != generate_library(1, seed=4, motion_types=("walk",), duration_s=1.0)[0].source
