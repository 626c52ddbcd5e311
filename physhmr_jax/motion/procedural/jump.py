"""Countermovement jumps: stand, crouch, push, ballistic flight, land, absorb, stand.

The feet stay flat, on the floor and in the air. The humanoid's toes do not bend (the planner
keeps the toe hinge at 0), so a heel raised in contact leaves it standing on the toe tips' edge,
which carries it only with the centre of mass above that edge; a person's centre of mass sits over
the middle of the foot. With the heels rising from the start of the push the floor's force had
to act 0.18-0.21 m behind the toe tips for five frames before take-off (clip ``jump_0`` of the
library, ``motion/dynamics.py``'s zero-moment point), and the body, pushed at the tips, left
backwards under PD on the reference; landing on the toe tips put it outside for a frame or two.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from physhmr_jax.motion.procedural.body import LegGeometry, arm_down, set_pair, trunk_and_head
from physhmr_jax.motion.procedural.params import DEG, JumpParams
from physhmr_jax.motion.procedural.plan import (
    GRAVITY_MPS2,
    PELVIS_TILT_RAD,
    STANCE_REACH_FRACTION,
    FeetPlan,
    Plan,
    heading_xy,
    max_pelvis_height,
    minjerk,
    smoothstep,
    standing_feet,
)
from physhmr_jax.motion.procedural.standing import REST_ELBOW_RAD, STANDING_REACH, standing_upper


@dataclasses.dataclass(frozen=True)
class JumpShape:
    """Fixed coefficients of the jump.

    Attributes:
      land_s, recover_s: durations of the landing (absorbing) and of the return to standing.
      crouch_trunk_rad, land_trunk_rad: peak trunk pitch in the crouch and in the landing.
      pelvis_pitch_share: of the trunk pitch, taken by the pelvis.
      takeoff_from: push fraction after which a frame counts as take-off.
      takeoff_margin_m: take-off pelvis height below the stance legs' reach.
      takeoff_rise_m: take-off pelvis height above standing without take-off frames.
      takeoff_max_rise_m: the highest take-off pelvis height above standing.
      head_pitch_gain: head pitch per trunk pitch.
      arm_flight_drop: the arms come down by this fraction of ``arm_up_rad`` in flight.
      arm_land_share, arm_land_drop: arm swing at touchdown (fraction of ``arm_up_rad``),
        and its fractional drop over the landing.
      arm_recover_share: arm swing at the start of the recovery (fraction of ``arm_up_rad``).
      arm_abduction_rad: the arms' angle out from vertical.
      elbow_per_swing: elbow flexion per radian of arm swing.
    """

    land_s: float = 0.25
    recover_s: float = 0.5
    crouch_trunk_rad: float = 25 * DEG
    land_trunk_rad: float = 15 * DEG
    pelvis_pitch_share: float = 0.4
    takeoff_from: float = 0.9
    takeoff_margin_m: float = 0.005
    takeoff_rise_m: float = 0.05
    takeoff_max_rise_m: float = 0.08
    head_pitch_gain: float = -0.6
    arm_flight_drop: float = 0.5
    arm_land_share: float = 0.5
    arm_land_drop: float = 0.3
    arm_recover_share: float = 0.35
    arm_abduction_rad: float = 10 * DEG
    elbow_per_swing: float = 0.2


JUMP = JumpShape()


class _Timeline:
    """The phases of a jump cycle, repeated: ``progress(phase)`` in [0, 1], ``inside(phase)`` bool [T]."""

    def __init__(self, t: np.ndarray, phases: list[tuple[str, float]]):
        self.cycle_s = sum(d for _, d in phases)
        self.local_t = np.mod(t, self.cycle_s)
        self.index = np.floor(t / self.cycle_s)  # which jump
        starts = np.cumsum([0.0] + [d for _, d in phases])
        self.bounds = {name: (starts[i], starts[i + 1]) for i, (name, _) in enumerate(phases)}

    def progress(self, name: str) -> np.ndarray:
        a, b = self.bounds[name]
        return np.clip((self.local_t - a) / (b - a), 0.0, 1.0)

    def inside(self, name: str) -> np.ndarray:
        a, b = self.bounds[name]
        return (self.local_t >= a) & (self.local_t < b)


def plan_jump(p: JumpParams, t: np.ndarray, legs: LegGeometry, rng: np.random.Generator) -> Plan:
    """Countermovement jumps, forward by ``forward_m`` each, repeated over the clip."""
    del rng  # jumps draw nothing beyond their parameters
    c = JUMP
    n = t.shape[0]
    heading = p.heading_rad
    flight_s = np.sqrt(8 * p.height_m / GRAVITY_MPS2)  # up and down from an apex ``height_m`` higher
    tl = _Timeline(
        t,
        [("rest", p.rest_s), ("crouch", p.crouch_s), ("push", p.push_s), ("flight", flight_s),
         ("land", c.land_s), ("recover", c.recover_s)],
    )  # fmt: skip

    # Forward travel (heading frame): velocity ramps up in the push, is constant in flight and
    # ramps down in landing, so feet move from behind the pelvis to in front of it.
    v_f = p.forward_m / flight_s
    x_push = 0.5 * v_f * p.push_s
    x_land = 0.5 * v_f * c.land_s
    x_local = (
        x_push * tl.progress("push") ** 2
        + p.forward_m * tl.progress("flight")
        + x_land * (1 - (1 - tl.progress("land")) ** 2)
    )
    jump_x = x_push + p.forward_m + x_land
    x_pelvis = tl.index * jump_x + x_local
    feet = _jump_feet(p, tl, jump_x, legs)

    # Pelvis height: stand -> crouch -> extend to take-off -> ballistic -> absorb -> stand.
    stand_h = legs.standing_height(STANDING_REACH)
    pelvis_xy = heading_xy(heading, x_pelvis, 0.0)
    trunk_pitch = c.crouch_trunk_rad * np.sin(np.pi * tl.progress("crouch")) ** 0.5 * (1 - tl.progress("push"))
    trunk_pitch = np.where(tl.inside("crouch") | tl.inside("push"), trunk_pitch, 0.0)
    trunk_pitch += np.where(
        tl.inside("land") | tl.inside("recover"),
        c.land_trunk_rad * np.sin(np.pi * 0.5 * (tl.progress("land") + tl.progress("recover"))),
        0.0,
    )
    ypr = np.stack([np.full(n, heading), c.pelvis_pitch_share * trunk_pitch + PELVIS_TILT_RAD, np.zeros(n)], -1)
    h_max = max_pelvis_height(pelvis_xy, ypr, feet, legs, STANCE_REACH_FRACTION)
    z, h_to = _jump_height(p, tl, flight_s, stand_h, h_max)
    # Feet in flight: follow the pelvis rise, plus a tuck.
    feet.lift_m[:] = np.where(tl.inside("flight"), z - h_to + p.tuck_m * np.sin(np.pi * tl.progress("flight")), 0.0)
    z = np.minimum(z, max_pelvis_height(pelvis_xy, ypr, feet, legs, STANCE_REACH_FRACTION))

    dof = standing_upper(n)
    trunk = np.stack([np.zeros(n), trunk_pitch - ypr[:, 1] + PELVIS_TILT_RAD, np.zeros(n)], -1)
    head = np.stack([np.zeros(n), c.head_pitch_gain * trunk_pitch, np.zeros(n)], -1)
    trunk_and_head(dof, trunk, head)
    _jump_arms(dof, p, tl)
    twist = np.full((2, n), p.toe_out_rad)
    return Plan(pelvis_xy, z, ypr, feet, twist, dof)


def _jump_feet(p: JumpParams, tl: _Timeline, jump_x: float, legs: LegGeometry) -> FeetPlan:
    """Standing feet, flat throughout (the module's docstring says why), that move one jump
    length per flight; no contact in flight (lift is set later, from the pelvis height)."""
    feet = standing_feet(tl.local_t.shape[0], p.heading_rad, p.half_width_m, p.toe_out_rad, legs)
    feet_x = tl.index * jump_x + jump_x * minjerk(tl.progress("flight"))
    feet.base_xy += heading_xy(p.heading_rad, feet_x, 0.0)[None]
    feet.contact[:] = ~tl.inside("flight")
    return feet


def _jump_height(
    p: JumpParams, tl: _Timeline, flight_s: float, stand_h: float, h_max: np.ndarray
) -> tuple[np.ndarray, float]:
    """Pelvis height [T] and the take-off height; ``h_max`` [T] bounds the take-off (legs
    nearly straight, the feet flat)."""
    c = JUMP
    takeoff_frames = tl.inside("push") & (tl.progress("push") > c.takeoff_from)
    if takeoff_frames.any():
        h_to = float(np.min(h_max[takeoff_frames])) - c.takeoff_margin_m
    else:
        h_to = stand_h + c.takeoff_rise_m
    h_to = min(h_to, stand_h + c.takeoff_max_rise_m)
    tau = tl.progress("flight") * flight_s
    vz0 = GRAVITY_MPS2 * flight_s / 2
    crouch = p.crouch_m
    z = np.full(tl.local_t.shape[0], stand_h)
    z = np.where(tl.inside("crouch"), stand_h - crouch * minjerk(tl.progress("crouch")), z)
    # Push and landing: cubic Hermite segments that leave the ground at the flight's take-off
    # speed and meet it at touchdown with the speed it lands with (a push that stops at
    # take-off asks the centre of mass to fall faster than gravity with the feet down).
    # The end speed is capped at 3x the mean, where the segment would dip (or overshoot).
    low = stand_h - crouch
    push_rise = h_to - low
    push_exit = min(vz0 * p.push_s, 3.0 * push_rise)  # dz/ds at take-off, s the push's progress
    z = np.where(tl.inside("push"), low + _hermite(tl.progress("push"), push_rise, 0.0, push_exit), z)
    z = np.where(tl.inside("flight"), h_to + vz0 * tau - 0.5 * GRAVITY_MPS2 * tau**2, z)
    land_low = stand_h - p.land_crouch_m
    land_drop = land_low - h_to
    land_entry = max(-vz0 * c.land_s, 3.0 * land_drop)  # dz/ds at touchdown (both negative)
    z = np.where(tl.inside("land"), h_to + _hermite(tl.progress("land"), land_drop, land_entry, 0.0), z)
    z = np.where(tl.inside("recover"), land_low + (stand_h - land_low) * smoothstep(tl.progress("recover")), z)
    return z, h_to


def _hermite(s: np.ndarray, rise: float, start_slope: float, end_slope: float) -> np.ndarray:
    """Cubic from 0 to ``rise`` on s in [0, 1] with the given slopes dz/ds at both ends."""
    s = np.clip(s, 0.0, 1.0)
    return rise * (3 * s**2 - 2 * s**3) + start_slope * (s - 2 * s**2 + s**3) + end_slope * (s**3 - s**2)


def _jump_arms(dof: np.ndarray, p: JumpParams, tl: _Timeline) -> None:
    """Arms swing back in the crouch, forward-up through the push, come down over flight,
    landing and recovery."""
    c = JUMP
    swing = np.select(
        [tl.inside("crouch"), tl.inside("push"), tl.inside("flight"), tl.inside("land"), tl.inside("recover")],
        [
            -p.arm_back_rad * smoothstep(tl.progress("crouch")),
            -p.arm_back_rad + (p.arm_up_rad + p.arm_back_rad) * smoothstep(tl.progress("push")),
            p.arm_up_rad * (1 - c.arm_flight_drop * smoothstep(tl.progress("flight"))),
            c.arm_land_share * p.arm_up_rad * (1 - c.arm_land_drop * tl.progress("land")),
            c.arm_recover_share * p.arm_up_rad * (1 - smoothstep(tl.progress("recover"))),
        ],
        0.0,
    )
    n = swing.shape[0]
    abd = np.full(n, c.arm_abduction_rad)
    set_pair(dof, "Shoulder", arm_down(swing, abd), arm_down(swing, abd))
    elbow = np.stack([np.zeros(n), np.zeros(n), -(REST_ELBOW_RAD + c.elbow_per_swing * np.abs(swing))], -1)
    set_pair(dof, "Elbow", elbow, elbow)
