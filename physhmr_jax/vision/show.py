"""Look at video shards: 2D keypoints coloured by confidence, bones, and ray errors.

``physhmr video show SHARD --out FILE.mp4 [--png FILE.png]`` draws every frame of one
shard (its frames, or a grey canvas when the shard has none) with

  * each keypoint as a filled dot coloured by its confidence, red (0) -> yellow (0.5) ->
    green (1); keypoints with ``conf == 0`` are not drawn (their ``kp2d`` is a placeholder);
  * bones between keypoints whose confidences are both > 0 (the kinematic tree for
    body-named sets, the COCO-17 / OpenPose BODY_25 skeletons for detector sets);
  * for shards with ground truth (``joints3d``), the image-plane picture of the
    pixel-as-ray input: a cyan segment from each keypoint to the projection of its true
    3D joint, ending in a small cross. The closest point of a keypoint's ray to the true
    joint projects onto the keypoint itself (every point of a ray does), so the ray offset
    ``(p - c) - ((p - c) . d) d`` seen from the camera is exactly that segment; its length
    in pixels is ``|offset| * f / depth``.

``physhmr video strip SHARD_OR_DIR... --out FILE.png`` (and ``--png`` above) writes a strip
of sample frames side by side, each labelled with its shard name and frame index; by
default each tile is zoomed on the person (the square crop of :mod:`physhmr_jax.vision.crop`,
the encoder's view, with a looser margin).

Host-side numpy and Pillow (a dependency of matplotlib); videos go through imageio-ffmpeg
(H.264).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from physhmr_jax.humanoid.skeleton import BODY_NAMES, PARENTS
from physhmr_jax.vision.crop import crop_frames, person_boxes, to_crop_coords
from physhmr_jax.vision.shards import VideoFileError, VideoSample, load_sample

# Frames this small are scaled up (nearest neighbour) until they are at least this high,
# so that dots and bones stay legible.
MIN_DISPLAY_HEIGHT_PX = 256
CANVAS_GREY = 128
# Strip tiles are person crops this large, with a looser margin than the encoder's so the
# whole body and some context show.
STRIP_ZOOM_PX = 256
ZOOM_MARGIN = 0.35
BONE_RGB = (235, 235, 235)
RAY_ERROR_RGB = (0, 220, 255)
LABEL_RGB = (255, 255, 255)

_COCO17_BONES = (
    ("left_ankle", "left_knee"), ("left_knee", "left_hip"), ("right_ankle", "right_knee"),
    ("right_knee", "right_hip"), ("left_hip", "right_hip"), ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"), ("left_shoulder", "right_shoulder"), ("left_shoulder", "left_elbow"),
    ("right_shoulder", "right_elbow"), ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"),
    ("left_eye", "right_eye"), ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"),
    ("right_eye", "right_ear"), ("left_ear", "left_shoulder"), ("right_ear", "right_shoulder"),
)  # fmt: skip
_BODY25_BONES = (
    ("Neck", "MidHip"), ("Neck", "RShoulder"), ("Neck", "LShoulder"), ("RShoulder", "RElbow"),
    ("RElbow", "RWrist"), ("LShoulder", "LElbow"), ("LElbow", "LWrist"), ("MidHip", "RHip"), ("RHip", "RKnee"),
    ("RKnee", "RAnkle"), ("MidHip", "LHip"), ("LHip", "LKnee"), ("LKnee", "LAnkle"), ("Neck", "Nose"),
    ("Nose", "REye"), ("REye", "REar"), ("Nose", "LEye"), ("LEye", "LEar"), ("LAnkle", "LBigToe"),
    ("LBigToe", "LSmallToe"), ("LAnkle", "LHeel"), ("RAnkle", "RBigToe"), ("RBigToe", "RSmallToe"),
    ("RAnkle", "RHeel"),
)  # fmt: skip
_BODY_BONES = tuple((BODY_NAMES[b], BODY_NAMES[PARENTS[b]]) for b in range(1, len(BODY_NAMES)))


def bones_for(joint_names: Sequence[str]) -> list[tuple[int, int]]:
    """Index pairs of the bones between the named keypoints (our bodies, COCO-17, BODY_25).

    A bone is kept when both its ends are among ``joint_names``; unknown names get none.
    """
    index = {n: i for i, n in enumerate(joint_names)}
    pairs: list[tuple[int, int]] = []
    for table in (_BODY_BONES, _COCO17_BONES, _BODY25_BONES):
        pairs += [(index[a], index[b]) for a, b in table if a in index and b in index]
    return pairs


def conf_rgb(conf: float) -> tuple[int, int, int]:
    """Red (0) -> yellow (0.5) -> green (1)."""
    c = float(np.clip(conf, 0.0, 1.0))
    return int(round(255 * min(1.0, 2.0 * (1.0 - c)))), int(round(255 * min(1.0, 2.0 * c))), 0


def project_np(K: np.ndarray, R_wc: np.ndarray, t_wc: np.ndarray, points_world: np.ndarray):
    """Host-side pinhole projection (camera.py's convention).

    Args:
      K: [3, 3]; R_wc: [T, 3, 3]; t_wc: [T, 3]; points_world: [T, J, 3] metres.
    Returns:
      uv_px [T, J, 2] and depth_m [T, J] (uv is meaningless where depth <= 0).
    """
    p_cam = np.einsum("tji,tnj->tni", R_wc, points_world - t_wc[:, None, :])
    depth = p_cam[..., 2]
    safe = np.where(np.abs(depth) < 1e-6, 1e-6, depth)
    uv = np.einsum("ij,tnj->tni", K[:2], p_cam / safe[..., None])
    return uv.astype(np.float32), depth.astype(np.float32)


def canvas_size(sample: VideoSample) -> tuple[int, int]:
    """(width, height) of the sample's images: its frames, ``image_size`` or twice the principal point."""
    if sample.frames is not None:
        return int(sample.frames.shape[2]), int(sample.frames.shape[1])
    if sample.image_size is not None:
        return sample.image_size
    return max(1, int(round(2 * sample.K[0, 2]))), max(1, int(round(2 * sample.K[1, 2])))


def display_scale(height_px: int) -> int:
    """Integer upscaling that brings an image to at least :data:`MIN_DISPLAY_HEIGHT_PX` high."""
    return max(1, int(np.ceil(MIN_DISPLAY_HEIGHT_PX / max(height_px, 1))))


def draw_frame(
    image: np.ndarray,
    kp2d: np.ndarray,
    conf: np.ndarray,
    bones: Sequence[tuple[int, int]],
    *,
    true_uv: np.ndarray | None = None,
    true_visible: np.ndarray | None = None,
    scale: int = 1,
    label: str = "",
) -> np.ndarray:
    """Draw one frame.

    Args:
      image: [H, W, 3] uint8 at the shard's resolution.
      kp2d: [J, 2] pixels; conf: [J].
      bones: index pairs into the J keypoints.
      true_uv: [J, 2] projections of the true joints (same order as kp2d), or None.
      true_visible: [J] bool, where ``true_uv`` may be drawn (in front of the camera).
      scale: integer upscaling of the output.
      label: text drawn in the top-left corner.
    Returns:
      [H * scale, W * scale, 3] uint8.
    """
    big = np.repeat(np.repeat(np.asarray(image, np.uint8), scale, axis=0), scale, axis=1)
    img = Image.fromarray(big)
    draw = ImageDraw.Draw(img)
    # Pixel coordinates span [0, W]: a continuous point u lands at u * scale in the big image.
    pts = np.asarray(kp2d, np.float64) * scale
    seen = np.asarray(conf) > 0
    line_w = max(1, scale // 2)
    for a, b in bones:
        if seen[a] and seen[b]:
            draw.line([tuple(pts[a]), tuple(pts[b])], fill=BONE_RGB, width=line_w)
    if true_uv is not None:
        tru = np.asarray(true_uv, np.float64) * scale
        vis = seen if true_visible is None else seen & np.asarray(true_visible)
        arm = 1.5 * scale
        for j in np.flatnonzero(vis):
            draw.line([tuple(pts[j]), tuple(tru[j])], fill=RAY_ERROR_RGB, width=1)
            x, y = tru[j]
            draw.line([(x - arm, y), (x + arm, y)], fill=RAY_ERROR_RGB, width=1)
            draw.line([(x, y - arm), (x, y + arm)], fill=RAY_ERROR_RGB, width=1)
    r = max(2.0, 0.75 * scale)
    for j in np.flatnonzero(seen):
        x, y = pts[j]
        draw.ellipse([x - r, y - r, x + r, y + r], fill=conf_rgb(conf[j]), outline=(0, 0, 0))
    if label:
        draw.text((3, 2), label, fill=LABEL_RGB)
    return np.asarray(img)


def draw_sample(
    sample: VideoSample,
    *,
    frame_indices: Sequence[int] | None = None,
    scale: int | None = None,
    zoom_px: int | None = None,
    label: bool = True,
) -> np.ndarray:
    """Draw frames of a sample (all by default).

    ``zoom_px`` draws, instead of the whole image, the square person crop of
    :mod:`physhmr_jax.vision.crop` (what the encoder sees) resampled to ``zoom_px``.

    Returns [N, H * scale, W * scale, 3] uint8 (``scale`` defaults to
    :func:`display_scale`), or [N, zoom_px, zoom_px, 3].
    """
    width, height = canvas_size(sample)
    scale = display_scale(height) if scale is None else int(scale)
    idx = np.arange(sample.num_frames) if frame_indices is None else np.asarray(frame_indices, np.int64)
    bones = bones_for(sample.joint_names)
    true_uv = true_vis = None
    if sample.joints3d is not None:
        # Ground truth is in body order; keypoints named after our bodies line up with it.
        body_of = {n: i for i, n in enumerate(BODY_NAMES)}
        cols = [body_of.get(n, -1) for n in sample.joint_names]
        if any(c >= 0 for c in cols):
            uv, depth = project_np(sample.K, sample.R_wc, sample.t_wc, sample.joints3d)
            safe_cols = np.maximum(cols, 0)
            true_uv = uv[:, safe_cols]
            true_vis = (depth[:, safe_cols] > 0) & (np.asarray(cols) >= 0)[None]
    if sample.frames is not None:
        images = sample.frames[idx]
    else:
        images = np.full((len(idx), height, width, 3), CANVAS_GREY, np.uint8)
    kp2d = sample.kp2d[idx]
    true_uv = None if true_uv is None else true_uv[idx]
    if zoom_px:
        boxes = person_boxes(sample.kp2d, sample.conf, image_size=(width, height), margin=ZOOM_MARGIN)[idx]
        images = crop_frames(images, boxes, zoom_px)
        kp2d = to_crop_coords(kp2d, boxes, zoom_px)
        true_uv = None if true_uv is None else to_crop_coords(true_uv, boxes, zoom_px)
        scale = 1
    out = []
    for i, t in enumerate(idx):
        out.append(
            draw_frame(
                images[i], kp2d[i], sample.conf[t], bones,
                true_uv=None if true_uv is None else true_uv[i],
                true_visible=None if true_vis is None else true_vis[t],
                scale=scale, label=f"{sample.name} t={t}" if label else "",
            )
        )  # fmt: skip
    return np.stack(out)


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: float) -> Path:
    """Write [T, H, W, 3] uint8 as H.264 (odd sizes padded by one pixel: yuv420p needs even)."""
    import imageio.v3 as iio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t, h, w, _ = frames.shape
    frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)))
    iio.imwrite(path, frames, fps=float(fps), codec="libx264", macro_block_size=1)
    return path


