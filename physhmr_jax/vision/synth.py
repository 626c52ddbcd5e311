"""Synthetic video benchmark: motion clips seen by random cameras, rendered and "detected".

For every clip and every one of ``cameras_per_clip`` random cameras this writes one video
sample shard (:mod:`physhmr_jax.vision.shards`) with

  * ``frames``: the kinematic humanoid rendered by MuJoCo from that camera (optional);
  * ``kp2d`` / ``conf``: the 24 body joints (our body names) projected with the camera and
    corrupted like a detector would (noise proportional to the person's box height,
    temporally correlated jitter, dropped joints; joints off the frame get ``conf == 0``);
  * ``joints3d``: ground-truth world joints (forward kinematics of the clip),
    ``root_quat``: the clip's world pelvis orientation (wxyz), ``K``, ``R_wc``, ``t_wc``,
    motion name/source and camera id.

Clips are split into train/test **by clip** (every camera of a clip goes to the same
split), deterministically from the seed. Files: ``<out>/<split>/<clip>_cam<k>.npz`` and
``<out>/manifest.json``.

Camera matching. The renderer uses a camera added to the humanoid's MJCF (via
``mujoco.MjSpec``) whose pose and ``fovy`` are overwritten per frame from our OpenCV
extrinsics: MuJoCo's camera frame looks along its -z with y up, ours along +z with y down,
so ``R_mujoco = R_wc @ diag(1, -1, -1)`` (a 180 degree turn about the camera's x axis),
``pos = t_wc`` and ``fovy = 2 atan((H / 2) / fy)``. With square pixels and the principal
point at the image centre (what :func:`random_camera` produces) this is exactly the
projection of :func:`physhmr_jax.geometry.camera.project` (tests check it on rendered
segmentation masks).

Host-side numpy (and MuJoCo's renderer; set ``MUJOCO_GL=egl`` for headless use).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from physhmr_jax.humanoid.skeleton import BODY_NAMES, NUM_BODIES
from physhmr_jax.vision.shards import VideoSample, save_sample

SYNTH_CAMERA = "synth_cam"
_FLIP_YZ = np.diag([1.0, -1.0, -1.0])


# ----------------------------------------------------------------------------- cameras


def _look_at_np(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """[T,3],[T,3] -> [T,3,3] world-from-camera (OpenCV axes, z up world, upright image)."""
    z = target - eye
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    x = np.cross(z, np.array([0.0, 0.0, 1.0]))
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def _ema(x: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential smoothing along axis 0, started at the first sample."""
    out = np.empty_like(x)
    out[0] = x[0]
    for t in range(1, len(x)):
        out[t] = out[t - 1] + alpha * (x[t] - out[t - 1])
    return out


