"""Arm gestures while standing: reaching to seeded targets, and waving one hand."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from physhmr_jax.geometry.rotations_np import axis_rotation, euler_xyz_to_matrix, matrix_to_euler_xyz, rotation_between
from physhmr_jax.motion.procedural.body import (
    SPINE_SHARE,
    LegGeometry,
    arm_down,
    get_angles,
    set_pair,
    trunk_and_head,
)
from physhmr_jax.motion.procedural.params import DEG, PARAMETER_RANGES, ReachParams, WaveParams
from physhmr_jax.motion.procedural.plan import (
    PELVIS_TILT_RAD,
    STANCE_REACH_FRACTION,
    Plan,
    heading_xy,
    max_pelvis_height,
    minjerk,
    pelvis_rotation,
    smoothstep,
    standing_feet,
    unit,
)
from physhmr_jax.motion.procedural.standing import (
    REST_ARM_ABDUCTION_RAD,
    REST_ELBOW_RAD,
    STANDING_REACH,
    idle_sway,
    standing_upper,
)

_ARM_REST_DIR = np.array([0.0, 0.0, -1.0])  # a hanging arm, heading frame
_ARM_T_POSE_DIR = np.array([0.0, 1.0, 0.0])  # the left arm at zero shoulder angles, chest frame


@dataclasses.dataclass(frozen=True)
class ReachShape:
    """Fixed coefficients of the reach (``amount``: 0 at rest, 1 at the target).

    Attributes:
      first_start_s: the first reach starts at a time drawn from this range.
      lean_per_low: forward lean per radian of target below the horizontal.
      lean_per_amount: forward lean at full reach, any target.
      pelvis_back_per_lean, pelvis_pitch_per_lean: pelvis shift back (metres) and pitch
        per radian of lean.
      pelvis_drop_per_low: pelvis drop (metres) per radian of target below the horizontal.
      trunk_pitch_per_lean, head_pitch_per_lean: trunk and head pitch per radian of lean.
      body_yaw_share: the body turns this fraction of the target azimuth towards it ...
      pelvis_yaw_share, trunk_yaw_share, head_yaw_share: ... split over pelvis, trunk and head.
      arm_clearance: sideways bias of the hanging arm direction, so it clears the body.
      elbow_release: fraction of the rest elbow flexion straightened at full reach.
      hip_twist_per_toe_out: hip twist per toe-out.
    """

    first_start_s: tuple[float, float] = (0.1, 0.4)
    lean_per_low: float = 0.6
    lean_per_amount: float = 0.1
    pelvis_back_per_lean: float = -0.15
    pelvis_pitch_per_lean: float = 0.3
    pelvis_drop_per_low: float = 0.1
    trunk_pitch_per_lean: float = 0.7
    head_pitch_per_lean: float = -0.3
    body_yaw_share: float = 0.35
    pelvis_yaw_share: float = 0.3
    trunk_yaw_share: float = 0.7
    head_yaw_share: float = 0.3
    arm_clearance: float = 0.15
    elbow_release: float = 0.6
    hip_twist_per_toe_out: float = 0.5


REACH = ReachShape()


class _Reach(NamedTuple):
    """One reach of a clip, drawn from the clip's random stream."""

    azimuth_rad: float
    elevation_rad: float
    out_s: float
    hold_s: float
    back_s: float
    side: int  # 0 left, 1 right
    start_s: float


def _draw_reaches(rng: np.random.Generator, end_s: float) -> list[_Reach]:
    """A sequence of reaches until the clip is full; each draws its own side and target."""
    ranges = PARAMETER_RANGES["reach"]
    reaches = []
    start = float(rng.uniform(*REACH.first_start_s))
    while start < end_s:
        values = [float(rng.uniform(*ranges[k])) for k in ("azimuth_rad", "elevation_rad", "out_s", "hold_s", "back_s")]
        r = _Reach(*values, side=int(rng.integers(2)), start_s=start)
        reaches.append(r)
        start += r.out_s + r.hold_s + r.back_s + float(rng.uniform(*ranges["rest_s"]))
    return reaches


def _chest_rotation(dof: np.ndarray, pelvis_ypr: np.ndarray) -> np.ndarray:
    """[T, 3, 3] world orientation of the chest (and thorax, whose hinges stay at zero)."""
    m = pelvis_rotation(pelvis_ypr)
    for body in SPINE_SHARE:
        m = m @ euler_xyz_to_matrix(get_angles(dof, body))
    return m


