"""BVH motion files: a general parser and forward kinematics, and a CMU loader.

:func:`parse_bvh` reads any BVH (any channel order, any subset of position/rotation
channels per joint, End Sites); :func:`bvh_world_positions` is the file's own forward
kinematics. A channel list ``Zrotation Yrotation Xrotation`` means ``R = Rz @ Ry @ Rx``
acting on column vectors (the last-listed axis is applied first, in the parent frame);
angles are degrees. A joint's position channels replace the matching components of its
OFFSET (Blender's and MotionBuilder's reading; CMU roots have a zero OFFSET, so both
readings agree there).

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
import re
from pathlib import Path

import numpy as np

from physhmr_jax.humanoid.skeleton import BODY_INDEX, BODY_NAMES, NUM_BODIES, PARENTS, Skeleton, mean_skeleton
from physhmr_jax.motion.clip import MotionFileError
from physhmr_jax.motion.source import SourceMotion

CMU_UNIT_M = 2.54 / 45.0  # (1 / 0.45) inch per ASF unit = 0.056444 m (CMU FAQ)
MIN_OFFSET_M = 0.01  # shorter skeleton offsets are degenerate and replaced
VIRTUAL_WEIGHT = 0.5  # IK weight of points interpolated between measured joints
EXTRAPOLATED_WEIGHT = 0.25  # IK weight of a hand guessed from the forearm
THORAX_FRACTION = 1.0 / 3.0  # L_Thorax: this far from the clavicle joint to the humerus joint
FPS_SNAP_TOLERANCE = 1e-4  # relative; "Frame Time: .0083333" is 120 fps written to 7 digits

# BVH (y up, facing +z, left +x) -> ours (z up, facing +x, left +y): ours = (z, x, y).
BVH_TO_OURS = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

_CHANNEL_NAMES = {f"{axis}{kind}".lower(): f"{axis}{kind}" for axis in "XYZ" for kind in ("position", "rotation")}


# ---------------------------------------------------------------------------------------
# Parsing


@dataclasses.dataclass(frozen=True)
class BvhData:
    """The content of one BVH file, in its own units and frame.

    Attributes:
      path: the file it was read from.
      names: [J] joint names, depth-first (a parent precedes its children).
      parents: [J] parent index of each joint (-1 for a root).
      offsets: [J, 3] OFFSET of each joint in its parent's frame (file units).
      channels: [J] channel names per joint, in file order (e.g. ``("Zrotation", ...)``).
      end_site_parents: [E] joint index owning each End Site.
      end_site_offsets: [E, 3] End Site OFFSETs (file units).
      frame_time_s: seconds per frame.
      motion: [T, C] channel values per frame (degrees / file units), C = total channels.
    """

    path: str
    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray
    channels: tuple[tuple[str, ...], ...]
    end_site_parents: tuple[int, ...]
    end_site_offsets: np.ndarray
    frame_time_s: float
    motion: np.ndarray

    @property
    def num_joints(self) -> int:
        return len(self.names)

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def fps(self) -> float:
        """Frames per second; snapped to a whole number when ``Frame Time`` is a rounded
        1/N (``0.0083333`` -> 120)."""
        fps = 1.0 / self.frame_time_s
        nearest = round(fps)
        return float(nearest) if nearest > 0 and abs(fps - nearest) <= FPS_SNAP_TOLERANCE * fps else fps

    def channel_start(self) -> np.ndarray:
        """[J] column of each joint's first channel in ``motion``."""
        counts = np.array([len(c) for c in self.channels], dtype=int)
        return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)

    def index(self, name: str) -> int:
        return self.names.index(name)


class _Tokens:
    """Whitespace tokens of the HIERARCHY section with their line numbers (1-based)."""

    def __init__(self, path, items: list[tuple[str, int]]):
        self.path = path
        self.items = items
        self.i = 0

    def peek(self) -> str | None:
        return self.items[self.i][0] if self.i < len(self.items) else None

    def line(self) -> int:
        return self.items[min(self.i, len(self.items) - 1)][1] if self.items else 0

    def next(self, what: str) -> tuple[str, int]:
        if self.i >= len(self.items):
            raise MotionFileError(
                self.path, f"HIERARCHY ends while reading {what} (unbalanced braces or truncated file)"
            )
        tok = self.items[self.i]
        self.i += 1
        return tok

    def expect(self, word: str, context: str) -> int:
        tok, line = self.next(f"'{word}' {context}")
        if tok.upper() != word.upper():
            raise MotionFileError(self.path, f"line {line}: expected '{word}' {context}, found '{tok}'")
        return line

    def floats(self, n: int, context: str) -> np.ndarray:
        out = []
        for _ in range(n):
            tok, line = self.next(context)
            try:
                out.append(float(tok))
            except ValueError:
                raise MotionFileError(self.path, f"line {line}: non-numeric value '{tok}' in {context}") from None
        return np.array(out)


