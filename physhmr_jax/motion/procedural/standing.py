"""Standing in place: the rest posture and idle sway the standing motions share, and the squat."""

from __future__ import annotations

import dataclasses

import numpy as np

from physhmr_jax.humanoid.skeleton import NUM_DOF
from physhmr_jax.motion.procedural.body import LegGeometry, arm_down, set_pair, trunk_and_head
from physhmr_jax.motion.procedural.params import DEG, SquatParams
from physhmr_jax.motion.procedural.plan import (
    PELVIS_TILT_RAD,
    STANCE_REACH_FRACTION,
    Plan,
    heading_xy,
    max_pelvis_height,
    minjerk,
    standing_feet,
)

STANDING_REACH = 0.985  # leg-reach fraction of a standing body (knees nearly straight)
REST_ARM_ABDUCTION_RAD = 8 * DEG  # hanging arms, out from vertical
REST_ELBOW_RAD = 15 * DEG  # elbow flexion of hanging arms
# Idle sway: a slow lateral weight shift, and breathing as a small trunk pitch.
SWAY_M, SWAY_HZ = 0.012, 0.3
BREATH_RAD, BREATH_HZ = 0.01, 0.25


def standing_upper(num_frames: int) -> np.ndarray:
    """[T, 69] with the arms hanging at the sides, elbows slightly bent, all else zero."""
    dof = np.zeros((num_frames, NUM_DOF))
    abd = np.full(num_frames, REST_ARM_ABDUCTION_RAD)
    set_pair(dof, "Shoulder", arm_down(np.zeros(num_frames), abd), arm_down(np.zeros(num_frames), abd))
    elbow = np.tile([0.0, 0.0, -REST_ELBOW_RAD], (num_frames, 1))
    set_pair(dof, "Elbow", elbow, elbow)
    return dof


def idle_sway(t: np.ndarray, heading_rad: float) -> tuple[np.ndarray, np.ndarray]:
    """Slow weight shift (lateral metres) and breathing (trunk pitch), phases seeded by the heading."""
    ph = heading_rad
    return SWAY_M * np.sin(2 * np.pi * SWAY_HZ * t + ph), BREATH_RAD * np.sin(2 * np.pi * BREATH_HZ * t + 2 * ph)


@dataclasses.dataclass(frozen=True)
class SquatShape:
    """Fixed coefficients of the squat, per unit of squat depth (0 standing, 1 at the bottom).

    Attributes:
      hips_back: pelvis travel along the heading per metre of pelvis drop (< 0: back).
      pelvis_tilt_rad: extra anterior pelvic tilt at the bottom.
      head_pitch_gain: head pitch per trunk pitch (the gaze stays forward).
      arm_abduction_rad: extra arm abduction at the bottom.
      elbow_per_raise: elbow flexion per radian of arm raise.
      hip_twist_per_toe_out: hip twist per toe-out (the knees track over the toes).
    """

    hips_back: float = -0.45
    pelvis_tilt_rad: float = 12 * DEG
    head_pitch_gain: float = -0.7
    arm_abduction_rad: float = 4 * DEG
    elbow_per_raise: float = 0.2
    hip_twist_per_toe_out: float = 0.8


SQUAT = SquatShape()


def plan_squat(p: SquatParams, t: np.ndarray, legs: LegGeometry, rng: np.random.Generator) -> Plan:
    """Body-weight squats: hips back and down, trunk leans, arms rise forward to balance."""
    del rng  # squats draw nothing beyond their parameters
    c = SQUAT
    n = t.shape[0]
    heading = p.heading_rad
    cycle_s = p.rest_s + p.down_s + p.hold_s + p.up_s
    lt = np.mod(t, cycle_s)
    down = minjerk((lt - p.rest_s) / p.down_s)
    up = minjerk((lt - p.rest_s - p.down_s - p.hold_s) / p.up_s)
    depth = down * (1 - up)  # 0 standing, 1 at the bottom
    sway, breath = idle_sway(t, p.heading_rad)
    stand_h = legs.standing_height(STANDING_REACH)
    z = stand_h - p.depth_m * depth
    pelvis_xy = heading_xy(heading, c.hips_back * p.depth_m * depth, sway * (1 - depth))
    tilt = c.pelvis_tilt_rad * depth  # anterior pelvic tilt
    ypr = np.stack([np.full(n, heading), PELVIS_TILT_RAD + tilt, np.zeros(n)], -1)
    feet = standing_feet(n, heading, p.half_width_m, p.toe_out_rad, legs)
    z = np.minimum(z, max_pelvis_height(pelvis_xy, ypr, feet, legs, STANCE_REACH_FRACTION))
    dof = standing_upper(n)
    lean = p.trunk_lean_rad * depth
    trunk = np.stack([np.zeros(n), lean - tilt + breath, np.zeros(n)], -1)
    head = np.stack([np.zeros(n), c.head_pitch_gain * (lean + PELVIS_TILT_RAD), np.zeros(n)], -1)
    trunk_and_head(dof, trunk, head)
    raise_ = p.arm_raise_rad * depth
    abd = np.full(n, REST_ARM_ABDUCTION_RAD) + c.arm_abduction_rad * depth
    set_pair(dof, "Shoulder", arm_down(raise_, abd), arm_down(raise_, abd))
    elbow = np.stack([np.zeros(n), np.zeros(n), -(REST_ELBOW_RAD + c.elbow_per_raise * raise_)], -1)
    set_pair(dof, "Elbow", elbow, elbow)
    twist = np.full((2, n), c.hip_twist_per_toe_out * p.toe_out_rad)
    return Plan(pelvis_xy, z, ypr, feet, twist, dof)
