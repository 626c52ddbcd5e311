"""CMU BVH motions: the CMU skeleton mapped onto our 24 bodies.

Parsing and the file's own forward kinematics are in :mod:`physhmr_jax.motion.bvh_file`.

:func:`load_bvh` turns a CMU BVH (the cgspeed "MotionBuilder-friendly" naming, MB-2008,
MB-2010 and our MB-conv files, or the "3dsMax-friendly" naming) into a
:class:`~physhmr_jax.motion.source.SourceMotion`: the 24 SMPL-topology joints in our world
frame (z up, facing +x, left +y) in metres, and a skeleton with the subject's bone
lengths. The conventions follow ``shared/data/mocap/cmu/README.md``:

* units: CMU ASF units, 0.056444 m each ((1/0.45) * 2.54 cm, CMU FAQ);
* frame: BVH is y up, facing +z, left +x; ours = (z_bvh, x_bvh, y_bvh) (a rotation);
* synthetic T-pose: cgspeed's MB-2008/MB-2010 files start with a made-up T-pose frame.
  Auto rule (``drop_first_frame=None``): frame 0 is synthetic when its root rotation is
  exactly zero and every rotation channel of frame 0 is a whole number of degrees with at
  least one of them non-zero. Captured frames never look like that (their angles carry
  4 decimals), and the cgspeed frame is exactly so (UpLeg Z +-17/21, Arm Z -+5/8, ...).
* thorax quirk: amc2bvh puts the neck base and both clavicles at the *base* of the CMU
  thorax bone (OFFSET 0 under ``Spine1``/``Chest2``), so shoulders and head sit ~12 cm
  too low. With ``restore_thorax=True`` (default) those three OFFSETs become the
  upperback bone vector (the ``Spine1``/``Chest2`` OFFSET): in the ASF files the thorax
  and upperback bones agree within 3% in length and a few degrees in direction, and with
  the fix the Chest->Neck distance (~20 cm) matches the SMPL mean body's (21 cm).

Mapping CMU bone -> our body (both namings share it; MB name / 3dsmax name):

* Pelvis = root (Hips); L_Hip = lfemur (LeftUpLeg / LeftHip); L_Knee = ltibia
  (LeftLeg / LeftKnee); L_Ankle = lfoot (LeftFoot / LeftAnkle); L_Toe = ltoes
  (LeftToeBase / LeftToe);
* Spine = upperback (Spine / Chest); Chest = thorax (Spine1 / Chest2); Neck = upperneck
  (Neck1 / Neck); Head = head (Head); Torso = midpoint of root and upperback (virtual);
* L_Thorax = 1/3 of the way from lclavicle (LeftShoulder / LeftCollar) to lhumerus
  (virtual); L_Shoulder = lhumerus (LeftArm / LeftShoulder); L_Elbow = lradius
  (LeftForeArm / LeftElbow); L_Wrist = lwrist (LeftHand / LeftWrist);
* L_Hand = the tip of the CMU hand (the End Site of lfingers, LeftHandIndex1 / LFingers),
  ~6.7 cm beyond the wrist. amc2bvh drops the lwrist bone (lhand sits on the wrist), so
  the lfingers *joint* is only ~3.7 cm from the wrist; the tip is the point closest to
  the mean body's 8.4 cm. Its position is taken with the lfingers rotation zeroed (CMU
  does not capture the fingers), so it follows the captured lhand rotation only. Without
  finger joints the hand is extrapolated along the forearm (weight 0.25).

The right side is the same with Right/R. Virtual points get IK weight 0.5.

Skeleton (:func:`skeleton_from_rest`): offsets from the source's rest geometry (all
channels zero, thorax restored, our frame), except that the arm chain, the thorax and the
thigh and shank take the source's bone length along the mean body's direction: the
3dsMax files rest with the arms down and the CMU ASF rest splays each leg ~20 deg outward
(cgspeed's synthetic T-pose rotates UpLeg by +-17..21 deg to straighten it), while our
humanoid rests in a T-pose with straight legs.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from physhmr_jax.geometry.rotations_np import Y_UP_TO_OURS
from physhmr_jax.humanoid.skeleton import BODY_INDEX, BODY_NAMES, NUM_BODIES, PARENTS, Skeleton, mean_skeleton
from physhmr_jax.motion.bvh_file import (
    BvhData,
    bvh_local_transforms,
    bvh_rest_positions,
    bvh_world_positions,
    bvh_world_transforms,
    parse_bvh,
)
from physhmr_jax.motion.clip import MotionFileError
from physhmr_jax.motion.source import SourceMotion

CMU_UNIT_M = 2.54 / 45.0  # (1 / 0.45) inch per ASF unit = 0.056444 m (CMU FAQ)
MIN_OFFSET_M = 0.01  # shorter skeleton offsets are degenerate and replaced
VIRTUAL_WEIGHT = 0.5  # IK weight of points interpolated between measured joints
EXTRAPOLATED_WEIGHT = 0.25  # IK weight of a hand guessed from the forearm
THORAX_FRACTION = 1.0 / 3.0  # L_Thorax: this far from the clavicle joint to the humerus joint

# BVH (y up, facing +z, left +x) -> ours (z up, facing +x, left +y): ours = (z, x, y).
BVH_TO_OURS = Y_UP_TO_OURS


# ---------------------------------------------------------------------------------------
# CMU skeletons -> the 24 SMPL-topology bodies

# CMU bone -> joint name, per naming scheme. Keys ending in "?" are optional.
_CMU_LAYOUTS: dict[str, dict[str, tuple[str, ...]]] = {
    # cgspeed "MotionBuilder-friendly" (MB-2008, MB-2010) and our MB-conv files.
    "cmu-mb": {
        "root": ("Hips",),
        "upperback": ("Spine",),
        "thorax": ("Spine1",),
        "lowerneck?": ("Neck",),
        "upperneck": ("Neck1",),
        "head": ("Head",),
        **{
            f"{s}{bone}": (f"{side}{name}",)
            for s, side in (("l", "Left"), ("r", "Right"))
            for bone, name in (
                ("femur", "UpLeg"),
                ("tibia", "Leg"),
                ("foot", "Foot"),
                ("toes", "ToeBase"),
                ("clavicle", "Shoulder"),
                ("humerus", "Arm"),
                ("radius", "ForeArm"),
                ("wrist", "Hand"),
            )
        },
        "lfingers?": ("LeftHandIndex1", "LFingers"),  # MB-2010 / MB-2008
        "rfingers?": ("RightHandIndex1", "RFingers"),
    },
    # cgspeed "3dsMax-friendly": LeftShoulder is the upper arm here, the clavicle in MB.
    "cmu-3dsmax": {
        "root": ("Hips",),
        "upperback": ("Chest",),
        "thorax": ("Chest2",),
        "lowerneck?": ("lowerneck",),
        "upperneck": ("Neck",),
        "head": ("Head",),
        **{
            f"{s}{bone}": (f"{side}{name}",)
            for s, side in (("l", "Left"), ("r", "Right"))
            for bone, name in (
                ("femur", "Hip"),
                ("tibia", "Knee"),
                ("foot", "Ankle"),
                ("toes", "Toe"),
                ("clavicle", "Collar"),
                ("humerus", "Shoulder"),
                ("radius", "Elbow"),
                ("wrist", "Wrist"),
            )
        },
        "lfingers?": ("LFingers",),
        "rfingers?": ("RFingers",),
    },
}

# Our body -> the CMU bone whose joint it is (virtual bodies are built in _cmu_points).
_BODY_BONE = {
    "Pelvis": "root", "Spine": "upperback", "Chest": "thorax", "Neck": "upperneck", "Head": "head",
    **{f"{S}_{body}": f"{s}{bone}" for S, s in (("L", "l"), ("R", "r")) for body, bone in (
        ("Hip", "femur"), ("Knee", "tibia"), ("Ankle", "foot"), ("Toe", "toes"),
        ("Shoulder", "humerus"), ("Elbow", "radius"), ("Wrist", "wrist"),
    )},
}  # fmt: skip

# Bodies whose skeleton offset takes the source's length along the mean body's direction:
# the arm chain (3dsmax rests with the arms down; our rest is a T-pose), the thorax, and
# the thigh and shank (the CMU ASF rest splays each leg ~20 deg outward; cgspeed's
# synthetic T-pose frame undoes it with UpLeg Z +-17..21 deg; our rest stands straight).
_MEAN_DIRECTION_BODIES = frozenset(
    f"{side}_{body}" for side in "LR" for body in ("Thorax", "Shoulder", "Elbow", "Wrist", "Hand", "Knee", "Ankle")
)


def _detect_layout(path, names: tuple[str, ...]) -> tuple[str, dict[str, int]]:
    """Pick the CMU naming scheme from the joint names; return it and bone -> joint index."""
    present = set(names)

    def resolve(layout: str) -> tuple[dict[str, int], list[str]]:
        found, missing = {}, []
        for bone, candidates in _CMU_LAYOUTS[layout].items():
            hit = next((n for n in candidates if n in present), None)
            if hit is not None:
                found[bone.rstrip("?")] = names.index(hit)
            elif not bone.endswith("?"):
                missing.append(" or ".join(candidates))
        return found, missing

    # LeftUpLeg only exists in MB; LeftHip/LeftKnee only in 3dsmax. Names decide, not
    # LeftShoulder, which means a different bone in each scheme.
    if "LeftUpLeg" in present or "RightUpLeg" in present:
        layout = "cmu-mb"
    elif {"LeftHip", "LeftKnee"} & present or {"RightHip", "RightKnee"} & present:
        layout = "cmu-3dsmax"
    else:
        layout = min(_CMU_LAYOUTS, key=lambda name: len(resolve(name)[1]))
    bones, missing = resolve(layout)
    if missing:
        known = "a CMU skeleton (cgspeed MotionBuilder or 3dsMax naming)"
        raise MotionFileError(
            path,
            f"unknown joint layout: expected {known}; missing required joint(s) for {layout}: "
            f"{', '.join(missing)} (file has {len(names)} joints: {', '.join(names[:8])}{', ...' if len(names) > 8 else ''})",
        )
    return layout, bones


def is_synthetic_tpose(data: BvhData) -> bool:
    """Whether frame 0 is cgspeed's made-up T-pose (see the module docstring for the rule)."""
    if data.num_frames < 2:
        return False
    start = data.channel_start()
    root_rot, other_rot = [], []
    for joint, (s, channels) in enumerate(zip(start, data.channels, strict=True)):
        cols = [s + k for k, c in enumerate(channels) if c.endswith("rotation")]
        (root_rot if data.parents[joint] < 0 else other_rot).extend(cols)
    frame0 = data.motion[0]
    rot0 = frame0[other_rot]
    return bool(np.all(frame0[root_rot] == 0.0) and np.all(rot0 == np.round(rot0)) and np.any(rot0 != 0.0))


