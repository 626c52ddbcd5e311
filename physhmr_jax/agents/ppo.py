"""PPO: one jittable function per training iteration (PureJaxRL shape, brax pieces).

:func:`make_algorithm` returns the three pure functions the training driver
(:mod:`physhmr_jax.agents.runner`) runs for each seed: ``init(key) -> TrainingState``,
``reset(key, env_data) -> env_state [num_envs]`` and
``iteration(training_state, env_state, env_data, key) -> (training_state, env_state,
metrics)``, the whole PPO iteration, compiled into one program. Its two halves are also
there on their own (``collect``: step 1; ``learn``: steps 2-4), for tests and tools that
look at a rollout before it is learned from:

1. rollout: :func:`physhmr_jax.agents.acting.rollout` of ``config.horizon`` control
   steps with the sampling policy; its record hook stores the critic's values of each
   observation and of the pre-reset ``final_obs`` (to bootstrap truncated episodes);
2. advantages: GAE with bootstrapping on truncation
   (:func:`physhmr_jax.agents.losses.compute_advantages`);
3. ``config.num_epochs`` epochs of shuffled minibatch steps on
   :func:`physhmr_jax.agents.losses.ppo_loss`, Adam behind global-norm gradient clipping
   (``optax.chain``; :mod:`physhmr_jax.agents.sgd`);
4. the observation normaliser (brax ``running_statistics``) absorbs the rollout's
   observations. It is updated *after* the SGD epochs so that the losses normalise with
   the statistics the behaviour policy acted with: the probability ratio starts at exactly
   1 and the stored values match the critic (rl_games and brax update before or during
   SGD; with PHC's sigma = 0.055 a shift of the inputs alone could move many ratios out of
   the clip range).

Non-finite transitions (the episode wrapper already resets NaN physics; a NaN can still
come from the networks) are zeroed, cut out of GAE, left out of the reported means, and
counted (``rollout/nonfinite_transitions``). An environment with such a transition, or
whose physics went non-finite and was reset by the wrapper, is left out of the update
altogether (:func:`learning_mask`; counted as ``rollout/dropped_envs``). A minibatch
update whose gradient is not finite is skipped and counted (``sgd/skipped_updates``).

PHC's values (``learning/im_big.yaml``): lr 2e-5 constant, horizon 32, minibatch 16384,
6 epochs, gamma 0.99, lambda 0.95, clip 0.2, critic_coef 5, bounds_loss_coef 10,
grad_norm 50, entropy 0, no value clipping, normalised inputs and advantages, and
normalised values (``normalize_values``: the critic learns targets standardised by
running statistics of the targets, as rl_games' ``normalize_value``; off in every preset,
since on the CMU walks it learned no faster at equal env steps, ``docs/expert.md``).
rl_games normalises advantages over the whole batch; here per minibatch.

The environment follows :class:`physhmr_jax.agents.acting.Env` (a training env behind
the episode wrappers).

Distillation (DAgger, PhysHMR's student): ``make_algorithm(env, config, teacher=label)``
with ``label(env_data, env_state) -> [B, A]`` the frozen teacher's action on the student's
own states, in the student's action space. The rollout's record hook stores it beside each
transition (:data:`TEACHER_ACTION`), and the loss adds ``config.kin_weight`` times the MSE
of the student's mean action to it, or is behaviour cloning alone above
:data:`~physhmr_jax.agents.losses.BC_ONLY_KIN_WEIGHT` (:func:`losses.ppo_loss`). The
teacher's parameters travel in ``env_data``, so they are arguments of the compiled
iteration, not constants baked into it.

Motion prior (AMP, :mod:`physhmr_jax.agents.amp`): with ``motion_prior=`` and
``config.amp_weight`` > 0 the rollout records transition features, the style reward is mixed
into the reward before GAE and the discriminator (``TrainingState.prior``) trains after the epochs.

Start curriculum (:mod:`physhmr_jax.agents.curriculum`): with ``curriculum=`` the rollout
plays ``curriculum.apply(state, env_data)``, records what the curriculum reads, and the
curriculum's state (``TrainingState.curriculum``) is updated from the rollout.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import optax
from brax.training.acme import running_statistics
from flax import struct
from jax import Array

from physhmr_jax.agents import acting, amp, losses, policy_average, sgd
from physhmr_jax.agents import metric_names as names
from physhmr_jax.agents.curriculum import Curriculum
from physhmr_jax.agents.mirror import Mirror, check_sizes
from physhmr_jax.agents.networks import Params, PPONetworks, init_normalizer, zero_mean_policy
from physhmr_jax.agents.networks import make_ppo_networks as _make_ppo_networks
from physhmr_jax.agents.policy_average import current_policy_params, policy_params  # re-exported
from physhmr_jax.agents.ppo_config import (  # the settings, re-exported: ppo.get_config(...)
    PHC_HIDDEN,
    PRESETS,
    default_config,
    get_config,
    num_minibatches,
)
from physhmr_jax.agents.schedules import (  # re-exported: ppo.set_learning_rate(...)
    adapt_learning_rate,
    check_schedules,
    learning_rate,
    scheduled_learning_rate,
    scheduled_log_std,
    set_learning_rate,
    set_log_std,
)
from physhmr_jax.agents.sgd import EpochCarry, MinibatchCarry, make_optimizer  # re-exported
from physhmr_jax.config_io import ConfigError

# --------------------------------------------------------------------------------------
# Containers.


@struct.dataclass
class TrainingState:
    """Everything that learns; a plain pytree of arrays (orbax saves and restores it)."""

    params: Params  # {"policy": ..., "value": ...}
    opt_state: optax.OptState
    normalizer_params: running_statistics.RunningStatisticsState
    # [] float32 environment steps so far. Not int32: that wraps at 2.1e9 steps, within a
    # PHC-length run; float32 sums of num_envs * horizon stay exact up to 2^24 times the
    # largest power of two dividing that batch (2^41 = 2.2e12 for 4096 * 32).
    env_steps: Array
    iteration: Array  # [] int32, completed iterations
    prior: Any = None  # amp.PriorState with a motion prior (ppo.amp_weight > 0), else None
    # Running statistics (shape [1]) of the value targets with ppo.normalize_values, else None:
    # the critic then learns standardised targets and its output is de-standardised for GAE.
    value_normalizer_params: Any = None
    curriculum: Any = None  # the start curriculum's state (agents/curriculum.py), else None
    # The moving average of params["policy"] with ppo.policy_average_decay > 0, else None
    # (agents/policy_average.py: policy_params(state) is the policy a state stands for).
    policy_average: Any = None


class Algorithm(NamedTuple):
    """What the training driver runs for each seed (:class:`physhmr_jax.agents.runner.Trainer`).

    init(key) -> training_state
    reset(key, env_data) -> env_state [num_envs]
    iteration(training_state, env_state, env_data, key) -> (training_state, env_state, metrics {name: []})
    """

    init: Callable[[Array], Any]
    reset: Callable[[Array, Any], Any]
    iteration: Callable[[Any, Any, Any, Array], tuple[Any, Any, dict[str, Array]]]
    # The iteration's two halves (iteration = collect, then learn from its rollout):
    # collect(training_state, env_state, env_data, key) -> (env_state, transitions [T, B])
    # learn(training_state, transitions, last_obs [B, O], key) -> (training_state, metrics)
    collect: Callable[[Any, Any, Any, Array], tuple[Any, acting.Transition]]
    learn: Callable[[Any, acting.Transition, Array, Array], tuple[Any, dict[str, Array]]]
    num_envs: int
    env_steps_per_iteration: int  # per seed


# The teacher's label function for distillation: (env_data, env_state [B]) -> action [B, A].
Teacher = Callable[[Any, Any], Array]


class _Agent(NamedTuple):
    """Static parts shared by the scan bodies (Python objects, closed over, never traced)."""

    env: acting.Env
    networks: PPONetworks
    optimizer: optax.GradientTransformation
    config: ml_collections.ConfigDict
    teacher: Teacher | None = None
    prior: amp.MotionPrior | None = None
    curriculum: Curriculum | None = None
    mirror: Mirror | None = None  # with ppo.symmetry_coef > 0 (sgd.Learner)


# Transition.extras keys recorded by the critic hook (and the teacher's, when distilling).
VALUE = "value"
TRUNCATION_VALUE = "truncation_value"
TEACHER_ACTION = "teacher_action"


# --------------------------------------------------------------------------------------
# Construction.


def make_networks(env: acting.Env, config: ml_collections.ConfigDict, mirror: Mirror | None = None) -> PPONetworks:
    """The actor and critic ``config`` describes for ``env``'s sizes; symmetric under ``mirror``
    (the env's mirror maps) with ``ppo.symmetric_networks``, which needs them."""
    if config.symmetric_networks and mirror is None:
        raise ConfigError(_NO_MIRROR_FOR_NETWORKS)
    return _build_networks(env, config, mirror)


_NO_MIRROR_FOR_NETWORKS = (
    "ppo.symmetric_networks needs the env's mirror maps (make_networks(..., mirror) / make_algorithm(..., "
    "mirror=); the expert's imitation env has them: envs/symmetry.imitation_mirror), but none were given"
)


def _build_networks(env: acting.Env, config: ml_collections.ConfigDict, mirror: Mirror | None) -> PPONetworks:
    """:func:`make_networks` unchecked: without a mirror, plain networks of the same parameters
    (a checkpoint template's are the same whether or not the networks are symmetric)."""
    return _make_ppo_networks(
        env.observation_size,
        env.action_size,
        policy_hidden=tuple(config.policy_hidden),
        value_hidden=tuple(config.value_hidden),
        activation=config.activation,
        log_std_init=config.log_std_init,
        learn_std=config.learn_std,
        scheduled_std=config.log_std_schedule == "linear",
        head_init_scale=config.head_init_scale,
        normalized_obs_clip=config.normalized_obs_clip,
        mirror=mirror if config.symmetric_networks else None,
    )


def _make_agent(
    env: acting.Env,
    config: ml_collections.ConfigDict,
    teacher: Teacher | None = None,
    prior: amp.MotionPrior | None = None,
    curriculum: Curriculum | None = None,
    mirror: Mirror | None = None,
    *,
    check_teacher: bool = True,
) -> _Agent:
    num_minibatches(config)  # validate before tracing
    check_schedules(config)
    if config.kin_weight > 0.0 and teacher is None and check_teacher:
        raise ConfigError(f"ppo.kin_weight = {config.kin_weight} distils from a teacher, but none was given")
    if not 0.0 <= config.amp_weight <= 1.0:
        raise ConfigError(f"ppo.amp_weight must be within [0, 1], not {config.amp_weight}")
    if config.amp_weight > 0.0 and prior is None and check_teacher:
        raise ConfigError(f"ppo.amp_weight = {config.amp_weight} needs a motion prior, but none was given")
    prior = prior if config.amp_weight > 0.0 else None
    if config.symmetry_coef > 0.0 and mirror is None and check_teacher:
        raise ConfigError(
            f"ppo.symmetry_coef = {config.symmetry_coef} needs the env's mirror maps "
            "(make_algorithm(..., mirror=); the expert's imitation env has them), but none were given"
        )
    if mirror is not None and config.symmetry_coef > 0.0:  # the networks check their own (ppo.symmetric_networks)
        check_sizes(mirror, env.observation_size, env.action_size, "ppo.symmetry_coef")
    build_networks = make_networks if check_teacher else _build_networks  # unchecked: checkpoint templates
    networks, optimizer = build_networks(env, config, mirror), make_optimizer(config)
    mirror = mirror if config.symmetry_coef > 0.0 else None  # what the loss reads
    return _Agent(env, networks, optimizer, config, teacher, prior, curriculum, mirror)


def _init_training_state(agent: _Agent, key: Array) -> TrainingState:
    prior = None
    if agent.prior is not None:
        key, key_prior = jax.random.split(key)
        prior = amp.init_state(key_prior, agent.prior.feature_size, agent.config)
    params = agent.networks.init(key)
    return TrainingState(
        params=params,
        opt_state=agent.optimizer.init(params),
        normalizer_params=init_normalizer(agent.env.observation_size),
        env_steps=jnp.zeros((), jnp.float32),
        iteration=jnp.zeros((), jnp.int32),
        prior=prior,
        value_normalizer_params=init_normalizer(1) if agent.config.normalize_values else None,
        curriculum=None if agent.curriculum is None else agent.curriculum.init(),
        policy_average=policy_average.init(params["policy"], agent.config.policy_average_decay),
    )


def critic_values(agent: _Agent, training_state: TrainingState, obs: Array) -> Array:
    """V(obs) in return units: the critic's output, de-standardised with ppo.normalize_values."""
    value = agent.networks.value(training_state.params, training_state.normalizer_params, obs)
    stats = training_state.value_normalizer_params
    if stats is None:
        return value
    return running_statistics.denormalize(value[..., None], stats)[..., 0]


def _reset_envs(agent: _Agent, key: Array, env_data: Any) -> Any:
    """``config.num_envs`` fresh environments (batched env state)."""
    keys = jax.random.split(key, agent.config.num_envs)
    return jax.vmap(agent.env.reset, in_axes=(0, None))(keys, env_data)


# --------------------------------------------------------------------------------------
# Update.


def _record_values(
    agent: _Agent, training_state: TrainingState, env_data: Any, state: Any, action: Array, next_state: Any
):
    """Rollout record hook: V(obs), V(final_obs), the episode statistics (and the teacher's action)."""
    value = functools.partial(critic_values, agent, training_state)
    extras = {
        VALUE: value(state.obs),
        TRUNCATION_VALUE: value(next_state.final_obs),
        **acting.record_episodes(state, action, next_state),
    }
    if agent.teacher is not None:
        extras[TEACHER_ACTION] = jax.lax.stop_gradient(agent.teacher(env_data, state))
    if agent.prior is not None:
        extras[amp.POLICY_FEATURES] = agent.prior.features(state, next_state)
    if agent.curriculum is not None:
        extras.update(agent.curriculum.record(state, action, next_state))
    return extras


def _ppo_batch(
    agent: _Agent, training_state: TrainingState, transitions: acting.Transition, last_obs: Array
) -> tuple[losses.PPOBatch, Any]:
    """Transitions [T, B] -> (flat PPOBatch [T * B] with GAE advantages and targets, the
    value statistics after this rollout's targets).

    With ppo.normalize_values (rl_games' ``normalize_value``, PHC's setting) the statistics
    absorb the rollout's targets first, and the batch's values and targets are standardised
    with them: the critic's loss compares its raw output with standardised targets.
    Advantages stay in return units (they are standardised per minibatch anyway).
    """
    cfg = agent.config
    last_value = critic_values(agent, training_state, last_obs)
    last_value = jnp.where(jnp.isfinite(last_value), last_value, 0.0)
    extras = transitions.extras
    advantages, targets = losses.compute_advantages(
        transitions.reward,
        extras[VALUE],
        transitions.terminated,
        transitions.truncated,
        extras[TRUNCATION_VALUE],
        last_value,
        discount=cfg.discount,
        gae_lambda=cfg.gae_lambda,
    )
    values, value_stats = extras[VALUE], training_state.value_normalizer_params
    if value_stats is not None:
        learned = transitions.valid > 0
        value_stats = running_statistics.update(
            value_stats, jnp.where(learned, targets, 0.0)[..., None], weights=transitions.valid
        )

        def standardise(x):
            return running_statistics.normalize(x[..., None], value_stats)[..., 0]

        values, targets = standardise(values), standardise(targets)
    batch = losses.PPOBatch(
        obs=transitions.obs,
        action=transitions.action,
        log_prob=extras[acting.LOG_PROB],
        value=values,
        advantage=advantages,
        target=targets,
        mask=transitions.valid,
        teacher_action=extras.get(TEACHER_ACTION),
    )
    return jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), batch), value_stats


