"""The default image encoder: a small ResNet on person crops, pretrained on synthetic shards.

The paper feeds its policy a 512-D per-frame feature from a frozen pretrained encoder
(GVHMR's context). Those weights are not available here, so (DESIGN.md, "Encoder") this
project pretrains its own CNN on the synthetic video set (:mod:`physhmr_jax.vision.synth`)
and stores its features in the shards (``features [T, 512]``, the contract documented in
:mod:`physhmr_jax.vision.shards`: any other encoder may write its own ``[T, F]`` there).

Network (flax linen, :class:`ImageEncoder`). Input: one square person crop per frame
(:mod:`physhmr_jax.vision.crop`: the box of the confident 2D keypoints, margin 20%,
resampled to ``crop_px``). A stem conv, then one stage per entry of ``widths`` (each halves
the resolution; ``blocks_per_stage`` residual blocks of two 3x3 convs with GroupNorm, which
keeps apply a pure function of the parameters, no batch statistics), global average
pooling, a dense layer to ``feature_dim`` (512) with SiLU: the **features**. Two linear
heads read the features:

  * ``joints_rel_cam`` [B, 24, 3]: root-relative joints in the camera frame (OpenCV axes,
    metres); the pelvis row is 0 by construction;
  * ``root_6d_cam`` [B, 6]: the pelvis orientation in the camera frame as the first two
    columns of its rotation matrix (:func:`~physhmr_jax.geometry.rotations.quat_to_6d`'s
    layout), read back by Gram-Schmidt (``sixd_to_matrix``).

Crop size. 64 px by default (presets ``tiny`` 32, ``gpu`` 96). The synthetic frames are
128 px: a 1.7 m person at the synthetic cameras' 3-6 m with a 40-70 degree field of view
spans about 26-100 px, so with the margin a person box is 36-140 px high, ~65 px typically.
A 64 px crop keeps about the native resolution; 96 px would only interpolate at this frame
size while costing 2.25x the compute on CPU. The ``gpu`` preset uses 96 px for larger
frames.

Targets from a shard: camera-frame joints ``R_wc^T (X - t_wc)`` minus the pelvis;
camera-frame root orientation ``R_wc^T R_root`` from ``root_quat`` when the shard has it
(synthetic shards do), else from a pelvis frame built from the joints (x forward = y x z,
y = left hip - right hip, z = torso - pelvis, re-orthogonalised): a frame fixed to the
pelvis but not the clip's root rotation, so a model trained on one kind of shard predicts
that kind of frame.

Loss: mean per-joint distance (metres, the joints 1..23) plus ``rot_weight`` times the
mean squared Frobenius distance of the Gram-Schmidt root rotation. adamw with a warm-up
cosine schedule, gradient clipping; the whole training set sits on the device and one
jitted ``lax.scan`` runs ``steps_per_call`` minibatch steps per host call (unrolled on CPU,
see ``unroll_scan``).

Kinematic baseline (``physhmr encoder eval``). The head's root-relative pose is placed in
the camera with its root on the pelvis keypoint's ray: with normalised image coordinates
``m_j = K^-1 [u_j, v_j, 1]`` and predicted root-relative points ``P_j``, the root is
``z m_p`` and the projection of joint j agrees with its keypoint when
``(P_jx - x_j P_jz) + z (x_p - x_j) = 0`` (same in y). Weighted by confidence, the
least-squares depth is ``z = -sum w a b / sum w b^2``: the ratio of the skeleton's 3D
extent to its 2D extent about the pelvis, exact for a perfect pose. Without a visible
pelvis keypoint the root is the 3-unknown least-squares translation of the same
equations (SPIN's ``estimate_translation``). Metrics from :mod:`physhmr_jax.eval.metrics`:
MPJPE (root-relative), PA-MPJPE, and G-MPJPE in the world after root placement (also with
the pose scaled to the mean body's bone length first: a crop hides absolute size).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import time
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from jax import Array

from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid.skeleton import BODY_INDEX, NUM_BODIES, PARENTS, mean_skeleton
from physhmr_jax.vision.crop import crop_frames, person_boxes
from physhmr_jax.vision.shards import VideoFileError, VideoSample, body_keypoint_indices, load_sample, save_sample

FEATURE_DIM = 512  # the paper's image feature size
CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
HISTORY_FILE = "history.json"
M_TO_MM = 1000.0
# Frames encoded per jitted call in ``encode_crops`` (padded: one compile per model).
ENCODE_BATCH = 256
# Root placement needs the 2D spread of at least this much weighted evidence.
_MIN_SPREAD = 1e-8


def default_config() -> ml_collections.ConfigDict:
    """Encoder and pretraining settings (the ``cpu`` preset changes a few)."""
    config = ml_collections.ConfigDict(
        {
            # Crops (vision/crop.py).
            "crop_px": 64,
            "crop_margin": 0.2,
            # Network.
            "widths": (16, 32, 64, 128),
            "blocks_per_stage": 1,
            "feature_dim": FEATURE_DIM,
            "norm_groups": 8,
            # Pretraining.
            "steps": 3000,
            "batch_size": 64,
            "steps_per_call": 1,  # minibatch steps per jitted lax.scan
            # XLA:CPU runs this network's convolutions 10-20x slower inside a while loop
            # (1.3-1.7 s vs 0.085-0.13 s per step at batch 32 on the 2-core dev box), so on
            # CPU the steps are traced straight-line, one per call (an unrolled 5-step chunk
            # compiles in 18 s instead of 4 s, for no speed); accelerators keep the
            # ``lax.scan`` loop and long chunks.
            "unroll_scan": True,
            "log_every": 50,  # steps per history row
            "learning_rate": 2e-3,
            "warmup_steps": 100,
            "weight_decay": 1e-4,
            "max_grad_norm": 1.0,
            "rot_weight": 0.1,
            "seed": 0,
        }
    )
    config.lock()
    return config


PRESETS: Mapping[str, Mapping[str, Any]] = types.MappingProxyType(
    {
        # Unit tests: 32 px crops, two narrow stages; a few seconds to compile and train.
        "tiny": types.MappingProxyType(
            {
                "crop_px": 32,
                "widths": (8, 16),
                "norm_groups": 4,
                "steps": 60,
                "batch_size": 16,
                "learning_rate": 3e-3,
                "warmup_steps": 5,
            }
        ),
        # A few minutes on a 2-core CPU (docs/vision.md).
        "cpu": types.MappingProxyType({"steps": 2000, "batch_size": 32}),
        # One accelerator: larger crops, wider and deeper network, bigger batches.
        "gpu": types.MappingProxyType(
            {
                "crop_px": 96,
                "widths": (64, 128, 256, 512),
                "blocks_per_stage": 2,
                "norm_groups": 16,
                "steps": 30000,
                "batch_size": 256,
                "steps_per_call": 100,
                "unroll_scan": False,
                "log_every": 500,
                "learning_rate": 1e-3,
                "warmup_steps": 1000,
            }
        ),
    }
)


def get_config(preset: str | None = None, **overrides) -> ml_collections.ConfigDict:
    """``default_config()`` with a named preset's values, then the non-None ``overrides``."""
    config = default_config()
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown encoder preset {preset!r}; choose one of {sorted(PRESETS)}")
        config.update(dict(PRESETS[preset]))
    config.update({k: v for k, v in overrides.items() if v is not None})
    if config.steps_per_call < 1 or config.steps < 1 or config.batch_size < 1:
        raise ValueError(f"steps, batch_size and steps_per_call must be >= 1, got {config}")
    return config


