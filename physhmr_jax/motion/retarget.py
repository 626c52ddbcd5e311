"""Retargeting source joint positions onto the humanoid: a jitted JAX inverse-kinematics fit.

Input: a :class:`~physhmr_jax.motion.source.SourceMotion` (world positions of the 24
SMPL-topology joints per frame, and a skeleton with the source's bone lengths). Output: a
:class:`~physhmr_jax.motion.clip.Clip` (root pose and the 69 hinge angles) at 30 Hz, on the
ground.

Method: per frame, projected Levenberg-Marquardt (analytic Jacobian) on the root position,
a root rotation increment and the 69 hinge angles, minimising the weighted joint position
error plus a small pull towards the previous frame's angles (temporal continuity; it also
fixes the twist of straight limbs, which positions alone leave free) and towards zero.
Frames are solved in order by ``lax.scan`` over fixed-size chunks (one compiled program for
every clip length, the pose carried from chunk to chunk); each frame tries two starts side by side (the
previous frame's angles, and the zero pose) on a rigid fit of the pelvis and keeps the
better fit. Hinge limits are enforced by projection after every step.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from physhmr_jax.eval import physical
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.kinematics import forward_kinematics, position_jacobian, world_sole_points
from physhmr_jax.humanoid.skeleton import NUM_DOF, PARENTS, Skeleton
from physhmr_jax.motion.clip import Clip

TARGET_FPS = 30.0


@dataclasses.dataclass(frozen=True)
class RetargetConfig:
    """Settings of the IK fit.

    Attributes:
      fps: output frame rate (the control rate).
      iterations: LM iterations per frame and start.
      first_frame_iterations: LM iterations for the first frame (cold start only).
      chunk_frames: frames solved per call of the compiled scan; a clip is padded to a
        multiple of it, so one program serves every clip length (compiled once per process).
      damping: LM damping (added to the normal equations' diagonal).
      smooth_weight: pull towards the previous frame's hinge angles (per radian^2).
      zero_weight: pull towards zero hinge angles (per radian^2).
      ground_percentile: the per-frame lowest sole point's percentile placed at z = 0.
    """

    fps: float = TARGET_FPS
    iterations: int = 12
    first_frame_iterations: int = 100
    chunk_frames: int = 128
    damping: float = 1e-3
    smooth_weight: float = 1e-3
    zero_weight: float = 1e-5
    ground_percentile: float = 5.0


class _Pose(NamedTuple):
    root_pos: jax.Array  # [3]
    root_quat: jax.Array  # [4]
    dof: jax.Array  # [69]


def resample(values: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Linear resampling along axis 0 from ``fps_in`` to ``fps_out`` (end time kept inside)."""
    t_in = np.arange(values.shape[0]) / fps_in
    n_out = int(np.floor(t_in[-1] * fps_out + 1e-9)) + 1
    t_out = np.arange(n_out) / fps_out
    flat = values.reshape(values.shape[0], -1)
    out = np.stack([np.interp(t_out, t_in, flat[:, i]) for i in range(flat.shape[1])], axis=-1)
    return out.reshape((n_out,) + values.shape[1:])


def _initial_root(targets: np.ndarray, skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame rigid (Kabsch) fit of the rest pose's pelvis, hips and spine to the targets.

    targets: [T, 24, 3] -> (root_pos [T, 3], root_quat [T, 4]).
    """
    idx = [0, 1, 5, 9, 10]
    rest = skeleton.rest_positions()[idx]
    tgt = targets[:, idx]
    rc, tc = rest.mean(0), tgt.mean(1, keepdims=True)
    h = np.einsum("ji,tjk->tik", rest - rc, tgt - tc)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.einsum("tji,tkj->tik", vt, u)))
    fix = np.tile(np.eye(3), (len(d), 1, 1))
    fix[:, 2, 2] = d
    r = np.einsum("tji,tjk,tlk->til", vt, fix, u)
    quat = np.asarray(rot.matrix_to_quat(jnp.asarray(r)))
    return targets[:, 0].copy(), quat


def _make_solver(config: RetargetConfig):
    limits = jnp.asarray(mjcf.joint_ranges_rad())

    dof_eye = jnp.eye(6 + NUM_DOF)[6:]  # d(dof)/d(increment): [69, 75]
    reg_weight = config.smooth_weight + config.zero_weight

    def lm_step(pose: _Pose, target, weights, offsets, smooth_dof) -> _Pose:
        """One Gauss-Newton step with LM damping, using the analytic position Jacobian."""
        body_pos, body_quat = forward_kinematics(pose.root_pos, pose.root_quat, pose.dof, offsets)
        jac = position_jacobian(body_pos, body_quat, pose.dof).reshape(-1, 6 + NUM_DOF)  # [72, 75]
        w = jnp.repeat(weights, 3)
        r = (body_pos - target).reshape(-1)
        # Regularisers on the hinge angles: smooth (towards neighbours) and zero (towards 0).
        r_reg = config.smooth_weight * (pose.dof - smooth_dof) + config.zero_weight * pose.dof
        jtj = jac.T @ (w[:, None] * jac) + reg_weight * dof_eye.T @ dof_eye
        jtr = jac.T @ (w * r) + dof_eye.T @ r_reg
        lhs = jtj + config.damping * (jnp.eye(jtj.shape[0]) + jnp.diag(jnp.diag(jtj)))
        delta = -jnp.linalg.solve(lhs, jtr)
        root_quat = rot.quat_normalize(rot.quat_mul(rot.quat_from_rotvec(delta[3:6]), pose.root_quat))
        dof = jnp.clip(pose.dof + delta[6:], limits[:, 0], limits[:, 1])
        return _Pose(pose.root_pos + delta[:3], root_quat, dof)

    def solve(pose: _Pose, target, weights, offsets, smooth_dof, iterations: int) -> _Pose:
        return jax.lax.fori_loop(0, iterations, lambda _, p: lm_step(p, target, weights, offsets, smooth_dof), pose)

    def error(pose: _Pose, target, weights, offsets):
        body_pos, _ = forward_kinematics(pose.root_pos, pose.root_quat, pose.dof, offsets)
        return jnp.sum(weights * jnp.sum((body_pos - target) ** 2, -1))

    @jax.jit
    def solve_first(rigid: _Pose, target, weights, offsets) -> _Pose:
        """The first frame, from its rigid root fit with zero angles (cold start)."""
        return solve(rigid, target, weights, offsets, rigid.dof, config.first_frame_iterations)

    @jax.jit
    def solve_chunk(prev: _Pose, rigid: _Pose, targets, weights, offsets):
        """Frames in order from ``prev`` (the pose before them). rigid: per-frame rigid root
        fits with zero angles [C]; targets: [C, 24, 3]. Returns (poses [C], their joints)."""

        def frame(prev: _Pose, inputs):
            # Two starts, solved side by side: the previous frame's angles on this frame's
            # rigid root (continuity), and the rigid root with zero angles (recovers after a
            # frame the warm start could not follow). The lower error wins.
            cold, target = inputs
            warm = cold._replace(dof=prev.dof)
            starts = jax.tree.map(lambda a, b: jnp.stack([a, b]), warm, cold)
            fits = jax.vmap(solve, in_axes=(0, None, None, None, None, None))(
                starts, target, weights, offsets, prev.dof, config.iterations
            )
            errs = jax.vmap(error, in_axes=(0, None, None, None))(fits, target, weights, offsets)
            best = jax.tree.map(lambda x: x[jnp.argmin(errs)], fits)
            return best, best

        _, poses = jax.lax.scan(frame, prev, (rigid, targets))
        fitted, _ = forward_kinematics(poses.root_pos, poses.root_quat, poses.dof, offsets)
        return poses, fitted

    def solve_clip(rigid: _Pose, targets, weights, offsets):
        """rigid: [T] with T a multiple of ``config.chunk_frames``; targets: [T, 24, 3]."""
        prev = solve_first(jax.tree.map(lambda x: x[0], rigid), targets[0], weights, offsets)
        poses, fitted = [], []
        for start in range(0, targets.shape[0], config.chunk_frames):
            chunk = slice(start, start + config.chunk_frames)
            p, f = solve_chunk(
                prev, jax.tree.map(lambda x, chunk=chunk: x[chunk], rigid), targets[chunk], weights, offsets
            )
            prev = jax.tree.map(lambda x: x[-1], p)
            poses.append(p)
            fitted.append(f)
        return jax.tree.map(lambda *x: jnp.concatenate(x), *poses), jnp.concatenate(fitted)

    return solve_clip


@dataclasses.dataclass(frozen=True)
class RetargetReport:
    """Quality of one retargeted clip (all lengths in millimetres)."""

    name: str
    frames: int
    duration_s: float
    joint_error_mean_mm: float
    joint_error_max_mm: float
    foot_penetration_mean_mm: float
    foot_penetration_max_mm: float
    foot_skating_mm_per_frame: float


_SOLVERS: dict[RetargetConfig, object] = {}


def retarget(source, config: RetargetConfig = RetargetConfig()) -> tuple[Clip, RetargetReport]:
    """Fit the humanoid (with the source's bone lengths) to ``source.joints_m``."""
    targets = resample(np.asarray(source.joints_m, np.float64), source.fps, config.fps)
    skeleton: Skeleton = source.skeleton
    num_frames = len(targets)
    padded = -(-num_frames // config.chunk_frames) * config.chunk_frames
    targets_padded = np.concatenate([targets, np.repeat(targets[-1:], padded - num_frames, axis=0)])
    root_pos0, root_quat0 = _initial_root(targets_padded, skeleton)
    init = _Pose(jnp.asarray(root_pos0), jnp.asarray(root_quat0), jnp.zeros((padded, NUM_DOF)))
    if config not in _SOLVERS:
        _SOLVERS[config] = _make_solver(config)
    weights = np.asarray(getattr(source, "weights", np.ones(len(PARENTS))), np.float64)
    poses, fitted = _SOLVERS[config](
        init, jnp.asarray(targets_padded), jnp.asarray(weights), jnp.asarray(skeleton.offsets_m)
    )
    root_pos = np.asarray(poses.root_pos, np.float64)[:num_frames]
    root_quat = np.asarray(poses.root_quat, np.float64)[:num_frames]
    dof = np.asarray(poses.dof, np.float64)[:num_frames]
    err = np.linalg.norm(np.asarray(fitted)[:num_frames] - targets, axis=-1)

    clip = Clip(
        name=source.name,
        fps=config.fps,
        root_pos_m=root_pos,
        root_quat=root_quat,
        dof=dof,
        skeleton=skeleton,
        source=str(getattr(source, "path", source.name)),
    ).validate()
    clip = ground_clip(clip, config.ground_percentile)
    quality = foot_quality(clip)
    report = RetargetReport(
        name=source.name,
        frames=clip.num_frames,
        duration_s=round(clip.duration_s, 3),
        joint_error_mean_mm=float(1e3 * err.mean()),
        joint_error_max_mm=float(1e3 * err.max()),
        **quality,
    )
    return clip, report


def clip_sole_points(clip: Clip) -> np.ndarray:
    """[T, 4, 3] world sole points of a clip."""
    return world_sole_points(clip.root_pos_m, clip.root_quat, clip.dof, clip.skeleton)


def ground_offset(root_pos, root_quat, dof, skeleton: Skeleton, percentile: float) -> float:
    """Height to subtract so that the given percentile of the per-frame lowest sole is at 0."""
    soles = world_sole_points(root_pos, root_quat, dof, skeleton)
    return float(np.percentile(soles[..., 2].min(-1), percentile))


def ground_clip(clip: Clip, percentile: float = RetargetConfig.ground_percentile) -> Clip:
    """The clip shifted vertically so that its feet stand on z = 0 (see ``ground_offset``)."""
    root_pos = clip.root_pos_m.copy()
    root_pos[:, 2] -= ground_offset(clip.root_pos_m, clip.root_quat, clip.dof, clip.skeleton, percentile)
    return dataclasses.replace(clip, root_pos_m=root_pos)


def on_skeleton(clip: Clip, skeleton: Skeleton) -> Clip:
    """The clip's hinge angles and root path played on another body, feet re-grounded.

    PHC trains one humanoid (the mean body) on motions of many subjects the same way:
    joint rotations are kept, positions follow from the humanoid's own bone lengths.
    The root's horizontal path is kept as is, so a much shorter body strides further
    than its legs reach (a few per cent for adult subjects; the policy absorbs it).
    """
    if np.array_equal(clip.skeleton.offsets_m, skeleton.offsets_m):
        return clip
    return ground_clip(dataclasses.replace(clip, skeleton=skeleton))


CONTACT_HEIGHT_M = 0.01  # a sole point within 1 cm of the floor is in contact


def foot_quality(clip: Clip) -> dict[str, float]:
    """Penetration (below z = 0) and skating (xy motion while within 1 cm of the floor) of
    the four sole points, with the evaluation metrics' definitions (``eval/physical.py``)."""
    soles = jnp.asarray(clip_sole_points(clip))
    sole_ids = tuple(range(soles.shape[-2]))
    penetration_mean, penetration = physical.ground_penetration_m(soles, sole_ids)
    skating, _ = physical.foot_sliding_m(soles, sole_ids, contact_height_m=CONTACT_HEIGHT_M)
    return {
        "foot_penetration_mean_mm": float(1e3 * penetration_mean),
        "foot_penetration_max_mm": float(1e3 * penetration.max()),
        "foot_skating_mm_per_frame": float(1e3 * skating),
    }


__all__ = [
    "RetargetConfig",
    "RetargetReport",
    "clip_sole_points",
    "foot_quality",
    "ground_clip",
    "on_skeleton",
    "resample",
    "retarget",
]