def learning_mask(transitions: acting.Transition) -> Array:
    """[T, B] weights of the transitions an update learns from.

    An environment whose physics went non-finite in the rollout (the training wrappers
    reset it and publish ``metric_names.NAN_RESET``), or any of whose transitions was not
    finite, is left out of the update entirely: the steps that led to the blow-up are
    suspect, and a whole column keeps GAE, the normaliser and the advantage statistics
    free of it. The update then equals the one computed without that environment
    (``tests/test_imitation_env.py``). Such events are rare; the dropped count is logged.
    """
    bad = transitions.valid == 0
    nan_reset = transitions.metrics.get(names.NAN_RESET)
    if nan_reset is not None:
        bad = bad | (nan_reset > 0)
    dropped = jnp.any(bad, axis=0)  # [B]
    return transitions.valid * (1.0 - dropped.astype(transitions.valid.dtype))[None, :]


def _collect(
    agent: _Agent, training_state: TrainingState, env_state: Any, env_data: Any, key: Array
) -> tuple[Any, acting.Transition]:
    """The iteration's rollout: ``horizon`` steps of every environment with sampled actions."""
    policy = acting.make_policy(
        agent.networks, training_state.params, training_state.normalizer_params, deterministic=False
    )
    record = functools.partial(_record_values, agent, training_state, env_data)
    step = acting.batched_step(agent.env, env_data)
    if agent.prior is None:
        return acting.rollout(step, policy, env_state, key, agent.config.horizon, record=record)
    key, key_reference = jax.random.split(key)
    env_state, transitions = acting.rollout(step, policy, env_state, key, agent.config.horizon, record=record)
    return env_state, amp.with_reference(agent.prior, key_reference, env_data, transitions)


