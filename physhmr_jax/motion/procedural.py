"""Procedural motion library: the default motion set that runs on a fresh clone.

Every clip is deterministic given ``(motion_type, seed)``; the seed draws the clip's
parameters (speed, cadence, stride, amplitudes, heading, turn rate, ...) from the human
ranges in :data:`PARAMETER_RANGES`.

How a clip is made (host-side numpy plus the project's jitted FK for the sole points):
  1. **Plan.** Periodic gait functions (or a timeline of phases for jump, squat, reach,
     wave) give, per frame, the pelvis height/orientation, a world footprint and pitch for
     each foot, and the upper-body hinge angles. Locomotion places one footprint per stance
     at the path point of mid-stance, so footprints are world-fixed by design; the swing
     foot moves between footprints on a smoothstep curve (zero velocity at lift-off and
     touchdown). A foot rolls over its heel
     (toes up) at heel strike and over its toe tip when the heel rises, so the pivot stays
     on its footprint.
  2. **Local pose.** Analytic leg IK (hip x/y for a given hip twist z, knee y, ankle xyz)
     reaches those foot targets from the planned pelvis; all 69 hinges are then clipped to
     ``mjcf.joint_ranges_rad()``.
  3. **Root from the feet.** Forward kinematics with the root at the origin (but with the
     frame's orientation) gives the four sole points. In contact frames the root height
     puts the lowest sole point at z = 0; in flight (run, jump) it follows a ballistic arc
     with g = 9.81 m/s^2 whose take-off velocity makes the feet leave and land on z = 0.
     The horizontal root position is integrated so the contact foot does not move:
     ``root_xy(t+1) = root_xy(t) - (sole_xy(t+1) - sole_xy(t))``. Foot skating is ~0 by
     construction, and the planned pelvis path is only a guide for this step.

Conventions (``humanoid/skeleton.py``): world z up; rest T-pose facing +x, left = +y.
Hip flexion is negative hip y, knee flexion positive knee y, ankle dorsiflexion negative
ankle y; the left arm comes down by L_Shoulder x = -90 deg; left elbow flexion is
negative L_Elbow z. Right-side angles mirror the left ones (x and z negate, y stays).
"""

from __future__ import annotations

import dataclasses
import os
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.kinematics import world_sole_points
from physhmr_jax.humanoid.skeleton import BODY_INDEX, NUM_DOF, Skeleton, mean_skeleton
from physhmr_jax.motion.clip import Clip

MOTION_TYPES: tuple[str, ...] = ("walk", "run", "turn", "sidestep", "jump", "squat", "reach", "wave")

GRAVITY_MPS2 = 9.81
# Contact legs stay at most this fraction of their full reach (a slight knee bend).
STANCE_REACH_FRACTION = 0.99
SWING_REACH_FRACTION = 0.999
# Spine hinges share a trunk rotation relative to the pelvis: Torso, Spine, Chest.
_SPINE_SHARE = {"Torso": 0.3, "Spine": 0.3, "Chest": 0.4}
_FK_CHUNK_FRAMES = 64  # frames per FK call: one compiled shape for every clip length
_FOOT_SOLE_ROWS = ((0, 1), (2, 3))  # rows of sole_points_local: (heel, toe tip) per foot, L then R

_DEG = np.pi / 180.0

# Seeded parameters of each motion type, (low, high), drawn uniformly. Angles in radians.
PARAMETER_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "walk": {
        "speed_mps": (0.8, 1.6),
        "cadence_jitter_hz": (-0.05, 0.05),  # stride frequency = 0.72 + 0.2 * speed + jitter
        "duty": (0.58, 0.63),  # stance fraction of a stride
        "half_width_m": (0.05, 0.08),
        "clearance_m": (0.05, 0.08),
        "toe_out_rad": (3 * _DEG, 10 * _DEG),
        "heel_strike_rad": (-18 * _DEG, -8 * _DEG),  # foot pitch at touchdown, toes up
        "toe_off_rad": (25 * _DEG, 38 * _DEG),  # foot pitch at lift-off, heel up
        "leg_reach": (0.97, 0.985),  # fraction of full leg reach in stance (knee bend)
        "sway_m": (0.015, 0.03),
        "pelvis_yaw_rad": (3 * _DEG, 6 * _DEG),
        "pelvis_roll_rad": (2 * _DEG, 4 * _DEG),
        "trunk_lean_rad": (2 * _DEG, 6 * _DEG),
        "arm_swing_rad": (12 * _DEG, 25 * _DEG),
        "elbow_rad": (10 * _DEG, 25 * _DEG),
        "heading_rad": (-np.pi, np.pi),
        "phase": (0.0, 1.0),
    },
    "run": {
        "speed_mps": (2.5, 3.5),
        "cadence_jitter_hz": (-0.05, 0.05),  # stride frequency = 1.25 + 0.06 * speed + jitter
        "duty": (0.32, 0.38),
        "half_width_m": (0.03, 0.05),
        "clearance_m": (0.14, 0.22),
        "toe_out_rad": (2 * _DEG, 8 * _DEG),
        "heel_strike_rad": (-8 * _DEG, -2 * _DEG),
        "toe_off_rad": (30 * _DEG, 42 * _DEG),
        "pelvis_yaw_rad": (4 * _DEG, 8 * _DEG),
        "pelvis_roll_rad": (2 * _DEG, 4 * _DEG),
        "trunk_lean_rad": (6 * _DEG, 12 * _DEG),
        "arm_swing_rad": (25 * _DEG, 40 * _DEG),
        "elbow_rad": (75 * _DEG, 95 * _DEG),
        "heading_rad": (-np.pi, np.pi),
        "phase": (0.0, 1.0),
    },
    "turn": {
        "speed_mps": (0.7, 1.3),
        "yaw_rate_rad_s": (25 * _DEG, 60 * _DEG),  # magnitude; the sign is a coin flip
        "turn_start_s": (0.0, 1.0),
        "cadence_jitter_hz": (-0.05, 0.05),
        "duty": (0.6, 0.65),
        "half_width_m": (0.06, 0.09),
        "clearance_m": (0.05, 0.08),
        "toe_out_rad": (3 * _DEG, 10 * _DEG),
        "heel_strike_rad": (-15 * _DEG, -6 * _DEG),
        "toe_off_rad": (22 * _DEG, 32 * _DEG),
        "leg_reach": (0.97, 0.985),
        "sway_m": (0.015, 0.03),
        "pelvis_yaw_rad": (3 * _DEG, 6 * _DEG),
        "pelvis_roll_rad": (2 * _DEG, 4 * _DEG),
        "trunk_lean_rad": (2 * _DEG, 6 * _DEG),
        "arm_swing_rad": (10 * _DEG, 22 * _DEG),
        "elbow_rad": (10 * _DEG, 25 * _DEG),
        "heading_rad": (-np.pi, np.pi),
        "phase": (0.0, 1.0),
    },
    "sidestep": {
        "speed_mps": (0.25, 0.5),  # lateral
        "stride_hz": (0.8, 1.1),
        "duty": (0.62, 0.7),
        "half_width_m": (0.1, 0.14),  # at mid-stance; the feet come no closer than 0.16 m
        "clearance_m": (0.04, 0.07),
        "toe_out_rad": (5 * _DEG, 12 * _DEG),
        "heel_strike_rad": (-4 * _DEG, 0.0),
        "toe_off_rad": (4 * _DEG, 12 * _DEG),
        "leg_reach": (0.96, 0.98),
        "sway_m": (0.0, 0.01),
        "pelvis_yaw_rad": (0.0, 2 * _DEG),
        "pelvis_roll_rad": (1 * _DEG, 3 * _DEG),
        "trunk_lean_rad": (2 * _DEG, 6 * _DEG),
        "arm_swing_rad": (3 * _DEG, 10 * _DEG),
        "elbow_rad": (15 * _DEG, 35 * _DEG),
        "heading_rad": (-np.pi, np.pi),
        "phase": (0.0, 1.0),
    },
    "jump": {
        "height_m": (0.12, 0.3),  # apex rise of the pelvis in flight
        "forward_m": (0.0, 0.4),
        "crouch_m": (0.15, 0.28),
        "crouch_s": (0.4, 0.6),
        "push_s": (0.22, 0.3),
        "land_crouch_m": (0.1, 0.2),
        "tuck_m": (0.03, 0.12),
        "rest_s": (0.3, 0.8),
        "arm_back_rad": (30 * _DEG, 50 * _DEG),
        "arm_up_rad": (70 * _DEG, 110 * _DEG),
        "half_width_m": (0.1, 0.14),
        "toe_out_rad": (5 * _DEG, 15 * _DEG),
        "heading_rad": (-np.pi, np.pi),
    },
    "squat": {
        "depth_m": (0.2, 0.3),  # pelvis drop
        "down_s": (0.8, 1.3),
        "hold_s": (0.1, 0.5),
        "up_s": (0.8, 1.2),
        "rest_s": (0.2, 0.6),
        "arm_raise_rad": (40 * _DEG, 85 * _DEG),
        "trunk_lean_rad": (30 * _DEG, 42 * _DEG),
        "half_width_m": (0.13, 0.18),
        "toe_out_rad": (10 * _DEG, 22 * _DEG),
        "heading_rad": (-np.pi, np.pi),
    },
    "reach": {
        "azimuth_rad": (-20 * _DEG, 70 * _DEG),  # from forward towards the reaching side
        "elevation_rad": (-40 * _DEG, 70 * _DEG),
        "out_s": (0.6, 1.0),
        "hold_s": (0.2, 0.6),
        "back_s": (0.6, 1.0),
        "rest_s": (0.1, 0.4),
        "half_width_m": (0.09, 0.13),
        "toe_out_rad": (5 * _DEG, 12 * _DEG),
        "heading_rad": (-np.pi, np.pi),
    },
    "wave": {
        "frequency_hz": (1.5, 2.5),
        "amplitude_rad": (18 * _DEG, 35 * _DEG),
        "elevation_rad": (5 * _DEG, 35 * _DEG),  # upper arm above horizontal
        "raise_s": (0.5, 0.8),
        "start_s": (0.1, 0.6),
        "half_width_m": (0.09, 0.13),
        "toe_out_rad": (5 * _DEG, 12 * _DEG),
        "heading_rad": (-np.pi, np.pi),
    },
}


