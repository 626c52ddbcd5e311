"""PPO trainer: one jittable function per training iteration (PureJaxRL shape, brax pieces).

``make_train_iteration(env, config)`` returns a pure
``iteration(training_state, env_state, motion_lib, key) -> (training_state, env_state,
metrics)`` that holds the whole PPO iteration, so ``jax.jit`` compiles it into one program:

1. rollout: ``lax.scan`` of :func:`_rollout_step` over ``config.horizon`` control steps,
   the environment batch under ``vmap`` (the env resets finished episodes itself);
2. advantages: GAE with bootstrapping on truncation from ``EnvState.final_obs``
   (:func:`physhmr_jax.agents.losses.compute_advantages`);
3. ``config.num_epochs`` epochs (:func:`_sgd_epoch`) of shuffled minibatch steps
   (:func:`_sgd_minibatch`) on :func:`physhmr_jax.agents.losses.ppo_loss`, Adam behind
   global-norm gradient clipping (``optax.chain``);
4. the observation normaliser (brax ``running_statistics``) absorbs the rollout's
   observations. It is updated *after* the SGD epochs so that the losses normalise with
   the statistics the behaviour policy acted with: the probability ratio starts at exactly
   1 and the stored values match the critic (rl_games and brax update before or during
   SGD; with PHC's sigma = 0.055 a shift of the inputs alone could move many ratios out of
   the clip range).

Non-finite transitions (the env already resets NaN physics; a NaN can still come from the
networks) are zeroed, cut out of GAE, left out of the loss, the normaliser and the
reported means, and counted (``rollout/nonfinite_transitions``); a minibatch update
whose gradient is not finite is skipped and counted (``sgd/skipped_updates``).

``make_train(env, config) -> train(key, motion_lib, num_iterations)`` scans the iteration
and ``vmap``s it over ``config.num_seeds`` seeds. ``make_evaluate`` rolls a policy out
without learning; ``zero_mean_policy`` turns a training state into the random baseline
(actions = exploration noise around zero).

PHC's values (``learning/im_big.yaml``): lr 2e-5 constant, horizon 32, minibatch 16384,
6 epochs, gamma 0.99, lambda 0.95, clip 0.2, critic_coef 5, bounds_loss_coef 10,
grad_norm 50, entropy 0, no value clipping, normalised inputs and advantages. (rl_games
also normalises values and advantages over the whole batch; here advantages are normalised
per minibatch and values are not.)

The environment only has to follow :class:`Env`: ``reset(key, motion_lib)`` and
``step(state, action, motion_lib)`` of one environment, with states carrying ``obs``,
``final_obs``, ``reward``, ``done``, ``terminated``, ``truncated`` and a ``metrics``
dict that includes ``episode_steps``.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
import ml_collections
import optax
from brax.training.acme import running_statistics
from flax import struct
from jax import Array

from physhmr_jax.agents import losses
from physhmr_jax.agents.networks import MEAN_HEAD, Params, PPONetworks, gaussian_log_prob, init_normalizer
from physhmr_jax.agents.networks import make_ppo_networks as _make_ppo_networks

# PHC's actor and critic widths (DESIGN.md).
PHC_HIDDEN = (2048, 1536, 1024, 1024, 512, 512)


def default_config() -> ml_collections.ConfigDict:
    """PHC's PPO settings (``learning/im_big.yaml``; DESIGN.md). Presets override some."""
    config = ml_collections.ConfigDict(
        {
            # Rollout.
            "num_envs": 3072,
            "horizon": 32,  # control steps per env per iteration (rl_games horizon_length)
            # SGD: num_envs * horizon transitions in minibatches of minibatch_size.
            "num_epochs": 6,
            "minibatch_size": 16384,
            "learning_rate": 2e-5,
            "adam_eps": 1e-8,
            "max_grad_norm": 50.0,  # global-norm clip of each minibatch gradient
            # Returns.
            "discount": 0.99,
            "gae_lambda": 0.95,
            # Loss.
            "clip_eps": 0.2,
            "value_coef": 5.0,  # times 0.5 * (V - target)^2, as rl_games' critic_coef
            "entropy_coef": 0.0,
            "bounds_coef": 10.0,  # penalty on |action mean| beyond action_bound
            "action_bound": 1.1,
            "value_clip_eps": 0.0,  # 0 = no value clipping (PHC clip_value False)
            "normalize_advantages": True,
            # Observation normalisation (running mean / std, normalised values clipped).
            "normalize_observations": True,
            "normalized_obs_clip": 5.0,
            # Networks.
            "policy_hidden": PHC_HIDDEN,
            "value_hidden": PHC_HIDDEN,
            "activation": "silu",
            "log_std_init": -2.9,
            "learn_std": False,
            "head_init_scale": 1e-4,
            # Independent seeds trained side by side by ``make_train`` (vmap).
            "num_seeds": 1,
        }
    )
    config.lock()
    return config


