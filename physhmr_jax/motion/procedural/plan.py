"""The plan: what a motion type decides before kinematics, and the geometry planners share.

A planner returns a :class:`Plan` per clip: per frame, the pelvis guide (position and
yaw-pitch-roll), a world footprint, pitch, lift and contact flag per foot, the hip twists
and the upper-body hinge angles. A foot's pivot stays on its footprint: with pitch > 0
(heel up) the foot pivots about its toe tip, with pitch < 0 (toes up) about its heel.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from physhmr_jax.geometry.rotations_np import axis_rotation
from physhmr_jax.motion.procedural.body import LegGeometry
from physhmr_jax.motion.procedural.params import DEG

GRAVITY_MPS2 = 9.81
PELVIS_TILT_RAD = 3 * DEG  # forward pitch of the upright pelvis
# Contact legs stay at most this fraction of their full reach (a slight knee bend).
STANCE_REACH_FRACTION = 0.99


@dataclasses.dataclass
class FeetPlan:
    """Per-foot world targets, arrays [2, T] (left, right).

    ``base_xy`` is where the heel sole point lies when the foot is flat; with pitch > 0
    (heel up) the foot pivots about its toe tip, with pitch < 0 (toes up) about its heel,
    and ``lift_m`` raises that pivot off the ground.
    """

    base_xy: np.ndarray  # [2, T, 2]
    yaw: np.ndarray  # [2, T] world yaw of the foot
    pitch: np.ndarray  # [2, T] rotation about the foot's y axis; > 0 is toe down (heel up)
    lift_m: np.ndarray  # [2, T]
    contact: np.ndarray  # [2, T] bool


@dataclasses.dataclass
class Plan:
    pelvis_xy: np.ndarray  # [T, 2] world
    pelvis_z: np.ndarray  # [T] (a guide: the final height comes from the feet)
    pelvis_ypr: np.ndarray  # [T, 3] world yaw, then pitch (about y), then roll (about x)
    feet: FeetPlan
    hip_twist: np.ndarray  # [2, T] hip z (external rotation positive for the left leg)
    upper_dof: np.ndarray  # [T, 69] angles of the non-leg bodies (leg entries ignored)


# --------------------------------------------------------------------------------------------
# Time profiles on [0, 1] (clipped outside).


def smoothstep(x) -> np.ndarray:
    """Cubic ease, zero velocity at both ends."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def minjerk(x) -> np.ndarray:
    """Minimum-jerk quintic, zero velocity and acceleration at both ends."""
    x = np.clip(x, 0.0, 1.0)
    return x**3 * (10 - 15 * x + 6 * x * x)


