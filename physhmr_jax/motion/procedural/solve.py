"""From a plan to a clip: analytic leg IK, then the root placed by the feet.

1. **Local pose.** Analytic leg IK (hip x/y for a given hip twist z, knee y, ankle xyz)
   reaches the planned foot targets from the planned pelvis; all 69 hinges are then
   clipped to ``mjcf.joint_ranges_rad()``.
2. **Root from the feet.** Forward kinematics with the root at the origin (but with the
   frame's orientation) gives the four sole points. In contact frames the root height puts
   the lowest sole point at z = 0; in flight (run, jump) the body's centre of mass (from
   the humanoid's geom masses, :func:`com_offsets`) follows a ballistic arc with
   g = 9.81 m/s^2 whose take-off velocity makes the feet leave and land on z = 0. The
   horizontal root position is integrated so the contact foot does not move:
   ``root_xy(t+1) = root_xy(t) - (sole_xy(t+1) - sole_xy(t))``. Foot skating is ~0 by
   construction, and the planned pelvis path is only a guide for this step.

A clip with flight is planned with its centre of mass, not its pelvis, on the planned path
(:func:`com_on_path`): in flight nothing but gravity acts on the body, so its centre of mass
moves at constant horizontal velocity while the legs and arms swing about it. A pelvis moved
at constant speed instead makes the centre of mass of the run brake at 6-8 m/s^2 in every
flight (``experiments/reference_physics.py``, ``docs/expert.md``).
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from physhmr_jax.geometry.rotations_np import axis_rotation, matrix_to_euler_xyz, matrix_to_quat, wrap_angle
from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.kinematics import world_sole_points
from physhmr_jax.humanoid.skeleton import Skeleton
from physhmr_jax.motion.procedural.body import FOOT_SOLE_ROWS, LegGeometry, mirror_euler, set_angles
from physhmr_jax.motion.procedural.plan import GRAVITY_MPS2, Plan, ankle_targets, foot_rotation, pelvis_rotation

SWING_REACH_FRACTION = 0.999  # IK targets beyond this fraction of full leg reach are pulled in
MAX_KNEE_FLEX_RAD = np.pi - 0.2  # IK targets closer to the hip than this knee flexion allows are pushed out
_FK_CHUNK_FRAMES = 64  # frames per FK call: one compiled shape for every clip length
_MIN_DIST_M = 1e-9
COM_PATH_ITERATIONS = 3  # plan -> pose -> centre of mass -> plan; a 4th round moves the offsets < 0.2 mm


def leg_ik(target, foot_rot, twist, thigh, shin) -> np.ndarray:
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
    d_min = np.sqrt(base + 2 * amp * np.cos(MAX_KNEE_FLEX_RAD))
    dist = np.linalg.norm(target, axis=-1)
    d = np.clip(dist, d_min, SWING_REACH_FRACTION * d_max)
    target = target * (d / np.maximum(dist, _MIN_DIST_M))[:, None]
    knee = gamma + np.arccos(np.clip((d**2 - base) / (2 * amp), -1.0, 1.0))
    leg = thigh + np.einsum("tij,j->ti", axis_rotation(1, knee), shin)
    w = np.einsum("tij,tj->ti", axis_rotation(2, twist), leg)
    rho = np.hypot(w[:, 0], w[:, 2])
    hip_y = wrap_angle(np.pi - np.arcsin(np.clip(target[:, 0] / rho, -1.0, 1.0)) - np.arctan2(w[:, 0], w[:, 2]))
    v = np.einsum("tij,tj->ti", axis_rotation(1, hip_y), w)
    hip_x = wrap_angle(np.arctan2(target[:, 2], target[:, 1]) - np.arctan2(v[:, 2], v[:, 1]))
    shin_rot = axis_rotation(0, hip_x) @ axis_rotation(1, hip_y) @ axis_rotation(2, twist) @ axis_rotation(1, knee)
    ankle = matrix_to_euler_xyz(np.swapaxes(shin_rot, -1, -2) @ foot_rot)
    zeros = np.zeros_like(knee)
    return np.concatenate([np.stack([hip_x, hip_y, twist], -1), np.stack([zeros, knee, zeros], -1), ankle], -1)


def solve_pose(plan: Plan, legs: LegGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Hinge angles [T, 69] (clipped to the joint ranges) and root rotations [T, 3, 3]."""
    pelvis_rot = pelvis_rotation(plan.pelvis_ypr)
    pelvis_pos = np.concatenate([plan.pelvis_xy, plan.pelvis_z[:, None]], -1)
    ankles = ankle_targets(plan.feet, legs)
    foot_rot = foot_rotation(plan.feet)
    dof = plan.upper_dof.copy()
    for side, prefix in enumerate(("L", "R")):
        # Mirror the right leg into a left leg: y -> -y in the pelvis frame.
        mirror = np.diag([1.0, -1.0, 1.0]) if side == 1 else np.eye(3)
        rel = np.einsum("tji,tj->ti", pelvis_rot, ankles[side] - pelvis_pos) - legs.hip_off[side]
        frot = np.swapaxes(pelvis_rot, -1, -2) @ foot_rot[side]
        angles = leg_ik(
            rel @ mirror,
            mirror @ frot @ mirror,
            plan.hip_twist[side],
            mirror @ legs.thigh[side],
            mirror @ legs.shin[side],
        )
        if side == 1:
            angles = mirror_euler(angles.reshape(-1, 3, 3))
        angles = angles.reshape(-1, 9)
        set_angles(dof, f"{prefix}_Hip", angles[:, 0:3])
        set_angles(dof, f"{prefix}_Knee", angles[:, 3:6])
        set_angles(dof, f"{prefix}_Ankle", angles[:, 6:9])
        set_angles(dof, f"{prefix}_Toe", 0.0)
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