def _learn(
    agent: _Agent, training_state: TrainingState, transitions: acting.Transition, last_obs: Array, key: Array
) -> tuple[TrainingState, dict[str, Array]]:
    """The iteration's update from a rollout: GAE, epochs x minibatches, the normaliser."""
    cfg = agent.config
    mask = learning_mask(transitions)
    transitions = transitions._replace(valid=mask)
    metrics = {}
    if agent.prior is not None:  # the style reward under the rollout's discriminator, mixed in
        transitions, metrics[names.STYLE_REWARD_MEAN] = amp.with_style_reward(training_state.prior, transitions, cfg)
    batch, value_stats = _ppo_batch(agent, training_state, transitions, last_obs)
    if agent.teacher is not None:
        # How far the acting policy's mean is from the teacher on this rollout, before the update.
        mean, _ = agent.networks.policy(training_state.params, training_state.normalizer_params, batch.obs)
        metrics[names.TEACHER_ACTION_MSE] = losses.masked_mean(
            jnp.mean(jnp.square(mean - batch.teacher_action), axis=-1), batch.mask
        )

    params, opt_state, sgd_metrics = sgd.run_epochs(
        agent, training_state.normalizer_params, batch, training_state.params, training_state.opt_state, key
    )

    normalizer_params = training_state.normalizer_params
    if cfg.normalize_observations:
        normalizer_params = running_statistics.update(normalizer_params, transitions.obs, weights=mask)
    prior = training_state.prior
    if agent.prior is not None:  # fold_in: a key apart from the epochs' splits of ``key``
        prior, prior_metrics = amp.learn(prior, transitions, jax.random.fold_in(key, 1), cfg)
        metrics.update({names.amp_metric(k): v for k, v in prior_metrics.items()})
    average = policy_average.update(training_state.policy_average, params["policy"], cfg.policy_average_decay)
    env_steps = training_state.env_steps + float(cfg.num_envs * cfg.horizon)
    training_state = training_state.replace(  # every other field (the curriculum's state) as it was
        params=params,
        policy_average=average,
        opt_state=opt_state,
        normalizer_params=normalizer_params,
        env_steps=env_steps,
        iteration=training_state.iteration + 1,
        prior=prior,
        value_normalizer_params=value_stats,
    )
    # Means over epochs and minibatches, except the skip count (a total).
    for name, value in sgd_metrics.items():
        metrics[names.sgd_metric(name)] = jnp.sum(value) if name == "skipped_updates" else jnp.mean(value)
    metrics[names.sgd_metric("advantage_rms")] = jnp.sqrt(losses.masked_mean(jnp.square(batch.advantage), batch.mask))
    metrics[names.DROPPED_ENVS] = jnp.sum(jnp.all(mask == 0, axis=0).astype(jnp.float32))
    metrics[names.ENV_STEPS] = env_steps
    return training_state, metrics