# Overrides of ``default_config()`` per named preset (read-only; ``get_config`` applies one).
PRESETS: Mapping[str, Mapping[str, Any]] = types.MappingProxyType(
    {
        # One iteration compiles in about a minute on a 2-core CPU (the MJX step is most
        # of it) and then runs in ~0.15-0.2 s; the standing task visibly learns within
        # 100 iterations (tests/test_ppo.py).
        "smoke": types.MappingProxyType(
            {
                "num_envs": 8,
                "horizon": 8,
                "num_epochs": 2,
                "minibatch_size": 32,  # 8 * 8 / 32 = 2 minibatches
                "policy_hidden": (64, 64),
                "value_hidden": (64, 64),
                # PHC's 2e-5 is for 131k-transition batches; with 64 transitions per
                # iteration 1e-4 learns the standing task in ~100 iterations and keeps the
                # approximate KL per iteration ~0.05 (1e-3 gives KL > 1 and diverges).
                "learning_rate": 1e-4,
                "max_grad_norm": 1.0,
            }
        ),
        # CPU demos: a few hundred environments, small networks.
        "cpu": types.MappingProxyType(
            {
                "num_envs": 256,
                "horizon": 32,
                "num_epochs": 6,
                "minibatch_size": 2048,  # 4 minibatches
                "policy_hidden": (256, 256),
                "value_hidden": (256, 256),
                "learning_rate": 3e-4,
                "max_grad_norm": 1.0,
            }
        ),
        # One accelerator: PHC's networks and PPO settings with 4096 environments.
        "gpu": types.MappingProxyType(
            {
                "num_envs": 4096,
                "horizon": 32,
                "num_epochs": 6,
                "minibatch_size": 16384,  # 8 minibatches
                "policy_hidden": PHC_HIDDEN,
                "value_hidden": PHC_HIDDEN,
                "learning_rate": 2e-5,
            }
        ),
    }
)


def get_config(preset: str | None = None, **overrides) -> ml_collections.ConfigDict:
    """``default_config()`` with a named preset's values, then ``overrides``, applied."""
    config = default_config()
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown PPO preset {preset!r}; choose one of {sorted(PRESETS)}")
        config.update(dict(PRESETS[preset]))
    config.update(overrides)
    num_minibatches(config)  # validate
    return config


def num_minibatches(config: ml_collections.ConfigDict) -> int:
    """Minibatches per epoch; the rollout batch must split into whole minibatches."""
    batch = config.num_envs * config.horizon
    if config.minibatch_size <= 0 or batch % config.minibatch_size:
        raise ValueError(
            f"num_envs * horizon = {config.num_envs} * {config.horizon} = {batch} transitions "
            f"do not split into minibatches of {config.minibatch_size}"
        )
    return batch // config.minibatch_size


# --------------------------------------------------------------------------------------
# Containers.


