"""Left-right mirror symmetry of the imitation task (Yu, Turk and Liu 2018's mirror loss).

The mean SMPL body is symmetric about its sagittal plane, the world y = 0 plane of a body
facing +x (the left hip sits at +y). Mirroring a state through that plane swaps every left
body with its right partner and maps

* positions and linear velocities (in the world or the heading frame): (x, y, z) -> (x, -y, z);
* angular velocities (pseudo-vectors): (x, y, z) -> (-x, y, -z);
* rotations: R -> M R M with M = diag(1, -1, 1), i.e. quaternion (w, x, y, z) -> (w, -x, y, -z),
  and entry (i, j) of a rotation matrix times m_i m_j (so the 6D columns of
  ``rot.quat_to_6d`` get signs (1, -1, 1, -1, 1, -1));
* hinge angles (rest frames aligned with the world, hinges x, y, z): x and z negate, y stays
  (M R_x(a) M = R_x(-a), M R_y(b) M = R_y(b), M R_z(c) M = R_z(-c)); the right hinges' ranges
  are the left ones mirrored this way (``mjcf.joint_ranges_rad``).

Every part of the expert's observation (``envs/imitation.py``: the pelvis height, heading-frame
positions, 6D rotations, velocities, and the same of each reference frame) is one of these, so
mirroring an observation or an action is a signed permutation: ``x[..., perm] * sign``. A policy
is symmetric when mean(mirror(obs)) = mirror(mean(obs)); ``ppo.symmetry_coef`` adds that
squared gap to PPO's policy loss (``agents/losses.py``). The heading frame of a mirrored pelvis
is the mirrored heading frame, so the maps are exact (``tests/test_symmetry.py`` checks them
against mirrored states and forward kinematics).
"""

from __future__ import annotations

import numpy as np

from physhmr_jax.agents.mirror import Mirror, mirror_action, mirror_obs  # re-exported
from physhmr_jax.humanoid.skeleton import BODY_NAMES, NUM_BODIES

from .imitation import PROPRIOCEPTION_SIZE, REFERENCE_FRAME_SIZE

VECTOR_SIGN = np.array([1.0, -1.0, 1.0])
PSEUDOVECTOR_SIGN = np.array([-1.0, 1.0, -1.0])
SIXD_SIGN = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
QUAT_SIGN = np.array([1.0, -1.0, 1.0, -1.0])
HINGE_SIGN = PSEUDOVECTOR_SIGN  # hinges about x, y, z


def body_partners() -> np.ndarray:
    """[24] index of each body's mirror partner (itself on the midline)."""
    index = {name: i for i, name in enumerate(BODY_NAMES)}
    swap = {"L_": "R_", "R_": "L_"}
    return np.array([index.get(swap.get(n[:2], n[:2]) + n[2:], i) for i, n in enumerate(BODY_NAMES)])


def _block(start: int, bodies: np.ndarray, sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Perm and sign of a block of len(bodies) per-body entries of width len(sign) at ``start``."""
    width = len(sign)
    perm = start + (bodies[:, None] * width + np.arange(width)[None]).reshape(-1)
    return perm, np.tile(sign, len(bodies))


def imitation_mirror(num_future_frames: int = 1) -> Mirror:
    """The mirror of ``ImitationEnv``'s observation (358 + 576 K) and its 69 actions."""
    partners = body_partners()
    children = partners[1:] - 1  # bodies 1..23 (the pelvis has no local position or hinge)
    blocks = [(np.array([0]), np.array([1.0]))]  # pelvis height
    start = 1
    for bodies, sign in (
        (children, VECTOR_SIGN),  # local positions of bodies 1..23
        (partners, SIXD_SIGN),  # rotations
        (partners, VECTOR_SIGN),  # linear velocities
        (partners, PSEUDOVECTOR_SIGN),  # angular velocities
    ):
        block = _block(start, bodies, sign)
        blocks.append(block)
        start += len(block[0])
    assert start == PROPRIOCEPTION_SIZE, start
    for _ in range(num_future_frames):
        for sign in (VECTOR_SIGN, SIXD_SIGN, VECTOR_SIGN, PSEUDOVECTOR_SIGN, VECTOR_SIGN, SIXD_SIGN):
            block = _block(start, partners, sign)
            blocks.append(block)
            start += len(block[0])
    obs_perm, obs_sign = np.concatenate([b[0] for b in blocks]), np.concatenate([b[1] for b in blocks])
    assert len(obs_perm) == PROPRIOCEPTION_SIZE + REFERENCE_FRAME_SIZE * num_future_frames
    action_perm, action_sign = _block(0, children, HINGE_SIGN)
    assert len(action_perm) == 3 * (NUM_BODIES - 1)
    return Mirror(obs_perm, obs_sign.astype(np.float32), action_perm, action_sign.astype(np.float32))


__all__ = [
    "HINGE_SIGN",
    "Mirror",
    "PSEUDOVECTOR_SIGN",
    "QUAT_SIGN",
    "SIXD_SIGN",
    "VECTOR_SIGN",
    "body_partners",
    "imitation_mirror",
    "mirror_action",
    "mirror_obs",
]
