"""AMASS .npz loading: SMPL frames and joint order onto our humanoid, and bad files."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from physhmr_jax.humanoid.kinematics import forward_kinematics
from physhmr_jax.humanoid.skeleton import BODY_INDEX, NUM_BODIES, PARENTS, SMPL_INDEX, mean_skeleton
from physhmr_jax.motion.amass import (
    SMPL_MEAN_PELVIS_M,
    continuous_euler_xyz,
    load_amass,
    write_amass_npz,
)
from physhmr_jax.motion.clip import MotionFileError

# SMPL's kinematic tree (parent of each SMPL joint), as in the SMPL model files.
SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
FPS = 60.0


def _dof(clip, body: str) -> np.ndarray:
    b = BODY_INDEX[body]
    return clip.dof[:, 3 * (b - 1) : 3 * b]


def _still(num_frames=3, width=72):
    return np.zeros((num_frames, width)), np.tile([0.1, 0.2, 0.9], (num_frames, 1))


def test_joint_order_matches_smpl_tree():
    # Our parent of body b is, in SMPL order, SMPL's parent of SMPL_INDEX[b].
    for b in range(1, NUM_BODIES):
        assert SMPL_INDEX[PARENTS[b]] == SMPL_PARENTS[SMPL_INDEX[b]]


def test_rest_pose_and_the_usual_root(tmp_path):
    # Zero pose, identity root: the SMPL body faces +z, up +y (lying on its back in the
    # z-up AMASS world). Our root maps body +x (forward) to world +z, body +z (up) to +y.
    poses, trans = _still()
    clip = load_amass(write_amass_npz(tmp_path / "rest.npz", poses, trans, FPS))
    assert clip.fps == FPS and clip.num_frames == 3
    np.testing.assert_allclose(clip.dof, 0.0, atol=1e-12)
    rot = Rotation.from_quat(np.roll(clip.root_quat[0], -1))  # wxyz -> xyzw
    np.testing.assert_allclose(rot.apply([1.0, 0, 0]), [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(rot.apply([0, 0, 1.0]), [0, 1, 0], atol=1e-12)
    # pelvis = trans + J0 (SMPL rotates about J0, which is not rotated).
    np.testing.assert_allclose(clip.root_pos_m, trans + SMPL_MEAN_PELVIS_M)

    # The usual AMASS root, +90 deg about x (y up -> z up): Rx(90) takes SMPL up (0, 1, 0)
    # to (0, 0, 1) and the facing (0, 0, 1) to (0, -1, 0): the body stands, facing -y.
    # Ours must then be a -90 deg yaw: +x -> -y, +y (left) -> +x, +z -> +z, i.e. the
    # quaternion (cos 45, 0, 0, -sin 45).
    poses[:, 0] = np.pi / 2
    clip = load_amass(write_amass_npz(tmp_path / "standing.npz", poses, trans, FPS))
    np.testing.assert_allclose(clip.root_quat, np.tile([np.sqrt(0.5), 0, 0, -np.sqrt(0.5)], (3, 1)), atol=1e-12)
    rot = Rotation.from_quat(np.roll(clip.root_quat[0], -1))
    np.testing.assert_allclose(rot.apply([1.0, 0, 0]), [0, -1, 0], atol=1e-12)
    np.testing.assert_allclose(rot.apply([0, 1.0, 0]), [1, 0, 0], atol=1e-12)


@pytest.mark.parametrize("angle_deg", [60.0, 120.0])
def test_knee_flexion(tmp_path, angle_deg):
    # SMPL L_knee is SMPL joint 4. A rotation about SMPL x (the body's left) is a rotation
    # about our y (left): dof = (0, angle, 0). At 120 deg the Euler branch with a middle
    # angle in [-90, 90] would read (180, 60, 180); the continuous branch keeps (0, 120, 0).
    poses, trans = _still()
    poses[:, 3 * 4] = np.deg2rad(angle_deg)
    clip = load_amass(write_amass_npz(tmp_path / "knee.npz", poses, trans, FPS))
    np.testing.assert_allclose(np.rad2deg(_dof(clip, "L_Knee")), np.tile([0.0, angle_deg, 0.0], (3, 1)), atol=1e-9)
    others = np.delete(clip.dof, np.s_[3 * (BODY_INDEX["L_Knee"] - 1) : 3 * BODY_INDEX["L_Knee"]], axis=1)
    np.testing.assert_allclose(others, 0.0, atol=1e-12)


def test_axes_of_every_joint(tmp_path):
    # SMPL axes (x left, y up, z forward) are our (y, z, x): rotations of 0.3, 0.2, 0.1 rad
    # about SMPL x, y, z of one joint become hinges about our y, z, x respectively.
    poses, trans = _still(width=156)  # SMPL-H: body part used, the hands stay at zero
    smpl_elbow = SMPL_INDEX[BODY_INDEX["R_Elbow"]]
    for axis_smpl, axis_ours, angle in ((0, 1, 0.3), (1, 2, 0.2), (2, 0, 0.1)):
        poses[:] = 0.0
        poses[:, 3 * smpl_elbow + axis_smpl] = angle
        clip = load_amass(write_amass_npz(tmp_path / "elbow.npz", poses, trans, FPS))
        expected = np.zeros(3)
        expected[axis_ours] = angle
        np.testing.assert_allclose(_dof(clip, "R_Elbow")[0], expected, atol=1e-12)


def test_world_orientations_match_smpl(tmp_path):
    # Random SMPL-X poses: every body's world orientation from our FK equals SMPL's global
    # joint rotation with our body axes, G_smpl[k] C^T (C: SMPL -> our axes).
    rng = np.random.default_rng(0)
    poses = np.zeros((4, 165))
    poses[:, :66] = rng.normal(scale=0.6, size=(4, 66))
    trans = rng.normal(size=(4, 3))
    clip = load_amass(write_amass_npz(tmp_path / "random.npz", poses, trans, FPS))
    local = Rotation.from_rotvec(np.concatenate([poses[:, :66], np.zeros((4, 6))], 1).reshape(-1, 3))
    local = local.as_matrix().reshape(4, NUM_BODIES, 3, 3)
    glob = np.zeros_like(local)
    for k, parent in enumerate(SMPL_PARENTS):
        glob[:, k] = local[:, k] if parent < 0 else glob[:, parent] @ local[:, k]
    c = np.array([[0.0, 0, 1], [1, 0, 0], [0, 1, 0]])
    _, quat = forward_kinematics(
        jnp.asarray(clip.root_pos_m), jnp.asarray(clip.root_quat), jnp.asarray(clip.dof),
        jnp.asarray(mean_skeleton().offsets_m),
    )  # fmt: skip
    ours = Rotation.from_quat(np.roll(np.asarray(quat, np.float64), -1, axis=-1).reshape(-1, 4)).as_matrix()
    expected = glob[:, list(SMPL_INDEX)] @ c.T
    np.testing.assert_allclose(ours.reshape(4, NUM_BODIES, 3, 3), expected, atol=1e-5)
    np.testing.assert_allclose(clip.root_pos_m, trans + SMPL_MEAN_PELVIS_M)


def test_angles_continuous_over_a_full_turn(tmp_path):
    # The root yaws a full turn and the neck twists to 170 deg and back: no 2 pi jumps.
    t = np.linspace(0.0, 1.0, 121)
    poses = np.zeros((t.size, 72))
    poses[:, :3] = (Rotation.from_euler("z", 2 * np.pi * t[:, None]) * Rotation.from_euler("x", np.pi / 2)).as_rotvec()
    poses[:, 3 * 12 + 1] = np.deg2rad(170.0) * np.sin(np.pi * t)  # SMPL neck (12) about its y (our z)
    clip = load_amass(write_amass_npz(tmp_path / "turn.npz", poses, np.zeros((t.size, 3)), FPS))
    assert np.max(np.abs(np.diff(clip.dof, axis=0))) < 0.1
    assert np.min(np.sum(clip.root_quat[1:] * clip.root_quat[:-1], axis=-1)) > 0.99
    np.testing.assert_allclose(_dof(clip, "Neck")[:, 2], np.deg2rad(170.0) * np.sin(np.pi * t), atol=1e-9)


def test_continuous_euler_round_trip():
    mats = Rotation.random(300, random_state=3).as_matrix().reshape(30, 10, 3, 3)
    angles = continuous_euler_xyz(mats)
    back = Rotation.from_euler("XYZ", angles.reshape(-1, 3)).as_matrix().reshape(mats.shape)
    np.testing.assert_allclose(back, mats, atol=1e-12)


def test_framerate_key_variant(tmp_path):
    poses, trans = _still()
    path = tmp_path / "old.npz"
    np.savez(path, poses=poses, trans=trans, mocap_frame_rate=np.float64(120.0))
    assert load_amass(path).fps == 120.0


def _raises(path, phrase):
    with pytest.raises(MotionFileError) as info:
        load_amass(path)
    message = str(info.value)
    assert path.name in message and phrase in message, message
    assert "\n" not in message


def test_bad_files(tmp_path):
    poses, trans = _still()
    path = tmp_path / "keys.npz"
    np.savez(path, poses=poses, fps=30.0)
    _raises(path, "missing key(s) ['trans', 'mocap_framerate'] (has ['fps', 'poses'])")

    bad = poses.copy()
    bad[2, 5] = np.nan
    _raises(
        write_amass_npz(tmp_path / "nan.npz", bad, trans, FPS), "NaN/inf in 'poses' in 1 frame(s), first at frame 2"
    )
    bad_trans = trans.copy()
    bad_trans[1] = np.inf
    _raises(write_amass_npz(tmp_path / "inf.npz", poses, bad_trans, FPS), "NaN/inf in 'trans'")

    _raises(write_amass_npz(tmp_path / "width.npz", np.zeros((3, 70)), trans, FPS), "'poses' has shape (3, 70)")
    _raises(write_amass_npz(tmp_path / "trans.npz", poses, trans[:2], FPS), "'trans' has shape (2, 3)")
    _raises(write_amass_npz(tmp_path / "rate.npz", poses, trans, 0.0), "must be positive")
    _raises(write_amass_npz(tmp_path / "empty.npz", np.zeros((0, 72)), np.zeros((0, 3)), FPS), "zero frames")
    (tmp_path / "junk.npz").write_text("not a zip")
    _raises(tmp_path / "junk.npz", "cannot read as .npz")
    _raises(tmp_path / "nowhere.npz", "no such file")