def contact_sheet(
    samples: Sequence[VideoSample], num_frames: int = 6, *, seed: int = 0, zoom_px: int | None = STRIP_ZOOM_PX
) -> np.ndarray:
    """A strip of ``num_frames`` drawn frames, spread over the samples.

    Frame ``i`` comes from sample ``i mod len(samples)`` at a random time (deterministic in
    ``seed``) where at least one keypoint is visible. With ``zoom_px`` (the default) each
    tile is the person crop at that size; without, the whole frame, brought to a common
    height (integer upscaling, then padding at the bottom).

    Returns [H, num_frames * W, 3] uint8.
    """
    if not samples:
        raise ValueError("contact_sheet needs at least one sample")
    rng = np.random.default_rng(seed)
    tiles = []
    for i in range(num_frames):
        s = samples[i % len(samples)]
        visible = np.flatnonzero((s.conf > 0).any(axis=1))
        t = int(rng.choice(visible)) if visible.size else int(rng.integers(s.num_frames))
        tiles.append(draw_sample(s, frame_indices=[t], zoom_px=zoom_px)[0])
    h = max(tile.shape[0] for tile in tiles)
    tiles = [np.pad(tile, ((0, h - tile.shape[0]), (0, 0), (0, 0))) for tile in tiles]
    return np.concatenate(tiles, axis=1)


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)
    return path