class Env(Protocol):
    """What the trainer needs of an environment (``ImitationEnv`` fits)."""

    observation_size: int
    action_size: int

    def reset(self, key: Array, motion_lib: Any) -> Any: ...

    def step(self, state: Any, action: Array, motion_lib: Any) -> Any: ...


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


class Transition(NamedTuple):
    """One control step of one environment (the rollout stacks them to [T, B, ...])."""

    obs: Array  # [O] raw observation the action was chosen from
    action: Array  # [A] sampled action (the env clips it to [-1, 1])
    log_prob: Array  # [] log-probability of action under the behaviour policy
    value: Array  # [] V(obs)
    reward: Array  # []
    terminated: Array  # [] 1.0: the episode failed here (no bootstrap)
    truncated: Array  # [] 1.0: time limit or clip end (bootstrap from truncation_value)
    truncation_value: Array  # [] V(final observation of this step)
    valid: Array  # [] 1.0 if every number of this transition was finite
    env_metrics: dict[str, Array]  # the env's per-step metrics (reward terms, distances, ...)


class RolloutCarry(NamedTuple):
    env_state: Any  # batched EnvState [B]
    key: Array


class EpochCarry(NamedTuple):
    params: Params
    opt_state: optax.OptState
    key: Array


class MinibatchCarry(NamedTuple):
    params: Params
    opt_state: optax.OptState


class TrainCarry(NamedTuple):
    training_state: TrainingState
    env_state: Any
    key: Array


class _Agent(NamedTuple):
    """Static parts shared by the scan bodies (Python objects, closed over, never traced)."""

    env: Env
    networks: PPONetworks
    optimizer: optax.GradientTransformation
    config: ml_collections.ConfigDict


class _Acting(NamedTuple):
    """Arrays that stay fixed during one rollout."""

    params: Params
    normalizer_params: running_statistics.RunningStatisticsState
    motion_lib: Any


# --------------------------------------------------------------------------------------
# Construction.


def make_networks(env: Env, config: ml_collections.ConfigDict) -> PPONetworks:
    return _make_ppo_networks(
        env.observation_size,
        env.action_size,
        policy_hidden=config.policy_hidden,
        value_hidden=config.value_hidden,
        activation=config.activation,
        log_std_init=config.log_std_init,
        learn_std=config.learn_std,
        head_init_scale=config.head_init_scale,
        normalized_obs_clip=config.normalized_obs_clip,
    )


