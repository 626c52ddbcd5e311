"""Gaits: walk, run, turn and sidestep; one planner and a table of per-type coefficients.

Periodic gait functions give, per frame, the pelvis guide, a world footprint and pitch
for each foot, and the upper-body hinge angles. One footprint per stance is placed at the
path point of mid-stance, so footprints are world-fixed by design; the swing foot moves
between footprints on a smoothstep curve (zero velocity at lift-off and touchdown). A
foot rolls over its heel (toes up) at heel strike and over its toe tip when the heel
rises, so the pivot stays on its footprint.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage
from scipy.special import betainc

from physhmr_jax.geometry.rotations_np import wrap_angle
from physhmr_jax.humanoid.skeleton import NUM_DOF
from physhmr_jax.motion.procedural.body import LegGeometry, arm_down, set_pair, trunk_and_head
from physhmr_jax.motion.procedural.params import DEG, GaitParams
from physhmr_jax.motion.procedural.plan import (
    GRAVITY_MPS2,
    PELVIS_TILT_RAD,
    STANCE_REACH_FRACTION,
    FeetPlan,
    Plan,
    fit_pelvis_height,
    footprint,
    gaussian_smooth,
    heading_xy,
    max_pelvis_height,
    smoothstep,
)


@dataclasses.dataclass(frozen=True)
class GaitStyle:
    """What sets one gait apart, fixed per type (the seeded values are :class:`GaitParams`).

    Attributes:
      cadence_hz: the stride frequency law ``(base_hz, hz_per_mps)``: ``base + per_mps *
        speed + cadence_jitter_hz``; None: the drawn ``stride_hz``.
      heel_pivot_end: stance fraction at which the foot is flat after heel strike.
      heel_rise_start: stance fraction at which the heel starts to rise.
      lift_skew: exponent on the swing fraction in the foot-lift curve (< 1: lifts early).
      arm_abduction_rad: the arms' angle out from vertical.
      ankle_ahead_m: ankle ahead of the path point at mid-stance (runners land under the body).
      lateral: travels sideways; the arms then abduct with the steps instead of swinging.
      turning: the heading turns at the drawn yaw rate; the trunk leans and the head looks
        into the turn.
      flight_reach: with a flight phase, the leg-reach fraction the ballistic pelvis profile
        is lifted to; None: no flight, the pelvis vaults over the stance legs at the drawn
        ``leg_reach``.
    """

    cadence_hz: tuple[float, float] | None
    heel_pivot_end: float
    heel_rise_start: float
    lift_skew: float
    arm_abduction_rad: float = 8 * DEG
    ankle_ahead_m: float = 0.0
    lateral: bool = False
    turning: bool = False
    flight_reach: float | None = None


_WALK = GaitStyle(cadence_hz=(0.72, 0.2), heel_pivot_end=0.15, heel_rise_start=0.55, lift_skew=0.85)
GAIT_STYLES: dict[str, GaitStyle] = {
    "walk": _WALK,
    "run": GaitStyle(
        cadence_hz=(1.25, 0.06),
        heel_pivot_end=0.12,
        heel_rise_start=0.45,
        lift_skew=0.6,
        arm_abduction_rad=12 * DEG,
        ankle_ahead_m=-0.06,
        flight_reach=0.95,
    ),
    "turn": dataclasses.replace(_WALK, turning=True),
    "sidestep": GaitStyle(cadence_hz=None, heel_pivot_end=0.1, heel_rise_start=0.7, lift_skew=1.0, lateral=True),
}

# A running foot's share of its swing at swing fraction w is the regularised incomplete beta
# function I_w(a, b) (a smoothstep is I_w(2, 2)). A run's flights begin with the trailing leg
# swinging forward off the floor, which changes the angular momentum about the centre of
# mass; only the leading leg can cancel it, by slowing its foot hard just before touchdown
# (swing-leg retraction): b < a. With (2, 1.5) each flight of run_0 changes the angular
# momentum by at most 2.4 kg m^2/s (the CMU run 09_06: 1.1-2.3); with a smoothstep, 15.3. Along
# b = a - 0.5 the change stays small (1.7 at (1.75, 1.25), 3.9 at (2.25, 1.75)); off it, it
# grows fast (8.7 at (2, 1.75), 15.3 at (2, 2)), docs/expert.md, session 29.
FLIGHT_SWING_BETA = (2.0, 1.5)
PATH_STEP_S = 1e-3  # time step of the fine path grid
PATH_MARGIN_S = 3.0  # the grid reaches this far past the clip: footprints of strides at its ends
TURN_RAMP_S = 0.8  # the turn rate eases in over this long
SWING_PITCH_END = 0.75  # swing fraction by which the foot has its touchdown pitch
# The sidestep's trailing foot lands next to the lead foot: ankles at least 0.16 m apart.
SIDESTEP_MIN_HALF_WIDTH_M = 0.08
SIDESTEP_HALF_WIDTH_PER_STEP = 0.25
VAULT_SMOOTHING_S = 0.05  # Gaussian sigma of the vaulting pelvis height
VAULT_LANDING_WIDEN_S = 0.1  # a landing leg lowers the pelvis this long before it lands
HIP_TWIST_SHARE = 0.5  # of the foot's yaw relative to the pelvis (knees follow the feet)
TRUNK_ROLL_GAIN = -0.8  # trunk roll per pelvis roll (the trunk stays upright)
TRUNK_YAW_GAIN = -1.3  # trunk yaw per pelvis yaw (shoulders counter-rotate)
HEAD_PITCH_GAIN = -0.8  # head pitch per trunk lean (the gaze stays level)
HEAD_YAW_GAIN = 0.3  # head yaw per pelvis yaw
TURN_LEAN_GAIN = 0.05  # trunk roll into the turn (rad) per turn rate (rad/s) times speed (m/s)
TURN_LOOK_S = 0.35  # head yaw into the turn (rad) per turn rate (rad/s)
ELBOW_FLEX_PER_SWING = 0.4  # extra elbow flexion per radian of forward arm swing
WRIST_FLEX_RAD = -10 * DEG


@dataclasses.dataclass(frozen=True)
class _Path:
    """Heading and travel path on a fine time grid around the clip."""

    times_s: np.ndarray  # [F]
    heading_rad: np.ndarray  # [F]
    xy: np.ndarray  # [F, 2] world, 0 at t = 0

    def xy_at(self, times):
        return np.stack(
            [np.interp(times, self.times_s, self.xy[:, 0]), np.interp(times, self.times_s, self.xy[:, 1])], -1
        )

    def heading_at(self, times):
        return np.interp(times, self.times_s, self.heading_rad)

    def turn_rate_at(self, times):
        """Heading rate (rad/s, + to the left)."""
        return np.interp(times, self.times_s, np.gradient(self.heading_rad, self.times_s))


def plan_gait(style: GaitStyle, p: GaitParams, t: np.ndarray, legs: LegGeometry, rng: np.random.Generator) -> Plan:
    """The plan of one gait clip at times ``t`` [T] (seconds)."""
    del rng  # gaits draw nothing beyond their parameters
    stride_hz = _stride_hz(style, p) / legs.size  # at one speed, shorter legs take shorter, quicker strides
    path = _gait_path(style, p, t[-1])
    feet = _gait_feet(style, p, t, stride_hz, path, legs)

    # Pelvis: the path plus lateral sway over the stance foot, rotations, then the height.
    phi_l = stride_hz * t + p.phase
    mid_l = 2 * np.pi * (phi_l - p.duty / 2)  # 0 at left mid-stance
    th = path.heading_at(t)
    pelvis_xy = path.xy_at(t) + heading_xy(th, 0.0, p.sway_m * np.cos(mid_l))
    yaw_osc = -p.pelvis_yaw_rad * np.cos(2 * np.pi * phi_l)  # left hip forward at left heel strike
    roll = p.pelvis_roll_rad * np.cos(mid_l)  # swing-side hip drops
    pelvis_ypr = np.stack([th + yaw_osc, np.full(t.shape[0], PELVIS_TILT_RAD), roll], -1)
    if style.flight_reach is not None:
        z_shape = _running_bounce(p.duty, stride_hz, phi_l)
        pelvis_z = fit_pelvis_height(z_shape, pelvis_xy, pelvis_ypr, feet, legs, reach_fraction=style.flight_reach)
    else:
        pelvis_z = _vault_height(p.leg_reach, t, pelvis_xy, pelvis_ypr, feet, legs)

    rel_yaw = wrap_angle(feet.yaw - pelvis_ypr[None, :, 0]) * np.array([[1.0], [-1.0]])
    hip_twist = HIP_TWIST_SHARE * rel_yaw
    dof = _gait_upper_body(style, p, t, phi_l, th, yaw_osc, roll)
    return Plan(pelvis_xy, pelvis_z, pelvis_ypr, feet, hip_twist, dof)


def _stride_hz(style: GaitStyle, p: GaitParams) -> float:
    if style.cadence_hz is None:
        return p.stride_hz
    base_hz, hz_per_mps = style.cadence_hz
    return base_hz + hz_per_mps * p.speed_mps + p.cadence_jitter_hz


def _gait_path(style: GaitStyle, p: GaitParams, end_s: float) -> _Path:
    """Heading theta(t) and the travel path, integrated on a fine grid; both pass the
    drawn heading and the origin at t = 0."""
    tf = np.arange(-PATH_MARGIN_S, end_s + PATH_MARGIN_S, PATH_STEP_S)
    if style.turning:
        ramp = smoothstep((tf - p.turn_start_s) / TURN_RAMP_S)
        omega = p.sign * p.yaw_rate_rad_s * ramp
    else:
        omega = np.zeros_like(tf)
    theta = np.cumsum(omega) * PATH_STEP_S
    theta = theta - np.interp(0.0, tf, theta) + p.heading_rad
    v_heading = (0.0, p.sign * p.speed_mps) if style.lateral else (p.speed_mps, 0.0)
    vel = heading_xy(theta, *v_heading)
    path = np.cumsum(vel, axis=0) * PATH_STEP_S
    path = path - np.array([np.interp(0.0, tf, path[:, 0]), np.interp(0.0, tf, path[:, 1])])
    return _Path(tf, theta, path)


def _gait_feet(style, p: GaitParams, t, stride_hz, path: _Path, legs: LegGeometry) -> FeetPlan:
    """Footprints: stance k of a foot spans phase [k, k + duty); its mid-stance is at k + duty/2."""
    num_frames = t.shape[0]
    duty = p.duty
    half_width = p.half_width_m
    if style.lateral:
        step = p.speed_mps / stride_hz
        half_width = max(half_width, SIDESTEP_MIN_HALF_WIDTH_M + SIDESTEP_HALF_WIDTH_PER_STEP * step)
    feet = FeetPlan(
        np.zeros((2, num_frames, 2)),
        np.zeros((2, num_frames)),
        np.zeros((2, num_frames)),
        np.zeros((2, num_frames)),
        np.zeros((2, num_frames), bool),
    )
    for side, sgn in enumerate((1.0, -1.0)):
        offset = 0.5 * side
        phi = stride_hz * t + p.phase + offset
        k = np.floor(phi)
        u = phi - k

        def place(kk, side=side, sgn=sgn, offset=offset):
            tm = (kk + duty / 2 - p.phase - offset) / stride_hz
            th = path.heading_at(tm)
            lateral = sgn * half_width
            if style.turning:
                # Out of the turn by h a / g: the floor's force, which bends the path, then
                # points through the centre of mass (h) instead of rolling the body outwards.
                lateral = (
                    lateral - legs.standing_height(p.leg_reach) * p.speed_mps * path.turn_rate_at(tm) / GRAVITY_MPS2
                )
            ankle = path.xy_at(tm) + heading_xy(th, style.ankle_ahead_m, lateral)
            fyaw = th + sgn * p.toe_out_rad
            return footprint(ankle, fyaw, legs, side), fyaw

        b0, y0 = place(k)
        b1, y1 = place(k + 1)
        stance = u < duty
        s = np.where(stance, u / duty, 0.0)
        w = np.where(stance, 0.0, (u - duty) / (1 - duty))
        if style.flight_reach is None:
            m = smoothstep(w)[:, None]  # less overshoot before touchdown than minimum jerk
        else:  # a run: the swing that keeps the angular momentum in flight (FLIGHT_SWING_BETA)
            m = betainc(*FLIGHT_SWING_BETA, w)[:, None]
        feet.base_xy[side] = np.where(stance[:, None], b0, (1 - m) * b0 + m * b1)
        feet.yaw[side] = np.where(stance, y0, y0 + wrap_angle(y1 - y0) * m[:, 0])
        feet.pitch[side] = _foot_pitch(style, p, stance, s, w)
        feet.lift_m[side] = np.where(stance, 0.0, p.clearance_m * np.sin(np.pi * w**style.lift_skew))
        feet.contact[side] = stance
    return feet


def _foot_pitch(style: GaitStyle, p: GaitParams, stance, s, w) -> np.ndarray:
    """Heel strike rolling flat, flat, heel rising to toe-off in stance (stance fraction
    ``s``); back from the toe-off pitch to the heel-strike pitch in swing (fraction ``w``)."""
    s1, s2 = style.heel_pivot_end, style.heel_rise_start
    stance_pitch = np.where(
        s < s1,
        p.heel_strike_rad * (1 - smoothstep(s / s1)),
        np.where(s < s2, 0.0, p.toe_off_rad * ((s - s2) / (1 - s2)) ** 2),
    )
    swing_pitch = p.toe_off_rad + (p.heel_strike_rad - p.toe_off_rad) * smoothstep(w / SWING_PITCH_END)
    return np.where(stance, stance_pitch, swing_pitch)


def _running_bounce(duty: float, stride_hz: float, phi_l: np.ndarray) -> np.ndarray:
    """Pelvis height shape per step (half a stride): a stance dip, then a ballistic flight,
    C1 at both ends."""
    step_t = 0.5 / stride_hz
    stance_t, flight_t = 2 * duty * step_t, (1 - 2 * duty) * step_t
    vz0 = GRAVITY_MPS2 * flight_t / 2
    tau = ((2 * phi_l) % 1.0) * step_t
    return np.where(
        tau < stance_t,
        -vz0 * stance_t / np.pi * np.sin(np.pi * tau / stance_t),
        vz0 * (tau - stance_t) - 0.5 * GRAVITY_MPS2 * (tau - stance_t) ** 2,
    )


def _vault_height(leg_reach, t, pelvis_xy, pelvis_ypr, feet, legs: LegGeometry) -> np.ndarray:
    """Inverted-pendulum vault: the pelvis rides as high as the stance legs allow at
    ``leg_reach`` of their full reach (so it is lowest in double support), smoothed.

    A landing leg caps the height from its touchdown frame on; the cap's excess over the
    smoothed height is widened and smoothed before it is taken off, so the pelvis is already
    down when the foot lands instead of dropping 2-3 cm in one frame (a fall faster than g,
    which the floor cannot cause).
    """
    sigma = VAULT_SMOOTHING_S / (t[1] - t[0])
    h_max = max_pelvis_height(pelvis_xy, pelvis_ypr, feet, legs, leg_reach)
    h = np.minimum(h_max, legs.standing_height(leg_reach))
    h = gaussian_smooth(h, sigma_frames=sigma)
    cap = max_pelvis_height(pelvis_xy, pelvis_ypr, feet, legs, STANCE_REACH_FRACTION)
    excess = np.maximum(h - cap, 0.0)
    widen = int(np.ceil(VAULT_LANDING_WIDEN_S / (t[1] - t[0])))
    excess = ndimage.maximum_filter1d(excess, 2 * widen + 1, mode="nearest")
    h = h - gaussian_smooth(excess, sigma_frames=sigma)
    return np.minimum(h, cap)


def _gait_upper_body(style: GaitStyle, p: GaitParams, t, phi_l, th, yaw_osc, roll) -> np.ndarray:
    """[T, 69] trunk, head and arm angles: the trunk steadies the pelvis motion, the arms
    swing against the legs."""
    num_frames = t.shape[0]
    dof = np.zeros((num_frames, NUM_DOF))
    lean = p.trunk_lean_rad
    trunk = np.stack(
        [TRUNK_ROLL_GAIN * roll, np.full(num_frames, lean - PELVIS_TILT_RAD), TRUNK_YAW_GAIN * yaw_osc], -1
    )
    look = np.zeros(num_frames)
    if style.turning:
        turn_rate = np.gradient(th, t)
        trunk[:, 0] += -TURN_LEAN_GAIN * turn_rate * p.speed_mps
        look = TURN_LOOK_S * turn_rate
    head = np.stack(
        [np.zeros(num_frames), np.full(num_frames, HEAD_PITCH_GAIN * lean), HEAD_YAW_GAIN * yaw_osc + look], -1
    )
    trunk_and_head(dof, trunk, head)
    cos_stride = np.cos(2 * np.pi * phi_l)
    zeros = np.zeros(num_frames)
    if style.lateral:
        abd_l = style.arm_abduction_rad + p.arm_swing_rad * (0.5 + 0.5 * cos_stride)
        abd_r = style.arm_abduction_rad + p.arm_swing_rad * (0.5 - 0.5 * cos_stride)
        set_pair(dof, "Shoulder", arm_down(zeros, abd_l), arm_down(zeros, abd_r))
        elbow_l = elbow_r = np.full(num_frames, p.elbow_rad)
    else:
        swing = p.arm_swing_rad * cos_stride  # right arm forward at left heel strike
        abd = np.full(num_frames, style.arm_abduction_rad)
        set_pair(dof, "Shoulder", arm_down(-swing, abd), arm_down(swing, abd))
        elbow_l = p.elbow_rad + ELBOW_FLEX_PER_SWING * np.maximum(-swing, 0.0)  # more flexed when swung forward
        elbow_r = p.elbow_rad + ELBOW_FLEX_PER_SWING * np.maximum(swing, 0.0)
    set_pair(dof, "Elbow", np.stack([zeros, zeros, -elbow_l], -1), np.stack([zeros, zeros, -elbow_r], -1))
    wrist = np.stack([zeros, zeros, np.full(num_frames, WRIST_FLEX_RAD)], -1)
    set_pair(dof, "Wrist", wrist, wrist)
    return dof