def parameter_ranges(motion_type: str) -> dict[str, tuple[float, float]]:
    """The seeded parameter ranges of ``motion_type`` (a copy)."""
    _check_type(motion_type)
    return dict(PARAMETER_RANGES[motion_type])


def _check_type(motion_type: str):
    if motion_type not in MOTION_TYPES:
        raise ValueError(f"unknown motion type {motion_type!r}; expected one of {MOTION_TYPES}")


def _sample_params(motion_type: str, seed: int) -> dict:
    # crc32 keeps the stream stable across Python runs (str hash is salted).
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(motion_type.encode())])
    params = {name: float(rng.uniform(lo, hi)) for name, (lo, hi) in PARAMETER_RANGES[motion_type].items()}
    params["sign"] = float(rng.choice([-1.0, 1.0]))  # turn direction / step direction / arm side
    params["seed_rng"] = rng  # for event sequences (reach targets)
    return params


# --------------------------------------------------------------------------------------------
# Small numpy rotation helpers ([..., 3, 3] matrices acting on column vectors).


def _rot(axis: int, angle) -> np.ndarray:
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m = np.zeros(angle.shape + (3, 3))
    m[..., axis, axis] = 1.0
    m[..., i, i], m[..., i, j], m[..., j, i], m[..., j, j] = c, -s, s, c
    return m


def _euler_to_matrix(e: np.ndarray) -> np.ndarray:
    """Intrinsic x-y-z Euler [..., 3] -> Rx Ry Rz."""
    return _rot(0, e[..., 0]) @ _rot(1, e[..., 1]) @ _rot(2, e[..., 2])