def make_optimizer(config: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """Adam behind global-norm clipping; the learning rate lives in the optimiser state.

    ``inject_hyperparams`` makes the learning rate a leaf of ``opt_state`` rather than a
    compiled-in constant, so a sweep or schedule changes it without recompiling
    (:func:`set_learning_rate`).
    """
    return optax.chain(
        optax.clip_by_global_norm(config.max_grad_norm),
        optax.inject_hyperparams(optax.adam)(learning_rate=config.learning_rate, eps=config.adam_eps),
    )


def set_learning_rate(training_state: TrainingState, learning_rate: float | Array) -> TrainingState:
    """The same state with Adam's learning rate replaced (no recompilation needed)."""
    clip_state, adam_state = training_state.opt_state
    hyperparams = {**adam_state.hyperparams, "learning_rate": jnp.asarray(learning_rate, jnp.float32)}
    opt_state = (clip_state, adam_state._replace(hyperparams=hyperparams))
    return training_state.replace(opt_state=opt_state)


def _make_agent(env: Env, config: ml_collections.ConfigDict) -> _Agent:
    num_minibatches(config)  # validate before tracing
    return _Agent(env, make_networks(env, config), make_optimizer(config), config)


def init_training_state(env: Env, config: ml_collections.ConfigDict, key: Array) -> TrainingState:
    """Fresh networks, optimiser state and observation statistics (jittable)."""
    agent = _make_agent(env, config)
    params = agent.networks.init(key)
    return TrainingState(
        params=params,
        opt_state=agent.optimizer.init(params),
        normalizer_params=init_normalizer(env.observation_size),
        env_steps=jnp.zeros((), jnp.float32),
        iteration=jnp.zeros((), jnp.int32),
    )


def reset_envs(env: Env, config: ml_collections.ConfigDict, key: Array, motion_lib: Any) -> Any:
    """``config.num_envs`` fresh environments (batched EnvState, jittable)."""
    keys = jax.random.split(key, config.num_envs)
    return jax.vmap(env.reset, in_axes=(0, None))(keys, motion_lib)


def zero_mean_policy(training_state: TrainingState) -> TrainingState:
    """The random baseline: the policy's mean head zeroed, so actions are pure noise around 0.

    With PHC's fixed sigma this is what an untrained policy does (zero PD targets plus
    N(0, 0.055^2) per action); the critic and normaliser are kept.
    """

    def zero_head(path, leaf):
        in_head = any(getattr(entry, "key", None) == MEAN_HEAD for entry in path)
        return jnp.zeros_like(leaf) if in_head else leaf

    policy = jax.tree_util.tree_map_with_path(zero_head, training_state.params["policy"])
    return training_state.replace(params={**training_state.params, "policy": policy})


# --------------------------------------------------------------------------------------
# Rollout.


def _all_finite(x: Array, event_dims: int) -> Array:
    """[batch..., event...] -> [batch...] True where every entry of the event is finite."""
    finite = jnp.isfinite(x)
    return jnp.all(finite, axis=tuple(range(-event_dims, 0))) if event_dims else finite


def _rollout_step(
    agent: _Agent, acting: _Acting, deterministic: bool, carry: RolloutCarry, _: None
) -> tuple[RolloutCarry, Transition]:
    """Act in every environment once: [B] states -> [B] states and a [B] Transition."""
    key, key_noise = jax.random.split(carry.key)
    state = carry.env_state
    networks = agent.networks
    mean, log_std = networks.policy(acting.params, acting.normalizer_params, state.obs)
    if deterministic:
        action = mean
    else:
        action = mean + jnp.exp(log_std) * jax.random.normal(key_noise, mean.shape, mean.dtype)
    log_prob = gaussian_log_prob(action, mean, log_std)
    value = networks.value(acting.params, acting.normalizer_params, state.obs)
    action_finite = _all_finite(action, 1)
    # A non-finite action never reaches the simulator.
    env_action = jnp.where(action_finite[:, None], action, 0.0)
    next_state = jax.vmap(agent.env.step, in_axes=(0, 0, None))(state, env_action, acting.motion_lib)
    truncation_value = networks.value(acting.params, acting.normalizer_params, next_state.final_obs)

    valid = (
        _all_finite(state.obs, 1)
        & action_finite
        & jnp.isfinite(log_prob)
        & jnp.isfinite(value)
        & jnp.isfinite(next_state.reward)
        & jnp.isfinite(truncation_value)
    )

    def keep(x, fill=0.0):
        mask = valid.reshape(valid.shape + (1,) * (x.ndim - 1))
        return jnp.where(mask, x, fill)

    transition = Transition(
        obs=keep(state.obs),
        action=keep(action),
        log_prob=keep(log_prob),
        value=keep(value),
        reward=keep(next_state.reward),
        # An invalid step ends its GAE chain like a failure (and is masked out anyway).
        terminated=keep(next_state.terminated, 1.0),
        truncated=keep(next_state.truncated),
        truncation_value=keep(truncation_value),
        valid=valid.astype(jnp.float32),
        env_metrics={k: keep(v) for k, v in next_state.metrics.items()},
    )
    return RolloutCarry(next_state, key), transition


def rollout(
    agent: _Agent, acting: _Acting, env_state: Any, key: Array, num_steps: int, deterministic: bool = False
) -> tuple[Any, Transition]:
    """``num_steps`` steps of every environment: returns the last states and Transition [T, B]."""
    step = functools.partial(_rollout_step, agent, acting, deterministic)
    carry, transitions = jax.lax.scan(step, RolloutCarry(env_state, key), None, length=num_steps)
    return carry.env_state, transitions


def summarize_rollout(transitions: Transition) -> dict[str, Array]:
    """Scalar metrics of a [T, B] rollout (means over valid transitions).

    ``rollout/episode_length_mean``, ``rollout/episode_return_mean`` (when the env reports
    ``episode_return``) and ``rollout/success_rate`` (the fraction of those episodes that
    ended by truncation, i.e. reached the time limit or the clip's end without failing)
    average the episodes that *ended* within the rollout (0 if none did; weigh by
    ``rollout/episodes`` when pooling rollouts).
    """
    valid = transitions.valid
    done = jnp.maximum(transitions.terminated, transitions.truncated) * valid
    episodes = jnp.sum(done)
    per_episode = lambda x: jnp.sum(x * done) / jnp.maximum(episodes, 1.0)  # noqa: E731
    lengths = transitions.env_metrics["episode_steps"]
    metrics = {
        "rollout/reward_mean": losses.masked_mean(transitions.reward, valid),
        "rollout/episodes": episodes,
        "rollout/episode_length_mean": per_episode(lengths),
        "rollout/success_rate": per_episode(transitions.truncated * (1.0 - transitions.terminated)),
        "rollout/termination_rate": losses.masked_mean(transitions.terminated, valid),
        "rollout/truncation_rate": losses.masked_mean(transitions.truncated, valid),
        "rollout/value_mean": losses.masked_mean(transitions.value, valid),
        "rollout/nonfinite_transitions": jnp.sum(1.0 - valid),
    }
    if "episode_return" in transitions.env_metrics:
        metrics["rollout/episode_return_mean"] = per_episode(transitions.env_metrics["episode_return"])
    for name, value in transitions.env_metrics.items():
        if name not in ("episode_steps", "episode_return"):
            metrics[f"env/{name}"] = losses.masked_mean(value, valid)
    return metrics


# --------------------------------------------------------------------------------------
# Update.


def _select_tree(pred: Array, on_true, on_false):
    return jax.tree.map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


def _sgd_minibatch(
    agent: _Agent, normalizer_params, carry: MinibatchCarry, minibatch: losses.PPOBatch
) -> tuple[MinibatchCarry, dict[str, Array]]:
    """One Adam step on one minibatch [M]; skipped if its gradient is not finite."""
    cfg = agent.config
    loss_fn = functools.partial(
        losses.ppo_loss,
        networks=agent.networks,
        clip_eps=cfg.clip_eps,
        value_coef=cfg.value_coef,
        entropy_coef=cfg.entropy_coef,
        bounds_coef=cfg.bounds_coef,
        action_bound=cfg.action_bound,
        value_clip_eps=cfg.value_clip_eps,
        normalize_advantages=cfg.normalize_advantages,
    )
    grads, metrics = jax.grad(loss_fn, has_aux=True)(carry.params, normalizer_params, minibatch)
    grad_norm = optax.global_norm(grads)
    updates, opt_state = agent.optimizer.update(grads, carry.opt_state, carry.params)
    params = optax.apply_updates(carry.params, updates)
    finite = jnp.isfinite(grad_norm)
    carry = MinibatchCarry(
        params=_select_tree(finite, params, carry.params),
        opt_state=_select_tree(finite, opt_state, carry.opt_state),
    )
    metrics = {**metrics, "grad_norm": jnp.where(finite, grad_norm, 0.0), "skipped_updates": 1.0 - finite}
    return carry, metrics


def _sgd_epoch(
    agent: _Agent, normalizer_params, batch: losses.PPOBatch, carry: EpochCarry, _: None
) -> tuple[EpochCarry, dict[str, Array]]:
    """Shuffle the flat batch [N] into [num_minibatches, M] and step through it."""
    key, key_perm = jax.random.split(carry.key)
    n = agent.config.num_envs * agent.config.horizon
    count = n // agent.config.minibatch_size
    perm = jax.random.permutation(key_perm, n)
    minibatches = jax.tree.map(lambda x: x[perm].reshape((count, -1) + x.shape[1:]), batch)
    step = functools.partial(_sgd_minibatch, agent, normalizer_params)
    inner, metrics = jax.lax.scan(step, MinibatchCarry(carry.params, carry.opt_state), minibatches)
    return EpochCarry(inner.params, inner.opt_state, key), metrics


def _ppo_batch(agent: _Agent, training_state: TrainingState, transitions: Transition, last_obs: Array):
    """Transitions [T, B] -> flat PPOBatch [T * B] with GAE advantages and targets."""
    cfg = agent.config
    last_value = agent.networks.value(training_state.params, training_state.normalizer_params, last_obs)
    last_value = jnp.where(jnp.isfinite(last_value), last_value, 0.0)
    advantages, targets = losses.compute_advantages(
        transitions.reward,
        transitions.value,
        transitions.terminated,
        transitions.truncated,
        transitions.truncation_value,
        last_value,
        discount=cfg.discount,
        gae_lambda=cfg.gae_lambda,
    )
    batch = losses.PPOBatch(
        obs=transitions.obs,
        action=transitions.action,
        log_prob=transitions.log_prob,
        value=transitions.value,
        advantage=advantages,
        target=targets,
        mask=transitions.valid,
    )
    return jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), batch)


