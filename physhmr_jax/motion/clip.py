"""The project's motion format: one retargeted clip on the SMPL-topology humanoid.

A clip file is an ``.npz`` with:
  ``fps`` scalar, ``root_pos (T,3)`` metres (world, z up), ``root_quat (T,4)`` wxyz,
  ``dof (T,69)`` hinge angles in radians (see ``humanoid/skeleton.py`` for the order),
  ``skeleton (24,3)`` bone offsets in metres, and optionally ``source`` (a string) and
  ``betas``.

This module is host-side (numpy): it validates, saves and loads clips. User errors raise
:class:`MotionFileError`, which names the file and the problem in one line.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from physhmr_jax.humanoid.skeleton import NUM_BODIES, NUM_DOF, Skeleton
from physhmr_jax.npz_io import NPZ_READ_ERRORS


class MotionFileError(ValueError):
    """A motion file that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclasses.dataclass(frozen=True)
class Clip:
    """One motion clip on the humanoid.

    Attributes:
      name: short identifier (the file stem by default).
      fps: frames per second.
      root_pos_m: [T, 3] pelvis position in the world.
      root_quat: [T, 4] pelvis orientation, wxyz.
      dof: [T, 69] hinge angles (radians).
      skeleton: the body the clip was retargeted to.
      source: where it came from (a path, or "procedural:<type>:<seed>").
    """

    name: str
    fps: float
    root_pos_m: np.ndarray
    root_quat: np.ndarray
    dof: np.ndarray
    skeleton: Skeleton
    source: str = ""

    @property
    def num_frames(self) -> int:
        return int(self.root_pos_m.shape[0])

    @property
    def duration_s(self) -> float:
        return (self.num_frames - 1) / self.fps

    def validate(self, where: str | os.PathLike | None = None) -> Clip:
        """Check shapes and values; raise :class:`MotionFileError` naming ``where``."""
        where = where if where is not None else (self.source or self.name)
        t = self.root_pos_m.shape[0] if self.root_pos_m.ndim == 2 else -1
        expected = {"root_pos": (t, 3), "root_quat": (t, 4), "dof": (t, NUM_DOF)}
        arrays = {"root_pos": self.root_pos_m, "root_quat": self.root_quat, "dof": self.dof}
        for key, shape in expected.items():
            if arrays[key].shape != shape:
                raise MotionFileError(where, f"'{key}' has shape {arrays[key].shape}, expected {shape}")
        if t < 2:
            raise MotionFileError(where, f"clip has {t} frame(s); at least 2 are needed")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise MotionFileError(where, f"fps must be positive, got {self.fps}")
        for key, arr in arrays.items():
            bad = ~np.all(np.isfinite(arr.reshape(t, -1)), axis=-1)
            if bad.any():
                frames = np.flatnonzero(bad)
                raise MotionFileError(where, f"'{key}' has NaN/inf in {bad.sum()} frame(s), first at frame {frames[0]}")
        norms = np.linalg.norm(self.root_quat, axis=-1)
        if np.any(np.abs(norms - 1.0) > 1e-3):
            raise MotionFileError(where, "'root_quat' is not unit norm (expected wxyz unit quaternions)")
        return self

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            fps=np.float64(self.fps),
            root_pos=self.root_pos_m.astype(np.float32),
            root_quat=self.root_quat.astype(np.float32),
            dof=self.dof.astype(np.float32),
            skeleton=self.skeleton.offsets_m.astype(np.float32),
            source=np.array(self.source),
            name=np.array(self.name),
        )
        os.replace(tmp, path)  # never leave a half-written clip behind
        return path


REQUIRED_KEYS = ("fps", "root_pos", "root_quat", "dof", "skeleton")


def load_clip(path: str | os.PathLike) -> Clip:
    """Load a clip written by :meth:`Clip.save`; errors name the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise MotionFileError(path, "no such file")
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            raise MotionFileError(path, "a single .npy array, not an .npz clip (written with np.save, not np.savez?)")
        with data:
            missing = [k for k in REQUIRED_KEYS if k not in data.files]
            if missing:
                raise MotionFileError(path, f"not a physhmr clip: missing key(s) {missing} (has {sorted(data.files)})")
            skeleton_arr = _numbers(path, data, "skeleton")
            if skeleton_arr.shape != (NUM_BODIES, 3):
                raise MotionFileError(path, f"'skeleton' has shape {skeleton_arr.shape}, expected ({NUM_BODIES}, 3)")
            clip = Clip(
                name=str(data["name"]) if "name" in data.files else path.stem,
                fps=float(_numbers(path, data, "fps", scalar=True)),
                root_pos_m=_numbers(path, data, "root_pos"),
                root_quat=_numbers(path, data, "root_quat"),
                dof=_numbers(path, data, "dof"),
                skeleton=Skeleton(skeleton_arr, name=path.stem),
                source=str(data["source"]) if "source" in data.files else str(path),
            )
    except MotionFileError:
        raise
    except NPZ_READ_ERRORS as err:
        raise MotionFileError(path, f"cannot read as .npz ({err})") from None
    return clip.validate(path)


def _numbers(path: Path, data, key: str, *, scalar: bool = False) -> np.ndarray:
    """``data[key]`` as float64; a :class:`MotionFileError` for text, complex or record arrays
    (and, with ``scalar``, for more than one number)."""
    value = data[key]
    if value.dtype.kind not in "biuf":
        raise MotionFileError(path, f"'{key}' has dtype {value.dtype}, expected real numbers")
    if scalar and value.size != 1:
        raise MotionFileError(path, f"'{key}' must be a scalar, got shape {value.shape}")
    return value.astype(np.float64).reshape(() if scalar else value.shape)


def load_clips(paths: list[str | os.PathLike] | str | os.PathLike) -> list[Clip]:
    """Load clips from files and/or directories (every ``*.npz`` inside, sorted)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(p.glob("*.npz")))
        else:
            files.append(p)
    if not files:
        raise MotionFileError(", ".join(map(str, paths)), "no motion clips (*.npz) found")
    return [load_clip(f) for f in files]
