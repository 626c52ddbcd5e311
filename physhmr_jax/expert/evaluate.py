"""``physhmr eval expert``: every clip from its first frame, success rate and tracking errors.

Clip i plays in environment i from its first frame with the policy's mean action on the
plain env (no reset, no early termination), through the one rollout
(:func:`physhmr_jax.agents.acting.rollout`) whose record hook keeps the simulated and
reference bodies of every frame. A clip fails at the first frame whose mean body distance
to the reference exceeds 0.5 m (PHC's rule, :func:`physhmr_jax.eval.metrics.tracking_success`);
errors average the frames tracked before that (all frames of a successful clip).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from physhmr_jax.agents import acting, policy_average, ppo, run_dir, sharding
from physhmr_jax.config_io import ConfigError
from physhmr_jax.envs import imitation, motion_prior
from physhmr_jax.eval import protocols
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.build import Expert, build_expert

SIM_BODY_POS = "sim_body_pos"  # Transition.extras keys of the evaluation rollout
REF_BODY_POS = "ref_body_pos"
QPOS = "qpos"
ERROR_KEYS = protocols.PHC_KEYS[:4]  # the errors of a tracked clip, mm (PHC)


def restore_training_state(out: str | Path, expert: Expert, *, iteration: int | None = None) -> ppo.TrainingState:
    """The ``[S, ...]`` training state of an expert run's latest (or given) checkpoint."""
    return restore_seeds(out, expert.env, expert.ppo_config, iteration=iteration, curriculum=expert.curriculum)


def restore_seeds(out: str | Path, env, cfg, *, iteration: int | None = None, curriculum=None) -> ppo.TrainingState:
    """The ``[S, ...]`` PPO training state of any run (PPO on ``env`` with ``cfg``, and the
    start ``curriculum`` it trained with, if any)."""
    checkpoints = run_dir.Checkpoints(out)
    try:
        iteration = checkpoints.latest_iteration() if iteration is None else iteration
        if iteration is None:
            raise run_dir.RunDirError(out, "no checkpoints yet (checkpoints/ is empty)")
        prior = motion_prior.shapes_only() if cfg.amp_weight > 0 else None  # the discriminator's state
        one = jax.eval_shape(
            lambda k: ppo.init_training_state(env, cfg, k, motion_prior=prior, curriculum=curriculum),
            jax.random.PRNGKey(0),
        )
        device = sharding.replicated(sharding.make_mesh(jax.devices()[:1]))
        abstract = jax.tree.map(
            lambda x: jax.ShapeDtypeStruct((cfg.num_seeds, *x.shape), x.dtype, sharding=device), one
        )
        items, _ = checkpoints.restore(iteration, {"training_state": abstract})
    finally:
        checkpoints.close()
    return items["training_state"]


def seed_state(states: ppo.TrainingState, seed_index: int) -> ppo.TrainingState:
    """One seed of a ``[S, ...]`` state, on the default device with no sharding annotation.

    Training (sharded over a mesh) and a restored checkpoint hand the evaluation the same
    kind of arrays, so both hit one compiled program (and the same persistent-cache entry).
    """
    return jax.device_put(jax.tree.map(lambda x: x[seed_index], sharding.to_host(states)))


def steps_per_clip(expert: Expert) -> list[int]:
    """Frames played per clip: every control step whose reference frame exists."""
    return [int(math.floor(c.duration_s / expert.env.dt + 1e-3)) + 1 for c in expert.clips]


_PLAY_PROGRAMS: dict[str, object] = {}  # one jitted evaluation per (env, body, networks, length)


def make_play_clips(expert: Expert, num_steps: int):
    """``play(training_state, motion_lib) -> Transition [T, C]`` (jitted): clip i in env i.

    ``extras`` holds, per step t, the state *before* the step's action (t = 0 is the
    reference start): simulated and reference body positions [T, C, 24, 3] and qpos.
    Experts built from equal configs on the same body share one jitted function, so the
    in-training evaluation and a later ``eval expert`` in the same process compile once.
    """
    key = json.dumps(
        [expert.env.config.to_dict(), expert.humanoid.config.to_dict(), expert.ppo_config.to_dict(),
         np.asarray(expert.humanoid.skeleton.offsets_m).round(12).tolist(), num_steps],
        sort_keys=True, default=str,
    )  # fmt: skip
    if key not in _PLAY_PROGRAMS:
        _PLAY_PROGRAMS[key] = _make_play_clips(expert, num_steps)
    return _PLAY_PROGRAMS[key]