def _iteration(
    agent: _Agent, training_state: TrainingState, env_state: Any, motion_lib: Any, key: Array
) -> tuple[TrainingState, Any, dict[str, Array]]:
    cfg = agent.config
    key_rollout, key_sgd = jax.random.split(key)
    acting = _Acting(training_state.params, training_state.normalizer_params, motion_lib)
    env_state, transitions = rollout(agent, acting, env_state, key_rollout, cfg.horizon)
    batch = _ppo_batch(agent, training_state, transitions, env_state.obs)

    epoch = functools.partial(_sgd_epoch, agent, training_state.normalizer_params, batch)
    carry = EpochCarry(training_state.params, training_state.opt_state, key_sgd)
    carry, sgd_metrics = jax.lax.scan(epoch, carry, None, length=cfg.num_epochs)

    normalizer_params = training_state.normalizer_params
    if cfg.normalize_observations:
        normalizer_params = running_statistics.update(normalizer_params, transitions.obs, weights=transitions.valid)
    env_steps = training_state.env_steps + float(cfg.num_envs * cfg.horizon)
    training_state = TrainingState(
        params=carry.params,
        opt_state=carry.opt_state,
        normalizer_params=normalizer_params,
        env_steps=env_steps,
        iteration=training_state.iteration + 1,
    )
    metrics = summarize_rollout(transitions)
    # Means over epochs and minibatches, except the skip count (a total).
    for name, value in sgd_metrics.items():
        metrics[f"sgd/{name}"] = jnp.sum(value) if name == "skipped_updates" else jnp.mean(value)
    metrics["sgd/advantage_rms"] = jnp.sqrt(losses.masked_mean(jnp.square(batch.advantage), batch.mask))
    metrics["env_steps"] = env_steps
    return training_state, env_state, metrics