# ----------------------------------------------------------------------------- network


class EncoderOutput(NamedTuple):
    features: Array  # [B, F]
    joints_rel_cam: Array  # [B, 24, 3] metres, camera frame, pelvis at 0
    root_6d_cam: Array  # [B, 6] first two columns of the camera-frame root rotation


class ResBlock(nn.Module):
    """Two 3x3 convs with GroupNorm and a (projected) skip; the last norm starts at 0."""

    width: int
    stride: int
    groups: int

    @nn.compact
    def __call__(self, x: Array) -> Array:
        groups = min(self.groups, self.width)
        y = nn.Conv(self.width, (3, 3), strides=self.stride, padding="SAME", use_bias=False)(x)
        y = nn.relu(nn.GroupNorm(num_groups=groups)(y))
        y = nn.Conv(self.width, (3, 3), padding="SAME", use_bias=False)(y)
        y = nn.GroupNorm(num_groups=groups, scale_init=nn.initializers.zeros)(y)
        if x.shape[-1] != self.width or self.stride != 1:
            x = nn.Conv(self.width, (1, 1), strides=self.stride, use_bias=False)(x)
            x = nn.GroupNorm(num_groups=groups)(x)
        return nn.relu(x + y)


class ImageEncoder(nn.Module):
    """Person crops -> (features, root-relative camera-frame joints, camera-frame root 6D)."""

    widths: Sequence[int]
    blocks_per_stage: int = 1
    feature_dim: int = FEATURE_DIM
    norm_groups: int = 8

    @nn.compact
    def __call__(self, crops: Array) -> EncoderOutput:
        """crops: [B, S, S, 3] uint8 (or float in [0, 255])."""
        x = crops.astype(jnp.float32) / 127.5 - 1.0
        x = nn.Conv(self.widths[0], (3, 3), padding="SAME", use_bias=False)(x)
        x = nn.relu(nn.GroupNorm(num_groups=min(self.norm_groups, self.widths[0]))(x))
        for width in self.widths:
            for b in range(self.blocks_per_stage):
                x = ResBlock(width, stride=2 if b == 0 else 1, groups=self.norm_groups)(x)
        x = jnp.mean(x, axis=(1, 2))
        features = nn.silu(nn.Dense(self.feature_dim)(x))
        joints = nn.Dense((NUM_BODIES - 1) * 3)(features).reshape(-1, NUM_BODIES - 1, 3)
        joints = jnp.concatenate([jnp.zeros_like(joints[:, :1]), joints], axis=1)
        return EncoderOutput(features, joints, nn.Dense(6)(features))


