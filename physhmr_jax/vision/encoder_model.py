"""The default image encoder: a small ResNet on person crops, and applying it to a sample.

The paper feeds its policy a 512-D per-frame feature from a frozen pretrained encoder
(GVHMR's context). Those weights are not available here, so this project pretrains its own
CNN on the synthetic video set (:mod:`physhmr_jax.vision.synth`; training in
:mod:`physhmr_jax.vision.encoder_train`) and stores its features in the shards
(``features [T, 512]``, :mod:`physhmr_jax.vision.encoder_features`; the contract is
documented in :mod:`physhmr_jax.vision.shards`: any other encoder may write its own
``[T, F]`` there).

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
"""

from __future__ import annotations

import functools
import types
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax import Array

from physhmr_jax.humanoid.skeleton import NUM_BODIES
from physhmr_jax.vision.crop import crop_frames, person_boxes
from physhmr_jax.vision.shards import VideoFileError, VideoSample

FEATURE_DIM = 512  # the paper's image feature size
# Frames encoded per jitted call in ``encode_crops`` (padded: one compile per model).
ENCODE_BATCH = 256


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


# ----------------------------------------------------------------------------- applying the model


def sample_crops(sample: VideoSample, config: ml_collections.ConfigDict) -> np.ndarray:
    """[T, crop_px, crop_px, 3] uint8 person crops of a sample's frames."""
    if sample.frames is None:
        raise VideoFileError(sample.source or sample.name, "has no 'frames': the image encoder needs images")
    w, h = sample.frames.shape[2], sample.frames.shape[1]
    boxes = person_boxes(sample.kp2d, sample.conf, image_size=(w, h), margin=config.crop_margin)
    return crop_frames(sample.frames, boxes, config.crop_px)


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