def _restore_thorax(data: BvhData, bones: dict[str, int]) -> BvhData:
    """Move the neck base and clavicles from the thorax's base to its top (amc2bvh quirk).

    Only when all of them sit at OFFSET 0 under the thorax joint and nothing else below it
    marks its length; the thorax bone vector is estimated by the upperback bone vector.
    """
    thorax = bones["thorax"]
    kids = [j for j, p in enumerate(data.parents) if p == thorax]
    if not kids or np.any(data.offsets[kids] != 0.0):
        return data
    if data.parents[thorax] != bones["upperback"]:
        return data
    offsets = data.offsets.copy()
    offsets[kids] = data.offsets[thorax]
    return dataclasses.replace(data, offsets=offsets)


def _cmu_points(
    world_rot: np.ndarray, world_pos: np.ndarray, data: BvhData, bones: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """[T, 24, 3] body points (file frame and units) and [24] IK weights from the BVH's FK."""
    t = world_pos.shape[0]
    points = np.zeros((t, NUM_BODIES, 3))
    weights = np.ones(NUM_BODIES)
    for body, bone in _BODY_BONE.items():
        points[:, BODY_INDEX[body]] = world_pos[:, bones[bone]]
    points[:, BODY_INDEX["Torso"]] = 0.5 * (world_pos[:, bones["root"]] + world_pos[:, bones["upperback"]])
    weights[BODY_INDEX["Torso"]] = VIRTUAL_WEIGHT
    for side, s in (("L", "l"), ("R", "r")):
        clavicle, humerus = world_pos[:, bones[f"{s}clavicle"]], world_pos[:, bones[f"{s}humerus"]]
        points[:, BODY_INDEX[f"{side}_Thorax"]] = clavicle + THORAX_FRACTION * (humerus - clavicle)
        weights[BODY_INDEX[f"{side}_Thorax"]] = VIRTUAL_WEIGHT
        hand = BODY_INDEX[f"{side}_Hand"]
        fingers = bones.get(f"{s}fingers")
        ends = [e for e, p in enumerate(data.end_site_parents) if p == fingers] if fingers is not None else []
        if ends:
            # The fingertip End Site, carried by the hand (lfingers' parent) rotation: CMU
            # does not capture the fingers, so their own channels are left out.
            parent = data.parents[fingers]
            frame = world_rot[:, parent] if parent >= 0 else world_rot[:, fingers]
            points[:, hand] = world_pos[:, fingers] + frame @ data.end_site_offsets[ends[0]]
        elif fingers is not None:
            points[:, hand] = world_pos[:, fingers]
        else:
            # No hand joints: extend the forearm by the mean body's hand length, scaled.
            elbow, wrist = world_pos[:, bones[f"{s}radius"]], world_pos[:, bones[f"{s}wrist"]]
            forearm = wrist - elbow
            ratio = np.linalg.norm(mean_skeleton().offsets_m[hand]) / np.linalg.norm(
                mean_skeleton().offsets_m[BODY_INDEX[f"{side}_Wrist"]]
            )
            points[:, hand] = wrist + ratio * forearm
            weights[hand] = EXTRAPOLATED_WEIGHT
    return points, weights


def skeleton_from_rest(rest_m: np.ndarray, name: str) -> Skeleton:
    """Bone offsets from the 24 body points of a source's rest pose (our frame, metres).

    Hips, toes, spine, neck and head: offset = rest position minus the parent's rest
    position. Arm chain, thorax, thigh and shank: the source's bone length along the mean
    body's direction (the source may rest with the arms down or the legs splayed; our
    humanoid rests in a T-pose with straight legs). Offsets shorter
    than ``MIN_OFFSET_M`` fall back to the mean body's offset scaled by the overall size
    ratio (pelvis-to-head plus hip-to-ankle length, source over mean).
    """
    mean = mean_skeleton()
    mean_rest = mean.rest_positions()

    def size(rest: np.ndarray) -> float:
        up = np.linalg.norm(rest[BODY_INDEX["Head"]] - rest[0])
        legs = [np.linalg.norm(rest[BODY_INDEX[f"{s}_Ankle"]] - rest[BODY_INDEX[f"{s}_Hip"]]) for s in "LR"]
        return up + 0.5 * sum(legs)

    ratio = size(rest_m) / size(mean_rest)
    ratio = ratio if np.isfinite(ratio) and ratio > 0.1 else 1.0
    offsets = np.zeros((NUM_BODIES, 3))
    for b in range(1, NUM_BODIES):
        offset = rest_m[b] - rest_m[PARENTS[b]]
        length = np.linalg.norm(offset)
        if length < MIN_OFFSET_M:
            offsets[b] = ratio * mean.offsets_m[b]
        elif BODY_NAMES[b] in _MEAN_DIRECTION_BODIES:
            direction = mean.offsets_m[b] / np.linalg.norm(mean.offsets_m[b])
            offsets[b] = length * direction
        else:
            offsets[b] = offset
    return Skeleton(offsets, name=name)


def load_bvh(
    path: str | os.PathLike,
    *,
    scale_m: float | None = None,
    drop_first_frame: bool | None = None,
    restore_thorax: bool = True,
) -> SourceMotion:
    """Load a CMU BVH as the 24 SMPL-topology joint positions in our frame (metres).

    A BVH whose joints are our 24 body names (``physhmr reconstruct`` writes them,
    :mod:`physhmr_jax.motion.bvh_write`) is read as such: layout ``physhmr``, centimetres
    unless ``scale_m`` says otherwise.

    Args:
      path: a ``.bvh`` file with the CMU skeleton in cgspeed's MB or 3dsMax naming.
      scale_m: metres per file unit; default ``CMU_UNIT_M`` (0.056444). For a BVH in
        centimetres pass 0.01.
      drop_first_frame: drop frame 0; ``None`` drops it when it is cgspeed's synthetic
        T-pose (:func:`is_synthetic_tpose`).
      restore_thorax: undo the amc2bvh thorax quirk (see the module docstring).

    Returns:
      a :class:`SourceMotion` with ``joints_m [T, 24, 3]``, the source's skeleton and
      per-body IK weights.
    """
    data = parse_bvh(path)
    if set(data.names) == set(BODY_NAMES):
        return _load_physhmr(data, scale_m=scale_m, drop_first_frame=bool(drop_first_frame))
    layout, bones = _detect_layout(data.path, data.names)
    scale = CMU_UNIT_M if scale_m is None else float(scale_m)
    if not (np.isfinite(scale) and scale > 0):
        raise MotionFileError(data.path, f"scale_m must be positive, got {scale_m}")
    if drop_first_frame is None:
        drop_first_frame = is_synthetic_tpose(data)
    if drop_first_frame:
        if data.num_frames < 2:
            raise MotionFileError(data.path, "has only one frame; cannot drop the first (T-pose) frame")
        data = dataclasses.replace(data, motion=data.motion[1:])
    if restore_thorax:
        data = _restore_thorax(data, bones)

    world_rot, world_pos = bvh_world_transforms(data)
    points, weights = _cmu_points(world_rot, world_pos, data, bones)
    joints_m = scale * points @ BVH_TO_OURS.T

    rest = dataclasses.replace(data, motion=np.zeros((1, data.motion.shape[1])))
    rest_rot, _ = bvh_world_transforms(rest)
    rest_points, _ = _cmu_points(rest_rot, bvh_rest_positions(data)[None], data, bones)
    rest_m = scale * rest_points[0] @ BVH_TO_OURS.T
    with np.errstate(over="ignore", invalid="ignore"):
        bone_m = np.linalg.norm(rest_m[1:] - rest_m[list(PARENTS[1:])], axis=-1)
    if not (np.all(np.isfinite(joints_m)) and np.all(np.isfinite(bone_m))):
        raise MotionFileError(data.path, "OFFSET or position values so large that the joint positions overflow")
    name = Path(path).stem
    return SourceMotion(
        name=name,
        path=str(path),
        fps=data.fps,
        joints_m=joints_m,
        skeleton=skeleton_from_rest(rest_m, name),
        weights=weights,
        layout=layout,
    )


def _load_physhmr(data: BvhData, *, scale_m: float | None, drop_first_frame: bool) -> SourceMotion:
    """A BVH of our own 24 bodies (:mod:`physhmr_jax.motion.bvh_write`, centimetres by
    default): the joints are the bodies, every one measured (IK weight 1)."""
    from physhmr_jax.motion.bvh_write import BVH_UNIT_M

    scale = BVH_UNIT_M if scale_m is None else float(scale_m)
    if not (np.isfinite(scale) and scale > 0):
        raise MotionFileError(data.path, f"scale_m must be positive, got {scale_m}")
    if drop_first_frame:
        if data.num_frames < 2:
            raise MotionFileError(data.path, "has only one frame; cannot drop the first frame")
        data = dataclasses.replace(data, motion=data.motion[1:])
    order = [data.names.index(n) for n in BODY_NAMES]
    if any(data.parents[order[b]] != order[PARENTS[b]] for b in range(1, NUM_BODIES)):
        raise MotionFileError(data.path, "has our body names but not our hierarchy (a joint under another parent)")
    joints_m = scale * bvh_world_positions(data)[:, order] @ BVH_TO_OURS.T
    rest_m = scale * bvh_rest_positions(data)[order] @ BVH_TO_OURS.T
    offsets = np.zeros((NUM_BODIES, 3))
    offsets[1:] = rest_m[1:] - rest_m[list(PARENTS[1:])]
    name = Path(data.path).stem
    return SourceMotion(
        name=name, path=str(data.path), fps=data.fps, joints_m=joints_m, skeleton=Skeleton(offsets, name=name),
        weights=np.ones(NUM_BODIES), layout="physhmr",
    )  # fmt: skip


# The parser's names stay importable from here (``physhmr_jax.motion.bvh.parse_bvh``).
__all__ = [
    "BVH_TO_OURS",
    "CMU_UNIT_M",
    "BvhData",
    "bvh_local_transforms",
    "bvh_rest_positions",
    "bvh_world_positions",
    "bvh_world_transforms",
    "is_synthetic_tpose",
    "load_bvh",
    "parse_bvh",
    "skeleton_from_rest",
]
