"""Procedural motion library: the default motion set that runs on a fresh clone.

Every clip is deterministic given ``(motion_type, seed)``; the seed draws the clip's
parameters (speed, cadence, stride, amplitudes, heading, turn rate, ...) from the human
ranges in :data:`PARAMETER_RANGES` into the type's parameter record (:mod:`.params`).

How a clip is made (host-side numpy plus the project's jitted FK for the sole points):
  1. **Plan** (:data:`PLANNERS`, one planner per type). Periodic gait functions
     (:mod:`.locomotion`) or a timeline of phases (:mod:`.jump`, :mod:`.standing`,
     :mod:`.gestures`) give, per frame, the pelvis height/orientation, a world footprint
     and pitch for each foot, and the upper-body hinge angles (:class:`.plan.Plan`). The
     fixed coefficients of each type are named in its table (``GAIT_STYLES``, ``JUMP``,
     ``SQUAT``, ``REACH``, ``WAVE``).
  2. **Local pose.** Analytic leg IK reaches those foot targets from the planned pelvis;
     all 69 hinges are then clipped to ``mjcf.joint_ranges_rad()`` (:mod:`.solve`). A clip
     with flight (run, jump) moves its planned pelvis so that the centre of mass (the
     humanoid's geom masses), not the pelvis, follows the planned path.
  3. **Root from the feet.** The root height puts the lowest sole point on z = 0 in
     contact (in flight the centre of mass follows a ballistic arc), and the horizontal
     root is integrated so the contact foot does not move: foot skating is ~0 by
     construction (:mod:`.solve`). ``physhmr_jax.motion.dynamics`` checks the result.

Conventions are the skeleton's (:mod:`.body`): world z up, rest T-pose facing +x, left +y.
"""

from physhmr_jax.motion.procedural.generate import PLANNERS, generate_clip, generate_library, write_library
from physhmr_jax.motion.procedural.params import (
    MOTION_TYPES,
    PARAMETER_RANGES,
    GaitParams,
    JumpParams,
    MotionParams,
    ReachParams,
    SquatParams,
    WaveParams,
    parameter_ranges,
)
from physhmr_jax.motion.procedural.plan import GRAVITY_MPS2, STANCE_REACH_FRACTION
from physhmr_jax.motion.procedural.solve import SWING_REACH_FRACTION

__all__ = [
    "GRAVITY_MPS2",
    "MOTION_TYPES",
    "PARAMETER_RANGES",
    "PLANNERS",
    "STANCE_REACH_FRACTION",
    "SWING_REACH_FRACTION",
    "GaitParams",
    "JumpParams",
    "MotionParams",
    "ReachParams",
    "SquatParams",
    "WaveParams",
    "generate_clip",
    "generate_library",
    "parameter_ranges",
    "write_library",
]