class _Hierarchy:
    def __init__(self):
        self.names: list[str] = []
        self.parents: list[int] = []
        self.offsets: list[np.ndarray] = []
        self.channels: list[tuple[str, ...]] = []
        self.end_parents: list[int] = []
        self.end_offsets: list[np.ndarray] = []


def _parse_joint(tokens: _Tokens, h: _Hierarchy, parent: int) -> None:
    kind, line = tokens.next("a joint")  # ROOT or JOINT, already checked by the caller
    name, _ = tokens.next(f"the name of the {kind} at line {line}")
    if name in ("{", "}"):
        raise MotionFileError(tokens.path, f"line {line}: {kind} has no name")
    if name in h.names:
        raise MotionFileError(tokens.path, f"line {line}: joint name '{name}' appears twice")
    where = f"joint '{name}' (line {line})"
    tokens.expect("{", f"after {where}")
    tokens.expect("OFFSET", f"in {where}")
    offset = tokens.floats(3, f"the OFFSET of {where}")
    channels: tuple[str, ...] = ()
    if (tokens.peek() or "").upper() == "CHANNELS":
        tokens.next("CHANNELS")
        count_tok, count_line = tokens.next(f"the channel count of {where}")
        if not count_tok.isdigit():
            raise MotionFileError(
                tokens.path, f"line {count_line}: channel count '{count_tok}' of {where} is not a number"
            )
        names = []
        for _ in range(int(count_tok)):
            tok, tok_line = tokens.next(f"the channels of {where}")
            if tok.lower() not in _CHANNEL_NAMES:
                raise MotionFileError(tokens.path, f"line {tok_line}: unknown channel '{tok}' in {where}")
            names.append(_CHANNEL_NAMES[tok.lower()])
        if len(set(names)) != len(names):
            raise MotionFileError(tokens.path, f"line {count_line}: repeated channel in {where}: {names}")
        channels = tuple(names)
    index = len(h.names)
    h.names.append(name)
    h.parents.append(parent)
    h.offsets.append(offset)
    h.channels.append(channels)
    while True:
        tok = tokens.peek()
        if tok is None:
            raise MotionFileError(tokens.path, f"unbalanced braces: {where} is never closed")
        upper = tok.upper()
        if upper == "JOINT":
            _parse_joint(tokens, h, index)
        elif upper == "END":
            _, end_line = tokens.next("End Site")
            tokens.expect("Site", f"after 'End' at line {end_line}")
            tokens.expect("{", f"after End Site at line {end_line}")
            tokens.expect("OFFSET", f"in the End Site at line {end_line}")
            h.end_offsets.append(tokens.floats(3, f"the OFFSET of the End Site at line {end_line}"))
            h.end_parents.append(index)
            close, close_line = tokens.next(f"'}}' closing the End Site at line {end_line}")
            if close != "}":
                raise MotionFileError(
                    tokens.path,
                    f"line {close_line}: expected '}}' closing the End Site at line {end_line}, found '{close}'",
                )
        elif tok == "}":
            tokens.next("}")
            return
        else:
            raise MotionFileError(tokens.path, f"line {tokens.line()}: unexpected '{tok}' in {where}")


_FRAMES_RE = re.compile(r"^\s*frames\s*:?\s*(\S+)\s*$", re.IGNORECASE)
_FRAME_TIME_RE = re.compile(r"^\s*frame\s+time\s*:?\s*(\S+)\s*$", re.IGNORECASE)


