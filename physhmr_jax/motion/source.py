"""A source motion: world positions of the 24 SMPL-topology joints, before retargeting.

Loaders of joint-position formats (BVH, :mod:`physhmr_jax.motion.bvh`) produce a
:class:`SourceMotion`; :func:`physhmr_jax.motion.retarget.retarget` fits the humanoid to it
and returns a :class:`~physhmr_jax.motion.clip.Clip`. Host-side numpy only.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from physhmr_jax.humanoid.skeleton import NUM_BODIES, Skeleton


@dataclasses.dataclass(frozen=True)
class SourceMotion:
    """Joint positions of one captured motion, in our world frame and body order.

    Attributes:
      name: short identifier (the file stem).
      path: the file it was read from.
      fps: frames per second of ``joints_m``.
      joints_m: [T, 24, 3] world positions (metres; z up, the subject's rest facing +x)
        of the 24 bodies in ``skeleton.BODY_NAMES`` order.
      skeleton: bone offsets of a humanoid with the source's bone lengths.
      weights: [24] per-body confidence for the IK fit: 1 for joints the source measures
        directly, lower for points interpolated from them.
      layout: which joint naming the file used (e.g. ``"cmu-mb"``, ``"cmu-3dsmax"``).
    """

    name: str
    path: str
    fps: float
    joints_m: np.ndarray
    skeleton: Skeleton
    weights: np.ndarray
    layout: str = ""

    def __post_init__(self):
        joints = np.asarray(self.joints_m, dtype=np.float64)
        weights = np.asarray(self.weights, dtype=np.float64)
        if joints.ndim != 3 or joints.shape[1:] != (NUM_BODIES, 3):
            raise ValueError(f"joints_m must have shape (T, {NUM_BODIES}, 3), got {joints.shape}")
        if weights.shape != (NUM_BODIES,):
            raise ValueError(f"weights must have shape ({NUM_BODIES},), got {weights.shape}")
        object.__setattr__(self, "joints_m", joints)
        object.__setattr__(self, "weights", weights)

    @property
    def num_frames(self) -> int:
        return int(self.joints_m.shape[0])

    @property
    def duration_s(self) -> float:
        return (self.num_frames - 1) / self.fps