def _iteration(
    agent: _Agent, training_state: TrainingState, env_state: Any, env_data: Any, key: Array
) -> tuple[TrainingState, Any, dict[str, Array]]:
    cfg = agent.config
    if cfg.learning_rate_schedule == "linear":
        training_state = set_learning_rate(training_state, scheduled_learning_rate(training_state.env_steps, cfg))
    if cfg.log_std_schedule == "linear":
        training_state = set_log_std(training_state, scheduled_log_std(training_state.env_steps, cfg))
    key_rollout, key_sgd = jax.random.split(key)
    if agent.curriculum is not None:  # the rollout's resets draw from the curriculum's data
        env_data = agent.curriculum.apply(training_state.curriculum, env_data)
    env_state, transitions = _collect(agent, training_state, env_state, env_data, key_rollout)
    metrics = acting.summarize_rollout(transitions)
    metrics[names.VALUE_MEAN] = losses.masked_mean(transitions.extras[VALUE], transitions.valid)
    curriculum = training_state.curriculum
    if agent.curriculum is not None:
        curriculum, curriculum_metrics = agent.curriculum.update(curriculum, transitions)
        metrics.update({names.curriculum_metric(k): v for k, v in curriculum_metrics.items()})
    training_state, learn_metrics = _learn(agent, training_state, transitions, env_state.obs, key_sgd)
    training_state = training_state.replace(curriculum=curriculum)
    return training_state, env_state, {**metrics, **learn_metrics}