def parse_bvh(path: str | os.PathLike) -> BvhData:
    """Read a BVH file. Every problem raises :class:`MotionFileError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise MotionFileError(path, "no such file")
    try:
        text = path.read_text(errors="replace")
    except OSError as err:
        raise MotionFileError(path, f"cannot read ({err.strerror or err})") from None
    lines = text.splitlines()

    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise MotionFileError(path, "empty file")
    if lines[first].split()[0].upper() != "HIERARCHY":
        raise MotionFileError(
            path, f"missing HIERARCHY section (line {first + 1} starts with '{lines[first].split()[0][:40]}')"
        )
    motion_line = next((i for i in range(first + 1, len(lines)) if lines[i].strip().upper().startswith("MOTION")), None)
    if motion_line is None:
        raise MotionFileError(path, "missing MOTION section (not a BVH file, or truncated inside the HIERARCHY)")

    items: list[tuple[str, int]] = []
    first_rest = lines[first].split(None, 1)
    rest_of_first = first_rest[1] if len(first_rest) > 1 else ""
    for i, line in [(first, rest_of_first), *((j, lines[j]) for j in range(first + 1, motion_line))]:
        items.extend((tok, i + 1) for tok in line.replace("{", " { ").replace("}", " } ").split())
    tokens = _Tokens(path, items)
    h = _Hierarchy()
    while tokens.peek() is not None:
        tok = tokens.peek()
        if tok.upper() == "ROOT":
            _parse_joint(tokens, h, -1)
        elif tok == "}":
            raise MotionFileError(path, f"unbalanced braces: extra '}}' at line {tokens.line()}")
        else:
            raise MotionFileError(path, f"line {tokens.line()}: expected ROOT, found '{tok}'")
    if not h.names:
        raise MotionFileError(path, "HIERARCHY has no ROOT joint")
    num_channels = sum(len(c) for c in h.channels)

    # MOTION header: "Frames: N" and "Frame Time: dt" on the next non-empty lines.
    header = [i for i in range(motion_line + 1, len(lines)) if lines[i].strip()][:2]
    frames_m = _FRAMES_RE.match(lines[header[0]]) if header else None
    if frames_m is None:
        raise MotionFileError(path, f"line {motion_line + 2}: expected 'Frames: <count>' after MOTION")
    try:
        num_frames = int(frames_m.group(1))
    except ValueError:
        raise MotionFileError(
            path, f"line {header[0] + 1}: frame count '{frames_m.group(1)}' is not an integer"
        ) from None
    time_m = _FRAME_TIME_RE.match(lines[header[1]]) if len(header) > 1 else None
    if time_m is None:
        raise MotionFileError(path, f"line {header[0] + 2}: expected 'Frame Time: <seconds>' after 'Frames:'")
    try:
        frame_time = float(time_m.group(1))
    except ValueError:
        raise MotionFileError(path, f"line {header[1] + 1}: frame time '{time_m.group(1)}' is not a number") from None
    if not (np.isfinite(frame_time) and frame_time > 0):
        raise MotionFileError(path, f"line {header[1] + 1}: frame time must be positive, got {frame_time}")
    if num_frames <= 0:
        raise MotionFileError(path, f"has zero frames ('Frames: {num_frames}')")

    data_lines = [i for i in range(header[1] + 1, len(lines)) if lines[i].strip()]
    if len(data_lines) < num_frames:
        last = len(lines[data_lines[-1]].split()) if data_lines else num_channels
        if last < num_channels:
            where = f"the data stop inside frame {len(data_lines) - 1} (line {data_lines[-1] + 1} has {last} of {num_channels} values)"
        else:
            where = f"only {len(data_lines)} frame line(s) are there (frame {len(data_lines)} onwards is missing)"
        raise MotionFileError(path, f"truncated: 'Frames: {num_frames}' but {where}")
    if len(data_lines) > num_frames:
        raise MotionFileError(
            path,
            f"'Frames: {num_frames}' but the file has {len(data_lines)} frame lines (line {data_lines[num_frames] + 1} is extra)",
        )
    rows = [lines[i].split() for i in data_lines]
    for frame, row in enumerate(rows):
        if len(row) != num_channels:
            cut = " (truncated file?)" if frame == num_frames - 1 and len(row) < num_channels else ""
            raise MotionFileError(
                path,
                f"frame {frame} (line {data_lines[frame] + 1}) has {len(row)} value(s), expected {num_channels}{cut}",
            )
    try:
        motion = np.array([v for row in rows for v in row], dtype=np.float64).reshape(num_frames, num_channels)
    except ValueError:
        for frame, row in enumerate(rows):
            for v in row:
                try:
                    float(v)
                except ValueError:
                    raise MotionFileError(
                        path, f"frame {frame} (line {data_lines[frame] + 1}): non-numeric value '{v[:40]}'"
                    ) from None
        raise
    bad = ~np.all(np.isfinite(motion), axis=1)
    if bad.any():
        frame = int(np.flatnonzero(bad)[0])
        raise MotionFileError(
            path, f"NaN/inf values in {int(bad.sum())} frame(s), first at frame {frame} (line {data_lines[frame] + 1})"
        )
    return BvhData(
        path=str(path),
        names=tuple(h.names),
        parents=tuple(h.parents),
        offsets=np.array(h.offsets, dtype=np.float64).reshape(-1, 3),
        channels=tuple(h.channels),
        end_site_parents=tuple(h.end_parents),
        end_site_offsets=np.array(h.end_offsets, dtype=np.float64).reshape(-1, 3),
        frame_time_s=frame_time,
        motion=motion,
    )


# ---------------------------------------------------------------------------------------
# Forward kinematics


def _axis_rotation(axis: str, angle_rad: np.ndarray) -> np.ndarray:
    """[T] angles -> [T, 3, 3] rotations about the x, y or z axis (column vectors)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    one, zero = np.ones_like(c), np.zeros_like(c)
    rows = {
        "X": ((one, zero, zero), (zero, c, -s), (zero, s, c)),
        "Y": ((c, zero, s), (zero, one, zero), (-s, zero, c)),
        "Z": ((c, -s, zero), (s, c, zero), (zero, zero, one)),
    }[axis]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def bvh_local_transforms(data: BvhData) -> tuple[np.ndarray, np.ndarray]:
    """Local rotation [T, J, 3, 3] and translation [T, J, 3] of every joint (file units)."""
    t, j = data.num_frames, data.num_joints
    rot = np.broadcast_to(np.eye(3), (t, j, 3, 3)).copy()
    trans = np.broadcast_to(data.offsets, (t, j, 3)).copy()
    for joint, (start, channels) in enumerate(zip(data.channel_start(), data.channels, strict=True)):
        r = None
        for k, channel in enumerate(channels):
            values = data.motion[:, start + k]
            axis = channel[0]
            if channel.endswith("position"):
                trans[:, joint, "XYZ".index(axis)] = values
            else:
                step = _axis_rotation(axis, np.deg2rad(values))
                r = step if r is None else r @ step  # first listed is leftmost: applied last
        if r is not None:
            rot[:, joint] = r
    return rot, trans