def play_from_first_frames(
    env, policy: acting.Policy, env_data, count: int, num_steps: int, record: acting.Recorder
) -> acting.Transition:
    """Sequence i (clip or video) in env i from time 0 (``env.reset_to(key, env_data, i, 0)``)
    for ``num_steps`` steps of ``policy`` (a trained one's mean action: ``acting.make_policy(...,
    deterministic=True)``); ``record`` adds the extras (:func:`record_tracking`)."""
    keys = jax.random.split(jax.random.PRNGKey(0), count)
    ids = jnp.arange(count, dtype=jnp.int32)
    state = jax.vmap(env.reset_to, in_axes=(0, None, 0, 0))(keys, env_data, ids, jnp.zeros(count))
    step = acting.batched_step(env, env_data)
    _, transitions = acting.rollout(step, policy, state, jax.random.PRNGKey(0), num_steps, record=record)
    return transitions


def record_tracking(motion_lib) -> acting.Recorder:
    """The record hook of every play that is scored: per step, the state *before* the step's
    action (t = 0 is the start): simulated and reference bodies [C, 24, 3] and qpos."""

    def record(state, action, next_state):
        del action, next_state
        return {
            SIM_BODY_POS: jax.vmap(imitation.body_kinematics)(state.data).pos,
            REF_BODY_POS: motion_lib.state_at(state.clip_id, state.time_s).body_pos,
            QPOS: state.data.qpos,
        }

    return record


def mean_action_policy(networks, state: ppo.TrainingState | acting.PolicyParams) -> acting.Policy:
    """A trained policy's mean action (what every evaluation plays): of a training state, the
    policy it stands for (``ppo.policy_params``: the weights' average where kept)."""
    policy = policy_average.as_policy_params(state)
    return acting.make_policy(networks, policy.params, policy.normalizer_params, deterministic=True)


def _make_play_clips(expert: Expert, num_steps: int):
    env = expert.env
    networks = ppo.make_networks(env, expert.ppo_config, expert.mirror)

    def play_policy(policy_params: acting.PolicyParams, lib) -> acting.Transition:
        policy = mean_action_policy(networks, policy_params)
        return play_from_first_frames(env, policy, lib, lib.num_clips, num_steps, record_tracking(lib))

    jitted = jax.jit(play_policy)

    def play(state: ppo.TrainingState | acting.PolicyParams, lib) -> acting.Transition:
        # The program sees the policy alone, so a training state (whatever else it carries:
        # critic, curriculum, discriminator) and an exported policy share one compile.
        return jitted(policy_average.as_policy_params(state), lib)

    return play


def clip_results(expert: Expert, sim_pos: np.ndarray, ref_pos: np.ndarray) -> list[dict]:
    """Per clip: frames, frames tracked, success and errors (mm) from [T, C, 24, 3] bodies."""
    return tracking_results([c.name for c in expert.clips], steps_per_clip(expert), sim_pos, ref_pos)


def tracking_results(
    names: Sequence[str], steps: Sequence[int], sim_pos: np.ndarray, ref_pos: np.ndarray
) -> list[dict]:
    """Per sequence i (column i of [T, N, 24, 3] bodies, its first ``steps[i]`` frames):
    frames, frames tracked, success (PHC's rule) and errors (mm)."""
    return [
        {"clip": name, **protocols.phc_sequence(sim_pos[:n, i], ref_pos[:n, i])}
        for i, (name, n) in enumerate(zip(names, steps, strict=True))
    ]


def summarize_clips(rows: Sequence[dict]) -> dict:
    """PHC's summary of :func:`tracking_results` rows (``eval.protocols.phc_summary``)."""
    return protocols.phc_summary(rows)


