"""physhmr_jax: PhysHMR in JAX (MJX humanoid, motion library, vision inputs, PPO expert)."""

import os as _os

# MuJoCo picks its OpenGL backend when it is first imported; headless EGL unless the user
# chose one (``MUJOCO_GL=osmesa`` or ``glfw``). Set here so every entry point renders.
_os.environ.setdefault("MUJOCO_GL", "egl")
