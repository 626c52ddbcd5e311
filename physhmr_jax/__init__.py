"""physhmr_jax: PhysHMR in JAX (MJX humanoid, motion library, vision inputs, PPO expert)."""

import os as _os

# MuJoCo picks its OpenGL backend when it is first imported; headless EGL unless the user
# chose one (``MUJOCO_GL=osmesa`` or ``glfw``). Set here so every entry point renders.
_os.environ.setdefault("MUJOCO_GL", "egl")

# MJX (also imported by brax) prints two "Failed to import warp" lines on CPU machines; the
# first import of it happens here, with those lines dropped (see humanoid/quiet_mjx.py).
from physhmr_jax.humanoid import quiet_mjx as _quiet_mjx  # noqa: E402, F401
