"""Pretraining the image encoder on synthetic shards, and its run directory.

The network and its settings are in :mod:`physhmr_jax.vision.encoder_model`; this module
builds the training set, the loss and the loop, and saves / loads an encoder run.

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

Run directory (:mod:`physhmr_jax.agents.run_dir`'s layout, shared with PPO): ``config.json``
(the encoder config, ``save_config``), ``checkpoints/<steps>/`` (orbax, ``Checkpoints``: the
``params`` item and a JSON ``meta``) and ``history.json`` (data, timings, probe losses and
the loss curve).
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from jax import Array

from physhmr_jax.agents import policy_file
from physhmr_jax.agents.run_dir import CONFIG_FILE, Checkpoints, RunDirError, load_config, save_config
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid.skeleton import BODY_INDEX
from physhmr_jax.vision.encoder_model import (
    ImageEncoder,
    default_config,
    get_config,
    init_params,
    make_encoder,
    sample_crops,
)
from physhmr_jax.vision.shards import VideoFileError, VideoSample, load_sample

HISTORY_FILE = "history.json"
PARAMS_ITEM = "params"  # the checkpoint item holding the encoder's weights
M_TO_MM = 1000.0


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

    ``extra`` (JSON-serialisable) goes to ``history.json``. An ``out_dir`` that already
    holds a checkpoint at this step is an error (the weights would not be replaced).
    """
    out_dir = Path(out_dir).resolve()
    step = int(config.steps)
    checkpoints = Checkpoints(out_dir)
    try:
        if not checkpoints.save(step, {PARAMS_ITEM: params}, {"steps": step}):
            raise RunDirError(out_dir, f"already holds an encoder checkpoint at step {step}")
    finally:
        checkpoints.close()
    save_config(out_dir, config.to_dict())
    if extra:
        (out_dir / HISTORY_FILE).write_text(json.dumps(extra, indent=2))
    return out_dir


ENCODER_KIND = "encoder"


def export_encoder(run_dir: str | os.PathLike, path: str | os.PathLike) -> dict:
    """The encoder of run ``run_dir`` as one file (``agents.policy_file``, kind ``encoder``)."""
    _, params, config = load_encoder(run_dir)
    meta = {"config": config.to_dict(), "steps": int(config.steps), "run_dir": str(run_dir)}
    return policy_file.write(path, ENCODER_KIND, {"params:": params}, meta)


def _encoder_config(raw: dict, where: Path) -> ml_collections.ConfigDict:
    config = default_config()
    try:
        config.update(raw)
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        raise RunDirError(where, f"not a valid encoder config ({err})") from None
    return config


def load_encoder(run_dir: str | os.PathLike) -> tuple[ImageEncoder, Any, ml_collections.ConfigDict]:
    """(model, params, config) of a run directory written by :func:`save_encoder`, or of an
    encoder file written by :func:`export_encoder`."""
    run_dir = Path(run_dir).resolve()
    if run_dir.is_file():
        arrays, meta = policy_file.read(run_dir, ENCODER_KIND)
        config = _encoder_config(meta["config"], run_dir)
        try:
            model = make_encoder(config)
            abstract = jax.eval_shape(lambda: init_params(model, config, jax.random.PRNGKey(0)))
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as err:
            raise RunDirError(run_dir, f"its config does not build an encoder ({type(err).__name__}: {err})") from None
        return model, policy_file.rebuild(abstract, arrays, "params:", run_dir), config
    if not (run_dir / CONFIG_FILE).is_file():
        raise RunDirError(run_dir, f"not an encoder run (no {CONFIG_FILE})")
    config = _encoder_config(load_config(run_dir), run_dir / CONFIG_FILE)
    model = make_encoder(config)
    abstract = jax.eval_shape(lambda: init_params(model, config, jax.random.PRNGKey(0)))
    checkpoints = Checkpoints(run_dir)
    try:
        step = checkpoints.latest_iteration()
        if step is None:
            raise RunDirError(checkpoints.directory, "no checkpoint")
        try:
            items, _ = checkpoints.restore(step, {PARAMS_ITEM: abstract})
        except ValueError as err:  # orbax: no ``params`` item (an older layout), shapes that differ
            raise RunDirError(checkpoints.directory / str(step), f"not an encoder checkpoint ({err})") from None
    finally:
        checkpoints.close()
    return model, items[PARAMS_ITEM], config


def pretrain_encoder(
    data: str | os.PathLike,
    out: str | os.PathLike,
    *,
    preset: str = "cpu",
    steps: int | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """``physhmr encoder train``: pretrain on ``data/train``, save the run to ``out``.

    Returns the run's summary (also in ``history.json`` with the loss curve): shards,
    frames, crop size, timings (seconds) and the probe-batch metrics before and after.
    """
    config = get_config(preset, steps=steps, batch_size=batch_size, seed=seed)
    paths = split_shards(data, "train")
    t0 = time.perf_counter()
    train_data = load_encoder_data(paths, config, progress=progress)
    load_s = time.perf_counter() - t0
    result = train_encoder(train_data, config, progress=progress)
    summary = {
        "preset": preset, "data": str(data), "shards": len(paths), "frames": int(train_data.crops.shape[0]),
        "load_s": round(load_s, 2), "compile_s": round(result.compile_s, 2), "train_s": round(result.train_s, 2),
        "initial": result.initial, "final": result.final,
    }  # fmt: skip
    save_encoder(out, result.params, config, **summary, history=result.history)
    return {"out": str(out), "crop_px": int(config.crop_px), **summary}