def make_encoder(config: ml_collections.ConfigDict) -> ImageEncoder:
    return ImageEncoder(
        widths=tuple(int(w) for w in config.widths),
        blocks_per_stage=int(config.blocks_per_stage),
        feature_dim=int(config.feature_dim),
        norm_groups=int(config.norm_groups),
    )


def init_params(model: ImageEncoder, config: ml_collections.ConfigDict, key: Array):
    """Fresh parameters. Jitted: eagerly every kernel shape compiles its own random-normal
    program (~2 s each on the 2-core CPU); one jitted init compiles them together."""
    crops = jax.ShapeDtypeStruct((1, config.crop_px, config.crop_px, 3), jnp.uint8)
    return jax.jit(lambda k: model.init(k, jnp.zeros(crops.shape, crops.dtype))["params"])(key)


# ----------------------------------------------------------------------------- data


def pelvis_rotation_from_joints(joints_world: np.ndarray) -> np.ndarray:
    """[T, 24, 3] -> [T, 3, 3] a pelvis frame from the hips and torso (module docstring)."""
    j = np.asarray(joints_world, np.float64)
    y = j[:, BODY_INDEX["L_Hip"]] - j[:, BODY_INDEX["R_Hip"]]
    y /= np.linalg.norm(y, axis=-1, keepdims=True)
    up = j[:, BODY_INDEX["Torso"]] - j[:, BODY_INDEX["Pelvis"]]
    x = np.cross(y, up)
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=-1)


def camera_frame_targets(sample: VideoSample) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground truth of a synthetic sample in its camera frame.

    Returns:
      joints_rel_cam: [T, 24, 3] camera-frame joints minus the pelvis (metres).
      root_6d_cam: [T, 6] first two columns of ``R_wc^T R_root``.
      root_cam: [T, 3] camera-frame pelvis position (metres).
    """
    if sample.joints3d is None:
        raise VideoFileError(sample.source or sample.name, "has no ground truth 'joints3d' (not a synthetic shard)")
    R_wc = sample.R_wc.astype(np.float64)
    joints_cam = np.einsum("tji,tnj->tni", R_wc, sample.joints3d - sample.t_wc[:, None, :])
    if sample.root_quat is not None:
        R_root = np.asarray(rot.quat_to_matrix(jnp.asarray(sample.root_quat)), np.float64)
    else:
        R_root = pelvis_rotation_from_joints(sample.joints3d)
    R_cam = np.einsum("tji,tjk->tik", R_wc, R_root)
    root_6d = np.concatenate([R_cam[..., :, 0], R_cam[..., :, 1]], axis=-1)
    root_cam = joints_cam[:, 0]
    return (
        (joints_cam - root_cam[:, None]).astype(np.float32),
        root_6d.astype(np.float32),
        root_cam.astype(np.float32),
    )


def sample_crops(sample: VideoSample, config: ml_collections.ConfigDict) -> np.ndarray:
    """[T, crop_px, crop_px, 3] uint8 person crops of a sample's frames."""
    if sample.frames is None:
        raise VideoFileError(sample.source or sample.name, "has no 'frames': the image encoder needs images")
    w, h = sample.frames.shape[2], sample.frames.shape[1]
    boxes = person_boxes(sample.kp2d, sample.conf, image_size=(w, h), margin=config.crop_margin)
    return crop_frames(sample.frames, boxes, config.crop_px)


class EncoderData(NamedTuple):
    """A training (or evaluation) set, frames of all shards concatenated.

    crops: [N, S, S, 3] uint8; joints_rel_cam: [N, 24, 3]; root_6d_cam: [N, 6].
    """

    crops: Array
    joints_rel_cam: Array
    root_6d_cam: Array


def split_shards(data_dir: str | os.PathLike, split: str | None) -> list[Path]:
    """Shards of ``data_dir/<split>/`` (or a single shard file; ``split=None``: all, recursively)."""
    data_dir = Path(data_dir)
    if data_dir.is_file():
        return [data_dir]
    if not data_dir.is_dir():
        raise VideoFileError(data_dir, "no such file or folder")
    root = data_dir / split if split else data_dir
    files = sorted(root.rglob("*.npz")) if root.is_dir() else []
    if not files:
        raise VideoFileError(root, f"no shards (*.npz){' for split ' + repr(split) if split else ''}")
    return files


