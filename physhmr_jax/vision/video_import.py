"""Real videos in: detector keypoint files (COCO-17 / OpenPose BODY_25) + frames -> a VideoSample.

:func:`import_video` reads 2D keypoints written by an off-the-shelf detector, picks one
person per frame, optionally reads the frames, and attaches a camera guess. The result is a
:class:`~physhmr_jax.vision.shards.VideoSample` (save it with ``save_sample``).

Accepted keypoint files
-----------------------
``fmt="coco"``: one JSON file in the COCO keypoint *results* format, i.e. a list of
  ``{"image_id": int, "keypoints": [x, y, c] * 17, "score": float, ...}`` (entries may add
  ``"category_id"``, ``"bbox": [x, y, w, h]`` and a track id ``"track_id"``; AlphaPose's
  ``"idx"`` is read as the track id too). The frame number is the integer ``"frame"`` when
  present, else the integer ``"image_id"``. A COCO *annotation* file (a dict with an
  ``"annotations"`` list of the same entries) is accepted too; its visibility flags (0, 1,
  2) become confidences 0, 1, 1. ``"keypoints": []`` (or ``null``) marks a frame that was
  processed and has nobody in it. ``"keypoints"`` may also be nested as 17 triples.
``fmt="openpose"``: either a folder of OpenPose's per-frame files
  ``<anything>_<frame number>_keypoints.json`` (``--write_json``), each
  ``{"people": [{"pose_keypoints_2d": [x, y, c] * 25, "person_id": ...}, ...]}`` with the
  frame number taken from the digits before ``_keypoints.json``; or one JSON file holding
  a list of such per-frame dicts (frame ``i`` is the ``i``-th element), or a single dict
  (a one-frame video). Only the BODY_25 model (75 numbers) is accepted; OpenPose's
  COCO-18 model (54 numbers) is an error.

Frame numbers map to frame indices as ``index = number - first_frame_id`` (default 0:
OpenPose numbers from 0; pass ``first_frame_id=1`` for 1-based COCO image ids).

Irregularities: documented, counted in ``sample.import_report``, never silent
-----------------------------------------------------------------------------
* A frame with nobody in it (OpenPose ``"people": []``, COCO ``"keypoints": []``, or only
  detections whose confidences are all 0): every confidence 0 for that frame, counted in
  ``frames_without_person``.
* A frame number with no record at all (a gap in the numbering, or frames after the last
  detection when the video is longer): confidences 0, counted in ``frames_missing``. A
  detector that skips empty frames leaves exactly such gaps.
* Several people in a frame: ``person="largest"`` takes the largest ``bbox`` area (the
  box of the confident keypoints when there is no ``bbox``; ties broken by score),
  ``person="score"`` the highest ``score`` (OpenPose: mean keypoint confidence), an
  integer takes the detection with that track id (``track_id`` / ``idx`` / OpenPose
  ``person_id``); counted in ``multiple_people_frames``. A frame where the requested track
  is absent counts in ``frames_without_person`` and ``frames_track_absent``; a track id
  that appears nowhere in the file is an error.
* A keypoint with confidence 0 (or negative, or NaN): conf 0 and a placeholder (0, 0) in
  ``kp2d`` (never NaN), counted in ``joints_zero_conf`` (of the selected people).
  Confidences above 1 (some detectors report heatmap maxima) are clipped to 1 and counted
  in ``conf_clipped``. A keypoint with confidence > 0 but non-finite x/y is dropped (conf
  0), counted in ``joints_nonfinite``.
* Errors (:class:`~physhmr_jax.vision.shards.VideoFileError`, naming the file and the
  problem): an empty file, malformed JSON (or JSON nested too deeply), an empty list, a
  wrong keypoint count, a non-integer frame number, a frame number below
  ``first_frame_id`` or beyond the frame count of the given frames (or ``MAX_FRAMES`` or
  more frames after it), duplicate OpenPose frame numbers, no person in any frame,
  unreadable frames, and frames of different sizes.

When any of these counts is non-zero, or when a default had to be guessed (field of view,
fps), a single :class:`VideoImportWarning` summarises it; the report keeps the details.

Camera
------
Intrinsics: ``fx`` (square pixels, principal point at the image centre) or ``fov_deg``
along ``fov_axis`` (camera.py's ``intrinsics_from_fov``); with neither, a 60 degree
vertical field of view is assumed and the report says so. The image size comes from the
frames, or from ``width``/``height`` when no frames are given (then both are required).
Extrinsics: a static camera ``camera_height_m`` above the ground at the world origin,
looking horizontally along +x, pitched down by ``pitch_deg`` (no roll: gravity aligned,
world z up). ``R_wc`` is that rotation repeated for every frame and ``t_wc`` is
``(0, 0, camera_height_m)``. The person then stands somewhere ahead of the camera.

Frames
------
Optional: a video file or a folder of images, read by
:func:`~physhmr_jax.vision.video_frames.read_frames` (formats there) and stored as read. The
keypoints may not reference more frames than the video has (error); a video longer than
the last detection gets its trailing frames as ``frames_missing``. fps: the ``fps``
argument, else the video's metadata, else 30 (noted in the report).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np

from physhmr_jax.geometry.camera import intrinsics_from_fov, look_at
from physhmr_jax.vision.shards import BODY25_NAMES, COCO17_NAMES, VideoFileError, VideoSample
from physhmr_jax.vision.video_frames import read_frames

DEFAULT_FOV_DEG = 60.0
DEFAULT_FPS = 30.0
MAX_FRAMES = 1_000_000  # 9 hours at 30 fps; a larger frame number is a numbering error, not a video
_OPENPOSE_FILE_RE = re.compile(r"(\d+)_keypoints\.json$")


class VideoImportWarning(UserWarning):
    """Irregularities that an import filled in (missing frames, no person, defaults)."""


@dataclasses.dataclass(frozen=True)
class _Person:
    """One detected person in one frame: keypoints [J, 3] (x, y, c) and what selects it."""

    keypoints: np.ndarray
    score: float
    area_px2: float
    track_id: int | None


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise VideoFileError(path, f"cannot read ({err})") from None
    if not text.strip():
        raise VideoFileError(path, "empty file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise VideoFileError(path, f"malformed JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None
    except RecursionError:
        raise VideoFileError(path, "JSON nested too deeply to read") from None


def _as_int(value: Any) -> int | None:
    """An integer frame number / track id, or None when ``value`` is not integral."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _keypoint_array(values: Any, num_joints: int, path: Path, where: str) -> np.ndarray:
    """Flat or nested ``[x, y, c] * J`` -> [J, 3] float64; error naming ``where`` otherwise."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise VideoFileError(path, f"{where}: keypoints are not a list of numbers") from None
    if arr.size != 3 * num_joints:
        raise VideoFileError(
            path, f"{where}: {arr.size} keypoint numbers, expected {3 * num_joints} ({num_joints} x [x, y, c])"
        )
    return arr.reshape(num_joints, 3)


def _keypoint_box_area(keypoints: np.ndarray) -> float:
    ok = (keypoints[:, 2] > 0) & np.isfinite(keypoints[:, :2]).all(-1)
    if not ok.any():
        return 0.0
    xy = keypoints[ok, :2]
    w, h = xy.max(0) - xy.min(0)
    return float(w * h)


def _mean_conf(keypoints: np.ndarray) -> float:
    c = np.nan_to_num(keypoints[:, 2], nan=0.0)
    return float(c[c > 0].mean()) if (c > 0).any() else 0.0


def _parse_coco(path: Path) -> dict[int, list[_Person]]:
    """COCO results (or annotations) -> {frame number: people}; an empty list = nobody."""
    data = _read_json(path)
    visibility_flags = False
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        data, visibility_flags = data["annotations"], True
    if not isinstance(data, list):
        raise VideoFileError(
            path, f"expected a list of COCO keypoint results (or a dict with 'annotations'), got {type(data).__name__}"
        )
    if not data:
        raise VideoFileError(path, "no keypoint entries (empty list)")
    frames: dict[int, list[_Person]] = {}
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise VideoFileError(path, f"entry {i} is a {type(entry).__name__}, expected an object")
        key = "frame" if "frame" in entry else "image_id" if "image_id" in entry else None
        if key is None:
            raise VideoFileError(path, f"entry {i} has neither 'frame' nor 'image_id'")
        frame = _as_int(entry[key])
        if frame is None:
            raise VideoFileError(path, f"entry {i}: '{key}' must be an integer frame number, got {entry[key]!r}")
        people = frames.setdefault(frame, [])
        if "keypoints" not in entry:
            raise VideoFileError(path, f"entry {i} (frame {frame}) has no 'keypoints'")
        if entry["keypoints"] is None or entry["keypoints"] == []:
            continue  # processed frame, nobody in it
        kp = _keypoint_array(entry["keypoints"], len(COCO17_NAMES), path, f"entry {i} (frame {frame})")
        if visibility_flags:
            kp[:, 2] = np.minimum(kp[:, 2], 1.0)  # COCO v in {0, 1, 2}: labelled -> 1
        area = _keypoint_box_area(kp)
        if entry.get("bbox") is not None:
            try:
                bbox = np.asarray(entry["bbox"], dtype=np.float64)
            except (TypeError, ValueError):
                bbox = np.zeros(0)
            if bbox.shape != (4,):
                raise VideoFileError(
                    path, f"entry {i} (frame {frame}): 'bbox' must be [x, y, w, h], got {entry['bbox']!r}"
                )
            area = float(bbox[2] * bbox[3])
        score = entry.get("score")
        score = float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else _mean_conf(kp)
        track = entry.get("track_id", entry.get("idx"))
        if isinstance(track, list) and len(track) == 1:
            track = track[0]
        people.append(_Person(kp, score, area, _as_int(track)))
    return frames


def _openpose_people(frame: Any, path: Path, where: str) -> list[_Person]:
    if not isinstance(frame, dict) or not isinstance(frame.get("people"), list):
        raise VideoFileError(path, f"{where}: expected an object with a 'people' list")
    people = []
    for p, person in enumerate(frame["people"]):
        if not isinstance(person, dict) or "pose_keypoints_2d" not in person:
            raise VideoFileError(path, f"{where}, person {p}: no 'pose_keypoints_2d'")
        kp = _keypoint_array(person["pose_keypoints_2d"], len(BODY25_NAMES), path, f"{where}, person {p} (BODY_25)")
        track = person.get("person_id")
        if isinstance(track, list):
            track = track[0] if len(track) == 1 else None
        track = _as_int(track)
        people.append(_Person(kp, _mean_conf(kp), _keypoint_box_area(kp), None if track == -1 else track))
    return people


def _parse_openpose(path: Path) -> dict[int, list[_Person]]:
    """OpenPose folder / list file / single-frame file -> {frame number: people}."""
    if path.is_dir():
        files = sorted(path.glob("*_keypoints.json"))
        if not files:
            raise VideoFileError(path, "no OpenPose '*_keypoints.json' files in this folder")
        frames: dict[int, list[_Person]] = {}
        for f in files:
            match = _OPENPOSE_FILE_RE.search(f.name)
            if match is None:
                raise VideoFileError(f, "no frame number before '_keypoints.json' in the file name")
            number = int(match.group(1))
            if number in frames:
                raise VideoFileError(f, f"frame number {number} appears in two files of {path}")
            frames[number] = _openpose_people(_read_json(f), f, "frame file")
        return frames
    data = _read_json(path)
    if isinstance(data, dict):
        return {0: _openpose_people(data, path, "frame 0")}
    if not isinstance(data, list):
        raise VideoFileError(path, f"expected a list of OpenPose frames or one frame object, got {type(data).__name__}")
    if not data:
        raise VideoFileError(path, "no frames (empty list)")
    return {i: _openpose_people(frame, path, f"frame {i}") for i, frame in enumerate(data)}


def static_camera(num_frames: int, *, camera_height_m: float, pitch_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """A camera ``camera_height_m`` above the world origin looking along +x, pitched down.

    Returns R_wc [T, 3, 3] (OpenCV axes: x right = world -y when level, y down, z forward)
    and t_wc [T, 3].
    """
    if not (math.isfinite(camera_height_m) and camera_height_m > 0):
        raise ValueError(f"camera_height_m must be positive, got {camera_height_m}")
    if not (math.isfinite(pitch_deg) and abs(pitch_deg) < 90.0):
        raise ValueError(f"pitch_deg must be in (-90, 90) (positive looks down), got {pitch_deg}")
    pitch = math.radians(pitch_deg)
    eye = np.array([0.0, 0.0, camera_height_m])
    forward = np.array([math.cos(pitch), 0.0, -math.sin(pitch)])
    R_wc = np.asarray(look_at(eye, eye + forward), dtype=np.float64)
    return np.repeat(R_wc[None], num_frames, axis=0), np.repeat(eye[None], num_frames, axis=0)


def _intrinsics(
    fx: float | None, fov_deg: float | None, fov_axis: str, width: int, height: int, notes: list[str]
) -> tuple[np.ndarray, str]:
    if fx is not None and fov_deg is not None:
        raise ValueError("give fx or fov_deg, not both")
    if fx is not None:
        if not (math.isfinite(fx) and fx > 0):
            raise ValueError(f"fx must be positive, got {fx}")
        K = np.array([[fx, 0.0, 0.5 * width], [0.0, fx, 0.5 * height], [0.0, 0.0, 1.0]])
        return K, f"fx=fy={fx:g} px, principal point at the image centre"
    if fov_deg is None:
        fov_deg = DEFAULT_FOV_DEG
        notes.append(f"no fx or fov_deg given: assumed a {DEFAULT_FOV_DEG:g} degree {fov_axis} field of view")
        how = f"fov {fov_deg:g} deg {fov_axis} (default guess)"
    else:
        how = f"fov {fov_deg:g} deg {fov_axis}"
    if not (math.isfinite(fov_deg) and 0 < fov_deg < 180):
        raise ValueError(f"fov_deg must be in (0, 180), got {fov_deg}")
    return np.asarray(intrinsics_from_fov(fov_deg, width, height, fov_axis=fov_axis), dtype=np.float64), how


def _select(people: list[_Person], person: str | int) -> _Person | None:
    if isinstance(person, int):
        mine = [p for p in people if p.track_id == person]
        return max(mine, key=lambda p: (p.area_px2, p.score)) if mine else None
    if person == "score":
        return max(people, key=lambda p: (p.score, p.area_px2))
    return max(people, key=lambda p: (p.area_px2, p.score))


def import_video(
    frames_path: str | os.PathLike | None,
    keypoints_path: str | os.PathLike,
    fmt: Literal["coco", "openpose"],
    *,
    fx: float | None = None,
    fov_deg: float | None = None,
    fov_axis: Literal["vertical", "horizontal"] = "vertical",
    camera_height_m: float = 1.5,
    pitch_deg: float = 0.0,
    fps: float | None = None,
    width: int | None = None,
    height: int | None = None,
    person: Literal["largest", "score"] | int = "largest",
    first_frame_id: int = 0,
) -> VideoSample:
    """Import one real video's detector keypoints (and frames) as a VideoSample.

    Args:
      frames_path: a video file or a folder of images, or None (no frames stored).
      keypoints_path: the COCO JSON file, or the OpenPose folder / JSON file.
      fmt: ``"coco"`` (COCO-17) or ``"openpose"`` (BODY_25); formats in the module docstring.
      fx: focal length in pixels (square pixels, principal point at the image centre).
      fov_deg: full field of view along ``fov_axis`` instead of ``fx`` (default 60 when
        neither is given).
      camera_height_m: camera centre above the ground (metres).
      pitch_deg: downward tilt of the optical axis (degrees; negative looks up).
      fps: frames per second (default: the video's, else 30).
      width, height: image size in pixels when no frames are given (must agree with the
        frames when both are).
      person: ``"largest"`` box, highest ``"score"``, or an integer track id.
      first_frame_id: the frame number of the first video frame.
    Returns:
      The sample: ``kp2d [T, J, 2]``, ``conf [T, J]`` with ``joint_names`` the COCO-17 or
      BODY_25 names, static camera ``K``, ``R_wc [T]``, ``t_wc [T]``, frames when given,
      and ``import_report`` (counts of every irregularity, the camera and fps choices).
    Raises:
      VideoFileError: a keypoint or frame file that cannot be used (names file and problem).
      ValueError: inconsistent arguments.
    """
    if fmt not in ("coco", "openpose"):
        raise ValueError(f"fmt must be 'coco' or 'openpose', got {fmt!r}")
    track = None if isinstance(person, str) else _as_int(person)
    if person not in ("largest", "score") and track is None:
        raise ValueError(f"person must be 'largest', 'score' or an integer track id, got {person!r}")
    person = person if track is None else track
    keypoints_path = Path(keypoints_path)
    if not keypoints_path.exists():
        raise VideoFileError(keypoints_path, "no such file or folder")
    names = COCO17_NAMES if fmt == "coco" else BODY25_NAMES
    by_number = _parse_coco(keypoints_path) if fmt == "coco" else _parse_openpose(keypoints_path)
    notes: list[str] = []

    lowest, highest = min(by_number), max(by_number)
    if lowest < first_frame_id:
        raise VideoFileError(
            keypoints_path, f"frame number {lowest} is below first_frame_id={first_frame_id} (are the ids 0-based?)"
        )
    if first_frame_id not in by_number:
        notes.append(
            f"no record for frame number {first_frame_id} (the first frame); pass first_frame_id={lowest} "
            "if the numbering starts there"
        )
    if isinstance(person, int) and not any(p.track_id == person for ps in by_number.values() for p in ps):
        found = sorted({p.track_id for ps in by_number.values() for p in ps if p.track_id is not None})
        raise VideoFileError(keypoints_path, f"track id {person} appears in no frame (track ids present: {found})")

    num_frames = highest - first_frame_id + 1
    if num_frames > MAX_FRAMES:
        raise VideoFileError(
            keypoints_path,
            f"frame number {highest} means {num_frames} frames, more than {MAX_FRAMES} (a numbering error?)",
        )
    frames, video_fps = (None, None) if frames_path is None else read_frames(frames_path)
    if frames is not None:
        if num_frames > len(frames):
            raise VideoFileError(
                keypoints_path,
                f"keypoints reach frame {num_frames - 1} (number {highest}) but {frames_path} has {len(frames)} "
                f"frames (check first_frame_id={first_frame_id} and that both come from the same video)",
            )
        if num_frames < len(frames):
            notes.append(f"{len(frames) - num_frames} trailing video frame(s) have no keypoint record")
        num_frames = len(frames)
        frame_h, frame_w = frames.shape[1:3]
        if (width is not None and width != frame_w) or (height is not None and height != frame_h):
            raise ValueError(f"width/height {width}x{height} disagree with the frames' {frame_w}x{frame_h}")
        width, height = frame_w, frame_h
    elif width is None or height is None:
        raise ValueError("the image size is unknown: give frames_path, or width and height")

    J = len(names)
    kp2d = np.zeros((num_frames, J, 2), np.float32)
    conf = np.zeros((num_frames, J), np.float32)
    counts = dict.fromkeys(
        ("frames_without_person", "frames_missing", "multiple_people_frames", "frames_track_absent",
         "joints_zero_conf", "joints_nonfinite", "conf_clipped"),
        0,
    )  # fmt: skip
    for t in range(num_frames):
        people = by_number.get(t + first_frame_id)
        if people is None:
            counts["frames_missing"] += 1
            continue
        people = [p for p in people if np.nan_to_num(p.keypoints[:, 2], nan=0.0).max() > 0]  # all-zero: nobody
        if len(people) > 1:
            counts["multiple_people_frames"] += 1
        chosen = _select(people, person) if people else None
        if chosen is None:
            counts["frames_without_person"] += 1
            counts["frames_track_absent"] += bool(people)
            continue
        xy, c = chosen.keypoints[:, :2], np.nan_to_num(chosen.keypoints[:, 2], nan=0.0)
        nonfinite = (c > 0) & ~np.isfinite(xy).all(-1)
        counts["joints_nonfinite"] += int(nonfinite.sum())
        counts["conf_clipped"] += int((c > 1).sum() + (c < 0).sum())
        c = np.where(nonfinite, 0.0, np.clip(c, 0.0, 1.0))
        counts["joints_zero_conf"] += int((c == 0).sum())
        kp2d[t] = np.where(c[:, None] > 0, xy, 0.0)  # placeholder 0, never NaN
        conf[t] = c
    if not conf.any():
        raise VideoFileError(keypoints_path, f"no person with a confident keypoint in any of the {num_frames} frame(s)")

    if fps is not None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be positive, got {fps}")
        fps_source = "argument"
        if video_fps is not None and abs(video_fps - fps) > 1e-3 * fps:
            notes.append(f"fps argument {fps:g} overrides the video's {video_fps:g}")
    elif video_fps is not None:
        fps, fps_source = video_fps, "video"
    else:
        fps, fps_source = DEFAULT_FPS, "default"
        notes.append(f"fps unknown: assumed {DEFAULT_FPS:g}")

    K, intrinsics = _intrinsics(fx, fov_deg, fov_axis, width, height, notes)
    R_wc, t_wc = static_camera(num_frames, camera_height_m=camera_height_m, pitch_deg=pitch_deg)
    report: dict[str, Any] = {
        "keypoints_path": str(keypoints_path),
        "frames_path": None if frames_path is None else str(frames_path),
        "format": fmt,
        "frames": num_frames,
        **counts,
        "person": person,
        "first_frame_id": first_frame_id,
        "image_size": [int(width), int(height)],
        "intrinsics": intrinsics,
        "camera": f"static, {camera_height_m:g} m above the origin, looking along +x, pitched down {pitch_deg:g} deg",
        "fps": float(fps),
        "fps_source": fps_source,
        "notes": notes,
    }
    irregular = {k: v for k, v in counts.items() if v and k != "joints_zero_conf"}
    if irregular or notes:
        parts = [f"{k}={v}" for k, v in irregular.items()] + notes
        warnings.warn(VideoImportWarning(f"{keypoints_path}: {num_frames} frames; " + "; ".join(parts)), stacklevel=2)
    sample = VideoSample(
        kp2d=kp2d,
        conf=conf,
        K=K,
        R_wc=R_wc,
        t_wc=t_wc,
        fps=fps,
        joint_names=names,
        frames=frames,
        image_size=(width, height),
        name=keypoints_path.stem,
        source=str(keypoints_path),
        import_report=report,
    )
    return sample.validate(keypoints_path)