def random_camera(
    rng: np.random.Generator,
    root_traj: np.ndarray,
    *,
    T: int,
    width: int,
    height: int,
    moving: bool,
    fps: float = 30.0,
) -> dict:
    """A random camera looking at the person.

    Distance 3-6 m (horizontal, from the mean pelvis), camera height 0.8-2.0 m, vertical
    field of view 40-70 degrees, random azimuth. ``moving=False``: a static camera looking
    at the mean pelvis position. ``moving=True``: the camera tracks the pelvis (the look-at
    point follows an exponentially smoothed pelvis with a ~0.5 s time constant; the camera
    centre follows it at the same distance) while slowly orbiting (5-15 degrees/s, random
    sign), so it translates and pans.

    Args:
      rng: numpy generator.
      root_traj: [T, 3] pelvis positions (world, metres).
      T, width, height: frames and image size.
      moving: static or tracking camera.
      fps: frames per second of the clip (sets the orbit and smoothing rates).
    Returns:
      dict with ``K`` [3,3], ``R_wc`` [T,3,3], ``t_wc`` [T,3] (float64 numpy) and the
      drawn parameters ``distance_m``, ``height_m``, ``fovy_deg``, ``azimuth_deg``,
      ``orbit_deg_s`` (0 for a static camera), ``moving``.
    """
    root_traj = np.asarray(root_traj, dtype=np.float64)
    assert root_traj.shape == (T, 3), (root_traj.shape, T)
    dist = rng.uniform(3.0, 6.0)
    cam_h = rng.uniform(0.8, 2.0)
    fovy = rng.uniform(40.0, 70.0)
    az0 = rng.uniform(0.0, 2.0 * np.pi)
    f = 0.5 * height / np.tan(0.5 * np.deg2rad(fovy))
    K = np.array([[f, 0.0, 0.5 * width], [0.0, f, 0.5 * height], [0.0, 0.0, 1.0]])
    if moving:
        omega = np.deg2rad(rng.uniform(5.0, 15.0)) * rng.choice([-1.0, 1.0])
        alpha = 1.0 - np.exp(-1.0 / (0.5 * fps))  # ~0.5 s time constant
        target = _ema(root_traj, alpha)
        az = az0 + omega * np.arange(T) / fps
    else:
        omega = 0.0
        target = np.broadcast_to(root_traj.mean(axis=0), (T, 3)).copy()
        az = np.full(T, az0)
    eye = np.stack([target[:, 0] + dist * np.cos(az), target[:, 1] + dist * np.sin(az), np.full(T, cam_h)], axis=-1)
    R_wc = _look_at_np(eye, target)
    return {
        "K": K,
        "R_wc": R_wc,
        "t_wc": eye,
        "distance_m": float(dist),
        "height_m": float(cam_h),
        "fovy_deg": float(fovy),
        "azimuth_deg": float(np.rad2deg(az0)),
        "orbit_deg_s": float(np.rad2deg(omega)),
        "moving": bool(moving),
    }


# ----------------------------------------------------------------------------- rendering


def build_render_model(skeleton=None):
    """The humanoid's MjModel with an extra world camera :data:`SYNTH_CAMERA` (index returned too)."""
    import mujoco

    from physhmr_jax.humanoid.mjcf import build_mjcf

    spec = mujoco.MjSpec.from_string(build_mjcf(skeleton))
    spec.worldbody.add_camera(name=SYNTH_CAMERA, pos=[0.0, -4.0, 1.0], fovy=45.0)
    model = spec.compile()
    return model, mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, SYNTH_CAMERA)


def fovy_from_K(K: np.ndarray, height: int) -> float:
    """MuJoCo's vertical field of view (degrees) of a centred square-pixel ``K``."""
    K = np.asarray(K, dtype=np.float64)
    if not (np.isclose(K[0, 0], K[1, 1], rtol=1e-5) and abs(K[0, 1]) < 1e-9):
        raise ValueError(f"MuJoCo renders square pixels without skew only, got K={K.tolist()}")
    return float(np.rad2deg(2.0 * np.arctan(0.5 * height / K[1, 1])))