def com_offsets(root_quat: np.ndarray, dof: np.ndarray, model: mujoco.MjModel) -> np.ndarray:
    """[T, 3] the body's centre of mass relative to the root (world axes), from the masses of
    ``model``, the humanoid of the clip's skeleton (``mjcf.build_model``)."""
    data = mujoco.MjData(model)
    mass = model.body_mass / model.body_mass.sum()
    out = np.zeros((dof.shape[0], 3))
    for f in range(dof.shape[0]):
        data.qpos[:] = np.concatenate([np.zeros(3), root_quat[f], dof[f]])
        mujoco.mj_kinematics(model, data)
        out[f] = mass @ data.xipos
    return out


def com_on_path(plan: Plan, legs: LegGeometry, model: mujoco.MjModel) -> Plan:
    """``plan`` with its pelvis moved so that the centre of mass, not the pelvis, follows the
    planned horizontal path (less the offset's clip mean, so the pelvis stays on the path on
    average). The offset depends on the pose, which depends on the pelvis: a few rounds."""
    path = plan.pelvis_xy
    for _ in range(COM_PATH_ITERATIONS):
        dof, pelvis_rot = solve_pose(plan, legs)
        offset = com_offsets(matrix_to_quat(pelvis_rot), dof, model)[:, :2]
        plan = dataclasses.replace(plan, pelvis_xy=path - (offset - offset.mean(axis=0)))
    return plan


def ground_root(
    dof, root_quat, contact, plan_pos, skeleton: Skeleton, fps: float, com_offset: np.ndarray | None = None
) -> np.ndarray:
    """Root positions [T, 3] that keep the contact feet on the ground and still.

    Args:
      dof: [T, 69]; root_quat: [T, 4]; contact: [2, T] planned foot contacts;
      plan_pos: [T, 3] the planned pelvis (start point; flight frames at the clip edges);
      com_offset: [T, 3] :func:`com_offsets` of the pose: flight arcs are the centre of
        mass's (None: the root's).
    """
    soles = _sole_points_at_origin(root_quat, dof, skeleton)
    lowest = soles[..., 2].min(-1)  # [T] with the root at z = 0
    lift = np.zeros_like(lowest) if com_offset is None else com_offset[:, 2]
    z = _flight_arcs(lift - lowest, contact.any(0), plan_pos + lift[:, None] * [0, 0, 1], fps) - lift
    z = np.maximum(z, -lowest)  # never below the floor
    xy = _pinned_xy(soles, contact, plan_pos)
    return np.concatenate([xy, z[:, None]], -1)


def _flight_arcs(z: np.ndarray, any_contact: np.ndarray, plan_pos: np.ndarray, fps: float) -> np.ndarray:
    """Root heights [T]: ``z`` in contact frames; in flight a ballistic arc from the last
    contact frame to the next one (``z`` is overwritten there)."""
    num_frames = z.shape[0]
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
    return z


def _pinned_xy(soles: np.ndarray, contact: np.ndarray, plan_pos: np.ndarray) -> np.ndarray:
    """Horizontal root positions [T, 2] that undo the motion of the contact feet's lower sole
    points (their mean over the feet in contact on both frames); the plan's steps elsewhere."""
    num_frames = soles.shape[0]
    xy = np.zeros((num_frames, 2))
    xy[0] = plan_pos[0, :2]
    for f in range(num_frames - 1):
        moves = []
        for side, rows in enumerate(FOOT_SOLE_ROWS):
            if contact[side, f] and contact[side, f + 1]:
                r = rows[int(np.argmin(soles[f + 1, list(rows), 2]))]  # the foot's lower sole point
                moves.append(soles[f + 1, r, :2] - soles[f, r, :2])
        if moves:
            xy[f + 1] = xy[f] - np.mean(moves, axis=0)
        else:
            xy[f + 1] = xy[f] + plan_pos[f + 1, :2] - plan_pos[f, :2]
    return xy
