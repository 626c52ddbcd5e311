"""Whether a clip's centre of mass obeys its contacts: what a reference must satisfy before a
simulated body can track it, from the clip alone and the humanoid's masses.

In flight only gravity acts on the body: its centre of mass accelerates at (0, 0, -g) and
its angular momentum about the centre of mass stays constant, whatever the limbs do. With a
foot on the floor the floor can push but not pull: the centre of mass cannot fall faster
than g. A kinematic clip (procedural, retargeted or edited) can break both; a policy then
cannot follow it however it is trained, and its tracking error grows every flight.

Frames are classed from the sole points (``mjcf.sole_points_local``): *airborne* when every
sole point is more than :data:`CONTACT_M` above the floor, and a frame counts as *flight*
(or *contact*) only when it and both neighbours are airborne (or all grounded), so the
centre of mass's second differences never straddle a touchdown (the moment's, a central
difference of central differences, reach two frames each way and may, at a flight's ends). Masses and inertias are those of the
humanoid MuJoCo builds for the clip's skeleton (``mjcf.build_model``); velocities are
central differences of the poses (``mujoco.mj_differentiatePos``).

Usage: ``experiments/reference_physics.py`` prints these per clip for a motion set.
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.kinematics import world_sole_points
from physhmr_jax.motion.clip import Clip

GRAVITY_MPS2 = 9.81
CONTACT_M = 0.01  # a sole point this close to the floor (z = 0) may carry load


@dataclasses.dataclass(frozen=True)
class ReferenceDynamics:
    """Per frame [T, ...]; the first and last frames have no central difference (NaN)."""

    mass_kg: float
    com_m: np.ndarray  # [T, 3] centre of mass
    com_acc_mps2: np.ndarray  # [T, 3]
    angular_momentum: np.ndarray  # [T, 3] about the centre of mass (kg m^2 / s)
    torque_nm: np.ndarray  # [T, 3] its rate: the net external moment about the centre of mass
    airborne: np.ndarray  # [T] bool: every sole point above ``contact_m``
    flight: np.ndarray  # [T] bool: this frame and both neighbours airborne
    contact: np.ndarray  # [T] bool: this frame and both neighbours with a sole point down

    def summary(self) -> dict[str, float]:
        """The worst violations (0 when the class has no frame).

        flight_horizontal_acc: max |horizontal centre-of-mass acceleration| in flight (m/s^2, 0 physical);
        flight_vertical_acc_error: max |vertical acceleration + g| in flight (m/s^2, 0 physical);
        flight_torque_per_kg: max |d(angular momentum)/dt| / mass in flight (N m / kg, 0 physical);
        contact_pull: max over contact frames of -(vertical acceleration) - g, the pull the
          floor would need (m/s^2, <= 0 physical).
        """
        fl, co = self.flight, self.contact
        worst = lambda x: float(np.max(x)) if x.size else 0.0  # noqa: E731
        return {
            "flight_frames": int(fl.sum()),
            "flight_horizontal_acc": worst(np.linalg.norm(self.com_acc_mps2[fl, :2], axis=-1)),
            "flight_vertical_acc_error": worst(np.abs(self.com_acc_mps2[fl, 2] + GRAVITY_MPS2)),
            "flight_torque_per_kg": worst(np.linalg.norm(self.torque_nm[fl], axis=-1) / self.mass_kg),
            "contact_pull": worst(-self.com_acc_mps2[co, 2] - GRAVITY_MPS2),
        }


def reference_dynamics(
    clip: Clip, model: mujoco.MjModel | None = None, *, contact_m: float = CONTACT_M
) -> ReferenceDynamics:
    """Centre of mass, its acceleration and the angular momentum about it along ``clip``,
    on ``model`` (default: ``mjcf.build_model(clip.skeleton)``); a frame is airborne when
    its lowest sole point is more than ``contact_m`` above the floor (mocap floors are
    noisier than procedural ones: 0.03 separates the CMU run's stance from its flight)."""
    model = mjcf.build_model(clip.skeleton) if model is None else model
    data = mujoco.MjData(model)
    num_frames, dt = clip.num_frames, 1.0 / clip.fps
    qpos = np.concatenate([clip.root_pos_m, clip.root_quat, clip.dof], axis=-1).astype(np.float64)
    com = np.full((num_frames, 3), np.nan)
    momentum = np.full((num_frames, 3), np.nan)
    for f in range(num_frames):
        data.qpos[:] = qpos[f]
        if 0 < f < num_frames - 1:
            mujoco.mj_differentiatePos(model, data.qvel, 2 * dt, qpos[f - 1], qpos[f + 1])
        else:
            data.qvel[:] = 0.0
        mujoco.mj_forward(model, data)
        mujoco.mj_subtreeVel(model, data)
        com[f] = data.subtree_com[1]
        if 0 < f < num_frames - 1:
            momentum[f] = data.subtree_angmom[1]
    acc = np.full_like(com, np.nan)
    acc[1:-1] = (com[2:] - 2 * com[1:-1] + com[:-2]) / dt**2
    torque = np.full_like(com, np.nan)
    torque[2:-2] = (momentum[3:-1] - momentum[1:-3]) / (2 * dt)
    soles = world_sole_points(clip.root_pos_m, clip.root_quat, clip.dof, clip.skeleton)  # [T, 4, 3]
    airborne = soles[..., 2].min(axis=-1) > contact_m
    flight, contact = np.zeros(num_frames, bool), np.zeros(num_frames, bool)
    flight[1:-1] = airborne[:-2] & airborne[1:-1] & airborne[2:]
    contact[1:-1] = ~airborne[:-2] & ~airborne[1:-1] & ~airborne[2:]
    has_torque = np.isfinite(torque).all(axis=-1)
    return ReferenceDynamics(
        mass_kg=float(model.body_subtreemass[1]),
        com_m=com,
        com_acc_mps2=acc,
        angular_momentum=momentum,
        torque_nm=torque,
        airborne=airborne,
        flight=flight & has_torque,
        contact=contact,
    )


__all__ = ["CONTACT_M", "GRAVITY_MPS2", "ReferenceDynamics", "reference_dynamics"]
