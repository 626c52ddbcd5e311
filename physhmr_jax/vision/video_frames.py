"""Frames of a real video: a video file or a folder of images -> [T, H, W, 3] uint8 RGB.

Accepted: a video file (mp4 and friends through imageio-ffmpeg; other multi-image files
such as GIF through imageio) or a folder of images (png/jpg/bmp/tif/webp, in natural
order: ``frame_2`` before ``frame_10``). Frames are returned as read (uint8 RGB, no
resizing): grey images are repeated to three channels, an alpha channel is dropped. Errors
(:class:`~physhmr_jax.vision.shards.VideoFileError`) name the file and the problem: a
missing path, a folder without images, images of different sizes, frames that are not
8-bit, or a file the decoders cannot read. Used by
:func:`physhmr_jax.vision.video_import.import_video`.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

from physhmr_jax.vision.shards import VideoFileError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def _natural_key(path: Path) -> list:
    return [int(s) if s.isdigit() else s.lower() for s in re.split(r"(\d+)", path.name)]


def _to_rgb(image: np.ndarray, path: Path) -> np.ndarray:
    if image.dtype != np.uint8:
        raise VideoFileError(path, f"frames must be 8-bit, got {image.dtype}")
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
        raise VideoFileError(path, f"unexpected image shape {image.shape}")
    if image.shape[-1] == 1:
        return np.repeat(image, 3, axis=-1)
    return image[..., :3]  # drop alpha


def read_frames(path: str | os.PathLike) -> tuple[np.ndarray, float | None]:
    """Frames of a video file or an image folder -> ([T, H, W, 3] uint8 RGB, fps or None)."""
    import imageio.v2 as iio  # lazy: only imports of real videos need it

    path = Path(path)
    if not path.exists():
        raise VideoFileError(path, "no such file or folder")
    fps = None
    try:
        if path.is_dir():
            files = sorted((f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
            if not files:
                raise VideoFileError(path, f"no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
            images = [_to_rgb(np.asarray(iio.imread(f)), f) for f in files]
            sizes = {im.shape for im in images}
            if len(sizes) > 1:
                raise VideoFileError(path, f"images have different sizes {sorted(sizes)}")
        elif path.suffix.lower() in VIDEO_SUFFIXES:
            with iio.get_reader(path, format="FFMPEG") as reader:
                fps = reader.get_meta_data().get("fps")
                images = [_to_rgb(np.asarray(frame), path) for frame in reader]
        else:
            images = [_to_rgb(np.asarray(im), path) for im in iio.mimread(path, memtest=False)]
    except VideoFileError:
        raise
    except Exception as err:  # decoders raise many types (OSError, RuntimeError, ValueError, ...)
        raise VideoFileError(path, f"cannot read frames ({type(err).__name__}: {err})") from None
    if not images:
        raise VideoFileError(path, "no frames")
    fps = float(fps) if fps is not None and math.isfinite(fps) and fps > 0 else None
    return np.stack(images), fps
