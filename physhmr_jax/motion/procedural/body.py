"""The skeleton as the procedural planners see it: leg geometry, and hinge-angle setters.

Conventions (``humanoid/skeleton.py``): world z up; rest T-pose facing +x, left = +y.
Hip flexion is negative hip y, knee flexion positive knee y, ankle dorsiflexion negative
ankle y; the left arm comes down by L_Shoulder x = -90 deg; left elbow flexion is
negative L_Elbow z. Right-side angles mirror the left ones (x and z negate, y stays).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from physhmr_jax.geometry.rotations_np import axis_rotation, matrix_to_euler_xyz
from physhmr_jax.humanoid import mjcf
from physhmr_jax.humanoid.skeleton import BODY_INDEX, Skeleton, mean_skeleton

FOOT_SOLE_ROWS = ((0, 1), (2, 3))  # rows of sole_points_local: (heel, toe tip) per foot, L then R
# Spine hinges share a trunk rotation relative to the pelvis: Torso, Spine, Chest.
SPINE_SHARE = {"Torso": 0.3, "Spine": 0.3, "Chest": 0.4}
HEAD_SHARE = 0.5  # of a head rotation, on each of Neck and Head
# Mirroring a left-side Euler triple to the right side (reflecting y negates x and z).
_MIRROR_EULER = np.array([-1.0, 1.0, -1.0])


@dataclasses.dataclass(frozen=True)
class LegGeometry:
    """Lengths of the skeleton the planner needs; rows are (left, right)."""

    hip_off: np.ndarray  # [2, 3] hip joints in the pelvis frame
    thigh: np.ndarray  # [2, 3] knee in the hip frame
    shin: np.ndarray  # [2, 3] ankle in the knee frame
    heel: np.ndarray  # [2, 3] heel sole point in the ankle frame
    tip: np.ndarray  # [2, 3] toe-tip sole point in the ankle frame (toe hinge at 0)
    leg_reach: np.ndarray  # [2] longest hip-ankle distance

    @classmethod
    def of(cls, skeleton: Skeleton) -> LegGeometry:
        off = skeleton.offsets_m
        sole = mjcf.sole_points_local(skeleton)
        sides = [("L_Hip", "L_Knee", "L_Ankle", "L_Toe"), ("R_Hip", "R_Knee", "R_Ankle", "R_Toe")]
        hip = np.stack([off[BODY_INDEX[s[0]]] for s in sides])
        thigh = np.stack([off[BODY_INDEX[s[1]]] for s in sides])
        shin = np.stack([off[BODY_INDEX[s[2]]] for s in sides])
        heel = np.stack([sole[r[0]] for r in FOOT_SOLE_ROWS])
        tip = np.stack([sole[r[1]] + off[BODY_INDEX[s[3]]] for r, s in zip(FOOT_SOLE_ROWS, sides, strict=True)])
        planar = np.linalg.norm(thigh[:, [0, 2]], axis=-1) + np.linalg.norm(shin[:, [0, 2]], axis=-1)
        reach = np.sqrt(planar**2 + (thigh[:, 1] + shin[:, 1]) ** 2)
        return cls(hip, thigh, shin, heel, tip, reach)

    @property
    def size(self) -> float:
        """Leg length relative to the built-in mean body."""
        return float(self.leg_reach[0] / LegGeometry.of(mean_skeleton()).leg_reach[0])

    @property
    def sole_below_ankle_m(self) -> float:
        return float(-self.heel[0, 2])

    def standing_height(self, reach_fraction: float) -> float:
        """Pelvis height with both ankles straight below the hips at ``reach_fraction``."""
        return float(-self.hip_off[0, 2] + reach_fraction * self.leg_reach[0] + self.sole_below_ankle_m)


def set_angles(dof: np.ndarray, body: str, angles) -> None:
    """Write the three hinge angles of ``body`` into ``dof`` [T, 69]."""
    b = BODY_INDEX[body]
    dof[:, 3 * (b - 1) : 3 * b] = angles


def get_angles(dof: np.ndarray, body: str) -> np.ndarray:
    """The three hinge angles of ``body`` in ``dof`` [T, 69] (a view)."""
    b = BODY_INDEX[body]
    return dof[:, 3 * (b - 1) : 3 * b]


def mirror_euler(angles: np.ndarray) -> np.ndarray:
    """Left-side Euler angles -> the mirrored right-side ones."""
    return angles * _MIRROR_EULER


def set_pair(dof: np.ndarray, joint: str, left, right) -> None:
    """Set L_<joint> to ``left`` and R_<joint> to the mirror of ``right`` (both given as left-side angles)."""
    set_angles(dof, f"L_{joint}", left)
    set_angles(dof, f"R_{joint}", mirror_euler(np.asarray(right)))


def arm_down(swing_fwd, abduction) -> np.ndarray:
    """Left shoulder Euler [T, 3] for an arm hanging ``abduction`` out from vertical, swung forward."""
    m = axis_rotation(1, -np.asarray(swing_fwd)) @ axis_rotation(0, -(np.pi / 2 - np.asarray(abduction)))
    return matrix_to_euler_xyz(m)


def trunk_and_head(dof, trunk_rpy, head_rpy) -> None:
    """Spread a trunk rotation over the spine hinges and a head rotation over neck and head.

    ``trunk_rpy``/``head_rpy`` [T, 3]: (roll about x, pitch about y: > 0 leans forward, yaw about z).
    """
    for body, share in SPINE_SHARE.items():
        set_angles(dof, body, share * trunk_rpy)
    set_angles(dof, "Neck", HEAD_SHARE * head_rpy)
    set_angles(dof, "Head", HEAD_SHARE * head_rpy)