# --------------------------------------------------------------------------------------
# Public entry points.


def make_train_iteration(
    env: Env, config: ml_collections.ConfigDict
) -> Callable[[TrainingState, Any, Any, Array], tuple[TrainingState, Any, dict[str, Array]]]:
    """The whole PPO iteration as one pure, jittable function.

    iteration(training_state, env_state [num_envs], motion_lib, key)
        -> (training_state, env_state [num_envs], metrics {name: []})

    Jit it once (``jax.jit(iteration, donate_argnums=(0, 1))`` donates the state buffers);
    the motion library is an argument, so any motion set of the same shapes reuses it.
    """
    agent = _make_agent(env, config)
    return functools.partial(_iteration, agent)


def _train_step(iteration: Callable, motion_lib: Any, carry: TrainCarry, _: None) -> tuple[TrainCarry, dict]:
    key, key_iteration = jax.random.split(carry.key)
    training_state, env_state, metrics = iteration(carry.training_state, carry.env_state, motion_lib, key_iteration)
    return TrainCarry(training_state, env_state, key), metrics


def make_train(
    env: Env, config: ml_collections.ConfigDict
) -> Callable[[Array, Any, int], tuple[TrainingState, dict[str, Array]]]:
    """``train(key, motion_lib, num_iterations) -> (training_state [S], metrics [S, I])``.

    Trains ``config.num_seeds`` = S independent agents at once (``vmap`` over seeds), each
    for ``num_iterations`` = I iterations scanned inside one compiled program (PureJaxRL's
    ``jax.vmap(train)(keys)``). ``num_iterations`` is static.
    """
    iteration = make_train_iteration(env, config)

    def train_one_seed(key: Array, motion_lib: Any, num_iterations: int):
        key_init, key_env, key_loop = jax.random.split(key, 3)
        carry = TrainCarry(
            init_training_state(env, config, key_init), reset_envs(env, config, key_env, motion_lib), key_loop
        )
        step = functools.partial(_train_step, iteration, motion_lib)
        carry, metrics = jax.lax.scan(step, carry, None, length=num_iterations)
        return carry.training_state, metrics

    @functools.partial(jax.jit, static_argnums=2)
    def train(key: Array, motion_lib: Any, num_iterations: int):
        keys = jax.random.split(key, config.num_seeds)
        one_seed = functools.partial(train_one_seed, num_iterations=num_iterations)
        return jax.vmap(one_seed, in_axes=(0, None))(keys, motion_lib)

    return train