def bvh_world_transforms(data: BvhData) -> tuple[np.ndarray, np.ndarray]:
    """World rotation [T, J, 3, 3] and position [T, J, 3] of every joint (file frame and units)."""
    local_rot, local_trans = bvh_local_transforms(data)
    world_rot = np.empty_like(local_rot)
    world_pos = np.empty_like(local_trans)
    for joint, parent in enumerate(data.parents):
        if parent < 0:
            world_rot[:, joint] = local_rot[:, joint]
            world_pos[:, joint] = local_trans[:, joint]
        else:
            world_rot[:, joint] = world_rot[:, parent] @ local_rot[:, joint]
            world_pos[:, joint] = world_pos[:, parent] + np.einsum(
                "tij,tj->ti", world_rot[:, parent], local_trans[:, joint]
            )
    return world_rot, world_pos


def bvh_world_positions(data: BvhData, *, end_sites: bool = False) -> np.ndarray:
    """[T, J, 3] world positions of the joints (file frame and units), FK of the file itself.

    With ``end_sites=True`` the End Sites follow as [T, J + E, 3] (in ``end_site_parents``
    order).
    """
    world_rot, world_pos = bvh_world_transforms(data)
    if not end_sites or not data.end_site_parents:
        return world_pos
    parents = np.array(data.end_site_parents)
    ends = world_pos[:, parents] + np.einsum("teij,ej->tei", world_rot[:, parents], data.end_site_offsets)
    return np.concatenate([world_pos, ends], axis=1)


def bvh_rest_positions(data: BvhData) -> np.ndarray:
    """[J, 3] joint positions with every channel at zero (the OFFSET geometry)."""
    pos = np.zeros((data.num_joints, 3))
    for joint, parent in enumerate(data.parents):
        pos[joint] = data.offsets[joint] + (pos[parent] if parent >= 0 else 0.0)
    return pos


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
