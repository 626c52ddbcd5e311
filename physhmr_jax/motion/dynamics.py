"""Whether a clip's centre of mass obeys its contacts: what a reference must satisfy before a
simulated body can track it, from the clip alone and the humanoid's masses.

In flight only gravity acts on the body: its centre of mass accelerates at (0, 0, -g) and
its angular momentum about the centre of mass stays constant, whatever the limbs do. With a
foot on the floor the floor can push but not pull: the centre of mass cannot fall faster
than g, and the line of the floor's force must pass through the centre of mass with the
moment the angular momentum asks for: the point on the floor where it acts (the zero-moment
point, ZMP) has to lie under a foot. A kinematic clip (procedural, retargeted or edited) can
break all three; a policy then cannot follow it however it is trained, and its tracking
error grows every flight, or every step that leans the wrong way.

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
from scipy import ndimage

from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.kinematics import world_sole_points
from physhmr_jax.motion.clip import Clip

GRAVITY_MPS2 = 9.81
CONTACT_M = 0.01  # a sole point this close to the floor (z = 0) may carry load
MIN_PUSH_MPS2 = 1.0  # no zero-moment point where the floor pushes up less than this per kg
ZMP_SMOOTHING_S = 0.066  # Gaussian sigma of the centre of mass and momentum behind the zero-moment point
ZMP_SLACK_M = 0.02  # a zero-moment point this far outside the feet counts as outside


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
    zmp_m: np.ndarray  # [T, 2] where the floor's force must act (NaN outside contact or with no push)
    zmp_outside_m: np.ndarray  # [T] its distance outside the feet on the floor (0 under one; NaN as zmp_m)

    def flights(self) -> list[tuple[int, int]]:
        """(first, last) frame of each run of airborne frames among frames 1..T-2 (those with
        a central difference, so the angular momentum is defined at both ends)."""
        inner = np.concatenate([[False], self.airborne[1:-1], [False]]).astype(np.int8)
        edges = np.diff(inner)
        return list(zip(np.flatnonzero(edges == 1) + 1, np.flatnonzero(edges == -1), strict=True))

    def summary(self) -> dict[str, float]:
        """The worst violations (0 when the class has no frame).

        flight_horizontal_acc: max |horizontal centre-of-mass acceleration| in flight (m/s^2, 0 physical);
        flight_vertical_acc_error: max |vertical acceleration + g| in flight (m/s^2, 0 physical);
        flight_torque_per_kg: max |d(angular momentum)/dt| / mass in flight (N m / kg, 0 physical);
        contact_pull: max over contact frames of -(vertical acceleration) - g, the pull the
          floor would need (m/s^2, <= 0 physical);
        contact_zmp_outside: the share of contact frames whose zero-moment point lies more
          than :data:`ZMP_SLACK_M` outside the feet on the floor (0 physical; the feet are their
          heel-to-toe lines widened by the foot boxes' half width; smoothed, see
          :func:`_zero_moment_points`). The shared CMU walks (``contact_m`` 0.03): 0.09 (16_17),
          0.35 (02_01); the share, not the worst frame, because single frames of mocap reach
          tens of cm.
        """
        fl, co = self.flight, self.contact
        worst = lambda x: float(np.max(x)) if x.size else 0.0  # noqa: E731
        return {
            "flight_frames": int(fl.sum()),
            "flight_horizontal_acc": worst(np.linalg.norm(self.com_acc_mps2[fl, :2], axis=-1)),
            "flight_vertical_acc_error": worst(np.abs(self.com_acc_mps2[fl, 2] + GRAVITY_MPS2)),
            "flight_torque_per_kg": worst(np.linalg.norm(self.torque_nm[fl], axis=-1) / self.mass_kg),
            "contact_pull": worst(-self.com_acc_mps2[co, 2] - GRAVITY_MPS2),
            "contact_zmp_outside": _share(self.zmp_outside_m[np.isfinite(self.zmp_outside_m)] > ZMP_SLACK_M),
        }


def _share(x: np.ndarray) -> float:
    return float(np.mean(x)) if x.size else 0.0


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
    zmp, outside = _zero_moment_points(clip, model, com, momentum, soles, contact, contact_m)
    return ReferenceDynamics(
        mass_kg=float(model.body_subtreemass[1]),
        com_m=com,
        com_acc_mps2=acc,
        angular_momentum=momentum,
        torque_nm=torque,
        airborne=airborne,
        flight=flight & has_torque,
        contact=contact,
        zmp_m=zmp,
        zmp_outside_m=outside,
    )


def _zero_moment_points(clip, model, com, momentum, soles, contact, contact_m):
    """[T, 2] zero-moment points and [T] their distances outside the feet in contact frames.

    From the centre of mass and the angular momentum smoothed over :data:`ZMP_SMOOTHING_S`
    (a Gaussian): the second differences of raw poses put mocap's marker noise, metres of
    it, into the point; a lean held over a step survives the smoothing.
    """
    num_frames, dt = clip.num_frames, 1.0 / clip.fps
    mass = float(model.body_subtreemass[1])
    sigma = ZMP_SMOOTHING_S * clip.fps
    zmp = np.full((num_frames, 2), np.nan)
    outside = np.full(num_frames, np.nan)
    # The end frames have no momentum (NaN); they lie inside the ``reach`` left out below, so
    # any finite stand-in does: zeros.
    filled = np.nan_to_num(momentum)
    smooth = lambda x: ndimage.gaussian_filter1d(x, sigma, axis=0, mode="nearest", truncate=3.0)  # noqa: E731
    reach = int(3.0 * sigma + 0.5) + 2  # the filter's radius and the differences': frames near the ends are left out
    acc = np.gradient(np.gradient(smooth(com), dt, axis=0), dt, axis=0)
    torque = np.gradient(smooth(filled), dt, axis=0)
    half_width = mjcf.FOOT_HALF_WIDTH_M * mjcf.size_scale(clip.skeleton)
    for f in np.flatnonzero(contact[reach : num_frames - reach]) + reach:
        push = mass * (acc[f] + [0.0, 0.0, GRAVITY_MPS2])
        if push[2] < MIN_PUSH_MPS2 * mass:
            continue  # (nearly) no vertical force: ``contact_pull`` says it
        zmp[f] = zero_moment_point(com[f], push, torque[f])  # smoothing a curve shifts it: the raw position
        down = soles[f, soles[f, :, 2] <= contact_m, :2]
        outside[f] = max(0.0, _distance_to_hull(zmp[f], down) - half_width)
    return zmp, outside


def zero_moment_point(com: np.ndarray, force: np.ndarray, torque: np.ndarray) -> np.ndarray:
    """[2] the point on the floor (z = 0) where ``force`` [3] (the floor's, N) must act so that
    its moment about the centre of mass ``com`` [3] has the horizontal part of ``torque`` [3]
    (the rate of the angular momentum about the centre of mass); its vertical part is the
    friction's. From (p - c) x F = torque with p_z = 0, for F_z > 0."""
    fx, fy, fz = force
    px = com[0] - (torque[1] + com[2] * fx) / fz
    py = com[1] + (torque[0] - com[2] * fy) / fz
    return np.array([px, py])


def _distance_to_hull(point: np.ndarray, corners: np.ndarray) -> float:
    """Distance from ``point`` [2] to the convex hull of ``corners`` [K, 2] (0 inside).

    Outside the hull the nearest point lies on an edge, and every segment between two corners
    lies inside it, so the least distance to any corner-to-corner segment is the distance.
    Inside, the point is in one of the triangles of three corners.
    """
    k = corners.shape[0]
    if k == 0:
        return np.inf
    for i in range(k):
        for j in range(i + 1, k):
            for m in range(j + 1, k):
                a, b, c = corners[i], corners[j], corners[m]
                cross = [_cross(b - a, point - a), _cross(c - b, point - b), _cross(a - c, point - c)]
                if min(cross) >= 0 or max(cross) <= 0:
                    return 0.0
    best = float(np.min(np.linalg.norm(corners - point, axis=-1)))
    for i in range(k):
        for j in range(i + 1, k):
            edge = corners[j] - corners[i]
            u = np.clip(np.dot(point - corners[i], edge) / max(np.dot(edge, edge), 1e-12), 0.0, 1.0)
            best = min(best, float(np.linalg.norm(corners[i] + u * edge - point)))
    return best


def _cross(u: np.ndarray, v: np.ndarray) -> float:
    return float(u[0] * v[1] - u[1] * v[0])


__all__ = ["CONTACT_M", "GRAVITY_MPS2", "ReferenceDynamics", "reference_dynamics", "zero_moment_point"]
