"""Left-right mirror maps (``envs/symmetry.py``) against mirrored states, forward kinematics
and the PPO loss's symmetry term (``ppo.symmetry_coef``)."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from physhmr_jax.agents import losses, ppo, ppo_config
from physhmr_jax.config_io import ConfigError
from physhmr_jax.envs import imitation, symmetry
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid.kinematics import forward_kinematics
from physhmr_jax.humanoid.skeleton import BODY_NAMES, NUM_BODIES, mean_skeleton
from physhmr_jax.motion.library import MotionState


def _random_quats(key, n):
    return rot.quat_normalize(jax.random.normal(key, (n, 4)))


def _random_bodies(key) -> imitation.BodyKinematics:
    k = jax.random.split(key, 4)
    pos = jax.random.normal(k[0], (NUM_BODIES, 3)) * 0.5 + jnp.array([0.3, -0.2, 0.9])
    return imitation.BodyKinematics(
        pos=pos,
        quat=_random_quats(k[1], NUM_BODIES),
        lin_vel=jax.random.normal(k[2], (NUM_BODIES, 3)),
        ang_vel=jax.random.normal(k[3], (NUM_BODIES, 3)),
    )


def _mirror_bodies(b: imitation.BodyKinematics) -> imitation.BodyKinematics:
    """The world-frame mirror of a body state (y -> -y, left <-> right)."""
    p = symmetry.body_partners()
    return imitation.BodyKinematics(
        pos=b.pos[p] * symmetry.VECTOR_SIGN,
        quat=b.quat[p] * symmetry.QUAT_SIGN,
        lin_vel=b.lin_vel[p] * symmetry.VECTOR_SIGN,
        ang_vel=b.ang_vel[p] * symmetry.PSEUDOVECTOR_SIGN,
    )


def _reference(b: imitation.BodyKinematics) -> MotionState:
    zeros = jnp.zeros(69)
    return MotionState(
        root_pos=b.pos[0], root_quat=b.quat[0], root_lin_vel=b.lin_vel[0], root_ang_vel=b.ang_vel[0], dof=zeros,
        dof_vel=zeros, body_pos=b.pos, body_quat=b.quat, body_lin_vel=b.lin_vel, body_ang_vel=b.ang_vel,
    )  # fmt: skip


def _observation(body, refs):
    return jnp.concatenate(
        [imitation.proprioception_from_bodies(body)]
        + [imitation.reference_observation_from_bodies(body, ref) for ref in refs]
    )


def test_partners_swap_left_and_right():
    partners = symmetry.body_partners()
    for i, name in enumerate(BODY_NAMES):
        other = BODY_NAMES[partners[i]]
        if name[:2] in ("L_", "R_"):
            assert other[2:] == name[2:] and other[:2] != name[:2]
        else:
            assert other == name
    np.testing.assert_array_equal(partners[partners], np.arange(NUM_BODIES))


@pytest.mark.parametrize("num_future_frames", [1, 3])
def test_maps_are_involutions(num_future_frames):
    m = symmetry.imitation_mirror(num_future_frames)
    assert len(m.obs_perm) == imitation.PROPRIOCEPTION_SIZE + imitation.REFERENCE_FRAME_SIZE * num_future_frames
    assert sorted(m.obs_perm.tolist()) == list(range(len(m.obs_perm)))
    x = jax.random.normal(jax.random.PRNGKey(0), (5, len(m.obs_perm)))
    chex.assert_trees_all_equal(symmetry.mirror_obs(m, symmetry.mirror_obs(m, x)), x)
    a = jax.random.normal(jax.random.PRNGKey(1), (5, 69))
    chex.assert_trees_all_equal(symmetry.mirror_action(m, symmetry.mirror_action(m, a)), a)
    assert not np.allclose(symmetry.mirror_obs(m, x), x)


@pytest.mark.parametrize("num_future_frames", [1, 2])
def test_observation_of_the_mirrored_state_is_the_mirrored_observation(num_future_frames):
    keys = jax.random.split(jax.random.PRNGKey(2), 1 + num_future_frames)
    body = _random_bodies(keys[0])
    refs = [_reference(_random_bodies(k)) for k in keys[1:]]
    obs = _observation(body, refs)
    mirrored_refs = [_reference(_mirror_bodies(_random_bodies(k))) for k in keys[1:]]
    mirrored = _observation(_mirror_bodies(body), mirrored_refs)
    m = symmetry.imitation_mirror(num_future_frames)
    np.testing.assert_allclose(symmetry.mirror_obs(m, obs), mirrored, atol=2e-5)
    # Not trivially: the observation itself is far from its mirror.
    assert np.max(np.abs(obs - mirrored)) > 0.5


def test_mirrored_hinges_give_the_mirrored_body():
    """Forward kinematics of the mean (symmetric) body: mirrored dof and pelvis give every
    body at its partner's mirrored position and rotation."""
    offsets = jnp.asarray(mean_skeleton().offsets_m, jnp.float32)
    k1, k2 = jax.random.split(jax.random.PRNGKey(3))
    dof = jax.random.uniform(k1, (69,), minval=-1.0, maxval=1.0)
    root_quat = _random_quats(k2, 1)[0]
    root_pos = jnp.array([0.2, 0.3, 0.9])
    pos, quat = forward_kinematics(root_pos, root_quat, dof, offsets)
    m = symmetry.imitation_mirror()
    pos_m, quat_m = forward_kinematics(
        root_pos * symmetry.VECTOR_SIGN, root_quat * symmetry.QUAT_SIGN, symmetry.mirror_action(m, dof), offsets
    )
    p = symmetry.body_partners()
    np.testing.assert_allclose(pos_m, pos[p] * symmetry.VECTOR_SIGN, atol=1e-5)
    # Quaternions up to sign: compare rotation matrices.
    np.testing.assert_allclose(rot.quat_to_matrix(quat_m), rot.quat_to_matrix(quat[p] * symmetry.QUAT_SIGN), atol=1e-5)


