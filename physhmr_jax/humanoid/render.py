"""MuJoCo's own renderer for humanoid videos (headless: ``MUJOCO_GL=egl`` or ``osmesa``).

Host-side: a sequence of ``qpos`` -> RGB frames from the MJCF's tracking ``side`` camera.
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("MUJOCO_GL", "egl")

FRAME_SIZE = (240, 320)  # height, width


def render_qpos(
    mj_model, qpos_seq: np.ndarray, *, camera: str = "side", size: tuple[int, int] = FRAME_SIZE
) -> list[np.ndarray]:
    """[T, nq] positions -> T frames [H, W, 3] uint8 (``mj_forward`` per frame)."""
    import mujoco

    data = mujoco.MjData(mj_model)
    renderer = mujoco.Renderer(mj_model, *size)
    frames = []
    try:
        for qpos in qpos_seq:
            data.qpos[:] = qpos
            mujoco.mj_forward(mj_model, data)
            renderer.update_scene(data, camera=camera)
            frames.append(renderer.render().copy())
    finally:
        renderer.close()
    return frames


def write_side_by_side(path, left: list[np.ndarray], right: list[np.ndarray], *, fps: float) -> None:
    """An H.264 video of two frame sequences next to each other."""
    import imageio.v3 as iio

    frames = np.stack([np.concatenate([a, b], axis=1) for a, b in zip(left, right, strict=True)])
    iio.imwrite(path, frames, fps=round(fps), codec="libx264")


__all__ = ["FRAME_SIZE", "render_qpos", "write_side_by_side"]
