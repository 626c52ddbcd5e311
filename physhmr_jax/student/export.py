"""A trained student as one portable file, and one seed's student from a run or a file.

``physhmr export student --run RUN --out STUDENT.npz [--seed-index S]`` writes one seed's
policy and observation normaliser (:mod:`physhmr_jax.agents.policy_file`, kind
``student``) with the student's run config and its teacher's config (the humanoid, the
imitation settings and the motion set the env is built from), so that the file alone plays
videos: the teacher's weights are not needed to act, only to train.

:func:`load_student_policy` reads either a ``train student`` run directory or such a file
into a :class:`StudentPolicy`, what ``eval vision``, ``reconstruct`` and the demo play.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import NamedTuple

import jax
import ml_collections

from physhmr_jax import config_io
from physhmr_jax.agents import policy_file, ppo, run_dir
from physhmr_jax.agents.acting import PolicyParams
from physhmr_jax.envs import imitation, vision
from physhmr_jax.student import config as student_config
from physhmr_jax.vision.encoder_model import FEATURE_DIM

KIND = "student"
_POLICY = "policy:"
_NORMALIZER = "normalizer:"


class StudentPolicy(NamedTuple):
    """One seed of a trained student."""

    config: ml_collections.ConfigDict  # the student's run config
    teacher_config: ml_collections.ConfigDict  # its teacher's expert config (env settings, motion set)
    state: PolicyParams
    feature_size: int  # F of the image features it reads
    iteration: int
    env_steps: int  # per seed
    source: str  # the run directory or file it was read from


def policy_sizes(feature_size: int) -> types.SimpleNamespace:
    """The student networks' observation and action sizes for ``feature_size``-D features."""
    return types.SimpleNamespace(
        observation_size=vision.observation_size(feature_size), action_size=imitation.ACTION_SIZE
    )


def _run_feature_size(config: ml_collections.ConfigDict) -> int:
    """F of the features of a run's training videos (the encoder's default when they are gone)."""
    from physhmr_jax.vision.encoder_train import split_shards
    from physhmr_jax.vision.shards import load_sample

    try:
        paths = split_shards(config.data.path, config.data.split)
        features = load_sample(paths[0], load_frames=False).features
    except (OSError, ValueError, IndexError):
        return FEATURE_DIM
    return FEATURE_DIM if features is None else int(features.shape[-1])


def load_student_policy(run: str | Path, *, seed_index: int = 0, iteration: int | None = None) -> StudentPolicy:
    """Seed ``seed_index`` of a ``train student`` run (its latest or given checkpoint), or an
    exported student file (``seed_index`` and ``iteration`` are then the file's)."""
    from physhmr_jax.expert.evaluate import restore_seeds, seed_state
    from physhmr_jax.student.build import teacher_config as read_teacher_config

    path = Path(run)
    if path.is_file():
        return _load_file(path)
    config = student_config.load_config(path)
    teacher_config = read_teacher_config(config.teacher.path)  # its env settings; no weights needed
    feature_size = _run_feature_size(config)
    states = restore_seeds(path, policy_sizes(feature_size), student_config.ppo_config(config), iteration=iteration)
    seeds = int(states.iteration.shape[0])
    if not 0 <= seed_index < seeds:
        raise config_io.ConfigError(f"--seed-index {seed_index} out of range: {path} trained {seeds} seed(s)")
    state = seed_state(states, seed_index)
    return StudentPolicy(
        config, teacher_config, ppo.policy_params(state),
        feature_size, int(state.iteration), int(state.env_steps), str(path),
    )  # fmt: skip


def export_student(run: str | Path, path: str | Path, *, seed_index: int = 0, iteration: int | None = None) -> dict:
    """Write seed ``seed_index`` of student run ``run`` to ``path`` (.npz); returns a summary."""
    policy = load_student_policy(run, seed_index=seed_index, iteration=iteration)
    meta = {
        "config": policy.config.to_dict(),
        "teacher_config": policy.teacher_config.to_dict(),
        "feature_size": policy.feature_size,
        "iteration": policy.iteration,
        "env_steps": policy.env_steps,
        "seed_index": seed_index,
        "run_dir": str(run),
    }
    trees = {_POLICY: policy.state.params["policy"], _NORMALIZER: policy.state.normalizer_params}
    return {**policy_file.write(path, KIND, trees, meta), "iteration": policy.iteration, "env_steps": policy.env_steps}


def _load_file(path: Path) -> StudentPolicy:
    arrays, meta = policy_file.read(path, KIND)
    try:
        config = config_io.from_dict(meta["config"])
        teacher_config = config_io.from_dict(meta["teacher_config"])
        feature_size = int(meta["feature_size"])
        sizes, ppo_config = policy_sizes(feature_size), student_config.ppo_config(config)
        template = jax.eval_shape(lambda k: ppo.init_training_state(sizes, ppo_config, k), jax.random.PRNGKey(0))
    except (AttributeError, KeyError, TypeError, ValueError, ZeroDivisionError) as err:  # a config they refuse
        raise run_dir.RunDirError(path, f"its config does not build a student ({type(err).__name__}: {err})") from None
    state = PolicyParams(
        {"policy": policy_file.rebuild(template.params["policy"], arrays, _POLICY, path)},
        policy_file.rebuild(template.normalizer_params, arrays, _NORMALIZER, path),
    )
    return StudentPolicy(
        config, teacher_config, state, feature_size, int(meta.get("iteration", 0)), int(meta.get("env_steps", 0)),
        str(path),
    )  # fmt: skip


__all__ = ["KIND", "StudentPolicy", "export_student", "load_student_policy", "policy_sizes"]