def test_symmetry_term_of_the_ppo_loss():
    obs_size = imitation.observation_size(imitation.default_config())
    cfg = ppo_config.default_config()
    cfg.policy_hidden, cfg.value_hidden = [32], [32]

    class Sizes:
        observation_size, action_size = obs_size, 69

    networks = ppo.make_networks(Sizes(), cfg)
    params = networks.init(jax.random.PRNGKey(4))
    params = jax.tree.map(lambda x: x + 0.05 * jax.random.normal(jax.random.PRNGKey(5), x.shape), params)
    n = 8
    k = jax.random.split(jax.random.PRNGKey(6), 3)
    batch = losses.PPOBatch(
        obs=jax.random.normal(k[0], (n, obs_size)), action=jax.random.normal(k[1], (n, 69)) * 0.05,
        log_prob=jnp.zeros(n), value=jnp.zeros(n), advantage=jax.random.normal(k[2], (n,)), target=jnp.zeros(n),
        mask=jnp.ones(n),
    )  # fmt: skip
    normalizer = ppo.init_normalizer(obs_size)
    m = symmetry.imitation_mirror()
    common = dict(networks=networks, clip_eps=0.2, value_coef=1.0, entropy_coef=0.0)
    base, base_metrics = losses.ppo_loss(params, normalizer, batch, **common)
    with_sym, metrics = losses.ppo_loss(params, normalizer, batch, **common, symmetry_coef=2.0, mirror=m)
    mean, _ = networks.policy(params, normalizer, batch.obs)
    mean_m, _ = networks.policy(params, normalizer, symmetry.mirror_obs(m, batch.obs))
    expected = jnp.mean(jnp.square(mean_m - symmetry.mirror_action(m, mean)))
    assert float(expected) > 0.0
    np.testing.assert_allclose(metrics["symmetry_loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(with_sym - base, 2.0 * expected, rtol=1e-4)
    assert "symmetry_loss" not in base_metrics
    # The term's gradient moves the policy alone.
    grads = jax.grad(
        lambda p: (
            losses.ppo_loss(p, normalizer, batch, **common, symmetry_coef=1.0, mirror=m)[0]
            - losses.ppo_loss(p, normalizer, batch, **common)[0]
        )
    )(params)
    assert float(sum(jnp.sum(jnp.abs(g)) for g in jax.tree.leaves(grads["policy"]))) > 0.0
    chex.assert_trees_all_close(grads["value"], jax.tree.map(jnp.zeros_like, grads["value"]), atol=1e-6)


def test_symmetry_coef_needs_a_mirror():
    cfg = ppo_config.default_config()
    cfg.symmetry_coef = 1.0

    class Sizes:
        observation_size, action_size = 934, 69

    with pytest.raises(ConfigError, match="symmetry_coef"):
        ppo.make_algorithm(Sizes(), cfg)
    cfg.symmetry_coef = -1.0
    with pytest.raises(ConfigError, match="symmetry_coef"):
        ppo.make_algorithm(Sizes(), cfg, mirror=symmetry.imitation_mirror())
    cfg.symmetry_coef = 1.0
    with pytest.raises(ConfigError, match="observation"):
        ppo.make_algorithm(Sizes(), cfg, mirror=symmetry.imitation_mirror(num_future_frames=2))


def test_symmetric_networks_are_equivariant_by_construction():
    """``ppo.symmetric_networks``: on any weights and observation statistics, the action mean of
    a mirrored observation is the mirrored action mean, the std its mirror and the value the
    same (to float32 rounding), while the plain networks of the same weights miss by far; a
    checkpoint template (no mirror) has the same parameters."""
    obs_size = imitation.observation_size(imitation.default_config())
    cfg = ppo_config.default_config()
    cfg.policy_hidden, cfg.value_hidden, cfg.learn_std = [32], [32], True
    cfg.symmetric_networks = True

    class Sizes:
        observation_size, action_size = obs_size, 69

    m = symmetry.imitation_mirror()
    sym = ppo.make_networks(Sizes(), cfg, m)
    plain_cfg = ppo_config.default_config()
    plain_cfg.policy_hidden, plain_cfg.value_hidden, plain_cfg.learn_std = [32], [32], True
    plain = ppo.make_networks(Sizes(), plain_cfg, m)  # symmetric_networks off: the mirror is not read
    params = sym.init(jax.random.PRNGKey(7))
    params = jax.tree.map(lambda x: x + 0.1 * jax.random.normal(jax.random.PRNGKey(8), x.shape), params)
    k = jax.random.split(jax.random.PRNGKey(9), 3)
    obs = jax.random.normal(k[0], (5, obs_size))
    normalizer = ppo.init_normalizer(obs_size).replace(
        mean=jax.random.normal(k[1], (obs_size,)), std=jnp.exp(0.3 * jax.random.normal(k[2], (obs_size,)))
    )
    mean, log_std = sym.policy(params, normalizer, obs)
    mean_m, log_std_m = sym.policy(params, normalizer, symmetry.mirror_obs(m, obs))
    np.testing.assert_allclose(mean_m, symmetry.mirror_action(m, mean), atol=1e-5)
    np.testing.assert_allclose(log_std_m, log_std[..., m.action_perm], atol=1e-6)
    np.testing.assert_allclose(sym.value(params, normalizer, symmetry.mirror_obs(m, obs)),
                               sym.value(params, normalizer, obs), rtol=1e-5, atol=1e-5)  # fmt: skip
    plain_mean, _ = plain.policy(params, normalizer, obs)
    plain_mean_m, _ = plain.policy(params, normalizer, symmetry.mirror_obs(m, obs))
    assert float(jnp.max(jnp.abs(plain_mean_m - symmetry.mirror_action(m, plain_mean)))) > 0.1
    # The symmetric mean is the average of the plain networks' two answers.
    np.testing.assert_allclose(mean, 0.5 * (plain_mean + symmetry.mirror_action(m, plain_mean_m)), atol=1e-5)
    template = ppo.init_training_state(Sizes(), cfg, jax.random.PRNGKey(0))
    chex.assert_trees_all_equal_shapes(template.params, params)
    with pytest.raises(ConfigError, match="symmetric_networks"):
        ppo.make_networks(Sizes(), cfg)
    with pytest.raises(ConfigError, match="symmetric_networks"):
        ppo.make_algorithm(Sizes(), cfg)
    wrong = symmetry.imitation_mirror(num_future_frames=2)  # maps of another observation size
    with pytest.raises(ConfigError, match="symmetric_networks: the mirror maps have .* observation"):
        ppo.make_networks(Sizes(), cfg, wrong)
    with pytest.raises(ConfigError, match="symmetric_networks: the mirror maps"):
        ppo.make_algorithm(Sizes(), cfg, mirror=wrong)


def test_an_exported_symmetric_policy_loads_symmetric(tmp_path):
    """What ``load_policy`` and a teacher read (``expert/export.policy_networks``): the
    config's ``ppo.symmetric_networks`` decides, with the imitation env's mirror of its
    number of future frames; a written policy file plays the same mirrored actions."""
    from physhmr_jax.expert import config as expert_config
    from physhmr_jax.expert.export import load_policy, policy_networks, policy_sizes, save_policy

    config = expert_config.default_config("smoke")
    assert policy_networks(config).mirror is None
    config.ppo.symmetric_networks = True
    config.env.num_future_frames = 2
    networks = policy_networks(config)
    assert networks.mirror is not None
    assert len(networks.mirror.obs_perm) == networks.obs_size == len(symmetry.imitation_mirror(2).obs_perm)
    state = ppo.init_training_state(policy_sizes(config), expert_config.ppo_config(config), jax.random.PRNGKey(1))
    policy = jax.tree.map(lambda x: x + 0.1 * jax.random.normal(jax.random.PRNGKey(2), x.shape), state.params["policy"])
    save_policy(tmp_path / "p.npz", config, state.replace(params={**state.params, "policy": policy}))
    loaded, params, normalizer, _ = load_policy(tmp_path / "p.npz")
    m = symmetry.imitation_mirror(2)
    obs = jax.random.normal(jax.random.PRNGKey(3), (4, networks.obs_size))
    mean, _ = loaded.policy(params, normalizer, obs)
    mean_m, _ = loaded.policy(params, normalizer, symmetry.mirror_obs(m, obs))
    np.testing.assert_allclose(mean_m, symmetry.mirror_action(m, mean), atol=1e-5)
    assert float(jnp.max(jnp.abs(mean))) > 0.05  # the weights act: the check above is not 0 = 0
