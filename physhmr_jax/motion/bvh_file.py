"""The BVH file format: a general parser and the file's own forward kinematics.

:func:`parse_bvh` reads any BVH (any channel order, any subset of position/rotation
channels per joint, End Sites) into a :class:`BvhData`, in the file's own units and frame;
:func:`bvh_world_positions` is the file's forward kinematics. A channel list ``Zrotation
Yrotation Xrotation`` means ``R = Rz @ Ry @ Rx`` acting on column vectors (the last-listed
axis is applied first, in the parent frame); angles are degrees. A joint's position
channels replace the matching components of its OFFSET (Blender's and MotionBuilder's
reading; CMU roots have a zero OFFSET, so both readings agree there).

Mapping a CMU skeleton onto our bodies is :mod:`physhmr_jax.motion.bvh`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import numpy as np

from physhmr_jax.geometry.rotations_np import axis_rotation
from physhmr_jax.motion.clip import MotionFileError

FPS_SNAP_TOLERANCE = 1e-4  # relative; "Frame Time: .0083333" is 120 fps written to 7 digits

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
            if not np.isfinite(out[-1]):
                raise MotionFileError(self.path, f"line {line}: non-finite value '{tok}' in {context}")
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
        if not count_tok.isdecimal():  # not isdigit: int() refuses '²', which isdigit() accepts
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
    lines = _read_lines(path)
    first, motion_line = _find_sections(path, lines)
    h = _parse_hierarchy(path, lines, first, motion_line)
    num_channels = sum(len(c) for c in h.channels)
    data_start, num_frames, frame_time = _parse_motion_header(path, lines, motion_line)
    motion = _parse_frames(path, lines, data_start, num_frames, num_channels)
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


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise MotionFileError(path, "no such file")
    try:
        text = path.read_text(errors="replace")
    except OSError as err:
        raise MotionFileError(path, f"cannot read ({err.strerror or err})") from None
    return text.splitlines()


def _find_sections(path: Path, lines: list[str]) -> tuple[int, int]:
    """Indices of the HIERARCHY line (the first non-empty one) and of the MOTION line."""
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
    return first, motion_line


def _parse_hierarchy(path: Path, lines: list[str], first: int, motion_line: int) -> _Hierarchy:
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
    return h


def _parse_motion_header(path: Path, lines: list[str], motion_line: int) -> tuple[int, int, float]:
    """The ``Frames: N`` and ``Frame Time: dt`` lines (the next non-empty ones after MOTION).

    Returns the index of the line after them, N and dt.
    """
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
    if not np.isfinite(1.0 / frame_time):
        raise MotionFileError(path, f"line {header[1] + 1}: frame time {frame_time} s is too small (fps overflows)")
    if num_frames <= 0:
        raise MotionFileError(path, f"has zero frames ('Frames: {num_frames}')")
    return header[1] + 1, num_frames, frame_time


def _parse_frames(path: Path, lines: list[str], data_start: int, num_frames: int, num_channels: int) -> np.ndarray:
    """[num_frames, num_channels] values of the frame lines from ``data_start`` on."""
    data_lines = [i for i in range(data_start, len(lines)) if lines[i].strip()]
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
    return motion


# ---------------------------------------------------------------------------------------
# Forward kinematics


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
                step = axis_rotation("XYZ".index(axis), np.deg2rad(values))
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


__all__ = [
    "BvhData",
    "bvh_local_transforms",
    "bvh_rest_positions",
    "bvh_world_positions",
    "bvh_world_transforms",
    "parse_bvh",
]