# --------------------------------------------------------------------------------------
# Public entry point.


def make_algorithm(
    env: acting.Env,
    config: ml_collections.ConfigDict,
    *,
    teacher: Teacher | None = None,
    motion_prior: amp.MotionPrior | None = None,
    curriculum: Curriculum | None = None,
    mirror: Mirror | None = None,
) -> Algorithm:
    """PPO on ``env`` as the driver's three pure, jittable functions (see :class:`Algorithm`).

    Jit ``iteration`` once; ``env_data`` is an argument, so any data of the same shapes
    reuses the compiled program. ``teacher``: distil from it; ``motion_prior``: mix in an
    AMP style reward (``config.amp_weight``); ``curriculum``: where episodes start; all in
    the module docstring. ``mirror``: the env's mirror maps (``agents/mirror.py``), read by
    the symmetry loss with ``config.symmetry_coef`` > 0 and by the networks with
    ``config.symmetric_networks``.
    """
    agent = _make_agent(env, config, teacher, motion_prior, curriculum, mirror)
    return Algorithm(
        init=functools.partial(_init_training_state, agent),
        reset=functools.partial(_reset_envs, agent),
        iteration=functools.partial(_iteration, agent),
        collect=functools.partial(_collect, agent),
        learn=functools.partial(_learn, agent),
        num_envs=config.num_envs,
        env_steps_per_iteration=config.num_envs * config.horizon,
    )


