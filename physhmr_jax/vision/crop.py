"""Square person crops around the 2D keypoints (host-side numpy).

The image encoder (:mod:`physhmr_jax.vision.encoder_model`) sees one square crop per frame, as
HMR-style regressors do: the box of the frame's confident keypoints (``conf > 0``), made
square on its longer side, grown by ``margin`` on every side, resampled to ``out_px`` x
``out_px``. Frames without any confident keypoint reuse the box of the nearest frame that
has one; a sample without any gets the whole image. Parts of a box outside the image are
padded with zeros (black), so a person at the border keeps its position in the crop.

Geometry (camera.py's pixel convention: pixel ``(i, j)`` covers ``[i, i + 1) x [j, j + 1)``).
A box is ``(cx, cy, side)`` in image pixels; its top-left corner is
``(cx - side / 2, cy - side / 2)``. An image point ``u`` maps to the crop point

    u_crop = (u - (c - side / 2)) * out_px / side,

so crop pixel ``(i, j)`` is centred on the image point ``c - side / 2 + (i + 0.5) * side /
out_px`` and is sampled there bilinearly (between pixel centres ``k + 0.5``).
"""

from __future__ import annotations

import numpy as np

# Relative growth of the keypoint box on each side: joints are bone centres, the body's
# surface (head top, hands, feet) reaches ~10-20% of the box height beyond them.
DEFAULT_MARGIN = 0.2
# The smallest box side (pixels) so that one or two visible keypoints still give a crop.
MIN_BOX_PX = 8.0


def person_boxes(
    kp2d: np.ndarray,
    conf: np.ndarray,
    *,
    image_size: tuple[int, int],
    margin: float = DEFAULT_MARGIN,
    min_side_px: float = MIN_BOX_PX,
) -> np.ndarray:
    """Square boxes around each frame's confident keypoints.

    Args:
      kp2d: [T, J, 2] pixels; conf: [T, J] (``> 0`` means present).
      image_size: (width, height), for samples without any keypoint.
      margin: growth of the square on each side, as a fraction of its side.
    Returns:
      [T, 3] float32 ``(cx, cy, side)`` in pixels.
    """
    kp2d = np.asarray(kp2d, np.float64)
    seen = np.asarray(conf) > 0
    T = kp2d.shape[0]
    boxes = np.full((T, 3), np.nan)
    for t in range(T):
        if seen[t].any():
            p = kp2d[t, seen[t]]
            lo, hi = p.min(axis=0), p.max(axis=0)
            side = max(float((hi - lo).max()) * (1.0 + 2.0 * margin), min_side_px)
            boxes[t] = (*(0.5 * (lo + hi)), side)
    have = np.flatnonzero(~np.isnan(boxes[:, 0]))
    if have.size == 0:
        w, h = image_size
        boxes[:] = (0.5 * w, 0.5 * h, float(max(w, h)))
    else:  # nearest frame with keypoints
        nearest = have[np.abs(np.arange(T)[:, None] - have[None, :]).argmin(axis=1)]
        boxes = boxes[nearest]
    return boxes.astype(np.float32)


def to_crop_coords(uv_px: np.ndarray, boxes: np.ndarray, out_px: int) -> np.ndarray:
    """Image pixels -> crop pixels. uv_px: [T, J, 2], boxes: [T, 3] -> [T, J, 2]."""
    corner = boxes[:, None, :2] - 0.5 * boxes[:, None, 2:]
    return ((uv_px - corner) * (out_px / boxes[:, None, 2:])).astype(np.float32)


def crop_frames(frames: np.ndarray, boxes: np.ndarray, out_px: int) -> np.ndarray:
    """Bilinear square crops, zero outside the image.

    Args:
      frames: [T, H, W, 3] uint8; boxes: [T, 3] ``(cx, cy, side)``; out_px: crop side.
    Returns:
      [T, out_px, out_px, 3] uint8.
    """
    frames = np.asarray(frames)
    T, H, W, C = frames.shape
    boxes = np.asarray(boxes, np.float64)
    step = boxes[:, 2] / out_px  # [T] image pixels per crop pixel
    grid = np.arange(out_px) + 0.5
    # Continuous image coordinates of the crop pixel centres, minus 0.5: index space of the
    # image's pixel centres.
    xs = boxes[:, 0, None] - 0.5 * boxes[:, 2, None] + grid[None] * step[:, None] - 0.5  # [T, out]
    ys = boxes[:, 1, None] - 0.5 * boxes[:, 2, None] + grid[None] * step[:, None] - 0.5
    x0 = np.floor(xs).astype(np.int64)
    y0 = np.floor(ys).astype(np.int64)
    fx = (xs - x0)[:, None, :, None]
    fy = (ys - y0)[:, :, None, None]
    # One zero pixel of padding on every side; indices outside clamp onto it.
    padded = np.pad(frames, ((0, 0), (1, 1), (1, 1), (0, 0))).astype(np.float32)
    t_idx = np.arange(T)[:, None, None]

    def gather(yy, xx):
        yy = np.clip(yy + 1, 0, H + 1)[:, :, None]
        xx = np.clip(xx + 1, 0, W + 1)[:, None, :]
        return padded[t_idx, yy, xx]  # [T, out, out, C]

    out = (
        gather(y0, x0) * (1 - fy) * (1 - fx)
        + gather(y0, x0 + 1) * (1 - fy) * fx
        + gather(y0 + 1, x0) * fy * (1 - fx)
        + gather(y0 + 1, x0 + 1) * fy * fx
    )
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