def make_evaluate(
    env: Env, config: ml_collections.ConfigDict, *, num_steps: int, deterministic: bool = True
) -> Callable[[TrainingState, Any, Any, Array], tuple[Any, dict[str, Array]]]:
    """``evaluate(training_state, env_state, motion_lib, key) -> (env_state, metrics)``.

    Rolls the policy out for ``num_steps`` control steps in every environment (mean
    actions when ``deterministic``) and summarises it like a training rollout
    (:func:`summarize_rollout`). Pure and jittable; nothing learns.
    """
    agent = _make_agent(env, config)

    def evaluate(training_state: TrainingState, env_state: Any, motion_lib: Any, key: Array):
        acting = _Acting(training_state.params, training_state.normalizer_params, motion_lib)
        env_state, transitions = rollout(agent, acting, env_state, key, num_steps, deterministic)
        return env_state, summarize_rollout(transitions)

    return evaluate


def evaluate_random_policy(
    env: Env,
    config: ml_collections.ConfigDict,
    env_state: Any,
    motion_lib: Any,
    key: Array,
    *,
    num_steps: int,
) -> tuple[Any, dict[str, Array]]:
    """Baseline: roll out zero-mean actions with the policy's exploration noise.

    Compiles a rollout on each call; inside a loop, jit ``make_evaluate(..., deterministic=
    False)`` once and pass it ``zero_mean_policy(training_state)`` instead.
    """
    key_init, key_rollout = jax.random.split(key)
    state = zero_mean_policy(init_training_state(env, config, key_init))
    evaluate = jax.jit(make_evaluate(env, config, num_steps=num_steps, deterministic=False))
    return evaluate(state, env_state, motion_lib, key_rollout)


__all__ = [
    "PHC_HIDDEN",
    "PRESETS",
    "Env",
    "EpochCarry",
    "MinibatchCarry",
    "RolloutCarry",
    "TrainCarry",
    "TrainingState",
    "Transition",
    "default_config",
    "evaluate_random_policy",
    "get_config",
    "init_training_state",
    "make_evaluate",
    "make_networks",
    "make_optimizer",
    "make_train",
    "make_train_iteration",
    "num_minibatches",
    "reset_envs",
    "rollout",
    "set_learning_rate",
    "summarize_rollout",
    "zero_mean_policy",
]