def _shard_paths(paths: Sequence[str | os.PathLike]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.rglob("*.npz"))
            if not found:
                raise VideoFileError(p, "folder has no shards (*.npz)")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise VideoFileError(p, "no such file or folder")
    return files


def main_show(shard: str | os.PathLike, *, out: str | os.PathLike, png: str | None = None, scale: int | None = None):
    """CLI entry (``physhmr video show``): the annotated video, and optionally a PNG strip."""
    sample = load_sample(shard)
    frames = draw_sample(sample, scale=scale)
    write_video(out, frames, sample.fps)
    print(f"[video show] {sample.num_frames} frame(s) of {sample.name} -> {out}")
    if png:
        write_png(png, contact_sheet([sample], num_frames=min(6, sample.num_frames)))
        print(f"[video show] strip -> {png}")


def main_strip(paths: Sequence[str | os.PathLike], *, out: str | os.PathLike, num_frames: int = 6, seed: int = 0):
    """CLI entry (``physhmr video strip``): ``num_frames`` frames spread over several shards."""
    files = _shard_paths(paths)
    rng = np.random.default_rng(seed)
    chosen = [files[i] for i in sorted(rng.permutation(len(files))[: max(1, num_frames)])]
    write_png(out, contact_sheet([load_sample(f) for f in chosen], num_frames=num_frames, seed=seed))
    print(f"[video strip] {num_frames} frame(s) from {len(chosen)} shard(s) -> {out}")