def plan_reach(p: ReachParams, t: np.ndarray, legs: LegGeometry, rng: np.random.Generator) -> Plan:
    """Reach out with one arm to seeded targets (forward, up, aside, down), hold, return."""
    c = REACH
    n = t.shape[0]
    heading = p.heading_rad
    amount = np.zeros((2, n))  # 0 rest .. 1 reached, per arm
    target = np.tile(_ARM_REST_DIR, (2, n, 1))  # arm direction in the heading frame
    low = np.zeros(n)  # how far below the horizontal the active target lies (drives the lean)
    yaw_to = np.zeros(n)
    for r in _draw_reaches(rng, t[-1]):
        lt = t - r.start_s
        a = minjerk(lt / r.out_s) * (1 - minjerk((lt - r.out_s - r.hold_s) / r.back_s))
        active = (lt >= 0) & (lt < r.out_s + r.hold_s + r.back_s)
        side_sign = 1.0 if r.side == 0 else -1.0
        az, el = r.azimuth_rad * side_sign, r.elevation_rad
        d = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
        amount[r.side] = np.where(active, a, amount[r.side])
        target[r.side, active] = d
        low = np.where(active, a * max(0.0, -el), low)
        yaw_to = np.where(active, a * c.body_yaw_share * az, yaw_to)

    sway, breath = idle_sway(t, p.heading_rad)
    lean = c.lean_per_low * low + c.lean_per_amount * np.max(amount, axis=0)
    stand_h = legs.standing_height(STANDING_REACH)
    pelvis_xy = heading_xy(heading, c.pelvis_back_per_lean * lean, sway)
    ypr = np.stack(
        [
            np.full(n, heading) + c.pelvis_yaw_share * yaw_to,
            np.full(n, PELVIS_TILT_RAD) + c.pelvis_pitch_per_lean * lean,
            np.zeros(n),
        ],
        -1,
    )
    feet = standing_feet(n, heading, p.half_width_m, p.toe_out_rad, legs)
    z_max = max_pelvis_height(pelvis_xy, ypr, feet, legs, STANCE_REACH_FRACTION)
    z = np.minimum(stand_h - c.pelvis_drop_per_low * low, z_max)

    dof = standing_upper(n)
    trunk = np.stack([np.zeros(n), c.trunk_pitch_per_lean * lean + breath, c.trunk_yaw_share * yaw_to], -1)
    head = np.stack([np.zeros(n), c.head_pitch_per_lean * lean, c.head_yaw_share * yaw_to], -1)
    trunk_and_head(dof, trunk, head)
    shoulders = _reaching_shoulders(_chest_rotation(dof, ypr), axis_rotation(2, np.full(n, heading)), target, amount)
    set_pair(dof, "Shoulder", shoulders[0], shoulders[1])
    zeros = np.zeros(n)
    elbows = [np.stack([zeros, zeros, -REST_ELBOW_RAD * (1 - c.elbow_release * amount[s])], -1) for s in range(2)]
    set_pair(dof, "Elbow", elbows[0], elbows[1])
    twist = np.full((2, n), c.hip_twist_per_toe_out * p.toe_out_rad)
    return Plan(pelvis_xy, z, ypr, feet, twist, dof)


def _reaching_shoulders(chest, heading_rot, target, amount) -> list[np.ndarray]:
    """Left-side shoulder Euler angles [T, 3] per arm: the arm direction slerps from
    hanging down to its target (heading frame), expressed in the chest frame."""
    shoulders = []
    for s in range(2):
        tgt = target[s]
        cos = np.clip(tgt @ _ARM_REST_DIR, -1.0, 1.0)
        ang = np.arccos(cos)
        frac = amount[s] * ang
        ortho = unit(tgt - cos[:, None] * _ARM_REST_DIR + 1e-12)
        d_heading = np.cos(frac)[:, None] * _ARM_REST_DIR + np.sin(frac)[:, None] * ortho
        d_chest = np.einsum("tji,tj->ti", chest, np.einsum("tij,tj->ti", heading_rot, d_heading))
        if s == 1:
            d_chest = d_chest * np.array([1.0, -1.0, 1.0])  # solve the right arm as a mirrored left arm
        # Rest direction with a small abduction so the arm clears the body.
        d_chest = unit(d_chest + np.array([0.0, REACH.arm_clearance, 0.0]) * (1 - amount[s])[:, None])
        shoulders.append(matrix_to_euler_xyz(rotation_between(_ARM_T_POSE_DIR, d_chest)))
    return shoulders