def evaluate_expert(
    out: str | Path,
    *,
    motions: str | Sequence[str] | None = None,
    seed_index: int = 0,
    iteration: int | None = None,
    video_clip: str | None = None,
    video_path: str | Path | None = None,
) -> dict:
    """Success rate and tracking errors (mm) of a trained expert on every clip of ``motions``.

    Errors: G-MPJPE (global, unaligned), MPJPE (root-relative), PA-MPJPE (per-frame
    similarity alignment), acceleration error (mm/frame^2). A run trained with
    failure-weighted clip sampling also reports, per clip of its own library, the failure
    rate per step its training saw, the clip's sampling weight (of a reset) at the checkpoint
    and its share of the recent training steps (discounted as the counts are).
    """
    config = expert_config.load_config(out)
    expert = build_expert(config, motions=motions)
    states = restore_training_state(out, expert, iteration=iteration)
    num_seeds = int(states.iteration.shape[0])
    if not 0 <= seed_index < num_seeds:
        raise ConfigError(f"--seed-index {seed_index} out of range: the run trained {num_seeds} seed(s)")
    training_state = seed_state(states, seed_index)
    start = time.perf_counter()
    play = make_play_clips(expert, max(steps_per_clip(expert)))
    extras = jax.tree.map(np.asarray, play(training_state, expert.motion_lib).extras)
    play_s = time.perf_counter() - start
    per_clip = clip_results(expert, extras[SIM_BODY_POS], extras[REF_BODY_POS])
    if expert.curriculum is not None and motions is None:  # what training saw of each clip
        curriculum, counts = expert.curriculum, training_state.curriculum
        rates = np.asarray(curriculum.clip_rates(counts))
        played = curriculum.apply(counts, expert.motion_lib)  # the weights the next rollout's resets draw from
        weights = np.asarray(played.clip_weight)
        segments = np.asarray(played.segment_weight)
        # The weight is a reset's; a clip failing often has short episodes: its share of the
        # (discounted) training steps says what it really got.
        steps = np.asarray(counts.steps).reshape(len(per_clip), -1).sum(axis=1)
        shares = steps / max(float(steps.sum()), 1e-9)
        for row, rate, weight, share, split in zip(per_clip, rates, weights, shares, segments, strict=True):
            row["training_failure_rate"], row["training_clip_weight"] = float(rate), float(weight)
            row["training_step_share"] = float(share)
            if curriculum.segments > 1:  # where in the clip training started: each segment's share
                row["training_segment_weights"] = [float(x) for x in split]
    summary = {
        "run_dir": str(out),
        "iteration": int(np.asarray(training_state.iteration)),
        "seed_index": seed_index,
        **summarize_clips(per_clip),
        "per_clip": per_clip,
        "play_seconds": play_s,
    }
    if video_clip is not None or video_path is not None:
        frames = {row["clip"]: row["frames"] for row in per_clip}
        summary["video"] = str(_write_video(expert, extras[QPOS], frames, video_clip, video_path, out))
    return summary


def _write_video(expert: Expert, qpos, frames: dict[str, int], clip_name, path, out) -> Path:
    """Simulation (left) next to the reference (right) for one clip's played frames."""
    from physhmr_jax.humanoid.render import render_qpos, write_side_by_side
    from physhmr_jax.humanoid.simulation import qpos_qvel_from_state

    names = [c.name for c in expert.clips]
    clip_name = clip_name or names[0]
    if clip_name not in names:
        raise ConfigError(f"clip {clip_name!r} is not among the evaluated clips {names}")
    i = names.index(clip_name)
    n = frames[clip_name]
    times = jnp.arange(n, dtype=jnp.float32) * expert.env.dt
    ref = expert.motion_lib.state_at(jnp.full((n,), i, jnp.int32), times)
    ref_qpos = np.asarray(qpos_qvel_from_state(ref)[0])
    path = Path(path) if path is not None else Path(out) / f"eval_{clip_name}.mp4"
    model = expert.humanoid.mj_model
    write_side_by_side(path, render_qpos(model, qpos[:n, i]), render_qpos(model, ref_qpos), fps=1.0 / expert.env.dt)
    return path


__all__ = [
    "ERROR_KEYS",
    "clip_results",
    "evaluate_expert",
    "make_play_clips",
    "mean_action_policy",
    "play_from_first_frames",
    "record_tracking",
    "restore_seeds",
    "restore_training_state",
    "seed_state",
    "steps_per_clip",
    "summarize_clips",
    "tracking_results",
]
