"""BVH parsing, BVH forward kinematics, and the CMU loader on the real clips in ../shared."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from physhmr_jax.humanoid.skeleton import BODY_INDEX, NUM_BODIES, mean_skeleton
from physhmr_jax.motion.bvh import (
    CMU_UNIT_M,
    bvh_rest_positions,
    bvh_world_positions,
    is_synthetic_tpose,
    load_bvh,
    parse_bvh,
)
from physhmr_jax.motion.clip import MotionFileError

# Captured frames per file (README "captured frames": the synthetic T-pose left out).
CAPTURED_FRAMES = {
    "01_01": 2751, "02_01": 343, "02_03": 173, "02_05": 1854, "02_06": 2235, "05_06": 885,
    "09_06": 141, "11_01": 597, "127_31": 513, "131_01": 994, "131_02": 1247, "131_03": 1102,
    "135_04": 1316, "135_07": 1472, "14_31": 2094, "16_17": 518, "16_41": 160, "49_04": 251,
    "49_06": 481, "49_08": 575,
}  # fmt: skip
TPOSE_FILES = {"01_01", "02_01", "49_04"}  # MB-2008 / MB-2010: frame 0 is cgspeed's T-pose
THREE_DS_MAX_FILES = {"131_01", "131_02", "131_03"}


@pytest.fixture(scope="module")
def cmu(cmu_dir) -> Path:
    return cmu_dir


_LOADED: dict = {}


def _load(cmu: Path, stem: str, **kwargs):
    key = (stem, tuple(sorted(kwargs.items())))
    if key not in _LOADED:
        _LOADED[key] = load_bvh(cmu / f"{stem}.bvh", **kwargs)
    return _LOADED[key]


def _upper_arm_dir(joints: np.ndarray, side: str) -> np.ndarray:
    arm = joints[..., BODY_INDEX[f"{side}_Elbow"], :] - joints[..., BODY_INDEX[f"{side}_Shoulder"], :]
    return arm / np.linalg.norm(arm, axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------
# Real CMU files


@pytest.mark.parametrize("stem", sorted(CAPTURED_FRAMES))
def test_every_cmu_file_loads(cmu, stem):
    source = _load(cmu, stem)
    assert source.fps == 120.0
    assert source.num_frames == CAPTURED_FRAMES[stem]
    assert source.joints_m.shape == (CAPTURED_FRAMES[stem], NUM_BODIES, 3)
    assert np.all(np.isfinite(source.joints_m))
    assert source.layout == ("cmu-3dsmax" if stem in THREE_DS_MAX_FILES else "cmu-mb")
    # Stature: pelvis 0.7-1.2 m above the feet at rest; head to ankle 1.3-2.0 m.
    rest = source.skeleton.rest_positions()
    assert 0.7 < source.skeleton.pelvis_height_m() < 1.2
    head_to_ankle = rest[BODY_INDEX["Head"], 2] - rest[BODY_INDEX["L_Ankle"], 2]
    assert 1.3 < head_to_ankle < 2.0
    # In the clip: the pelvis stays at a human height above the lowest foot joint (14_31
    # sits down, 127_31 ducks: median down to ~0.55 m), and the head is above the pelvis.
    feet = source.joints_m[:, [BODY_INDEX[n] for n in ("L_Ankle", "L_Toe", "R_Ankle", "R_Toe")], 2]
    pelvis_above_floor = source.joints_m[:, 0, 2] - feet.min()
    assert 0.45 < np.median(pelvis_above_floor) < 1.2
    # Every bone is real (no degenerate offset) and of a human size: CMU's spine splits
    # differently from SMPL's (Spine ~0.43x, Chest ~2x the mean body's), the rest 0.5-1.4x.
    ratio = source.skeleton.bone_lengths()[1:] / mean_skeleton().bone_lengths()[1:]
    assert np.all((ratio > 0.35) & (ratio < 2.5)), ratio
    # Directly observed joints weigh 1; the virtual Torso and Thorax points less.
    assert source.weights[BODY_INDEX["L_Knee"]] == 1.0 and source.weights[BODY_INDEX["Torso"]] < 1.0


def test_facing_matches_walking_direction(cmu):
    # Ours: x forward, y left, z up, so forward = left x up. Walks and runs move forward
    # (not 131_02: Michael Jackson style, it moonwalks).
    for stem in ("02_01", "16_17", "09_06", "131_01"):
        joints = _load(cmu, stem).joints_m
        left = joints[:, BODY_INDEX["L_Hip"]] - joints[:, BODY_INDEX["R_Hip"]]
        forward = np.cross(left, [0.0, 0.0, 1.0])
        forward /= np.linalg.norm(forward, axis=-1, keepdims=True)
        velocity = np.gradient(joints[:, 0], axis=0) * 120.0
        speed = np.linalg.norm(velocity[:, :2], axis=-1)
        assert np.mean(np.sum(forward * velocity, axis=-1)) > 0.5 * np.mean(speed), stem


def test_synthetic_tpose_rule(cmu):
    for stem in CAPTURED_FRAMES:
        assert is_synthetic_tpose(parse_bvh(cmu / f"{stem}.bvh")) == (stem in TPOSE_FILES), stem
    # Kept, 02_01's frame 0 is the T-pose: upper arms horizontal; frame 1 (captured) hangs.
    kept = _load(cmu, "02_01", drop_first_frame=False)
    assert kept.num_frames == 344
    assert abs(_upper_arm_dir(kept.joints_m[0], "L")[2]) < 0.2
    assert _upper_arm_dir(kept.joints_m[1], "L")[2] < -0.8
    np.testing.assert_allclose(kept.joints_m[1:], _load(cmu, "02_01").joints_m)


def test_mb_and_3dsmax_agree(cmu):
    mb, max_ = _load(cmu, "02_01"), _load(cmu, "131_01")
    legs = [BODY_INDEX[n] for n in ("L_Knee", "L_Ankle", "R_Knee", "R_Ankle", "L_Toe", "R_Toe")]
    np.testing.assert_allclose(max_.skeleton.bone_lengths()[legs], mb.skeleton.bone_lengths()[legs], rtol=0.15)
    # 3dsmax's LeftShoulder is the upper arm (MB: the clavicle): L_Shoulder must be the
    # joint named LeftShoulder in 131_01 and LeftArm in 02_01.
    # (restore_thorax=False: the file's own geometry, which the raw FK reproduces.)
    for stem, name in (("131_01", "LeftShoulder"), ("02_01", "LeftArm")):
        source = _load(cmu, stem, restore_thorax=False)
        data = parse_bvh(source.path)
        if stem in TPOSE_FILES:
            data = dataclasses.replace(data, motion=data.motion[1:])
        raw = bvh_world_positions(data)[:, data.index(name)] * CMU_UNIT_M
        ours = source.joints_m[:, BODY_INDEX["L_Shoulder"]]
        np.testing.assert_allclose(ours, raw[:, [2, 0, 1]], atol=1e-9)  # ours = (z, x, y)


def test_3dsmax_arms_hang_but_skeleton_is_a_tpose(cmu):
    for stem in sorted(THREE_DS_MAX_FILES):
        source = _load(cmu, stem)
        data = parse_bvh(source.path)
        rest = bvh_rest_positions(data)
        # The file's own rest pose has the arms down along -Y (BVH y up) ...
        elbow, shoulder = rest[data.index("LeftElbow")], rest[data.index("LeftShoulder")]
        assert elbow[1] - shoulder[1] < -0.9 * np.linalg.norm(elbow - shoulder)
        # ... and so does the captured frame 0 ...
        for side in "LR":
            assert _upper_arm_dir(source.joints_m[0], side)[2] < -0.8
        # ... while the skeleton's arm bones point sideways (our rest is a T-pose).
        for side, sign in (("L", 1.0), ("R", -1.0)):
            for body in ("Elbow", "Wrist"):
                offset = source.skeleton.offsets_m[BODY_INDEX[f"{side}_{body}"]]
                assert sign * offset[1] > 0.95 * np.linalg.norm(offset)


def test_thorax_quirk_restored(cmu):
    # amc2bvh puts the neck base at the thorax's base; restored, Chest->Neck is ~20 cm
    # (the mean body: 21.8 cm); left as in the file it is one neck bone, ~9 cm.
    fixed = _load(cmu, "02_03").skeleton.bone_lengths()[BODY_INDEX["Neck"]]
    raw = _load(cmu, "02_03", restore_thorax=False).skeleton.bone_lengths()[BODY_INDEX["Neck"]]
    assert 0.17 < fixed < 0.25
    assert 0.06 < raw < 0.11
    # The extra length is the upperback bone (Spine -> Spine1): 2.065 units in 02.asf.
    assert fixed - raw == pytest.approx(2.065 * CMU_UNIT_M, abs=0.01)


def test_scale_override(cmu):
    default = _load(cmu, "09_06")
    half = load_bvh(cmu / "09_06.bvh", scale_m=CMU_UNIT_M / 2)
    np.testing.assert_allclose(half.joints_m, default.joints_m / 2)
    np.testing.assert_allclose(half.skeleton.offsets_m, default.skeleton.offsets_m / 2)


# ---------------------------------------------------------------------------------------
# Parser and FK on hand-written files

CHAIN = """HIERARCHY
ROOT A
{{
  OFFSET 0 0 0
  CHANNELS {n} {channels}
  JOINT B
  {{
    OFFSET 1 0 0
    CHANNELS 0
    End Site
    {{
      OFFSET 0 2 0
    }}
  }}
}}
MOTION
Frames: {frames}
Frame Time: 0.0333333
{data}
"""


def _write(tmp_path: Path, text: str, name: str = "tiny.bvh") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _chain(tmp_path, channels: str, rows: list[str]) -> Path:
    text = CHAIN.format(n=len(channels.split()), channels=channels, frames=len(rows), data="\n".join(rows))
    return _write(tmp_path, text)


def test_fk_single_axis(tmp_path):
    # Zrotation 90 turns the bone (1, 0, 0) to (0, 1, 0); the End Site (0, 2, 0) of B,
    # carried by A's rotation, goes to (0, 1, 0) + Rz(90) (0, 2, 0) = (-2, 1, 0).
    data = parse_bvh(_chain(tmp_path, "Zrotation", ["90", "0"]))
    assert data.names == ("A", "B") and data.parents == (-1, 0) and data.channels == (("Zrotation",), ())
    assert data.fps == 30.0 and data.num_frames == 2
    pos = bvh_world_positions(data, end_sites=True)
    np.testing.assert_allclose(pos[0], [[0, 0, 0], [0, 1, 0], [-2, 1, 0]], atol=1e-12)
    np.testing.assert_allclose(pos[1], [[0, 0, 0], [1, 0, 0], [1, 2, 0]], atol=1e-12)


def test_fk_channel_order(tmp_path):
    # "Xrotation Yrotation Zrotation" 90 0 90 means R = Rx(90) Rz(90) (Z applied first):
    # (1, 0, 0) -Rz-> (0, 1, 0) -Rx-> (0, 0, 1).
    xyz = bvh_world_positions(parse_bvh(_chain(tmp_path, "Xrotation Yrotation Zrotation", ["90 0 90"])))
    np.testing.assert_allclose(xyz[0, 1], [0, 0, 1], atol=1e-12)
    # "Zrotation Yrotation Xrotation" 90 0 90 means R = Rz(90) Rx(90):
    # (1, 0, 0) -Rx-> (1, 0, 0) -Rz-> (0, 1, 0).
    zyx = bvh_world_positions(parse_bvh(_chain(tmp_path, "Zrotation Yrotation Xrotation", ["90 0 90"])))
    np.testing.assert_allclose(zyx[0, 1], [0, 1, 0], atol=1e-12)
    # "Yrotation Xrotation" 90 90: R = Ry(90) Rx(90); (1,0,0) -Rx-> (1,0,0) -Ry-> (0,0,-1).
    yx = bvh_world_positions(parse_bvh(_chain(tmp_path, "Yrotation Xrotation", ["90 90"])))
    np.testing.assert_allclose(yx[0, 1], [0, 0, -1], atol=1e-12)


def test_fk_position_channels(tmp_path):
    # A subset of position channels in any order: Z then X, rotation in between; the
    # missing Y keeps the OFFSET's value (0). Rz(90) (1, 0, 0) = (0, 1, 0).
    data = parse_bvh(_chain(tmp_path, "Zposition Zrotation Xposition", ["3 90 5"]))
    np.testing.assert_allclose(bvh_world_positions(data)[0], [[5, 0, 3], [5, 1, 3]], atol=1e-12)


# ---------------------------------------------------------------------------------------
# Bad input


def _raises(path: Path, phrase: str, loader=load_bvh) -> MotionFileError:
    with pytest.raises(MotionFileError) as info:
        loader(path)
    message = str(info.value)
    assert path.name in message and phrase in message, message
    assert "\n" not in message
    return info.value


def test_truncated_real_file(cmu, tmp_path):
    text = (cmu / "02_01.bvh").read_text()
    path = _write(tmp_path, text[: len(text) // 2], "02_01_half.bvh")
    err = _raises(path, "truncated")
    assert "'Frames: 344'" in err.problem  # and where the data stop


def test_unknown_joint_layout(cmu, tmp_path):
    text = (cmu / "02_01.bvh").read_text()
    for old, new in (("LeftUpLeg", "LThigh"), ("RightUpLeg", "RThigh"), ("LeftForeArm", "LLowArm")):
        text = text.replace(f"JOINT {old}", f"JOINT {new}")
    err = _raises(_write(tmp_path, text, "renamed.bvh"), "unknown joint layout")
    missing = err.problem.split("missing required joint(s)")[1].split("(file has")[0]
    assert "LeftUpLeg" in missing and "LeftForeArm" in missing and "LeftLeg," not in missing


def test_nan_frame(cmu, tmp_path):
    lines = (cmu / "09_06.bvh").read_text().splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("Frame Time")) + 1
    values = lines[first + 7].split()
    values[10] = "nan"
    lines[first + 7] = " ".join(values)
    _raises(_write(tmp_path, "\n".join(lines), "nan.bvh"), "NaN/inf values in 1 frame(s), first at frame 7")


@pytest.mark.parametrize(
    "text, phrase",
    [
        (CHAIN.format(n=1, channels="Zrotation", frames=3, data="1\n2"), "truncated"),
        (CHAIN.format(n=2, channels="Zrotation Xrotation", frames=2, data="1 2\n3"), "frame 1 (line 20) has 1 value(s), expected 2"),
        (CHAIN.format(n=1, channels="Zrotation", frames=2, data="1\nabc"), "non-numeric value 'abc'"),
        (CHAIN.format(n=1, channels="Zrotation", frames=0, data=""), "zero frames"),
        (CHAIN.format(n=1, channels="Zrotation", frames=1, data="1").replace("MOTION", "NOTION"), "missing MOTION"),
        (CHAIN.format(n=1, channels="Zrotation", frames=1, data="1").replace("HIERARCHY", ""), "missing HIERARCHY"),
        (CHAIN.format(n=1, channels="Zrotation", frames=1, data="1").replace("}\nMOTION", "MOTION"), "unbalanced braces"),
        (CHAIN.format(n=1, channels="Zrotation", frames=1, data="1").replace("MOTION", "}\nMOTION"), "unbalanced braces"),
        (CHAIN.format(n=1, channels="Zspin", frames=1, data="1"), "unknown channel 'Zspin'"),
    ],
)  # fmt: skip
def test_bad_bvh(tmp_path, text, phrase):
    _raises(_write(tmp_path, text, "bad.bvh"), phrase, loader=parse_bvh)


def test_missing_file(tmp_path):
    _raises(tmp_path / "nowhere.bvh", "no such file")


def test_our_bvh_round_trips_through_the_loader(tmp_path):
    """A clip written as BVH (our 24 bodies, y up, cm) reads back through load_bvh (layout
    physhmr) with the clip's joints to within 1e-3 mm, its skeleton and fps; root turning
    through 360 deg keeps continuous angles."""
    import jax.numpy as jnp

    from physhmr_jax.geometry import rotations as rot
    from physhmr_jax.humanoid.kinematics import forward_kinematics
    from physhmr_jax.humanoid.skeleton import NUM_DOF
    from physhmr_jax.motion.bvh_write import write_bvh
    from physhmr_jax.motion.clip import Clip

    rng = np.random.default_rng(0)
    t = 50
    yaw = np.linspace(0.0, 2.5 * np.pi, t)
    axis = np.stack([0.2 * np.sin(yaw), 0.1 * np.ones(t), np.ones(t)], -1)
    root_quat = np.asarray(
        rot.quat_from_axis_angle(jnp.asarray(axis / np.linalg.norm(axis, axis=-1, keepdims=True)), jnp.asarray(yaw))
    )
    dof = np.cumsum(rng.normal(scale=0.05, size=(t, NUM_DOF)), axis=0)
    root_pos = np.stack([np.linspace(0, 2, t), np.sin(yaw), 0.9 + 0.05 * np.cos(yaw)], -1)
    clip = Clip("spin", 30.0, root_pos, root_quat, dof, mean_skeleton())
    path = write_bvh(tmp_path / "spin.bvh", clip)
    text = path.read_text()
    assert text.startswith("HIERARCHY\nROOT Pelvis") and "End Site" in text and "Frames: 50" in text
    source = load_bvh(path)
    assert source.layout == "physhmr" and source.fps == 30.0 and source.num_frames == t
    np.testing.assert_allclose(source.skeleton.offsets_m, mean_skeleton().offsets_m, atol=1e-7)
    body_pos, _ = forward_kinematics(
        jnp.asarray(root_pos), jnp.asarray(root_quat), jnp.asarray(dof), jnp.asarray(mean_skeleton().offsets_m)
    )
    assert np.abs(source.joints_m - np.asarray(body_pos)).max() < 1e-6  # metres: < 1e-3 mm
    # BVH's own frame: y up (the pelvis at 0.9 m height is the second coordinate, in cm).
    first = [float(v) for v in text.split("Frame Time:")[1].splitlines()[1].split()[:3]]
    assert first[1] == pytest.approx(95.0, abs=1e-3) and first[2] == pytest.approx(0.0, abs=1e-3)
