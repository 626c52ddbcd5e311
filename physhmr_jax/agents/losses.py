"""PPO losses and advantages (Schulman et al. 2017; rl_games' loss as PHC trains it).

* :func:`compute_advantages`: GAE (Schulman et al. 2016) with time-limit bootstrapping.
  A terminated step (failure) ends the return; a truncated step (time limit or clip end)
  ends the episode too, but its return continues through the value of the observation the
  episode ended in (``EnvState.final_obs``): target = r + gamma * V(final_obs). The
  recursion itself is brax's ``compute_gae`` (reused, not copied): the truncation bootstrap
  enters as an extra reward gamma * V(final_obs) on a step that is then treated as
  terminal, which is exactly the formula above.
* :func:`ppo_loss`: clipped surrogate, optionally clipped value loss, entropy bonus and
  rl_games' bounds loss on the action mean (PHC ``bounds_loss_coef``), all averaged over
  the minibatch entries whose ``mask`` is 1 (non-finite transitions are masked out).
* Distillation (PhysHMR's DAgger, ``phc/learning/amp_agent.py``): when the batch carries
  the teacher's actions on the student's own states, ``kin_weight * distill`` is added,
  distill = MSE(student mean action, teacher action). ``kin_weight`` above
  :data:`BC_ONLY_KIN_WEIGHT` is behaviour cloning alone, as in PhysHMR's code: the loss is
  ``BC_LOSS_SCALE * distill`` and every PPO term is dropped, the critic's too (its
  gradient would otherwise share the global-norm clip with the policy's and let the reward
  steer the clone); fine-tuning starts its critic from there.

Every loss takes ``(params, normalizer_params, batch, *, ...)`` and returns
``(loss, metrics)`` so that distillation losses can share the training step.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from brax.training.agents.ppo import losses as brax_losses
from jax import Array

from physhmr_jax.agents.mirror import Mirror, mirror_action, mirror_obs
from physhmr_jax.agents.networks import PPONetworks, gaussian_entropy, gaussian_log_prob

# Keeps advantage normalisation finite when every advantage in a minibatch is equal.
_ADVANTAGE_STD_EPS = 1e-8
# PhysHMR: kin_weight > 1e6 means behaviour cloning only, with the MSE scaled by 100.
BC_ONLY_KIN_WEIGHT = 1e6
BC_LOSS_SCALE = 100.0


class PPOBatch(NamedTuple):
    """A flat minibatch of N transitions (shapes without the minibatch axis in brackets)."""

    obs: Array  # [N, O] raw observations (the networks normalise)
    action: Array  # [N, A] actions taken (before the env's clipping)
    log_prob: Array  # [N] log-probability under the behaviour policy
    value: Array  # [N] behaviour critic's value of obs
    advantage: Array  # [N] GAE advantages
    target: Array  # [N] value targets (lambda-returns) = advantage + value
    mask: Array  # [N] 1.0 = use, 0.0 = leave out (non-finite transition)
    teacher_action: Array | None = None  # [N, A] the teacher's action on the same state (distillation)


def masked_mean(x: Array, mask: Array) -> Array:
    """Mean of ``x`` [N] over entries with ``mask`` [N] = 1; 0 when the mask is empty."""
    return jnp.sum(x * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def compute_advantages(
    rewards: Array,
    values: Array,
    terminated: Array,
    truncated: Array,
    truncation_values: Array,
    last_value: Array,
    *,
    discount: float,
    gae_lambda: float,
) -> tuple[Array, Array]:
    """GAE advantages and lambda-return targets with bootstrapping on truncation.

    Args:
      rewards: [T, B] reward of step t.
      values: [T, B] V(s_t) of the observation step t acted on.
      terminated: [T, B] 1.0 where step t ended its episode in failure (no bootstrap).
      truncated: [T, B] 1.0 where step t ended its episode by a time limit (bootstrap).
      truncation_values: [T, B] V(final observation of step t); used only where truncated.
      last_value: [B] V(s_T), the observation after the last step.
      discount: gamma.
      gae_lambda: lambda.

    Returns:
      advantages [T, B] and targets [T, B] (= advantages + values), without gradient:
        delta_t = r_t + gamma * (1 - d_t) * V(s_{t+1}) + gamma * u_t * V(final_t) - V(s_t)
        A_t = delta_t + gamma * lambda * (1 - d_t) * A_{t+1}
      with d_t = terminated_t or truncated_t, u_t = truncated_t and V(s_T) = last_value.
    """
    done = jnp.maximum(terminated, truncated)
    bootstrapped_rewards = rewards + discount * truncated * truncation_values
    # brax's ``truncation`` input zeroes truncated steps' advantages instead of bootstrapping
    # them, so it stays unused; its returned advantage is a one-step estimate on top of the
    # lambda-return, so the GAE advantage is taken as ``targets - values``.
    targets, _ = brax_losses.compute_gae(
        truncation=jnp.zeros_like(done),
        termination=done,
        rewards=bootstrapped_rewards,
        values=values,
        bootstrap_value=last_value,
        lambda_=gae_lambda,
        discount=discount,
    )
    return jax.lax.stop_gradient(targets - values), targets


def ppo_loss(
    params,
    normalizer_params,
    batch: PPOBatch,
    *,
    networks: PPONetworks,
    clip_eps: float,
    value_coef: float,
    entropy_coef: float,
    bounds_coef: float = 0.0,
    action_bound: float = 1.1,
    value_clip_eps: float = 0.0,
    normalize_advantages: bool = True,
    kin_weight: float = 0.0,
    policy_coef: float = 1.0,
    symmetry_coef: float = 0.0,
    mirror: Mirror | None = None,
) -> tuple[Array, dict[str, Array]]:
    """PPO-clip loss of one minibatch.

    Args:
      params: {"policy", "value"} network parameters (the ones differentiated).
      normalizer_params: observation statistics the behaviour policy acted with.
      batch: :class:`PPOBatch` of N transitions.
      networks: the actor and critic.
      clip_eps: surrogate clip, ratio kept in [1 - eps, 1 + eps].
      value_coef: weight of the value loss 0.5 * (V - target)^2 (PHC critic_coef 5).
      entropy_coef: weight of the entropy bonus (subtracted).
      bounds_coef: weight of sum_a relu(|mean_a| - action_bound)^2 (rl_games bounds loss).
      action_bound: soft bound of the action mean (rl_games 1.1).
      value_clip_eps: > 0 clips V to behaviour value +- eps (PPO2's value clipping); 0 off.
      normalize_advantages: standardise advantages over the minibatch's masked entries.
      kin_weight: weight of the distillation MSE (needs ``batch.teacher_action``); above
        :data:`BC_ONLY_KIN_WEIGHT`, behaviour cloning only (module docstring).
      policy_coef: weight of every policy term (policy, entropy, bounds and, outside
        behaviour-cloning mode, the distillation MSE); 0 leaves the policy's gradient exactly
        zero, so Adam leaves it unchanged and only the critic learns.
      symmetry_coef: weight of the mirror loss, a policy term: mean over the minibatch and
        the action of (mean(mirror(obs)) - mirror(mean(obs)))^2 (``envs/symmetry.py``);
        read only with a ``mirror``.
      mirror: the observation's and action's mirror maps, or None.

    Returns:
      loss [] and metrics {name: []}:
        loss = policy_coef * (policy - entropy_coef * entropy + bounds_coef * bounds
                              [+ kin_weight * distill] [+ symmetry_coef * symmetry])
               + value_coef * value
        policy = mean(-min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A))
    """
    mask = batch.mask
    advantage = batch.advantage
    if normalize_advantages:
        adv_mean = masked_mean(advantage, mask)
        adv_std = jnp.sqrt(masked_mean(jnp.square(advantage - adv_mean), mask))
        advantage = (advantage - adv_mean) / (adv_std + _ADVANTAGE_STD_EPS)

    mean, log_std = networks.policy(params, normalizer_params, batch.obs)
    log_prob = gaussian_log_prob(batch.action, mean, log_std)
    log_ratio = log_prob - batch.log_prob
    ratio = jnp.exp(log_ratio)
    surrogate = jnp.minimum(ratio * advantage, jnp.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantage)
    policy_loss = -masked_mean(surrogate, mask)

    value = networks.value(params, normalizer_params, batch.obs)
    value_error = jnp.square(value - batch.target)
    if value_clip_eps > 0.0:
        value_clipped = batch.value + jnp.clip(value - batch.value, -value_clip_eps, value_clip_eps)
        value_error = jnp.maximum(value_error, jnp.square(value_clipped - batch.target))
    value_loss = 0.5 * masked_mean(value_error, mask)

    entropy = masked_mean(gaussian_entropy(log_std), mask)
    excess = jax.nn.relu(mean - action_bound) + jax.nn.relu(-action_bound - mean)
    bounds_loss = masked_mean(jnp.sum(jnp.square(excess), axis=-1), mask)

    policy_terms = policy_loss - entropy_coef * entropy + bounds_coef * bounds_loss
    extra_metrics = {}
    if mirror is not None and symmetry_coef > 0.0:
        mirrored_mean, _ = networks.policy(params, normalizer_params, mirror_obs(mirror, batch.obs))
        gap = jnp.mean(jnp.square(mirrored_mean - mirror_action(mirror, mean)), axis=-1)
        symmetry = masked_mean(gap, mask)
        policy_terms = policy_terms + symmetry_coef * symmetry
        extra_metrics["symmetry_loss"] = symmetry
    if batch.teacher_action is not None:
        distill = masked_mean(jnp.mean(jnp.square(mean - batch.teacher_action), axis=-1), mask)
        policy_terms = policy_terms + kin_weight * distill
        extra_metrics["distill_loss"] = distill
    loss = policy_coef * policy_terms + value_coef * value_loss
    if batch.teacher_action is not None and kin_weight > BC_ONLY_KIN_WEIGHT:
        loss = BC_LOSS_SCALE * distill
    metrics = {
        "loss": loss,
        "policy_loss": policy_loss,
        "value_loss": value_loss,
        "entropy": entropy,
        "bounds_loss": bounds_loss,
        # Schulman's low-variance estimator of KL(behaviour || current).
        "approx_kl": masked_mean(ratio - 1.0 - log_ratio, mask),
        "clip_fraction": masked_mean((jnp.abs(ratio - 1.0) > clip_eps).astype(jnp.float32), mask),
        "ratio": masked_mean(ratio, mask),
        **extra_metrics,
    }
    return loss, metrics


__all__ = ["BC_LOSS_SCALE", "BC_ONLY_KIN_WEIGHT", "PPOBatch", "compute_advantages", "masked_mean", "ppo_loss"]
