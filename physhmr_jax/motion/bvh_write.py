"""Writing a clip as BVH: our 24 bodies as BVH joints, readable by any BVH tool and by
:func:`physhmr_jax.motion.bvh.load_bvh` (layout ``physhmr``).

The file follows BVH's usual conventions, so viewers show it upright: y up, the subject
facing +z, centimetres. Our frame (z up, facing +x, left +y) maps to BVH's by the
permutation of :data:`~physhmr_jax.motion.bvh.BVH_TO_OURS` (ours = (z, x, y) of BVH), under
which our x, y and z axes are BVH's z, x and y. A body's three hinges compose as
``Rx(a) Ry(b) Rz(c)`` in our frame (:mod:`physhmr_jax.humanoid.kinematics`), which is
``Rz(a) Rx(b) Ry(c)`` about BVH's axes: every joint gets the channels ``Zrotation Xrotation
Yrotation`` holding its own hinge angles (degrees), so no Euler conversion is involved. The
root adds ``Xposition Yposition Zposition`` and its orientation as the same three angles
(intrinsic x-y-z in our frame). Joint names are our body names; every leaf carries an End
Site 5 cm along its bone.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from physhmr_jax.geometry.rotations_np import Y_UP_TO_OURS, continuous_euler_xyz
from physhmr_jax.humanoid.skeleton import BODY_NAMES, NUM_BODIES, PARENTS
from physhmr_jax.motion.clip import Clip

BVH_UNIT_M = 0.01  # this writer's unit: centimetres
END_SITE_M = 0.05  # leaf End Sites this far along the leaf's bone
ROOT_CHANNELS = "Xposition Yposition Zposition Zrotation Xrotation Yrotation"
JOINT_CHANNELS = "Zrotation Xrotation Yrotation"


def _to_bvh(v: np.ndarray) -> np.ndarray:
    """Our frame -> BVH's (y up, facing +z), in centimetres: bvh = M^T ours / unit."""
    return np.asarray(v, np.float64) @ Y_UP_TO_OURS / BVH_UNIT_M


def _root_matrices(root_quat_wxyz: np.ndarray) -> np.ndarray:
    q = np.asarray(root_quat_wxyz, np.float64)
    return Rotation.from_quat(np.concatenate([q[:, 1:], q[:, :1]], axis=-1)).as_matrix()


def bvh_text(clip: Clip) -> str:
    """The BVH file of ``clip`` as text (see the module docstring for the conventions)."""
    offsets = _to_bvh(clip.skeleton.offsets_m)
    children = {b: [c for c in range(1, NUM_BODIES) if PARENTS[c] == b] for b in range(NUM_BODIES)}
    lines = ["HIERARCHY"]

    def joint(b: int, depth: int) -> None:
        pad = "  " * depth
        kind = "ROOT" if b == 0 else "JOINT"
        lines.append(f"{pad}{kind} {BODY_NAMES[b]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {offsets[b, 0]:.6f} {offsets[b, 1]:.6f} {offsets[b, 2]:.6f}")
        channels = ROOT_CHANNELS if b == 0 else JOINT_CHANNELS
        lines.append(f"{pad}  CHANNELS {len(channels.split())} {channels}")
        for c in children[b]:
            joint(c, depth + 1)
        if not children[b]:
            bone = clip.skeleton.offsets_m[b]
            tip = _to_bvh(END_SITE_M * bone / max(np.linalg.norm(bone), 1e-9))
            lines.append(f"{pad}  End Site")
            lines.append(f"{pad}  {{")
            lines.append(f"{pad}    OFFSET {tip[0]:.6f} {tip[1]:.6f} {tip[2]:.6f}")
            lines.append(f"{pad}  }}")
        lines.append(f"{pad}}}")

    joint(0, 0)
    root_angles = continuous_euler_xyz(_root_matrices(clip.root_quat)[:, None])[:, 0]  # [T, 3]: Rx Ry Rz, ours
    dof = np.asarray(clip.dof, np.float64).reshape(clip.num_frames, NUM_BODIES - 1, 3)
    order = _depth_first(children)
    lines += ["MOTION", f"Frames: {clip.num_frames}", f"Frame Time: {1.0 / clip.fps:.8f}"]
    root_pos = _to_bvh(clip.root_pos_m)
    for t in range(clip.num_frames):
        values = [*root_pos[t], *np.rad2deg(root_angles[t])]
        for b in order[1:]:
            values += list(np.rad2deg(dof[t, b - 1]))
        lines.append(" ".join(f"{v:.6f}" for v in values))
    return "\n".join(lines) + "\n"


def _depth_first(children: dict[int, list[int]]) -> list[int]:
    """Joint order of the HIERARCHY (and so of the MOTION channels): depth-first from the root."""
    out, stack = [], [0]
    while stack:
        b = stack.pop()
        out.append(b)
        stack.extend(reversed(children[b]))
    return out


def write_bvh(path: str | os.PathLike, clip: Clip) -> Path:
    """Write ``clip`` as a BVH file (atomically: a temporary file, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(bvh_text(clip))
    os.replace(tmp, path)
    return path


__all__ = ["BVH_UNIT_M", "bvh_text", "write_bvh"]
