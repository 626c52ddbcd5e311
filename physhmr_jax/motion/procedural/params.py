"""Seeded parameters of the procedural motion types: typed records, human ranges, sampling.

Each clip's parameters are drawn uniformly from the ranges in :data:`PARAMETER_RANGES`, in
the table's order, by a generator seeded with ``(seed, crc32(motion_type))``; then a coin
flip gives ``sign``. Lengths (fields ending in ``_m``) are then scaled with the body's leg
length; speeds are not (the cadence adapts instead).
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np

MOTION_TYPES: tuple[str, ...] = ("walk", "run", "turn", "sidestep", "jump", "squat", "reach", "wave")
GAIT_TYPES: tuple[str, ...] = ("walk", "run", "turn", "sidestep")

DEG = np.pi / 180.0  # one degree in radians (angles below are written as multiples of it)

# Seeded parameters of each motion type, (low, high), drawn uniformly. Angles in radians.
PARAMETER_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "walk": {
        "speed_mps": (0.8, 1.6),
        "cadence_jitter_hz": (-0.05, 0.05),  # stride frequency = 0.72 + 0.2 * speed + jitter
        "duty": (0.58, 0.63),  # stance fraction of a stride
        "half_width_m": (0.05, 0.08),
        "clearance_m": (0.05, 0.08),
        "toe_out_rad": (3 * DEG, 10 * DEG),
        "heel_strike_rad": (-18 * DEG, -8 * DEG),  # foot pitch at touchdown, toes up
        "toe_off_rad": (25 * DEG, 38 * DEG),  # foot pitch at lift-off, heel up
        "leg_reach": (0.97, 0.985),  # fraction of full leg reach in stance (knee bend)
        "sway_m": (0.015, 0.03),
        "pelvis_yaw_rad": (3 * DEG, 6 * DEG),
        "pelvis_roll_rad": (2 * DEG, 4 * DEG),
        "trunk_lean_rad": (2 * DEG, 6 * DEG),
        "arm_swing_rad": (12 * DEG, 25 * DEG),
        "elbow_rad": (10 * DEG, 25 * DEG),
        "heading_rad": (-np.pi, np.pi),
        "phase": (0.0, 1.0),
    },
    "run": {
        "speed_mps": (2.5, 3.5),
        "cadence_jitter_hz": (-0.05, 0.05),  # stride frequency = 1.25 + 0.06 * speed + jitter
        "duty": (0.32, 0.38),
        "half_width_m": (0.03, 0.05),
        "clearance_m": (0.14, 0.22),
        "toe_out_rad": (2 * DEG, 8 * DEG),
        "heel_strike_rad": (-8 * DEG, -2 * DEG),
        "toe_off_rad": (30 * DEG, 42 * DEG),
        "pelvis_yaw_rad": (4 * DEG, 8 * DEG),
        "pelvis_roll_rad": (2 * DEG, 4 * DEG),
        "trunk_lean_rad": (6 * DEG, 12 * DEG),
        "arm_swing_rad": (25 * DEG, 40 * DEG),
        "elbow_rad": (75 * DEG, 95 * DEG),
        "heading_rad": (-np.pi, np.pi),
        "phase": (0.0, 1.0),
    },
    "turn": {
        "speed_mps": (0.7, 1.3),
        "yaw_rate_rad_s": (25 * DEG, 60 * DEG),  # magnitude; the sign is a coin flip
        "turn_start_s": (0.0, 1.0),
        "cadence_jitter_hz": (-0.05, 0.05),
        "duty": (0.6, 0.65),
        "half_width_m": (0.06, 0.09),
        "clearance_m": (0.05, 0.08),
        "toe_out_rad": (3 * DEG, 10 * DEG),
        "heel_strike_rad": (-15 * DEG, -6 * DEG),
        "toe_off_rad": (22 * DEG, 32 * DEG),
        "leg_reach": (0.97, 0.985),
        "sway_m": (0.015, 0.03),
        "pelvis_yaw_rad": (3 * DEG, 6 * DEG),
        "pelvis_roll_rad": (2 * DEG, 4 * DEG),
        "trunk_lean_rad": (2 * DEG, 6 * DEG),
        "arm_swing_rad": (10 * DEG, 22 * DEG),
        "elbow_rad": (10 * DEG, 25 * DEG),
        "heading_rad": (-np.pi, np.pi),
        "phase": (0.0, 1.0),
    },
    "sidestep": {
        "speed_mps": (0.25, 0.5),  # lateral
        "stride_hz": (0.8, 1.1),
        "duty": (0.62, 0.7),
        "half_width_m": (0.1, 0.14),  # at mid-stance; the feet come no closer than 0.16 m
        "clearance_m": (0.04, 0.07),
        "toe_out_rad": (5 * DEG, 12 * DEG),
        "heel_strike_rad": (-4 * DEG, 0.0),
        "toe_off_rad": (4 * DEG, 12 * DEG),
        "leg_reach": (0.96, 0.98),
        "sway_m": (0.0, 0.01),
        "pelvis_yaw_rad": (0.0, 2 * DEG),
        "pelvis_roll_rad": (1 * DEG, 3 * DEG),
        "trunk_lean_rad": (2 * DEG, 6 * DEG),
        "arm_swing_rad": (3 * DEG, 10 * DEG),
        "elbow_rad": (15 * DEG, 35 * DEG),
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
        "arm_back_rad": (30 * DEG, 50 * DEG),
        "arm_up_rad": (70 * DEG, 110 * DEG),
        "half_width_m": (0.1, 0.14),
        "toe_out_rad": (5 * DEG, 15 * DEG),
        "heading_rad": (-np.pi, np.pi),
    },
    "squat": {
        "depth_m": (0.2, 0.3),  # pelvis drop
        "down_s": (0.8, 1.3),
        "hold_s": (0.1, 0.5),
        "up_s": (0.8, 1.2),
        "rest_s": (0.2, 0.6),
        "arm_raise_rad": (40 * DEG, 85 * DEG),
        "trunk_lean_rad": (30 * DEG, 42 * DEG),
        "half_width_m": (0.13, 0.18),
        "toe_out_rad": (10 * DEG, 22 * DEG),
        "heading_rad": (-np.pi, np.pi),
    },
    "reach": {
        "azimuth_rad": (-20 * DEG, 70 * DEG),  # from forward towards the reaching side
        "elevation_rad": (-40 * DEG, 70 * DEG),
        "out_s": (0.6, 1.0),
        "hold_s": (0.2, 0.6),
        "back_s": (0.6, 1.0),
        "rest_s": (0.1, 0.4),
        "half_width_m": (0.09, 0.13),
        "toe_out_rad": (5 * DEG, 12 * DEG),
        "heading_rad": (-np.pi, np.pi),
    },
    "wave": {
        "frequency_hz": (1.5, 2.5),
        "amplitude_rad": (18 * DEG, 35 * DEG),
        "elevation_rad": (5 * DEG, 35 * DEG),  # upper arm above horizontal
        "raise_s": (0.5, 0.8),
        "start_s": (0.1, 0.6),
        "half_width_m": (0.09, 0.13),
        "toe_out_rad": (5 * DEG, 12 * DEG),
        "heading_rad": (-np.pi, np.pi),
    },
}


@dataclasses.dataclass(frozen=True)
class MotionParams:
    """What every motion type draws.

    Attributes:
      heading_rad: world yaw the body faces at t = 0 (walks along, for the gaits).
      half_width_m: ankle distance from the body's mid-line in stance (metres).
      toe_out_rad: outward yaw of each foot from the heading.
      sign: +1 or -1, a coin flip: the turn direction (turn), the step direction
        (sidestep), the waving arm (wave: +1 left); unused by the other types.
    """

    heading_rad: float
    half_width_m: float
    toe_out_rad: float
    sign: float


@dataclasses.dataclass(frozen=True)
class GaitParams(MotionParams):
    """Walk, run, turn and sidestep (a type draws the fields its range table lists).

    Attributes:
      speed_mps: travel speed along the path (sideways for sidestep).
      duty: stance fraction of a stride.
      clearance_m: peak lift of the swing foot.
      heel_strike_rad: foot pitch at touchdown (< 0: toes up).
      toe_off_rad: foot pitch at lift-off (> 0: heel up).
      pelvis_yaw_rad, pelvis_roll_rad: amplitudes of the pelvis yaw and roll per stride.
      trunk_lean_rad: forward lean of the trunk.
      arm_swing_rad: fore-aft amplitude of the arm swing (sidestep: of the abduction).
      elbow_rad: elbow flexion with the arm at the side.
      phase: stride phase at t = 0, in strides.
      cadence_jitter_hz: added to the stride frequency of the type's cadence law.
      stride_hz: stride frequency, drawn where the type has no cadence law (sidestep).
      leg_reach: fraction of full leg reach in stance (knee bend), without a flight phase.
      sway_m: lateral pelvis sway over the stance foot.
      yaw_rate_rad_s: turn rate magnitude once the turn has ramped up (turn).
      turn_start_s: when the turn starts ramping up (turn).
    """

    speed_mps: float
    duty: float
    clearance_m: float
    heel_strike_rad: float
    toe_off_rad: float
    pelvis_yaw_rad: float
    pelvis_roll_rad: float
    trunk_lean_rad: float
    arm_swing_rad: float
    elbow_rad: float
    phase: float
    cadence_jitter_hz: float = 0.0
    stride_hz: float = 0.0
    leg_reach: float = 0.985
    sway_m: float = 0.0
    yaw_rate_rad_s: float = 0.0
    turn_start_s: float = 0.0


@dataclasses.dataclass(frozen=True)
class JumpParams(MotionParams):
    """Countermovement jumps.

    Attributes:
      height_m: apex rise of the pelvis in flight.
      forward_m: forward travel in flight.
      crouch_m, crouch_s: pelvis drop and duration of the countermovement.
      push_s: duration of the push-off.
      land_crouch_m: pelvis drop when absorbing the landing.
      tuck_m: extra lift of the feet at the apex.
      rest_s: standing still before each jump.
      arm_back_rad, arm_up_rad: arm swing back in the crouch, forward-up at take-off.
    """

    height_m: float
    forward_m: float
    crouch_m: float
    crouch_s: float
    push_s: float
    land_crouch_m: float
    tuck_m: float
    rest_s: float
    arm_back_rad: float
    arm_up_rad: float


@dataclasses.dataclass(frozen=True)
class SquatParams(MotionParams):
    """Body-weight squats.

    Attributes:
      depth_m: pelvis drop at the bottom.
      down_s, hold_s, up_s, rest_s: the phases of one squat.
      arm_raise_rad: forward arm raise at the bottom.
      trunk_lean_rad: forward trunk lean at the bottom.
    """

    depth_m: float
    down_s: float
    hold_s: float
    up_s: float
    rest_s: float
    arm_raise_rad: float
    trunk_lean_rad: float


@dataclasses.dataclass(frozen=True)
class ReachParams(MotionParams):
    """Reaches with one arm.

    The clip holds several reaches; each draws its own side, azimuth, elevation and
    timings from the ranges of these fields, from the clip's random stream. The clip-level
    values are drawn first (the stream depends on them) and not used otherwise.

    Attributes:
      azimuth_rad: target direction from forward towards the reaching side.
      elevation_rad: target direction above the horizontal.
      out_s, hold_s, back_s, rest_s: the phases of one reach.
    """

    azimuth_rad: float
    elevation_rad: float
    out_s: float
    hold_s: float
    back_s: float
    rest_s: float


@dataclasses.dataclass(frozen=True)
class WaveParams(MotionParams):
    """Waving one hand (``sign`` +1: the left one).

    Attributes:
      frequency_hz: forearm oscillation frequency.
      amplitude_rad: forearm oscillation amplitude (elbow flexion).
      elevation_rad: upper arm above the horizontal.
      raise_s: time to raise (and lower) the arm.
      start_s: when the arm starts rising.
    """

    frequency_hz: float
    amplitude_rad: float
    elevation_rad: float
    raise_s: float
    start_s: float


PARAMS_TYPES: dict[str, type[MotionParams]] = {
    **dict.fromkeys(GAIT_TYPES, GaitParams),
    "jump": JumpParams,
    "squat": SquatParams,
    "reach": ReachParams,
    "wave": WaveParams,
}


def check_type(motion_type: str) -> None:
    if motion_type not in MOTION_TYPES:
        raise ValueError(f"unknown motion type {motion_type!r}; expected one of {MOTION_TYPES}")


def parameter_ranges(motion_type: str) -> dict[str, tuple[float, float]]:
    """The seeded parameter ranges of ``motion_type`` (a copy)."""
    check_type(motion_type)
    return dict(PARAMETER_RANGES[motion_type])


def sample_params(motion_type: str, seed: int, length_scale: float) -> tuple[MotionParams, np.random.Generator]:
    """The clip's parameters, lengths times ``length_scale``, and its random stream.

    The stream continues after the parameters: a planner may draw more from it (reach).
    """
    # crc32 keeps the stream stable across Python runs (str hash is salted).
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(motion_type.encode())])
    values = {name: float(rng.uniform(lo, hi)) for name, (lo, hi) in PARAMETER_RANGES[motion_type].items()}
    values["sign"] = float(rng.choice([-1.0, 1.0]))
    for name in values:
        if name.endswith("_m"):
            values[name] *= length_scale
    return PARAMS_TYPES[motion_type](**values), rng
