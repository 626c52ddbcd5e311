"""MuJoCo MJX, imported without the optional GPU backend's chatter.

``mujoco.mjx`` prints "Failed to import warp: ..." and "Failed to import mujoco_warp: ..."
to stdout on import wherever its optional Warp backend (NVIDIA GPUs only) is not
installed, which is every CPU machine. Those two lines are dropped here; anything else it
prints is passed on. Every module of this package imports MJX from here.
"""

from __future__ import annotations

import contextlib
import io

_WARP_CHATTER = ("Failed to import warp", "Failed to import mujoco_warp")

_stdout = io.StringIO()
with contextlib.redirect_stdout(_stdout):
    from mujoco import mjx
for _line in _stdout.getvalue().splitlines():
    if not _line.startswith(_WARP_CHATTER):
        print(_line)

__all__ = ["mjx"]