def _matrix_to_euler(m: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_euler_to_matrix` (y in [-pi/2, pi/2])."""
    b = np.arcsin(np.clip(m[..., 0, 2], -1.0, 1.0))
    a = np.arctan2(-m[..., 1, 2], m[..., 2, 2])
    c = np.arctan2(-m[..., 0, 1], m[..., 0, 0])
    return np.stack([a, b, c], axis=-1)


def _mirror_euler(e: np.ndarray) -> np.ndarray:
    """Left-side Euler angles -> the mirrored right-side ones (reflecting y negates x and z)."""
    return e * np.array([-1.0, 1.0, -1.0])


def _matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """[..., 3, 3] -> [..., 4] wxyz, w >= 0."""
    w = np.sqrt(np.maximum(0.0, 1.0 + m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2])) / 2
    x = np.sqrt(np.maximum(0.0, 1.0 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2])) / 2
    y = np.sqrt(np.maximum(0.0, 1.0 - m[..., 0, 0] + m[..., 1, 1] - m[..., 2, 2])) / 2
    z = np.sqrt(np.maximum(0.0, 1.0 - m[..., 0, 0] - m[..., 1, 1] + m[..., 2, 2])) / 2
    x = np.copysign(x, m[..., 2, 1] - m[..., 1, 2])
    y = np.copysign(y, m[..., 0, 2] - m[..., 2, 0])
    z = np.copysign(z, m[..., 1, 0] - m[..., 0, 1])
    q = np.stack([w, x, y, z], axis=-1)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _min_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation taking unit vector ``a`` [3] to unit vectors ``b`` [..., 3]."""
    a = np.broadcast_to(a, b.shape)
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1)
    cos = np.sum(a * b, axis=-1)
    axis = axis / np.maximum(sin, 1e-9)[..., None]
    k = np.zeros(b.shape[:-1] + (3, 3))
    k[..., 0, 1], k[..., 0, 2], k[..., 1, 2] = -axis[..., 2], axis[..., 1], -axis[..., 0]
    k = k - np.swapaxes(k, -1, -2)
    eye = np.broadcast_to(np.eye(3), k.shape)
    return eye + sin[..., None, None] * k + (1 - cos)[..., None, None] * (k @ k)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _smoothstep(x) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _minjerk(x) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x**3 * (10 - 15 * x + 6 * x * x)


def _smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Gaussian smoothing along the first axis (edges padded by reflection)."""
    radius = int(np.ceil(3 * sigma_frames))
    if radius < 1:
        return x
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2)
    k /= k.sum()
    padded = np.pad(x, (radius, radius), mode="reflect")
    return np.convolve(padded, k, mode="valid")


def _wrap(a) -> np.ndarray:
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


# --------------------------------------------------------------------------------------------
# The plan: what a motion type decides before kinematics.


@dataclasses.dataclass
class _FeetPlan:
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
class _Plan:
    pelvis_xy: np.ndarray  # [T, 2] world
    pelvis_z: np.ndarray  # [T] (a guide: the final height comes from the feet)
    pelvis_ypr: np.ndarray  # [T, 3] world yaw, then pitch (about y), then roll (about x)
    feet: _FeetPlan
    hip_twist: np.ndarray  # [2, T] hip z (external rotation positive for the left leg)
    upper_dof: np.ndarray  # [T, 69] angles of the non-leg bodies (leg entries ignored)


@dataclasses.dataclass(frozen=True)
class _Body:
    """Lengths of the skeleton the planner needs."""

    hip_off: np.ndarray  # [2, 3] hip joints in the pelvis frame
    thigh: np.ndarray  # [2, 3] knee in the hip frame
    shin: np.ndarray  # [2, 3] ankle in the knee frame
    heel: np.ndarray  # [2, 3] heel sole point in the ankle frame
    tip: np.ndarray  # [2, 3] toe-tip sole point in the ankle frame (toe hinge at 0)
    leg_reach: np.ndarray  # [2] longest hip-ankle distance

    @classmethod
    def of(cls, skeleton: Skeleton) -> _Body:
        off = skeleton.offsets_m
        sole = mjcf.sole_points_local(skeleton)
        sides = [("L_Hip", "L_Knee", "L_Ankle", "L_Toe"), ("R_Hip", "R_Knee", "R_Ankle", "R_Toe")]
        hip = np.stack([off[BODY_INDEX[s[0]]] for s in sides])
        thigh = np.stack([off[BODY_INDEX[s[1]]] for s in sides])
        shin = np.stack([off[BODY_INDEX[s[2]]] for s in sides])
        heel = np.stack([sole[r[0]] for r in _FOOT_SOLE_ROWS])
        tip = np.stack([sole[r[1]] + off[BODY_INDEX[s[3]]] for r, s in zip(_FOOT_SOLE_ROWS, sides, strict=True)])
        planar = np.linalg.norm(thigh[:, [0, 2]], axis=-1) + np.linalg.norm(shin[:, [0, 2]], axis=-1)
        reach = np.sqrt(planar**2 + (thigh[:, 1] + shin[:, 1]) ** 2)
        return cls(hip, thigh, shin, heel, tip, reach)

    @property
    def size(self) -> float:
        """Leg length relative to the built-in mean body."""
        return float(self.leg_reach[0] / _Body.of(mean_skeleton()).leg_reach[0])

    @property
    def sole_below_ankle_m(self) -> float:
        return float(-self.heel[0, 2])

    def standing_height(self, reach_fraction: float) -> float:
        """Pelvis height with both ankles straight below the hips at ``reach_fraction``."""
        return float(-self.hip_off[0, 2] + reach_fraction * self.leg_reach[0] + self.sole_below_ankle_m)


def _set(dof: np.ndarray, body: str, angles) -> None:
    b = BODY_INDEX[body]
    dof[:, 3 * (b - 1) : 3 * b] = angles


def _get(dof: np.ndarray, body: str) -> np.ndarray:
    b = BODY_INDEX[body]
    return dof[:, 3 * (b - 1) : 3 * b]


def _set_pair(dof: np.ndarray, joint: str, left, right) -> None:
    """Set L_<joint> to ``left`` and R_<joint> to the mirror of ``right`` (both given as left-side angles)."""
    _set(dof, f"L_{joint}", left)
    _set(dof, f"R_{joint}", _mirror_euler(np.asarray(right)))


def _arm_down(swing_fwd, abduction) -> np.ndarray:
    """Left shoulder Euler [T, 3] for an arm hanging ``abduction`` out from vertical, swung forward."""
    m = _rot(1, -np.asarray(swing_fwd)) @ _rot(0, -(np.pi / 2 - np.asarray(abduction)))
    return _matrix_to_euler(m)


def _trunk_and_head(dof, trunk_rpy, head_rpy) -> None:
    """Spread a trunk rotation over the spine hinges and a head rotation over neck and head.

    ``trunk_rpy``/``head_rpy`` [T, 3]: (roll about x, pitch about y: > 0 leans forward, yaw about z).
    """
    for body, share in _SPINE_SHARE.items():
        _set(dof, body, share * trunk_rpy)
    _set(dof, "Neck", 0.5 * head_rpy)
    _set(dof, "Head", 0.5 * head_rpy)


def _footprint(anchor_xy, yaw, body: _Body, side: int) -> np.ndarray:
    """Heel point (``base_xy``) of a flat foot whose ankle is at ``anchor_xy`` with ``yaw``."""
    heel = body.heel[side, :2]
    c, s = np.cos(yaw), np.sin(yaw)
    return anchor_xy + np.stack([c * heel[0] - s * heel[1], s * heel[0] + c * heel[1]], -1)


def _standing_feet(num_frames, heading, half_width, toe_out, body: _Body) -> _FeetPlan:
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
        base.append(np.broadcast_to(_footprint(ankle, y, body, side), (num_frames, 2)))
        yaw.append(np.full(num_frames, y))
    zeros = np.zeros((2, num_frames))
    return _FeetPlan(np.stack(base).copy(), np.stack(yaw), zeros.copy(), zeros.copy(), np.ones((2, num_frames), bool))


def _heading_xy(heading, x, y) -> np.ndarray:
    """Vectors given in the heading frame -> world xy ([T, 2])."""
    c, s = np.cos(heading), np.sin(heading)
    return np.stack([c * x - s * y, s * x + c * y], -1)


# --------------------------------------------------------------------------------------------
# Locomotion: walk, run, turn, sidestep.


def _plan_locomotion(kind: str, p: dict, t: np.ndarray, body: _Body) -> _Plan:
    num_frames = t.shape[0]
    duty = p["duty"]
    if kind == "run":
        stride_hz = 1.25 + 0.06 * p["speed_mps"] + p["cadence_jitter_hz"]
    elif kind == "sidestep":
        stride_hz = p["stride_hz"]
    else:
        stride_hz = 0.72 + 0.2 * p["speed_mps"] + p["cadence_jitter_hz"]
    stride_hz = stride_hz / body.size  # at one speed, shorter legs take shorter, quicker strides

    # Path: heading theta(t) and travel velocity in the heading frame, on a fine grid.
    dt_fine = 1e-3
    margin_s = 3.0
    tf = np.arange(-margin_s, t[-1] + margin_s, dt_fine)
    if kind == "turn":
        ramp = _smoothstep((tf - p["turn_start_s"]) / 0.8)
        omega = p["sign"] * p["yaw_rate_rad_s"] * ramp
    else:
        omega = np.zeros_like(tf)
    theta = np.cumsum(omega) * dt_fine
    theta = theta - np.interp(0.0, tf, theta) + p["heading_rad"]
    v_heading = (0.0, p["sign"] * p["speed_mps"]) if kind == "sidestep" else (p["speed_mps"], 0.0)
    vel = _heading_xy(theta, *v_heading)
    path = np.cumsum(vel, axis=0) * dt_fine
    path = path - np.array([np.interp(0.0, tf, path[:, 0]), np.interp(0.0, tf, path[:, 1])])

    def path_at(times):
        return np.stack([np.interp(times, tf, path[:, 0]), np.interp(times, tf, path[:, 1])], -1)

    def theta_at(times):
        return np.interp(times, tf, theta)

    # Footprints: stance k of foot f spans phase [k, k + duty); its mid-stance is at k + duty/2.
    phase0 = p["phase"]
    half_width = p["half_width_m"]
    if kind == "sidestep":
        # The trailing foot lands next to the lead foot: keep 0.16 m between ankles.
        step = p["speed_mps"] / stride_hz
        half_width = max(half_width, 0.08 + 0.25 * step)
    # Runners land closer under the body than they push off behind it.
    ankle_ahead_m = -0.06 if kind == "run" else 0.0
    if kind == "run":
        s1, s2, kappa = 0.12, 0.45, 0.6  # heel-pivot end, heel-rise start (stance fraction), lift skew
    elif kind == "sidestep":
        s1, s2, kappa = 0.1, 0.7, 1.0
    else:
        s1, s2, kappa = 0.15, 0.55, 0.85

    base = np.zeros((2, num_frames, 2))
    yaw = np.zeros((2, num_frames))
    pitch = np.zeros((2, num_frames))
    lift = np.zeros((2, num_frames))
    contact = np.zeros((2, num_frames), bool)
    for side, sgn in enumerate((1.0, -1.0)):
        offset = 0.5 * side
        phi = stride_hz * t + phase0 + offset
        k = np.floor(phi)
        u = phi - k

        def footprint(kk, side=side, sgn=sgn, offset=offset):
            tm = (kk + duty / 2 - phase0 - offset) / stride_hz
            th = theta_at(tm)
            ankle = path_at(tm) + _heading_xy(th, ankle_ahead_m, sgn * half_width)
            fyaw = th + sgn * p["toe_out_rad"]
            return _footprint(ankle, fyaw, body, side), fyaw

        b0, y0 = footprint(k)
        b1, y1 = footprint(k + 1)
        stance = u < duty
        s = np.where(stance, u / duty, 0.0)
        stance_pitch = np.where(
            s < s1,
            p["heel_strike_rad"] * (1 - _smoothstep(s / s1)),
            np.where(s < s2, 0.0, p["toe_off_rad"] * ((s - s2) / (1 - s2)) ** 2),
        )
        w = np.where(stance, 0.0, (u - duty) / (1 - duty))
        swing_pitch = p["toe_off_rad"] + (p["heel_strike_rad"] - p["toe_off_rad"]) * _smoothstep(w / 0.75)
        m = _smoothstep(w)[:, None]  # less overshoot before touchdown than minimum jerk
        base[side] = np.where(stance[:, None], b0, (1 - m) * b0 + m * b1)
        yaw[side] = np.where(stance, y0, y0 + _wrap(y1 - y0) * m[:, 0])
        pitch[side] = np.where(stance, stance_pitch, swing_pitch)
        lift[side] = np.where(stance, 0.0, p["clearance_m"] * np.sin(np.pi * w**kappa))
        contact[side] = stance
    feet = _FeetPlan(base, yaw, pitch, lift, contact)

    # Pelvis: the path plus lateral sway over the stance foot, rotations, then the height.
    phi_l = stride_hz * t + phase0
    mid_l = 2 * np.pi * (phi_l - duty / 2)  # 0 at left mid-stance
    th = theta_at(t)
    pelvis_xy = path_at(t) + _heading_xy(th, 0.0, p.get("sway_m", 0.0) * np.cos(mid_l))
    yaw_osc = -p["pelvis_yaw_rad"] * np.cos(2 * np.pi * phi_l)  # left hip forward at left heel strike
    roll = p["pelvis_roll_rad"] * np.cos(mid_l)  # swing-side hip drops
    pelvis_ypr = np.stack([th + yaw_osc, np.full(num_frames, 3 * _DEG), roll], -1)
    if kind == "run":
        # Per step (half a stride): stance dip, then a ballistic flight, C1 at both ends.
        step_t = 0.5 / stride_hz
        stance_t, flight_t = 2 * duty * step_t, (1 - 2 * duty) * step_t
        vz0 = GRAVITY_MPS2 * flight_t / 2
        tau = ((2 * phi_l) % 1.0) * step_t
        z_shape = np.where(
            tau < stance_t,
            -vz0 * stance_t / np.pi * np.sin(np.pi * tau / stance_t),
            vz0 * (tau - stance_t) - 0.5 * GRAVITY_MPS2 * (tau - stance_t) ** 2,
        )
        pelvis_z = _fit_pelvis_height(z_shape, pelvis_xy, pelvis_ypr, feet, body, reach_fraction=0.95)
    else:
        # Inverted-pendulum vault: the pelvis rides as high as the stance legs allow at
        # ``leg_reach`` of their full reach (so it is lowest in double support), smoothed.
        h_max = _max_pelvis_height(pelvis_xy, pelvis_ypr, feet, body, p["leg_reach"])
        h = np.minimum(h_max, body.standing_height(p["leg_reach"]))
        h = _smooth(h, sigma_frames=0.05 / (t[1] - t[0]))
        pelvis_z = np.minimum(h, _max_pelvis_height(pelvis_xy, pelvis_ypr, feet, body, STANCE_REACH_FRACTION))

    # Hip twist takes part of the foot's yaw relative to the pelvis (knees follow the feet).
    rel_yaw = _wrap(feet.yaw - pelvis_ypr[None, :, 0]) * np.array([[1.0], [-1.0]])
    hip_twist = 0.5 * rel_yaw

    # Upper body.
    dof = np.zeros((num_frames, NUM_DOF))
    lean = p["trunk_lean_rad"]
    trunk = np.stack([-0.8 * roll, np.full(num_frames, lean - 3 * _DEG), -1.3 * yaw_osc], -1)
    look = np.zeros(num_frames)
    if kind == "turn":
        turn_rate = np.gradient(th, t)
        trunk[:, 0] += -0.05 * turn_rate * p["speed_mps"]  # lean into the turn
        look = 0.35 * turn_rate  # look into the turn
    head = np.stack([np.zeros(num_frames), np.full(num_frames, -0.8 * lean), 0.3 * yaw_osc + look], -1)
    _trunk_and_head(dof, trunk, head)
    swing = p["arm_swing_rad"] * np.cos(2 * np.pi * phi_l)  # right arm forward at left heel strike
    if kind == "sidestep":
        abd_l = 8 * _DEG + p["arm_swing_rad"] * (0.5 + 0.5 * np.cos(2 * np.pi * phi_l))
        abd_r = 8 * _DEG + p["arm_swing_rad"] * (0.5 - 0.5 * np.cos(2 * np.pi * phi_l))
        _set_pair(dof, "Shoulder", _arm_down(np.zeros(num_frames), abd_l), _arm_down(np.zeros(num_frames), abd_r))
        elbow_l = elbow_r = np.full(num_frames, p["elbow_rad"])
    else:
        abd = np.full(num_frames, (12 if kind == "run" else 8) * _DEG)
        _set_pair(dof, "Shoulder", _arm_down(-swing, abd), _arm_down(swing, abd))
        elbow_l = p["elbow_rad"] + 0.4 * np.maximum(-swing, 0.0)  # more flexed when swung forward
        elbow_r = p["elbow_rad"] + 0.4 * np.maximum(swing, 0.0)
    zeros = np.zeros(num_frames)
    _set_pair(dof, "Elbow", np.stack([zeros, zeros, -elbow_l], -1), np.stack([zeros, zeros, -elbow_r], -1))
    wrist = np.stack([zeros, zeros, np.full(num_frames, -10 * _DEG)], -1)
    _set_pair(dof, "Wrist", wrist, wrist)
    return _Plan(pelvis_xy, pelvis_z, pelvis_ypr, feet, hip_twist, dof)


def _pelvis_rotation(ypr: np.ndarray) -> np.ndarray:
    return _rot(2, ypr[:, 0]) @ _rot(1, ypr[:, 1]) @ _rot(0, ypr[:, 2])


def _foot_rotation(feet: _FeetPlan) -> np.ndarray:
    return _rot(2, feet.yaw) @ _rot(1, feet.pitch)  # [2, T, 3, 3]


def _ankle_targets(feet: _FeetPlan, body: _Body) -> np.ndarray:
    """[2, T, 3] world ankle positions that put the pivot of each foot on its plan."""
    rot = _foot_rotation(feet)
    out = np.zeros(feet.base_xy.shape[:2] + (3,))
    for side in range(2):
        toe_pivot = feet.pitch[side] > 0
        # Where the pivot lies in the world: the heel on base_xy, or the toe tip of the flat foot.
        flat = _rot(2, feet.yaw[side])
        tip_flat = (flat @ (body.tip[side] - body.heel[side]))[:, :2]
        pivot_xy = feet.base_xy[side] + np.where(toe_pivot[:, None], tip_flat, 0.0)
        pivot = np.concatenate([pivot_xy, feet.lift_m[side][:, None]], -1)
        local = np.where(toe_pivot[:, None], body.tip[side], body.heel[side])
        out[side] = pivot - np.einsum("tij,tj->ti", rot[side], local)
    return out


def _max_pelvis_height(pelvis_xy, pelvis_ypr, feet, body, reach_fraction) -> np.ndarray:
    """[T] highest pelvis that keeps every contact leg within ``reach_fraction`` of its reach (inf in flight)."""
    rot = _pelvis_rotation(pelvis_ypr)
    ankles = _ankle_targets(feet, body)
    best = np.full(pelvis_xy.shape[0], np.inf)
    for side in range(2):
        hip = np.einsum("tij,j->ti", rot, body.hip_off[side])
        d_xy = np.linalg.norm(pelvis_xy + hip[:, :2] - ankles[side, :, :2], axis=-1)
        reach = reach_fraction * body.leg_reach[side]
        dz = np.sqrt(np.maximum(reach**2 - d_xy**2, 0.0))
        # Only contact legs bound the pelvis; IK pulls an out-of-reach swing foot towards the hip.
        best = np.where(feet.contact[side], np.minimum(best, ankles[side, :, 2] + dz - hip[:, 2]), best)
    return best


def _fit_pelvis_height(z_shape, pelvis_xy, pelvis_ypr, feet, body, reach_fraction) -> np.ndarray:
    """Lift the height profile ``z_shape`` by one offset: to the standing height at
    ``reach_fraction`` of leg reach, or lower where a contact leg would over-reach."""
    h_max = _max_pelvis_height(pelvis_xy, pelvis_ypr, feet, body, STANCE_REACH_FRACTION)
    offset = min(body.standing_height(reach_fraction), float(np.min((h_max - z_shape)[np.isfinite(h_max)])))
    return z_shape + offset


# --------------------------------------------------------------------------------------------
# Standing motions: jump, squat, reach, wave.


def _standing_upper(num_frames) -> np.ndarray:
    dof = np.zeros((num_frames, NUM_DOF))
    abd = np.full(num_frames, 8 * _DEG)
    _set_pair(dof, "Shoulder", _arm_down(np.zeros(num_frames), abd), _arm_down(np.zeros(num_frames), abd))
    elbow = np.tile([0.0, 0.0, -15 * _DEG], (num_frames, 1))
    _set_pair(dof, "Elbow", elbow, elbow)
    return dof


def _idle_sway(t: np.ndarray, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Slow weight shift (lateral metres) and breathing (trunk pitch), seeded by the heading."""
    ph = p["heading_rad"]
    return 0.012 * np.sin(2 * np.pi * 0.3 * t + ph), 0.01 * np.sin(2 * np.pi * 0.25 * t + 2 * ph)


def _plan_jump(p: dict, t: np.ndarray, body: _Body) -> _Plan:
    """Countermovement jumps: stand, crouch, push, ballistic flight, land, absorb, stand."""
    n = t.shape[0]
    heading = p["heading_rad"]
    flight_s = np.sqrt(8 * p["height_m"] / GRAVITY_MPS2)
    land_s, recover_s = 0.25, 0.5
    cycle = [("rest", p["rest_s"]), ("crouch", p["crouch_s"]), ("push", p["push_s"]), ("flight", flight_s),
             ("land", land_s), ("recover", recover_s)]  # fmt: skip
    cycle_s = sum(d for _, d in cycle)
    local_t = np.mod(t, cycle_s)
    jump_index = np.floor(t / cycle_s)
    starts = np.cumsum([0.0] + [d for _, d in cycle])
    seg = {name: (starts[i], starts[i + 1]) for i, (name, _) in enumerate(cycle)}

    def progress(name):
        a, b = seg[name]
        return np.clip((local_t - a) / (b - a), 0.0, 1.0)

    def inside(name):
        a, b = seg[name]
        return (local_t >= a) & (local_t < b)

    # Forward travel (heading frame): velocity ramps up in the push, is constant in flight and
    # ramps down in landing, so feet move from behind the pelvis to in front of it.
    v_f = p["forward_m"] / flight_s
    x_push = 0.5 * v_f * p["push_s"]
    x_land = 0.5 * v_f * land_s
    x_local = (
        x_push * progress("push") ** 2
        + p["forward_m"] * progress("flight")
        + x_land * (1 - (1 - progress("land")) ** 2)
    )
    jump_x = x_push + p["forward_m"] + x_land
    x_pelvis = jump_index * jump_x + x_local

    feet_plan = _standing_feet(n, heading, p["half_width_m"], p["toe_out_rad"], body)
    # Feet move by one jump length per flight.
    feet_x = jump_index * jump_x + jump_x * _minjerk(progress("flight"))
    feet_plan.base_xy += _heading_xy(heading, feet_x, 0.0)[None]
    heel_up = 35 * _DEG * _smoothstep(progress("push") / 0.8)
    land_pitch = 15 * _DEG
    flight_pitch = 35 * _DEG + (land_pitch - 35 * _DEG) * _smoothstep(progress("flight"))
    land_roll = land_pitch * (1 - _smoothstep(progress("land") / 0.4))
    pitch = np.select([inside("push"), inside("flight"), inside("land")], [heel_up, flight_pitch, land_roll], 0.0)
    feet_plan.pitch[:] = pitch
    feet_plan.contact[:] = ~inside("flight")

    # Pelvis height: stand -> crouch -> extend to take-off -> ballistic -> absorb -> stand.
    stand_h = body.standing_height(0.985)
    pelvis_xy = _heading_xy(heading, x_pelvis, 0.0)
    trunk_pitch = 25 * _DEG * np.sin(np.pi * progress("crouch")) ** 0.5 * (1 - progress("push"))
    trunk_pitch = np.where(inside("crouch") | inside("push"), trunk_pitch, 0.0)
    trunk_pitch += np.where(
        inside("land") | inside("recover"),
        15 * _DEG * np.sin(np.pi * 0.5 * (progress("land") + progress("recover"))),
        0.0,
    )
    ypr = np.stack([np.full(n, heading), 0.4 * trunk_pitch + 3 * _DEG, np.zeros(n)], -1)
    # Take-off height: legs nearly straight with the heels up.
    h_max = _max_pelvis_height(pelvis_xy, ypr, feet_plan, body, STANCE_REACH_FRACTION)
    takeoff_frames = inside("push") & (progress("push") > 0.9)
    h_to = float(np.min(h_max[takeoff_frames])) - 0.005 if takeoff_frames.any() else stand_h + 0.05
    h_to = min(h_to, stand_h + 0.08)
    tau = progress("flight") * flight_s
    vz0 = GRAVITY_MPS2 * flight_s / 2
    z = np.full(n, stand_h)
    z = np.where(inside("crouch"), stand_h - p["crouch_m"] * _minjerk(progress("crouch")), z)
    z = np.where(
        inside("push"), stand_h - p["crouch_m"] + (h_to - stand_h + p["crouch_m"]) * _smoothstep(progress("push")), z
    )
    z = np.where(inside("flight"), h_to + vz0 * tau - 0.5 * GRAVITY_MPS2 * tau**2, z)
    land_low = stand_h - p["land_crouch_m"]
    z = np.where(inside("land"), h_to + (land_low - h_to) * np.sin(0.5 * np.pi * progress("land")), z)
    z = np.where(inside("recover"), land_low + (stand_h - land_low) * _smoothstep(progress("recover")), z)
    # Feet in flight: follow the pelvis rise, plus a tuck.
    feet_plan.lift_m[:] = np.where(inside("flight"), z - h_to + p["tuck_m"] * np.sin(np.pi * progress("flight")), 0.0)
    z = np.minimum(z, _max_pelvis_height(pelvis_xy, ypr, feet_plan, body, STANCE_REACH_FRACTION))

    dof = _standing_upper(n)
    trunk = np.stack([np.zeros(n), trunk_pitch - ypr[:, 1] + 3 * _DEG, np.zeros(n)], -1)
    head = np.stack([np.zeros(n), -0.6 * trunk_pitch, np.zeros(n)], -1)
    _trunk_and_head(dof, trunk, head)
    swing = np.select(
        [inside("crouch"), inside("push"), inside("flight"), inside("land"), inside("recover")],
        [
            -p["arm_back_rad"] * _smoothstep(progress("crouch")),
            -p["arm_back_rad"] + (p["arm_up_rad"] + p["arm_back_rad"]) * _smoothstep(progress("push")),
            p["arm_up_rad"] * (1 - 0.5 * _smoothstep(progress("flight"))),
            0.5 * p["arm_up_rad"] * (1 - 0.3 * progress("land")),
            0.35 * p["arm_up_rad"] * (1 - _smoothstep(progress("recover"))),
        ],
        0.0,
    )
    abd = np.full(n, 10 * _DEG)
    _set_pair(dof, "Shoulder", _arm_down(swing, abd), _arm_down(swing, abd))
    elbow = np.stack([np.zeros(n), np.zeros(n), -(15 * _DEG + 0.2 * np.abs(swing))], -1)
    _set_pair(dof, "Elbow", elbow, elbow)
    twist = np.full((2, n), p["toe_out_rad"])
    return _Plan(pelvis_xy, z, ypr, feet_plan, twist, dof)


def _plan_squat(p: dict, t: np.ndarray, body: _Body) -> _Plan:
    """Body-weight squats: hips back and down, trunk leans, arms rise forward to balance."""
    n = t.shape[0]
    heading = p["heading_rad"]
    cycle_s = p["rest_s"] + p["down_s"] + p["hold_s"] + p["up_s"]
    lt = np.mod(t, cycle_s)
    down = _minjerk((lt - p["rest_s"]) / p["down_s"])
    up = _minjerk((lt - p["rest_s"] - p["down_s"] - p["hold_s"]) / p["up_s"])
    depth = down * (1 - up)  # 0 standing, 1 at the bottom
    sway, breath = _idle_sway(t, p)
    stand_h = body.standing_height(0.985)
    z = stand_h - p["depth_m"] * depth
    pelvis_xy = _heading_xy(heading, -0.45 * p["depth_m"] * depth, sway * (1 - depth))
    tilt = 12 * _DEG * depth  # anterior pelvic tilt
    ypr = np.stack([np.full(n, heading), 3 * _DEG + tilt, np.zeros(n)], -1)
    feet = _standing_feet(n, heading, p["half_width_m"], p["toe_out_rad"], body)
    z = np.minimum(z, _max_pelvis_height(pelvis_xy, ypr, feet, body, STANCE_REACH_FRACTION))
    dof = _standing_upper(n)
    lean = p["trunk_lean_rad"] * depth
    trunk = np.stack([np.zeros(n), lean - tilt + breath, np.zeros(n)], -1)
    head = np.stack([np.zeros(n), -0.7 * (lean + 3 * _DEG), np.zeros(n)], -1)
    _trunk_and_head(dof, trunk, head)
    raise_ = p["arm_raise_rad"] * depth
    abd = np.full(n, 8 * _DEG) + 4 * _DEG * depth
    _set_pair(dof, "Shoulder", _arm_down(raise_, abd), _arm_down(raise_, abd))
    elbow = np.stack([np.zeros(n), np.zeros(n), -(15 * _DEG + 0.2 * raise_)], -1)
    _set_pair(dof, "Elbow", elbow, elbow)
    twist = np.full((2, n), 0.8 * p["toe_out_rad"])  # knees track over the toes
    return _Plan(pelvis_xy, z, ypr, feet, twist, dof)


def _chest_rotation(dof: np.ndarray, pelvis_ypr: np.ndarray) -> np.ndarray:
    """[T, 3, 3] world orientation of the chest (and thorax, whose hinges stay at zero)."""
    m = _pelvis_rotation(pelvis_ypr)
    for body in _SPINE_SHARE:
        m = m @ _euler_to_matrix(_get(dof, body))
    return m


def _plan_reach(p: dict, t: np.ndarray, body: _Body) -> _Plan:
    """Reach out with one arm to seeded targets (forward, up, aside, down), hold, return."""
    n = t.shape[0]
    heading = p["heading_rad"]
    rng: np.random.Generator = p["seed_rng"]
    ranges = PARAMETER_RANGES["reach"]
    # A sequence of reaches until the clip is full; each draws its own side and target.
    events = []
    start = float(rng.uniform(0.1, 0.4))
    while start < t[-1]:
        e = {k: float(rng.uniform(*ranges[k])) for k in ("azimuth_rad", "elevation_rad", "out_s", "hold_s", "back_s")}
        e["side"] = int(rng.integers(2))
        e["start"] = start
        events.append(e)
        start += e["out_s"] + e["hold_s"] + e["back_s"] + float(rng.uniform(*ranges["rest_s"]))

    amount = np.zeros((2, n))  # 0 rest .. 1 reached, per arm
    target = np.tile(np.array([0.0, 0.0, -1.0]), (2, n, 1))  # arm direction in the heading frame
    low = np.zeros(n)  # how far below the horizontal the active target lies (drives the lean)
    yaw_to = np.zeros(n)
    for e in events:
        lt = t - e["start"]
        a = _minjerk(lt / e["out_s"]) * (1 - _minjerk((lt - e["out_s"] - e["hold_s"]) / e["back_s"]))
        active = (lt >= 0) & (lt < e["out_s"] + e["hold_s"] + e["back_s"])
        s = e["side"]
        side_sign = 1.0 if s == 0 else -1.0
        az, el = e["azimuth_rad"] * side_sign, e["elevation_rad"]
        d = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
        amount[s] = np.where(active, a, amount[s])
        target[s, active] = d
        low = np.where(active, a * max(0.0, -el), low)
        yaw_to = np.where(active, a * 0.35 * az, yaw_to)

    sway, breath = _idle_sway(t, p)
    lean = 0.6 * low + 0.1 * np.max(amount, axis=0)
    stand_h = body.standing_height(0.985)
    pelvis_xy = _heading_xy(heading, -0.15 * lean, sway)
    ypr = np.stack([np.full(n, heading) + 0.3 * yaw_to, np.full(n, 3 * _DEG) + 0.3 * lean, np.zeros(n)], -1)
    feet = _standing_feet(n, heading, p["half_width_m"], p["toe_out_rad"], body)
    z = np.minimum(stand_h - 0.1 * low, _max_pelvis_height(pelvis_xy, ypr, feet, body, STANCE_REACH_FRACTION))

    dof = _standing_upper(n)
    trunk = np.stack([np.zeros(n), 0.7 * lean + breath, 0.7 * yaw_to], -1)
    head = np.stack([np.zeros(n), -0.3 * lean, 0.3 * yaw_to], -1)
    _trunk_and_head(dof, trunk, head)
    # Arm directions: slerp from hanging down to the target, expressed in the chest frame.
    chest = _chest_rotation(dof, ypr)
    heading_rot = _rot(2, np.full(n, heading))
    rest = np.array([0.0, 0.0, -1.0])
    shoulders = []
    for s in range(2):
        tgt = target[s]
        cos = np.clip(tgt @ rest, -1.0, 1.0)
        ang = np.arccos(cos)
        frac = amount[s] * ang
        ortho = _unit(tgt - cos[:, None] * rest + 1e-12)
        d_heading = np.cos(frac)[:, None] * rest + np.sin(frac)[:, None] * ortho
        d_chest = np.einsum("tji,tj->ti", chest, np.einsum("tij,tj->ti", heading_rot, d_heading))
        if s == 1:
            d_chest = d_chest * np.array([1.0, -1.0, 1.0])  # solve the right arm as a mirrored left arm
        # Rest direction with a small abduction so the arm clears the body.
        d_chest = _unit(d_chest + np.array([0.0, 0.15, 0.0]) * (1 - amount[s])[:, None])
        shoulders.append(_matrix_to_euler(_min_rotation(np.array([0.0, 1.0, 0.0]), d_chest)))
    _set_pair(dof, "Shoulder", shoulders[0], shoulders[1])
    elbows = [np.stack([np.zeros(n), np.zeros(n), -(15 * _DEG) * (1 - 0.6 * amount[s])], -1) for s in range(2)]
    _set_pair(dof, "Elbow", elbows[0], elbows[1])
    twist = np.full((2, n), 0.5 * p["toe_out_rad"])
    return _Plan(pelvis_xy, z, ypr, feet, twist, dof)


def _plan_wave(p: dict, t: np.ndarray, body: _Body) -> _Plan:
    """Raise one arm (upper arm out to the side, forearm up) and wave the forearm."""
    n = t.shape[0]
    heading = p["heading_rad"]
    side = 0 if p["sign"] > 0 else 1
    wave_s = max(1.0, t[-1] - p["start_s"] - 2 * p["raise_s"] - 0.2)
    lt = t - p["start_s"]
    up = _minjerk(lt / p["raise_s"]) * (1 - _minjerk((lt - p["raise_s"] - wave_s) / p["raise_s"]))
    waving = np.clip(lt - p["raise_s"], 0.0, wave_s)
    osc = p["amplitude_rad"] * np.sin(2 * np.pi * p["frequency_hz"] * waving) * _smoothstep(waving / 0.3) * up

    sway, breath = _idle_sway(t, p)
    stand_h = body.standing_height(0.985)
    shift = 0.02 * up * (1.0 if side == 1 else -1.0)  # weight towards the other foot
    pelvis_xy = _heading_xy(heading, np.zeros(n), sway + shift)
    ypr = np.stack([np.full(n, heading), np.full(n, 3 * _DEG), np.zeros(n)], -1)
    feet = _standing_feet(n, heading, p["half_width_m"], p["toe_out_rad"], body)
    z = np.minimum(np.full(n, stand_h), _max_pelvis_height(pelvis_xy, ypr, feet, body, STANCE_REACH_FRACTION))

    dof = _standing_upper(n)
    side_sign = 1.0 if side == 0 else -1.0
    trunk = np.stack(
        [np.full(n, 0.0) - side_sign * 3 * _DEG * up, np.full(n, 0.0) + breath, side_sign * 5 * _DEG * up], -1
    )
    head = np.stack([np.zeros(n), np.zeros(n), -side_sign * 5 * _DEG * up], -1)
    _trunk_and_head(dof, trunk, head)
    # Wave pose (left-side angles): upper arm raised sideways and twisted so the elbow bends
    # upwards; the forearm swings side to side by the elbow flexion.
    rest_shoulder = _arm_down(np.zeros(n), np.full(n, 8 * _DEG))
    wave_shoulder = np.tile([p["elevation_rad"], -80 * _DEG, 0.0], (n, 1))
    shoulder = rest_shoulder + up[:, None] * (wave_shoulder - rest_shoulder)
    elbow = np.stack([np.zeros(n), np.zeros(n), -(15 * _DEG + up * 75 * _DEG + osc)], -1)
    wrist = np.stack([np.zeros(n), np.zeros(n), -0.5 * osc], -1)
    rest_arm = _get(dof, "L_Shoulder").copy()
    rest_elbow = _get(dof, "L_Elbow").copy()
    if side == 0:
        _set_pair(dof, "Shoulder", shoulder, rest_arm)
        _set_pair(dof, "Elbow", elbow, rest_elbow)
        _set_pair(dof, "Wrist", wrist, np.zeros((n, 3)))
    else:
        _set_pair(dof, "Shoulder", rest_arm, shoulder)
        _set_pair(dof, "Elbow", rest_elbow, elbow)
        _set_pair(dof, "Wrist", np.zeros((n, 3)), wrist)
    twist = np.full((2, n), 0.5 * p["toe_out_rad"])
    return _Plan(pelvis_xy, z, ypr, feet, twist, dof)


# --------------------------------------------------------------------------------------------
# Kinematics: leg IK, then the root from the feet.


def _leg_ik(target, foot_rot, twist, thigh, shin) -> np.ndarray:
    """Analytic IK of one leg in the pelvis frame.

    Args:
      target: [T, 3] ankle joint relative to the hip joint.
      foot_rot: [T, 3, 3] wanted foot orientation.
      twist: [T] hip z angle (given, not solved).
      thigh, shin: [3] knee offset in the hip frame, ankle offset in the knee frame.

    Returns: [T, 9] hip xyz, knee xyz, ankle xyz angles. The chain is
    ``ankle = Rx(a) Ry(h) Rz(twist) (thigh + Ry(k) shin)``; the knee sets the hip-ankle
    distance, ``h`` the forward component and ``a`` the remaining rotation about x.
    """
    t_xz, s_xz = thigh[[0, 2]], shin[[0, 2]]
    coef_cos = float(t_xz @ s_xz)
    coef_sin = float(t_xz[0] * s_xz[1] - t_xz[1] * s_xz[0])
    amp = np.hypot(coef_cos, coef_sin)
    gamma = np.arctan2(coef_sin, coef_cos)
    base = thigh @ thigh + shin @ shin + 2 * thigh[1] * shin[1]
    d_max = np.sqrt(base + 2 * amp)
    d_min = np.sqrt(base + 2 * amp * np.cos(np.pi - 0.2))
    dist = np.linalg.norm(target, axis=-1)
    d = np.clip(dist, d_min, SWING_REACH_FRACTION * d_max)
    target = target * (d / np.maximum(dist, 1e-9))[:, None]
    knee = gamma + np.arccos(np.clip((d**2 - base) / (2 * amp), -1.0, 1.0))
    leg = thigh + np.einsum("tij,j->ti", _rot(1, knee), shin)
    w = np.einsum("tij,tj->ti", _rot(2, twist), leg)
    rho = np.hypot(w[:, 0], w[:, 2])
    hip_y = _wrap(np.pi - np.arcsin(np.clip(target[:, 0] / rho, -1.0, 1.0)) - np.arctan2(w[:, 0], w[:, 2]))
    v = np.einsum("tij,tj->ti", _rot(1, hip_y), w)
    hip_x = _wrap(np.arctan2(target[:, 2], target[:, 1]) - np.arctan2(v[:, 2], v[:, 1]))
    shin_rot = _rot(0, hip_x) @ _rot(1, hip_y) @ _rot(2, twist) @ _rot(1, knee)
    ankle = _matrix_to_euler(np.swapaxes(shin_rot, -1, -2) @ foot_rot)
    zeros = np.zeros_like(knee)
    return np.concatenate([np.stack([hip_x, hip_y, twist], -1), np.stack([zeros, knee, zeros], -1), ankle], -1)


def _solve_pose(plan: _Plan, body: _Body) -> tuple[np.ndarray, np.ndarray]:
    """Hinge angles [T, 69] (clipped to the joint ranges) and root rotations [T, 3, 3]."""
    pelvis_rot = _pelvis_rotation(plan.pelvis_ypr)
    pelvis_pos = np.concatenate([plan.pelvis_xy, plan.pelvis_z[:, None]], -1)
    ankles = _ankle_targets(plan.feet, body)
    foot_rot = _foot_rotation(plan.feet)
    dof = plan.upper_dof.copy()
    for side, prefix in enumerate(("L", "R")):
        # Mirror the right leg into a left leg: y -> -y in the pelvis frame.
        mirror = np.diag([1.0, -1.0, 1.0]) if side == 1 else np.eye(3)
        rel = np.einsum("tji,tj->ti", pelvis_rot, ankles[side] - pelvis_pos) - body.hip_off[side]
        frot = np.swapaxes(pelvis_rot, -1, -2) @ foot_rot[side]
        angles = _leg_ik(
            rel @ mirror,
            mirror @ frot @ mirror,
            plan.hip_twist[side],
            mirror @ body.thigh[side],
            mirror @ body.shin[side],
        )
        if side == 1:
            angles = angles.reshape(-1, 3, 3) * np.array([-1.0, 1.0, -1.0])
        angles = angles.reshape(-1, 9)
        _set(dof, f"{prefix}_Hip", angles[:, 0:3])
        _set(dof, f"{prefix}_Knee", angles[:, 3:6])
        _set(dof, f"{prefix}_Ankle", angles[:, 6:9])
        _set(dof, f"{prefix}_Toe", 0.0)
    ranges = mjcf.joint_ranges_rad()
    return np.clip(dof, ranges[:, 0], ranges[:, 1]), pelvis_rot


def _sole_points_at_origin(root_quat: np.ndarray, dof: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """[T, 4, 3] sole points with the root at the origin, by the project's jitted FK.

    Frames go through in fixed-size chunks (the last one padded) so clips of every length
    share one compiled program.
    """
    num_frames = dof.shape[0]
    padded = -(-num_frames // _FK_CHUNK_FRAMES) * _FK_CHUNK_FRAMES
    quat = np.concatenate([root_quat, np.tile(root_quat[-1:], (padded - num_frames, 1))])
    angles = np.concatenate([dof, np.tile(dof[-1:], (padded - num_frames, 1))])
    out = [
        world_sole_points(
            np.zeros((_FK_CHUNK_FRAMES, 3)), quat[i : i + _FK_CHUNK_FRAMES], angles[i : i + _FK_CHUNK_FRAMES], skeleton
        )
        for i in range(0, padded, _FK_CHUNK_FRAMES)
    ]
    return np.concatenate(out)[:num_frames].astype(np.float64)


def _ground_root(dof, root_quat, contact, plan_pos, skeleton: Skeleton, fps: float) -> np.ndarray:
    """Root positions [T, 3] that keep the contact feet on the ground and still.

    Args:
      dof: [T, 69]; root_quat: [T, 4]; contact: [2, T] planned foot contacts;
      plan_pos: [T, 3] the planned pelvis (start point; flight frames at the clip edges).
    """
    num_frames = dof.shape[0]
    soles = _sole_points_at_origin(root_quat, dof, skeleton)
    lowest = soles[..., 2].min(-1)  # [T] with the root at z = 0
    any_contact = contact.any(0)
    z = -lowest
    # Flight: a ballistic arc from the last contact frame to the next one.
    i = 0
    while i < num_frames:
        if any_contact[i]:
            i += 1
            continue
        j = i
        while j < num_frames and not any_contact[j]:
            j += 1
        t0, t1 = i - 1, j  # contact frames around the flight (may be outside the clip)
        frames = np.arange(i, j)
        if t0 >= 0 and t1 < num_frames:
            span = (t1 - t0) / fps
            vz = (z[t1] - z[t0] + 0.5 * GRAVITY_MPS2 * span**2) / span
            tau = (frames - t0) / fps
            z[frames] = z[t0] + vz * tau - 0.5 * GRAVITY_MPS2 * tau**2
        else:
            # The clip starts or ends in flight: the plan is ballistic there; keep its arc.
            ref = t1 if t0 < 0 else t0
            if 0 <= ref < num_frames:
                z[frames] = plan_pos[frames, 2] + (z[ref] - plan_pos[ref, 2])
            else:
                z[frames] = plan_pos[frames, 2]
        i = j
    z = np.maximum(z, -lowest)  # never below the floor

    xy = np.zeros((num_frames, 2))
    xy[0] = plan_pos[0, :2]
    for f in range(num_frames - 1):
        moves = []
        for side, rows in enumerate(_FOOT_SOLE_ROWS):
            if contact[side, f] and contact[side, f + 1]:
                r = rows[int(np.argmin(soles[f + 1, list(rows), 2]))]  # the foot's lower sole point
                moves.append(soles[f + 1, r, :2] - soles[f, r, :2])
        if moves:
            xy[f + 1] = xy[f] - np.mean(moves, axis=0)
        else:
            xy[f + 1] = xy[f] + plan_pos[f + 1, :2] - plan_pos[f, :2]
    return np.concatenate([xy, z[:, None]], -1)


_PLANNERS: dict[str, Callable[[dict, np.ndarray, _Body], _Plan]] = {
    "walk": lambda p, t, b: _plan_locomotion("walk", p, t, b),
    "run": lambda p, t, b: _plan_locomotion("run", p, t, b),
    "turn": lambda p, t, b: _plan_locomotion("turn", p, t, b),
    "sidestep": lambda p, t, b: _plan_locomotion("sidestep", p, t, b),
    "jump": _plan_jump,
    "squat": _plan_squat,
    "reach": _plan_reach,
    "wave": _plan_wave,
}


def generate_clip(
    motion_type: str,
    *,
    seed: int,
    duration_s: float = 4.0,
    fps: float = 30.0,
    skeleton: Skeleton | None = None,
    name: str | None = None,
) -> Clip:
    """One procedural clip, deterministic given ``(motion_type, seed)``.

    Args:
      motion_type: one of :data:`MOTION_TYPES`.
      seed: draws the parameters from :data:`PARAMETER_RANGES`.
      duration_s, fps: the clip has ``round(duration_s * fps) + 1`` frames.
      skeleton: the body (default: the built-in mean body).
      name: clip name (default ``"<type>_<seed>"``).

    Returns: a validated :class:`Clip` with ``source = "procedural:<type>:<seed>"``.
    """
    _check_type(motion_type)
    if not (duration_s > 0 and fps > 0):
        raise ValueError(f"duration_s and fps must be positive, got {duration_s}, {fps}")
    skeleton = skeleton if skeleton is not None else mean_skeleton()
    body = _Body.of(skeleton)
    num_frames = max(2, int(round(duration_s * fps)) + 1)
    t = np.arange(num_frames) / fps
    params = _sample_params(motion_type, seed)
    for key in params:  # lengths scale with the body (speeds stay: cadence adapts instead)
        if key.endswith("_m"):
            params[key] *= body.size
    plan = _PLANNERS[motion_type](params, t, body)
    dof, pelvis_rot = _solve_pose(plan, body)
    root_quat = _matrix_to_quat(pelvis_rot)
    plan_pos = np.concatenate([plan.pelvis_xy, plan.pelvis_z[:, None]], -1)
    root_pos = _ground_root(dof, root_quat, plan.feet.contact, plan_pos, skeleton, fps)
    clip = Clip(
        name=name or f"{motion_type}_{seed}",
        fps=float(fps),
        root_pos_m=root_pos,
        root_quat=root_quat,
        dof=dof,
        skeleton=skeleton,
        source=f"procedural:{motion_type}:{seed}",
    )
    return clip.validate()


def _clip_seed(library_seed: int, k: int) -> int:
    # The motion type already enters the parameter stream, so types may share clip seeds.
    return int(library_seed) * 1000 + k


def generate_library(
    num_clips_per_type: int = 2,
    *,
    seed: int = 0,
    motion_types: Sequence[str] = MOTION_TYPES,
    duration_s: float = 4.0,
    fps: float = 30.0,
    skeleton: Skeleton | None = None,
) -> list[Clip]:
    """``num_clips_per_type`` clips of each type, named ``<type>_<k>``.

    Clip ``k`` of a library with ``seed`` uses clip seed ``1000 * seed + k`` (so libraries
    with different seeds share no clip while ``num_clips_per_type <= 1000``).
    """
    for motion_type in motion_types:
        _check_type(motion_type)
    return [
        generate_clip(m, seed=_clip_seed(seed, k), duration_s=duration_s, fps=fps, skeleton=skeleton, name=f"{m}_{k}")
        for m in motion_types
        for k in range(num_clips_per_type)
    ]


def write_library(
    out_dir: str | os.PathLike,
    num_clips_per_type: int = 2,
    *,
    seed: int = 0,
    motion_types: Sequence[str] = MOTION_TYPES,
    duration_s: float = 4.0,
    fps: float = 30.0,
    skeleton: Skeleton | None = None,
) -> list[Path]:
    """Generate the library and save each clip as ``out_dir/<type>_<k>.npz``; returns the paths."""
    clips = generate_library(
        num_clips_per_type, seed=seed, motion_types=motion_types, duration_s=duration_s, fps=fps, skeleton=skeleton
    )
    out = Path(out_dir)
    return [clip.save(out / f"{clip.name}.npz") for clip in clips]