def load_encoder_data(paths: Sequence[Path], config: ml_collections.ConfigDict, *, progress: bool = False):
    """Crops and targets of every frame of the shards at ``paths`` (numpy :class:`EncoderData`)."""
    from tqdm import tqdm

    crops, joints, root6 = [], [], []
    for path in tqdm(paths, desc="crops", unit="shard", disable=not progress):
        sample = load_sample(path)
        j, r6, _ = camera_frame_targets(sample)
        crops.append(sample_crops(sample, config))
        joints.append(j)
        root6.append(r6)
    return EncoderData(np.concatenate(crops), np.concatenate(joints), np.concatenate(root6))


# ----------------------------------------------------------------------------- training


def encoder_loss(params, model: ImageEncoder, batch: EncoderData, rot_weight: float) -> tuple[Array, dict[str, Array]]:
    """Pretraining loss on a minibatch.

    Args:
      batch: crops [B, S, S, 3], joints_rel_cam [B, 24, 3], root_6d_cam [B, 6].
    Returns:
      loss (scalar) and metrics: ``joint_error_m`` (mean distance over joints 1..23),
      ``rot_error`` (mean squared Frobenius distance of the root rotations).
    """
    out = model.apply({"params": params}, batch.crops)
    joint_err = jnp.linalg.norm(out.joints_rel_cam[:, 1:] - batch.joints_rel_cam[:, 1:], axis=-1).mean()
    R_pred = rot.sixd_to_matrix(out.root_6d_cam)
    R_true = rot.sixd_to_matrix(batch.root_6d_cam)
    rot_err = jnp.sum((R_pred - R_true) ** 2, axis=(-2, -1)).mean()
    loss = joint_err + rot_weight * rot_err
    return loss, {"loss": loss, "joint_error_m": joint_err, "rot_error": rot_err}


def make_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, config.learning_rate, min(config.warmup_steps, max(config.steps - 1, 1)), config.steps
    )
    return optax.chain(
        optax.clip_by_global_norm(config.max_grad_norm),
        optax.adamw(schedule, weight_decay=config.weight_decay),
    )


class TrainCarry(NamedTuple):
    params: Any
    opt_state: Any
    key: Array


def train_step(
    carry: TrainCarry,
    _,
    *,
    data: EncoderData,
    model: ImageEncoder,
    optimizer: optax.GradientTransformation,
    batch_size: int,
    rot_weight: float,
) -> tuple[TrainCarry, dict[str, Array]]:
    """One minibatch step (the ``lax.scan`` body): sample indices on device, SGD update."""
    key, sub = jax.random.split(carry.key)
    idx = jax.random.randint(sub, (batch_size,), 0, data.crops.shape[0])
    batch = jax.tree.map(lambda x: x[idx], data)
    grads, metrics = jax.grad(encoder_loss, has_aux=True)(carry.params, model, batch, rot_weight)
    updates, opt_state = optimizer.update(grads, carry.opt_state, carry.params)
    return TrainCarry(optax.apply_updates(carry.params, updates), opt_state, key), metrics


def make_train_chunk(model: ImageEncoder, optimizer: optax.GradientTransformation, config: ml_collections.ConfigDict):
    """``chunk(carry, data) -> (carry, metrics [steps_per_call])``, jitted."""

    def chunk(carry: TrainCarry, data: EncoderData):
        body = functools.partial(
            train_step, data=data, model=model, optimizer=optimizer,
            batch_size=int(config.batch_size), rot_weight=float(config.rot_weight),
        )  # fmt: skip
        if not config.unroll_scan:
            return jax.lax.scan(body, carry, None, length=int(config.steps_per_call))
        # Traced Python loop: straight-line code. (``lax.scan(..., unroll=True)`` of length 1
        # still leaves a one-trip while loop, as slow on XLA:CPU as the rolled loop.)
        rows = []
        for _ in range(int(config.steps_per_call)):
            carry, row = body(carry, None)
            rows.append(row)
        return carry, jax.tree.map(lambda *xs: jnp.stack(xs), *rows)

    return jax.jit(chunk, donate_argnums=(0,))


class TrainResult(NamedTuple):
    params: Any
    history: list[dict[str, float]]  # one row per ``log_every`` steps: step, mean metrics, seconds
    initial: dict[str, float]  # loss on the fixed probe batch before training
    final: dict[str, float]  # ... and after
    compile_s: float
    train_s: float


def _probe(data: EncoderData, n: int = 256) -> EncoderData:
    """A fixed, evenly spaced subset of the training frames to compare losses on."""
    idx = np.linspace(0, data.crops.shape[0] - 1, min(n, data.crops.shape[0])).astype(np.int64)
    return EncoderData(*(jnp.asarray(np.asarray(x)[idx]) for x in data))


