"""The SMPL-topology skeleton: body names, tree, rest offsets and the built-in mean body.

Frame conventions (the whole project uses them):
  * world: z up, metres, gravity along -z;
  * rest pose: a T-pose facing +x with the left side along +y (arms along +-y, legs along -z);
  * every body frame is aligned with the world in the rest pose, so a bone offset is
    expressed in its parent's frame and the 69 hinge angles ``dof`` are, per body,
    the intrinsic x-y-z Euler angles of its rotation relative to the parent
    (``dof[3*(b-1):3*b]`` belongs to body ``b``, b = 1..23).

Body order is MuJoCo's depth-first order of the generated MJCF (``mj_model.body(b + 1)``
is body ``b``), which is also PHC's "mujoco order". ``SMPL_INDEX[b]`` gives the index of
body ``b`` in the SMPL/AMASS joint order.

The mean body's offsets are the SMPL neutral mean shape's joint offsets as they appear
in PHC's SMPL humanoid (z-up, facing +x), rounded to millimetres and made symmetric.
"""

from __future__ import annotations

import dataclasses

import numpy as np

BODY_NAMES: tuple[str, ...] = (
    "Pelvis",
    "L_Hip", "L_Knee", "L_Ankle", "L_Toe",
    "R_Hip", "R_Knee", "R_Ankle", "R_Toe",
    "Torso", "Spine", "Chest", "Neck", "Head",
    "L_Thorax", "L_Shoulder", "L_Elbow", "L_Wrist", "L_Hand",
    "R_Thorax", "R_Shoulder", "R_Elbow", "R_Wrist", "R_Hand",
)  # fmt: skip
NUM_BODIES = len(BODY_NAMES)  # 24
NUM_DOF = 3 * (NUM_BODIES - 1)  # 69 hinge joints
BODY_INDEX = {name: i for i, name in enumerate(BODY_NAMES)}

PARENTS: tuple[int, ...] = (
    -1,
    0, 1, 2, 3,
    0, 5, 6, 7,
    0, 9, 10, 11, 12,
    11, 14, 15, 16, 17,
    11, 19, 20, 21, 22,
)  # fmt: skip

# Body b -> index in the SMPL joint order (pelvis, L_hip, R_hip, spine1, L_knee, ...).
SMPL_INDEX: tuple[int, ...] = (0, 1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12, 15, 13, 16, 18, 20, 22, 14, 17, 19, 21, 23)

# Mirror partner of each body (left <-> right), for symmetric construction and augmentation.
MIRROR: tuple[int, ...] = tuple(
    BODY_INDEX[n.replace("L_", "R_") if n.startswith("L_") else n.replace("R_", "L_")] for n in BODY_NAMES
)

# The 12 joints whose rays the vision policy sees (PhysHMR's pixel-as-ray input): shoulders,
# elbows, wrists, hips, knees, ankles.
RAY_BODIES: tuple[int, ...] = tuple(
    BODY_INDEX[n]
    for n in (
        "L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow", "L_Wrist", "R_Wrist",
        "L_Hip", "R_Hip", "L_Knee", "R_Knee", "L_Ankle", "R_Ankle",
    )
)  # fmt: skip

FOOT_BODIES: tuple[int, ...] = (BODY_INDEX["L_Ankle"], BODY_INDEX["L_Toe"], BODY_INDEX["R_Ankle"], BODY_INDEX["R_Toe"])

# Left-side offsets (parent frame, metres) of the mean adult body; the right side mirrors y.
_MEAN_LEFT_AND_CENTRE_M = {
    "Pelvis": (0.0, 0.0, 0.0),
    "L_Hip": (-0.005, 0.069, -0.091),
    "L_Knee": (-0.007, 0.036, -0.379),
    "L_Ankle": (-0.043, -0.015, -0.401),
    "L_Toe": (0.121, 0.026, -0.052),
    "Torso": (-0.027, 0.0, 0.109),
    "Spine": (0.001, 0.0, 0.135),
    "Chest": (0.025, 0.0, 0.053),
    "Neck": (-0.043, 0.0, 0.214),
    "Head": (0.051, 0.0, 0.065),
    "L_Thorax": (-0.036, 0.080, 0.120),
    "L_Shoulder": (-0.009, 0.094, 0.032),
    "L_Elbow": (-0.024, 0.257, -0.013),
    "L_Wrist": (-0.003, 0.252, 0.008),
    "L_Hand": (-0.013, 0.084, -0.007),
}


def _mean_offsets() -> np.ndarray:
    out = np.zeros((NUM_BODIES, 3))
    for i, name in enumerate(BODY_NAMES):
        if name in _MEAN_LEFT_AND_CENTRE_M:
            out[i] = _MEAN_LEFT_AND_CENTRE_M[name]
        else:
            left = np.array(_MEAN_LEFT_AND_CENTRE_M[name.replace("R_", "L_")])
            out[i] = left * np.array([1.0, -1.0, 1.0])
    return out


@dataclasses.dataclass(frozen=True)
class Skeleton:
    """Bone offsets of one body in the rest pose.

    Attributes:
      offsets_m: [24, 3] position of each body's joint in its parent's frame (metres);
        row 0 (the root) is zero.
      name: where the skeleton came from ("mean", or a motion file's stem).
    """

    offsets_m: np.ndarray
    name: str = "mean"

    def __post_init__(self):
        offsets = np.asarray(self.offsets_m, dtype=np.float64)
        if offsets.shape != (NUM_BODIES, 3):
            raise ValueError(f"skeleton offsets must have shape ({NUM_BODIES}, 3), got {offsets.shape}")
        if not np.all(np.isfinite(offsets)):
            raise ValueError("skeleton offsets contain NaN or inf")
        object.__setattr__(self, "offsets_m", offsets)

    def rest_positions(self) -> np.ndarray:
        """[24, 3] joint positions in the rest pose with the pelvis at the origin."""
        pos = np.zeros((NUM_BODIES, 3))
        for b in range(1, NUM_BODIES):
            pos[b] = pos[PARENTS[b]] + self.offsets_m[b]
        return pos

    def bone_lengths(self) -> np.ndarray:
        return np.linalg.norm(self.offsets_m, axis=-1)

    def pelvis_height_m(self) -> float:
        """Pelvis height above the lowest foot joint in the rest pose."""
        rest = self.rest_positions()
        return float(-rest[list(FOOT_BODIES), 2].min())


def mean_skeleton() -> Skeleton:
    """The built-in mean adult body (about 1.7 m tall)."""
    return Skeleton(_mean_offsets(), name="mean")


def children(b: int) -> list[int]:
    return [c for c in range(NUM_BODIES) if PARENTS[c] == b]


def standing_dof() -> np.ndarray:
    """[69] a relaxed standing pose: arms by the sides, knees slightly bent.

    Signs follow the frame conventions above: hip flexion is negative about y, knee
    flexion positive about y; the left arm comes down from the T-pose by -x rotation.
    """
    dof = np.zeros(NUM_DOF)

    def set_angle(body: str, axis: int, angle_rad: float):
        dof[3 * (BODY_INDEX[body] - 1) + axis] = angle_rad

    for side in ("L", "R"):
        set_angle(f"{side}_Hip", 1, -0.15)
        set_angle(f"{side}_Knee", 1, 0.3)
        set_angle(f"{side}_Ankle", 1, -0.15)
    set_angle("L_Shoulder", 0, -1.3)
    set_angle("R_Shoulder", 0, 1.3)
    set_angle("L_Elbow", 2, -0.2)
    set_angle("R_Elbow", 2, 0.2)
    return dof