def init_training_state(
    env: acting.Env,
    config: ml_collections.ConfigDict,
    key: Array,
    *,
    motion_prior: amp.MotionPrior | None = None,
    curriculum: Curriculum | None = None,
) -> TrainingState:
    """Fresh networks, optimiser state and observation statistics (jittable; no teacher
    needed), the discriminator's state when ``config.amp_weight`` > 0 and a prior is
    given (only its ``feature_size`` is read) and the curriculum's: the template a
    checkpoint is restored into."""
    agent = _make_agent(env, config, prior=motion_prior, curriculum=curriculum, check_teacher=False)
    return _init_training_state(agent, key)


__all__ = [
    "PHC_HIDDEN",
    "PRESETS",
    "TEACHER_ACTION",
    "TRUNCATION_VALUE",
    "VALUE",
    "Algorithm",
    "EpochCarry",
    "MinibatchCarry",
    "Teacher",
    "TrainingState",
    "default_config",
    "get_config",
    "adapt_learning_rate",
    "current_policy_params",
    "init_training_state",
    "learning_rate",
    "learning_mask",
    "make_algorithm",
    "make_networks",
    "make_optimizer",
    "num_minibatches",
    "policy_params",
    "scheduled_learning_rate",
    "scheduled_log_std",
    "set_learning_rate",
    "set_log_std",
    "zero_mean_policy",
]