def render_frames(
    model,
    cam_id: int,
    qpos: np.ndarray,
    K: np.ndarray,
    R_wc: np.ndarray,
    t_wc: np.ndarray,
    *,
    width: int,
    height: int,
    segmentation: bool = False,
    shadows: bool = False,
) -> np.ndarray:
    """Render ``qpos`` [T, nq] from the per-frame OpenCV cameras.

    Shadows and floor reflections are off unless ``shadows=True``: with software EGL
    they cost ~10x the rest of the frame (36 ms vs 3 ms at 128x128 on 2 CPU cores).

    Returns [T, H, W, 3] uint8 RGB, or with ``segmentation=True`` a [T, H, W] bool mask of
    the humanoid's pixels (geoms of a body other than the world).
    """
    import mujoco

    K = np.asarray(K, dtype=np.float64)
    cx, cy = K[0, 2], K[1, 2]
    if not (np.isclose(cx, 0.5 * width) and np.isclose(cy, 0.5 * height)):
        raise ValueError(f"MuJoCo renders a centred principal point only, got ({cx}, {cy}) for {width}x{height}")
    model.cam_fovy[cam_id] = fovy_from_K(K, height)
    model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
    model.vis.global_.offheight = max(model.vis.global_.offheight, height)
    data = mujoco.MjData(model)
    renderer = mujoco.Renderer(model, height, width)
    quat = np.zeros(4)
    T = qpos.shape[0]
    out = np.empty(
        (T, height, width) if segmentation else (T, height, width, 3), np.bool_ if segmentation else np.uint8
    )
    try:
        if segmentation:
            renderer.enable_segmentation_rendering()
        if not shadows:
            renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
            renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
        person_geom = model.geom_bodyid > 0
        for t in range(T):
            data.qpos[:] = qpos[t]
            model.cam_pos[cam_id] = t_wc[t]
            mujoco.mju_mat2Quat(quat, (np.asarray(R_wc[t], np.float64) @ _FLIP_YZ).reshape(-1))
            model.cam_quat[cam_id] = quat
            mujoco.mj_forward(model, data)
            renderer.update_scene(data, camera=cam_id)
            img = renderer.render()
            if segmentation:
                ids, types = img[..., 0], img[..., 1]
                is_geom = (types == int(mujoco.mjtObj.mjOBJ_GEOM)) & (ids >= 0)
                out[t] = is_geom & person_geom[np.clip(ids, 0, model.ngeom - 1)]
            else:
                out[t] = img
    finally:
        renderer.close()
    return out


# ----------------------------------------------------------------------------- keypoints


def clip_joints3d(clip) -> np.ndarray:
    """[T, 24, 3] float32 world joints of a clip (forward kinematics)."""
    import jax.numpy as jnp

    from physhmr_jax.humanoid.kinematics import forward_kinematics

    pos, _ = forward_kinematics(
        jnp.asarray(clip.root_pos_m, jnp.float32),
        jnp.asarray(clip.root_quat, jnp.float32),
        jnp.asarray(clip.dof, jnp.float32),
        jnp.asarray(clip.skeleton.offsets_m, jnp.float32),
    )
    return np.asarray(pos, dtype=np.float32)


def project_joints(K: np.ndarray, R_wc: np.ndarray, t_wc: np.ndarray, joints3d: np.ndarray):
    """Exact projection with :func:`physhmr_jax.geometry.camera.project` on float32 inputs.

    Returns (uv [T,J,2] float32, depth [T,J] float32).
    """
    import jax.numpy as jnp

    from physhmr_jax.geometry.camera import Camera, project

    cam = Camera(
        K=jnp.asarray(K, jnp.float32), R_wc=jnp.asarray(R_wc, jnp.float32), t_wc=jnp.asarray(t_wc, jnp.float32)
    )
    uv, depth = project(cam, jnp.asarray(joints3d, jnp.float32))
    return np.asarray(uv, np.float32), np.asarray(depth, np.float32)