@dataclasses.dataclass(frozen=True)
class WaveShape:
    """Fixed coefficients of the wave (``up``: 0 arm down, 1 raised).

    Attributes:
      min_wave_s: the shortest waving time, between raising and lowering the arm.
      end_margin_s: the arm is down this long before the clip ends (when the clip allows).
      osc_ramp_s: the oscillation eases in over this long.
      weight_shift_m: pelvis shift towards the other foot with the arm up.
      trunk_roll_rad, trunk_yaw_rad, head_yaw_rad: trunk lean away from, trunk turn and
        head turn towards the waving arm with the arm up.
      shoulder_y_rad: upper-arm twist so the elbow bends upwards.
      elbow_raise_deg: extra elbow flexion with the arm up, in degrees.
      wrist_per_osc: wrist flexion per radian of forearm oscillation.
      hip_twist_per_toe_out: hip twist per toe-out.
    """

    min_wave_s: float = 1.0
    end_margin_s: float = 0.2
    osc_ramp_s: float = 0.3
    weight_shift_m: float = 0.02
    trunk_roll_rad: float = 3 * DEG
    trunk_yaw_rad: float = 5 * DEG
    head_yaw_rad: float = 5 * DEG
    shoulder_y_rad: float = -80 * DEG
    elbow_raise_deg: float = 75.0
    wrist_per_osc: float = -0.5
    hip_twist_per_toe_out: float = 0.5


WAVE = WaveShape()


def plan_wave(p: WaveParams, t: np.ndarray, legs: LegGeometry, rng: np.random.Generator) -> Plan:
    """Raise one arm (upper arm out to the side, forearm up) and wave the forearm."""
    del rng  # waves draw nothing beyond their parameters
    c = WAVE
    n = t.shape[0]
    heading = p.heading_rad
    side = 0 if p.sign > 0 else 1
    wave_s = max(c.min_wave_s, t[-1] - p.start_s - 2 * p.raise_s - c.end_margin_s)
    lt = t - p.start_s
    up = minjerk(lt / p.raise_s) * (1 - minjerk((lt - p.raise_s - wave_s) / p.raise_s))
    waving = np.clip(lt - p.raise_s, 0.0, wave_s)
    osc = p.amplitude_rad * np.sin(2 * np.pi * p.frequency_hz * waving) * smoothstep(waving / c.osc_ramp_s) * up

    sway, breath = idle_sway(t, p.heading_rad)
    stand_h = legs.standing_height(STANDING_REACH)
    shift = c.weight_shift_m * up * (1.0 if side == 1 else -1.0)  # weight towards the other foot
    pelvis_xy = heading_xy(heading, np.zeros(n), sway + shift)
    ypr = np.stack([np.full(n, heading), np.full(n, PELVIS_TILT_RAD), np.zeros(n)], -1)
    feet = standing_feet(n, heading, p.half_width_m, p.toe_out_rad, legs)
    z = np.minimum(np.full(n, stand_h), max_pelvis_height(pelvis_xy, ypr, feet, legs, STANCE_REACH_FRACTION))

    dof = standing_upper(n)
    side_sign = 1.0 if side == 0 else -1.0
    trunk = np.stack(
        [
            np.full(n, 0.0) - side_sign * c.trunk_roll_rad * up,
            np.full(n, 0.0) + breath,
            side_sign * c.trunk_yaw_rad * up,
        ],
        -1,
    )
    head = np.stack([np.zeros(n), np.zeros(n), -side_sign * c.head_yaw_rad * up], -1)
    trunk_and_head(dof, trunk, head)
    # Wave pose (left-side angles): upper arm raised sideways and twisted so the elbow bends
    # upwards; the forearm swings side to side by the elbow flexion.
    rest_shoulder = arm_down(np.zeros(n), np.full(n, REST_ARM_ABDUCTION_RAD))
    wave_shoulder = np.tile([p.elevation_rad, c.shoulder_y_rad, 0.0], (n, 1))
    shoulder = rest_shoulder + up[:, None] * (wave_shoulder - rest_shoulder)
    elbow = np.stack([np.zeros(n), np.zeros(n), -(REST_ELBOW_RAD + up * c.elbow_raise_deg * DEG + osc)], -1)
    wrist = np.stack([np.zeros(n), np.zeros(n), c.wrist_per_osc * osc], -1)
    rest_arm = get_angles(dof, "L_Shoulder").copy()
    rest_elbow = get_angles(dof, "L_Elbow").copy()
    if side == 0:
        set_pair(dof, "Shoulder", shoulder, rest_arm)
        set_pair(dof, "Elbow", elbow, rest_elbow)
        set_pair(dof, "Wrist", wrist, np.zeros((n, 3)))
    else:
        set_pair(dof, "Shoulder", rest_arm, shoulder)
        set_pair(dof, "Elbow", rest_elbow, elbow)
        set_pair(dof, "Wrist", np.zeros((n, 3)), wrist)
    twist = np.full((2, n), c.hip_twist_per_toe_out * p.toe_out_rad)
    return Plan(pelvis_xy, z, ypr, feet, twist, dof)
