"""IK retargeting: recovering a known motion from its joint positions."""

from types import SimpleNamespace

import jax.numpy as jnp
import numpy as np

from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid.kinematics import forward_kinematics
from physhmr_jax.humanoid.skeleton import NUM_BODIES, Skeleton, mean_skeleton, standing_dof
from physhmr_jax.motion.retarget import RetargetConfig, resample, retarget


def _known_motion(fps=60.0, seconds=1.0, seed=0):
    """A smooth motion of a slightly larger body, given to the IK only as joint positions."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(fps * seconds) + 1) / fps
    amp = rng.uniform(0.05, 0.3, size=69)
    phase = rng.uniform(0, 2 * np.pi, size=69)
    dof = standing_dof() + amp * np.sin(2 * np.pi * 0.8 * t[:, None] + phase)
    dof[:, 3:6] = standing_dof()[3:6] + [0.0, 0.6 + 0.4 * np.sin(3.0), 0.0]  # L_Knee well bent: no straight-leg twist
    yaw = 0.5 * t
    root_quat = np.asarray(rot.quat_from_axis_angle(jnp.array([0.0, 0.0, 1.0]), jnp.asarray(yaw)))
    root_pos = np.stack([1.1 * t, 0.2 * t, 0.9 + 0.02 * np.sin(6 * t)], -1)
    skeleton = Skeleton(mean_skeleton().offsets_m * 1.05, name="src")
    joints, _ = forward_kinematics(
        jnp.asarray(root_pos), jnp.asarray(root_quat), jnp.asarray(dof), jnp.asarray(skeleton.offsets_m)
    )
    source = SimpleNamespace(
        name="known", path="known", fps=fps, joints_m=np.asarray(joints), skeleton=skeleton, weights=np.ones(NUM_BODIES)
    )
    return source


def test_resample_linear():
    x = np.arange(121, dtype=float)[:, None] * 2.0  # 1 s at 120 fps, value = 2 * frame
    y = resample(x, 120.0, 30.0)
    assert y.shape == (31, 1)
    np.testing.assert_allclose(y[:, 0], 8.0 * np.arange(31))  # every 4th input frame


def test_ik_recovers_joint_positions():
    source = _known_motion()
    clip, report = retarget(source, RetargetConfig())
    assert clip.fps == 30.0 and clip.num_frames == 31
    # Exactly reachable targets: the fit must be essentially exact.
    assert report.joint_error_mean_mm < 2.0, report
    assert report.joint_error_max_mm < 15.0, report
    # Ground alignment: the lowest sole point sits on z = 0 in the 5th-percentile frame.
    assert report.foot_penetration_max_mm < 30.0, report
    # Hinge angles move continuously (warm start keeps one Euler branch): < 0.5 rad per frame.
    assert np.abs(np.diff(clip.dof, axis=0)).max() < 0.5