def corrupt_keypoints(
    rng: np.random.Generator,
    uv: np.ndarray,
    depth: np.ndarray,
    *,
    width: int,
    height: int,
    noise: bool = True,
    noise_frac: tuple[float, float] = (0.01, 0.03),
    ar_coef: float = 0.8,
    drop_prob: float = 0.05,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Detector-like 2D keypoints from exact projections.

    Pixel noise has std ``s * box_height`` (``s`` drawn from ``noise_frac`` once per video,
    box height of the in-frame joints per frame): half of its variance white, half AR(1)
    temporal jitter with coefficient ``ar_coef``. Each joint is dropped with probability
    ``drop_prob`` per frame (conf 0, kp 0). Joints behind the camera or whose true
    projection is off the image get conf 0, kp 0. Other confidences lie in (0.5, 1],
    decreasing with the drawn error. ``noise=False`` returns the exact projections with
    conf 1 (0 off-frame) and drops nothing.

    Returns (kp2d [T,J,2] float32, conf [T,J] float32, info dict).
    """
    T, J, _ = uv.shape
    inside = (depth > 1e-3) & (uv[..., 0] >= 0) & (uv[..., 0] <= width) & (uv[..., 1] >= 0) & (uv[..., 1] <= height)
    inside &= np.isfinite(uv).all(-1)
    if not noise:
        conf = inside.astype(np.float32)
        kp = np.where(inside[..., None], uv, 0.0).astype(np.float32)
        return kp, conf, {"noise_frac": 0.0, "dropped": 0, "off_frame": int((~inside).sum())}
    s = rng.uniform(*noise_frac)
    v = np.where(inside, uv[..., 1], np.nan)
    with np.errstate(all="ignore"), _nan_warnings_off():
        box_h = np.nanmax(v, axis=1) - np.nanmin(v, axis=1)  # [T]
    box_h = np.where(np.isfinite(box_h) & (box_h > 1.0), box_h, 0.3 * height)
    sigma = (s * box_h)[:, None, None]  # [T,1,1] pixels
    white = rng.standard_normal((T, J, 2))
    ar = np.empty((T, J, 2))
    ar[0] = rng.standard_normal((J, 2))
    innov = np.sqrt(1.0 - ar_coef**2)
    for t in range(1, T):
        ar[t] = ar_coef * ar[t - 1] + innov * rng.standard_normal((J, 2))
    err = sigma * np.sqrt(0.5) * (white + ar)
    dropped = (rng.random((T, J)) < drop_prob) & inside
    keep = inside & ~dropped
    rel = np.linalg.norm(err, axis=-1) / np.maximum(sigma[..., 0], 1e-6)  # ~ Rayleigh(1)
    conf = 0.5 + 0.5 * np.exp(-0.5 * (rel / 1.5) ** 2)
    conf = np.where(keep, conf, 0.0).astype(np.float32)
    kp = np.where(keep[..., None], uv + err, 0.0).astype(np.float32)
    return kp, conf, {"noise_frac": float(s), "dropped": int(dropped.sum()), "off_frame": int((~inside).sum())}


class _nan_warnings_off:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *a):
        return self._w.__exit__(*a)


# ----------------------------------------------------------------------------- dataset


def split_clips(names: Sequence[str], *, seed: int, test_fraction: float) -> dict[str, str]:
    """clip name -> "train" / "test", deterministic in ``seed``; at least one of each when >= 2
    clips and 0 < ``test_fraction`` < 1 (1: every clip a test clip, 0: none)."""
    names = sorted(set(names))
    n = len(names)
    n_test = int(round(test_fraction * n))
    if n >= 2 and 0 < test_fraction < 1:
        n_test = min(max(n_test, 1), n - 1)
    order = np.random.default_rng([seed, 7]).permutation(n)
    test = {names[i] for i in order[:n_test]}
    return {nm: ("test" if nm in test else "train") for nm in names}


def _clip_qpos(clip) -> np.ndarray:
    return np.concatenate([clip.root_pos_m, clip.root_quat, clip.dof], axis=-1).astype(np.float64)


def synth_dataset(
    clips,
    out_dir: str | os.PathLike,
    *,
    cameras_per_clip: int = 4,
    width: int = 128,
    height: int = 128,
    seed: int = 0,
    test_fraction: float = 0.2,
    render: bool = True,
    noise: bool = True,
    moving_fraction: float = 0.5,
    progress: bool = True,
) -> dict:
    """Write one shard per (clip, camera) under ``out_dir/<split>/`` and ``manifest.json``.

    Camera ``k`` of a clip is moving with probability ``moving_fraction`` (camera 0 is
    always static and camera 1 always moving when ``0 < moving_fraction < 1``). Everything
    is deterministic in ``seed``. Returns the manifest dict.
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = list(clips)
    names = [c.name for c in clips]
    if len(set(names)) != len(names):
        raise ValueError(f"clip names must be unique, got {names}")
    split = split_clips(names, seed=seed, test_fraction=test_fraction)
    models: dict[bytes, tuple] = {}
    render_s = 0.0
    frames_rendered = 0
    shards: list[dict] = []
    bar = tqdm(total=len(clips) * cameras_per_clip, desc="video synth", unit="shard", disable=not progress)
    try:
        for ci, clip in enumerate(clips):
            joints3d = clip_joints3d(clip)
            T = clip.num_frames
            qpos = _clip_qpos(clip)
            for k in range(cameras_per_clip):
                rng = np.random.default_rng([seed, ci, k])
                if 0 < moving_fraction < 1 and k < 2:
                    moving = k == 1
                else:
                    moving = bool(rng.random() < moving_fraction)
                cam = random_camera(rng, joints3d[:, 0], T=T, width=width, height=height, moving=moving, fps=clip.fps)
                K = cam["K"].astype(np.float32)
                R_wc = cam["R_wc"].astype(np.float32)
                t_wc = cam["t_wc"].astype(np.float32)
                uv, depth = project_joints(K, R_wc, t_wc, joints3d)
                kp2d, conf, info = corrupt_keypoints(rng, uv, depth, width=width, height=height, noise=noise)
                frames = None
                if render:
                    key = clip.skeleton.offsets_m.astype(np.float64).tobytes()
                    if key not in models:
                        models[key] = build_render_model(clip.skeleton)
                    model, cam_id = models[key]
                    t0 = time.perf_counter()
                    frames = render_frames(model, cam_id, qpos, K, R_wc, t_wc, width=width, height=height)
                    render_s += time.perf_counter() - t0
                    frames_rendered += T
                sp = split[clip.name]
                name = f"{clip.name}_cam{k}"
                sample = VideoSample(
                    kp2d=kp2d, conf=conf, K=K, R_wc=R_wc, t_wc=t_wc, fps=clip.fps, joint_names=BODY_NAMES,
                    frames=frames, image_size=(width, height), joints3d=joints3d,
                    root_quat=clip.root_quat.astype(np.float32),
                    motion_name=clip.name, motion_source=clip.source, camera_id=f"cam{k}",
                    name=name, source=f"synth:seed={seed}",
                )  # fmt: skip
                path = save_sample(out_dir / sp / f"{name}.npz", sample)
                shards.append({
                    "path": str(path.relative_to(out_dir)), "split": sp, "clip": clip.name, "camera_id": f"cam{k}",
                    "frames": T, **{kk: v for kk, v in cam.items() if kk not in ("K", "R_wc", "t_wc")}, **info,
                })  # fmt: skip
                bar.update(1)
    finally:
        bar.close()
    assert joints3d.shape[1] == NUM_BODIES
    manifest = {
        "seed": seed,
        "width": width,
        "height": height,
        "cameras_per_clip": cameras_per_clip,
        "test_fraction": test_fraction,
        "noise": noise,
        "rendered": render,
        "counts": {
            "clips": len(clips),
            "shards": len(shards),
            **{f"{sp}_clips": sum(v == sp for v in split.values()) for sp in ("train", "test")},
            **{f"{sp}_shards": sum(s["split"] == sp for s in shards) for sp in ("train", "test")},
            "frames_rendered": frames_rendered,
        },
        "split": split,
        "render_seconds": render_s,
        "render_frames_per_s": (frames_rendered / render_s) if render_s > 0 else None,
        "shards": shards,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def main_synth(
    motions: str | None,
    out: str | os.PathLike,
    cameras: int = 4,
    width: int = 128,
    height: int = 128,
    seed: int = 0,
) -> dict:
    """CLI entry (``physhmr video synth``): clips from ``motions`` or the procedural library."""
    from physhmr_jax.motion.clip import load_clips
    from physhmr_jax.motion.procedural import generate_library

    clips = load_clips(motions) if motions else generate_library(seed=seed)
    manifest = synth_dataset(clips, out, cameras_per_clip=cameras, width=width, height=height, seed=seed)
    c = manifest["counts"]
    fps = manifest["render_frames_per_s"]
    print(
        f"[video synth] {c['shards']} shard(s) from {c['clips']} clip(s) "
        f"(train {c['train_shards']}, test {c['test_shards']}) -> {out}; "
        f"rendering {fps:.0f} frames/s"
        if fps
        else f"[video synth] {c['shards']} shard(s) -> {out}"
    )
    return manifest