def train_encoder(data: EncoderData, config: ml_collections.ConfigDict, *, progress: bool = True) -> TrainResult:
    """Pretrain on ``data`` for ``config.steps`` (rounded up to whole ``steps_per_call`` chunks)."""
    from tqdm import tqdm

    model = make_encoder(config)
    optimizer = make_optimizer(config)
    key, init_key = jax.random.split(jax.random.PRNGKey(config.seed))
    params = init_params(model, config, init_key)
    carry = TrainCarry(params, optimizer.init(params), key)
    device_data = EncoderData(*(jnp.asarray(x) for x in data))
    probe = _probe(data)
    probe_loss = jax.jit(lambda p: encoder_loss(p, model, probe, float(config.rot_weight))[1])
    initial = {k: float(v) for k, v in probe_loss(carry.params).items()}

    chunk = make_train_chunk(model, optimizer, config)
    t0 = time.perf_counter()
    chunk = chunk.lower(carry, device_data).compile()
    compile_s = time.perf_counter() - t0
    per_call = int(config.steps_per_call)
    num_chunks = -(-int(config.steps) // per_call)
    history: list[dict[str, float]] = []
    pending: list[dict[str, np.ndarray]] = []
    t0 = time.perf_counter()
    with tqdm(total=num_chunks * per_call, desc="encoder", unit="step", disable=not progress) as bar:
        for c in range(num_chunks):
            carry, metrics = chunk(carry, device_data)
            pending.append(jax.device_get(metrics))
            step = (c + 1) * per_call
            bar.update(per_call)
            if step % int(config.log_every) < per_call or c == num_chunks - 1:
                row = {k: float(np.mean([m[k] for m in pending])) for k in pending[0]}
                row.update(step=step, seconds=round(time.perf_counter() - t0, 2))
                history.append(row)
                pending = []
                bar.set_postfix(loss=f"{row['loss']:.4f}", joint_mm=f"{M_TO_MM * row['joint_error_m']:.0f}")
    train_s = time.perf_counter() - t0
    final = {k: float(v) for k, v in probe_loss(carry.params).items()}
    return TrainResult(carry.params, history, initial, final, compile_s, train_s)


# ----------------------------------------------------------------------------- run directories


def save_encoder(out_dir: str | os.PathLike, params, config: ml_collections.ConfigDict, **extra) -> Path:
    """Orbax checkpoint of ``params`` under ``out_dir/checkpoints/<steps>``, ``config.json`` beside it.

    ``extra`` (JSON-serialisable) goes to ``history.json``.
    """
    import orbax.checkpoint as ocp

    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CONFIG_FILE).write_text(config.to_json(indent=2))
    if extra:
        (out_dir / HISTORY_FILE).write_text(json.dumps(extra, indent=2))
    with ocp.CheckpointManager(out_dir / CHECKPOINT_DIR) as manager:
        manager.save(int(config.steps), args=ocp.args.StandardSave(params), force=True)
        manager.wait_until_finished()
    return out_dir


def load_encoder(run_dir: str | os.PathLike) -> tuple[ImageEncoder, Any, ml_collections.ConfigDict]:
    """(model, params, config) of a run directory written by :func:`save_encoder`."""
    import orbax.checkpoint as ocp

    run_dir = Path(run_dir).resolve()
    config_path = run_dir / CONFIG_FILE
    if not config_path.is_file():
        raise VideoFileError(run_dir, f"not an encoder run directory (no {CONFIG_FILE})")
    config = default_config()
    try:
        config.update(json.loads(config_path.read_text()))
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise VideoFileError(config_path, f"not a valid encoder config ({err})") from None
    model = make_encoder(config)
    abstract = jax.eval_shape(lambda: init_params(model, config, jax.random.PRNGKey(0)))
    with ocp.CheckpointManager(run_dir / CHECKPOINT_DIR) as manager:
        step = manager.latest_step()
        if step is None:
            raise VideoFileError(run_dir / CHECKPOINT_DIR, "no checkpoint")
        params = manager.restore(step, args=ocp.args.StandardRestore(abstract))
    return model, params, config


# ----------------------------------------------------------------------------- features


@functools.partial(jax.jit, static_argnums=(0,))
def _apply(model: ImageEncoder, params, crops: Array) -> EncoderOutput:
    return model.apply({"params": params}, crops)


def encode_crops(model: ImageEncoder, params, crops: np.ndarray) -> EncoderOutput:
    """Run the encoder over [N, S, S, 3] crops in fixed batches; numpy :class:`EncoderOutput`."""
    n = crops.shape[0]
    outs = []
    for start in range(0, n, ENCODE_BATCH):
        part = crops[start : start + ENCODE_BATCH]
        pad = ENCODE_BATCH - part.shape[0]
        part = np.concatenate([part, np.zeros((pad, *part.shape[1:]), part.dtype)]) if pad else part
        out = jax.device_get(_apply(model, params, jnp.asarray(part)))
        outs.append(jax.tree.map(lambda x, k=ENCODE_BATCH - pad: np.asarray(x[:k]), out))
    return EncoderOutput(*(np.concatenate(parts) for parts in zip(*outs, strict=True)))