def gaussian_smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Gaussian smoothing along the first axis (edges padded by reflection)."""
    radius = int(np.ceil(3 * sigma_frames))
    if radius < 1:
        return x
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2)
    k /= k.sum()
    padded = np.pad(x, (radius, radius), mode="reflect")
    return np.convolve(padded, k, mode="valid")


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


# --------------------------------------------------------------------------------------------
# Feet and pelvis geometry.


def heading_xy(heading, x, y) -> np.ndarray:
    """Vectors given in the heading frame -> world xy ([T, 2])."""
    c, s = np.cos(heading), np.sin(heading)
    return np.stack([c * x - s * y, s * x + c * y], -1)


def footprint(anchor_xy, yaw, legs: LegGeometry, side: int) -> np.ndarray:
    """Heel point (``base_xy``) of a flat foot whose ankle is at ``anchor_xy`` with ``yaw``."""
    heel = legs.heel[side, :2]
    c, s = np.cos(yaw), np.sin(yaw)
    return anchor_xy + np.stack([c * heel[0] - s * heel[1], s * heel[0] + c * heel[1]], -1)


def standing_feet(num_frames, heading, half_width, toe_out, legs: LegGeometry) -> FeetPlan:
    """Both feet flat and still, ankles at (0, +-half_width) in the heading frame."""
    base, yaw = [], []
    for side, sgn in enumerate((1.0, -1.0)):
        ankle_h = np.array([0.0, sgn * half_width])
        ankle = np.array(
            [
                np.cos(heading) * ankle_h[0] - np.sin(heading) * ankle_h[1],
                np.sin(heading) * ankle_h[0] + np.cos(heading) * ankle_h[1],
            ]
        )
        y = heading + sgn * toe_out
        base.append(np.broadcast_to(footprint(ankle, y, legs, side), (num_frames, 2)))
        yaw.append(np.full(num_frames, y))
    zeros = np.zeros((2, num_frames))
    return FeetPlan(np.stack(base).copy(), np.stack(yaw), zeros.copy(), zeros.copy(), np.ones((2, num_frames), bool))


def pelvis_rotation(ypr: np.ndarray) -> np.ndarray:
    """[T, 3] yaw, pitch, roll -> [T, 3, 3] ``Rz(yaw) Ry(pitch) Rx(roll)``."""
    return axis_rotation(2, ypr[:, 0]) @ axis_rotation(1, ypr[:, 1]) @ axis_rotation(0, ypr[:, 2])


def foot_rotation(feet: FeetPlan) -> np.ndarray:
    """[2, T, 3, 3] ``Rz(yaw) Ry(pitch)`` of each foot."""
    return axis_rotation(2, feet.yaw) @ axis_rotation(1, feet.pitch)


def ankle_targets(feet: FeetPlan, legs: LegGeometry) -> np.ndarray:
    """[2, T, 3] world ankle positions that put the pivot of each foot on its plan."""
    rot = foot_rotation(feet)
    out = np.zeros(feet.base_xy.shape[:2] + (3,))
    for side in range(2):
        toe_pivot = feet.pitch[side] > 0
        # Where the pivot lies in the world: the heel on base_xy, or the toe tip of the flat foot.
        flat = axis_rotation(2, feet.yaw[side])
        tip_flat = (flat @ (legs.tip[side] - legs.heel[side]))[:, :2]
        pivot_xy = feet.base_xy[side] + np.where(toe_pivot[:, None], tip_flat, 0.0)
        pivot = np.concatenate([pivot_xy, feet.lift_m[side][:, None]], -1)
        local = np.where(toe_pivot[:, None], legs.tip[side], legs.heel[side])
        out[side] = pivot - np.einsum("tij,tj->ti", rot[side], local)
    return out


def max_pelvis_height(pelvis_xy, pelvis_ypr, feet, legs, reach_fraction) -> np.ndarray:
    """[T] highest pelvis that keeps every contact leg within ``reach_fraction`` of its reach (inf in flight)."""
    rot = pelvis_rotation(pelvis_ypr)
    ankles = ankle_targets(feet, legs)
    best = np.full(pelvis_xy.shape[0], np.inf)
    for side in range(2):
        hip = np.einsum("tij,j->ti", rot, legs.hip_off[side])
        d_xy = np.linalg.norm(pelvis_xy + hip[:, :2] - ankles[side, :, :2], axis=-1)
        reach = reach_fraction * legs.leg_reach[side]
        dz = np.sqrt(np.maximum(reach**2 - d_xy**2, 0.0))
        # Only contact legs bound the pelvis; IK pulls an out-of-reach swing foot towards the hip.
        best = np.where(feet.contact[side], np.minimum(best, ankles[side, :, 2] + dz - hip[:, 2]), best)
    return best


def fit_pelvis_height(z_shape, pelvis_xy, pelvis_ypr, feet, legs, reach_fraction) -> np.ndarray:
    """Lift the height profile ``z_shape`` by one offset: to the standing height at
    ``reach_fraction`` of leg reach, or lower where a contact leg would over-reach."""
    h_max = max_pelvis_height(pelvis_xy, pelvis_ypr, feet, legs, STANCE_REACH_FRACTION)
    offset = min(legs.standing_height(reach_fraction), float(np.min((h_max - z_shape)[np.isfinite(h_max)])))
    return z_shape + offset