def encode_sample(model: ImageEncoder, params, config: ml_collections.ConfigDict, sample: VideoSample):
    """Encoder outputs for every frame of ``sample`` (features [T, F] float32, ...)."""
    return encode_crops(model, params, sample_crops(sample, config))


def write_features(run_dir: str | os.PathLike, paths: Sequence[Path], *, progress: bool = True) -> int:
    """Store ``features [T, F]`` in every shard at ``paths`` (rewritten atomically). Returns frames."""
    from tqdm import tqdm

    model, params, config = load_encoder(run_dir)
    frames = 0
    for path in tqdm(paths, desc="features", unit="shard", disable=not progress):
        sample = load_sample(path)
        out = encode_sample(model, params, config, sample)
        save_sample(path, dataclasses.replace(sample, features=out.features.astype(np.float32)))
        frames += sample.num_frames
    return frames


def load_features(sample: VideoSample) -> np.ndarray:
    """The policy's side of the features contract: [T, F] float32, or an error naming the shard."""
    if sample.features is None:
        raise VideoFileError(
            sample.source or sample.name, "has no 'features' (run `physhmr encoder features` on it first)"
        )
    return sample.features


# ----------------------------------------------------------------------------- kinematic baseline


def _normalized(K: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """K^-1 [u, v, 1] -> (x, y) for uv [..., 2] (closed form, camera.py's normalized_coords)."""
    fx, s, cx, fy, cy = K[0, 0], K[0, 1], K[0, 2], K[1, 1], K[1, 2]
    y = (uv[..., 1] - cy) / fy
    x = (uv[..., 0] - cx - s * y) / fx
    return np.stack([x, y], axis=-1)


def place_root(
    joints_rel_cam: np.ndarray, kp2d: np.ndarray, conf: np.ndarray, K: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame root positions that make root-relative joints reproject onto keypoints.

    Row 0 is the pelvis. Where its keypoint is confident the root lies on its ray at the
    least-squares depth ``z = -sum w a b / sum w b^2`` (module docstring); elsewhere it is
    the unconstrained least-squares translation. Frames with too little evidence take the
    root of the nearest frame that has it.

    Args:
      joints_rel_cam: [T, J, 3] root-relative joints (metres, camera frame).
      kp2d: [T, J, 2] their keypoints (pixels); conf: [T, J] weights (0 = missing).
      K: [3, 3].
    Returns:
      root_cam [T, 3] (metres) and ``solved`` [T] bool (False: copied from a neighbour,
      or NaN when no frame could be solved).
    """
    P = np.asarray(joints_rel_cam, np.float64)
    w = np.where(np.asarray(conf) > 0, np.asarray(conf, np.float64), 0.0)
    m = _normalized(np.asarray(K, np.float64), np.asarray(kp2d, np.float64))  # [T, J, 2]
    T = P.shape[0]
    # On the pelvis ray: residual_j = a_j + z b_j per image axis.
    a = P[..., :2] - m * P[..., 2:3]  # [T, J, 2]
    b = m[:, :1] - m  # [T, J, 2]
    num = -np.einsum("tj,tjk,tjk->t", w, a, b)
    den = np.einsum("tj,tjk,tjk->t", w, b, b)
    on_ray = (w[:, 0] > 0) & (den > _MIN_SPREAD)
    z = num / np.where(on_ray, den, 1.0)
    root = np.concatenate([m[:, 0], np.ones((T, 1))], axis=-1) * z[:, None]
    # Free translation r: rows [1, 0, -x_j] r = x_j P_jz - P_jx and [0, 1, -y_j] r = y_j P_jz - P_jy.
    A = np.zeros((T, P.shape[1], 2, 3))
    A[..., 0, 0] = 1.0
    A[..., 1, 1] = 1.0
    A[..., :, 2] = -m
    rhs = -a  # [T, J, 2]
    AtA = np.einsum("tj,tjki,tjkl->til", w, A, A)
    Atb = np.einsum("tj,tjki,tjk->ti", w, A, rhs)
    enough = (np.count_nonzero(w > 0, axis=1) >= 2) & (np.abs(np.linalg.det(AtA)) > _MIN_SPREAD)
    safe = np.where(enough[:, None, None], AtA, np.eye(3))
    free = np.linalg.solve(safe, np.where(enough[:, None], Atb, 0.0)[..., None])[..., 0]
    root = np.where(on_ray[:, None], root, free)
    solved = on_ray | enough
    have = np.flatnonzero(solved)
    if have.size == 0:
        return np.full((T, 3), np.nan, np.float32), solved
    nearest = have[np.abs(np.arange(T)[:, None] - have[None, :]).argmin(axis=1)]
    return root[nearest].astype(np.float32), solved


def body_keypoints(sample: VideoSample) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints in body order: kp2d [T, 24, 2], conf [T, 24] (0 for bodies the set lacks).

    A missing pelvis keypoint is the midpoint of the two hip keypoints when both are there
    (detector sets have no pelvis; the midpoint of their hips is close to it).
    """
    idx = body_keypoint_indices(sample.joint_names)
    present = idx >= 0
    kp = np.where(present[None, :, None], sample.kp2d[:, np.maximum(idx, 0)], 0.0)
    conf = np.where(present[None, :], sample.conf[:, np.maximum(idx, 0)], 0.0)
    if not present[0]:
        lh, rh = BODY_INDEX["L_Hip"], BODY_INDEX["R_Hip"]
        both = (conf[:, lh] > 0) & (conf[:, rh] > 0)
        kp[:, 0] = np.where(both[:, None], 0.5 * (kp[:, lh] + kp[:, rh]), 0.0)
        conf[:, 0] = np.where(both, np.minimum(conf[:, lh], conf[:, rh]), 0.0)
    return kp.astype(np.float32), conf.astype(np.float32)


def total_bone_length_m(joints: np.ndarray) -> np.ndarray:
    """[..., 24, 3] -> [...] the summed length of the 23 bones (metres)."""
    joints = np.asarray(joints, np.float64)
    return np.linalg.norm(joints[..., 1:, :] - joints[..., list(PARENTS[1:]), :], axis=-1).sum(axis=-1)


def mean_body_bone_length_m() -> float:
    """Summed bone length of the built-in mean body (4.36 m)."""
    return float(np.linalg.norm(mean_skeleton().offsets_m[1:], axis=-1).sum())


def baseline_errors(
    joints_rel_cam_pred: np.ndarray, sample: VideoSample, *, bone_length_m: float | None = None
) -> dict[str, np.ndarray]:
    """Per-frame errors of a root-relative camera-frame pose prediction on a synthetic sample.

    The root is placed with :func:`place_root` on the sample's keypoints; metrics come
    from :mod:`physhmr_jax.eval.metrics`. With ``bone_length_m`` the pose is first scaled,
    per frame, to that summed bone length (a body-size prior) for the root placement and
    the world-frame error: a crop hides the person's absolute size, and a regressor's
    uncertain limbs come out short (averaged directions), which puts the root too close.
    The root-relative errors always use the pose as given.

    Returns [T] arrays (metres): ``mpjpe_m`` (root-relative), ``pa_mpjpe_m``,
    ``g_mpjpe_m`` (world frame, after root placement) and ``root_error_m``.
    """
    from physhmr_jax.eval import metrics

    joints_rel_true, _, root_true = camera_frame_targets(sample)
    kp, conf = body_keypoints(sample)
    placed = np.asarray(joints_rel_cam_pred, np.float64)
    if bone_length_m is not None:
        placed = placed * (bone_length_m / np.maximum(total_bone_length_m(placed), 1e-6))[:, None, None]
    root, _ = place_root(placed, kp, conf, sample.K)
    pred_cam = placed + root[:, None]
    pred_world = np.einsum("tij,tnj->tni", sample.R_wc.astype(np.float64), pred_cam) + sample.t_wc[:, None]
    pred_rel, true_rel = jnp.asarray(joints_rel_cam_pred, jnp.float32), jnp.asarray(joints_rel_true)
    return {
        "mpjpe_m": np.asarray(metrics.mpjpe_m(pred_rel, true_rel)),
        "pa_mpjpe_m": np.asarray(metrics.pa_mpjpe_m(pred_rel, true_rel)),
        "g_mpjpe_m": np.asarray(metrics.g_mpjpe_m(jnp.asarray(pred_world, jnp.float32), jnp.asarray(sample.joints3d))),
        "root_error_m": np.linalg.norm(root - root_true, axis=-1),
    }


def rotation_error_deg(root_6d_pred: np.ndarray, root_6d_true: np.ndarray) -> np.ndarray:
    """[T, 6], [T, 6] -> [T] geodesic angle between the Gram-Schmidt rotations (degrees)."""
    R_pred = np.asarray(rot.sixd_to_matrix(jnp.asarray(root_6d_pred)), np.float64)
    R_true = np.asarray(rot.sixd_to_matrix(jnp.asarray(root_6d_true)), np.float64)
    cos = (np.einsum("tij,tij->t", R_pred, R_true) - 1.0) / 2.0
    return np.rad2deg(np.arccos(np.clip(cos, -1.0, 1.0)))


def evaluate_encoder(
    model: ImageEncoder, params, config: ml_collections.ConfigDict, paths: Sequence[Path], *, progress: bool = False
) -> dict[str, Any]:
    """The kinematic baseline over the shards at ``paths``: frame-weighted means in mm / degrees.

    ``g_mpjpe_bone_prior_mm`` places the pose scaled to the mean body's summed bone length
    (:func:`baseline_errors`); ``oracle_g_mpjpe_mm`` places the *true* root-relative pose
    with the same keypoints: the part of the global error that comes from root placement
    on noisy keypoints alone.
    """
    from tqdm import tqdm

    rows: dict[str, list[np.ndarray]] = {}
    bone_prior_m = mean_body_bone_length_m()
    for path in tqdm(paths, desc="eval", unit="shard", disable=not progress):
        sample = load_sample(path)
        out = encode_sample(model, params, config, sample)
        errs = baseline_errors(out.joints_rel_cam, sample)
        joints_true, root6_true, _ = camera_frame_targets(sample)
        errs["root_orientation_error_deg"] = rotation_error_deg(out.root_6d_cam, root6_true)
        errs["oracle_g_mpjpe_m"] = baseline_errors(joints_true, sample)["g_mpjpe_m"]
        errs["g_mpjpe_bone_prior_m"] = baseline_errors(out.joints_rel_cam, sample, bone_length_m=bone_prior_m)[
            "g_mpjpe_m"
        ]
        for k, v in errs.items():
            rows.setdefault(k, []).append(np.asarray(v, np.float64))
    mean = {k: float(np.mean(np.concatenate(v))) for k, v in rows.items()}
    return {
        "shards": len(paths),
        "frames": int(sum(len(v) for v in rows["mpjpe_m"])),
        "mpjpe_mm": round(M_TO_MM * mean["mpjpe_m"], 2),
        "pa_mpjpe_mm": round(M_TO_MM * mean["pa_mpjpe_m"], 2),
        "g_mpjpe_mm": round(M_TO_MM * mean["g_mpjpe_m"], 2),
        "g_mpjpe_bone_prior_mm": round(M_TO_MM * mean["g_mpjpe_bone_prior_m"], 2),
        "root_error_mm": round(M_TO_MM * mean["root_error_m"], 2),
        "root_orientation_error_deg": round(mean["root_orientation_error_deg"], 2),
        "oracle_g_mpjpe_mm": round(M_TO_MM * mean["oracle_g_mpjpe_m"], 2),
    }


# ----------------------------------------------------------------------------- CLI entries


def main_train(
    data: str | os.PathLike,
    out: str | os.PathLike,
    *,
    preset: str = "cpu",
    steps: int | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """``physhmr encoder train``: pretrain on ``data/train``, save the run to ``out``."""
    config = get_config(preset, steps=steps, batch_size=batch_size, seed=seed)
    paths = split_shards(data, "train")
    t0 = time.perf_counter()
    train_data = load_encoder_data(paths, config, progress=progress)
    load_s = time.perf_counter() - t0
    print(f"[encoder train] {len(paths)} shard(s), {train_data.crops.shape[0]} frames, crops {config.crop_px} px")
    result = train_encoder(train_data, config, progress=progress)
    save_encoder(
        out, result.params, config, preset=preset, data=str(data), shards=len(paths),
        frames=int(train_data.crops.shape[0]), load_s=round(load_s, 2), compile_s=round(result.compile_s, 2),
        train_s=round(result.train_s, 2), initial=result.initial, final=result.final, history=result.history,
    )  # fmt: skip
    print(
        f"[encoder train] probe loss {result.initial['loss']:.4f} -> {result.final['loss']:.4f} "
        f"(joint error {M_TO_MM * result.initial['joint_error_m']:.0f} -> "
        f"{M_TO_MM * result.final['joint_error_m']:.0f} mm) in {result.train_s:.0f} s "
        f"(+{result.compile_s:.0f} s compile) -> {out}"
    )
    return result


def main_features(encoder: str | os.PathLike, data: str | os.PathLike, *, split: str | None = None) -> int:
    """``physhmr encoder features``: write ``features [T, F]`` into every shard."""
    paths = split_shards(data, split)
    frames = write_features(encoder, paths)
    print(f"[encoder features] {frames} frame(s) in {len(paths)} shard(s) of {data}")
    return frames


def main_eval(
    encoder: str | os.PathLike, data: str | os.PathLike, *, split: str | None = "test", progress: bool = True
) -> dict[str, Any]:
    """``physhmr encoder eval``: the kinematic baseline on ``data/<split>``."""
    model, params, config = load_encoder(encoder)
    paths = split_shards(data, split)
    result = evaluate_encoder(model, params, config, paths, progress=progress)
    return {"encoder": str(encoder), "data": str(data), "split": split, **result}
