"""The training-only pelvis assist (``envs/assist.py``): the wrench by hand, the level's
schedule, what the expert config builds, and the assisted step (one compile: the level is
an argument, so a batch plays levels 0 and 1 side by side)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from physhmr_jax.agents import acting
from physhmr_jax.config_io import ConfigError
from physhmr_jax.envs import assist, imitation
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.build import build_expert
from physhmr_jax.geometry import rotations as rot
from physhmr_jax.humanoid.skeleton import NUM_BODIES
from physhmr_jax.motion.library import MotionState


def _bodies(pos, quat, lin_vel, ang_vel):
    def full(x, width):
        return jnp.zeros((NUM_BODIES, width)).at[0].set(jnp.asarray(x, jnp.float32))

    return full(pos, 3), full(quat, 4).at[1:, 0].set(1.0), full(lin_vel, 3), full(ang_vel, 3)


def test_wrench_by_hand():
    gains = assist.AssistGains(pos_kp=1000.0, pos_kd=100.0, rot_kp=100.0, rot_kd=10.0)
    pos, quat, lin_vel, ang_vel = _bodies([0.0, 0.0, 0.9], [1.0, 0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 1.0])
    body = imitation.BodyKinematics(pos=pos, quat=quat, lin_vel=lin_vel, ang_vel=ang_vel)
    # The reference pelvis: 0.1 m ahead in x, turned 0.5 rad about z, still.
    ref_quat = rot.quat_from_axis_angle(jnp.array([0.0, 0.0, 1.0]), jnp.array(0.5))
    r_pos, r_quat, r_vel, r_ang = _bodies([0.1, 0.0, 0.9], ref_quat, [0.0] * 3, [0.0] * 3)
    ref = MotionState(
        root_pos=r_pos[0], root_quat=r_quat[0], dof=jnp.zeros(69), root_lin_vel=r_vel[0], root_ang_vel=r_ang[0],
        dof_vel=jnp.zeros(69), body_pos=r_pos, body_quat=r_quat, body_lin_vel=r_vel, body_ang_vel=r_ang,
    )  # fmt: skip
    wrench = np.asarray(assist.root_wrench(body, ref, gains))
    # force = 1000 * 0.1 - 100 * 0.5 in x; torque = 100 * 0.5 - 10 * 1.0 about z.
    np.testing.assert_allclose(wrench, [50.0, 0.0, 0.0, 0.0, 0.0, 40.0], atol=1e-4)


def test_level_falls_linearly_with_env_steps_to_zero():
    schedule = assist.RootAssistSchedule(decay_env_steps=100.0)
    state = schedule.init()
    rollout = acting.Transition(
        obs=None, action=None, reward=jnp.zeros((4, 10)), terminated=None, truncated=None, valid=None,
        extras={}, metrics={},
    )  # fmt: skip
    levels = []
    for _ in range(4):
        levels.append(float(schedule.apply(state, "lib").level))
        state, metrics = schedule.update(state, rollout)
        assert float(metrics["assist_level"]) == levels[-1]
    np.testing.assert_allclose(levels, [1.0, 0.6, 0.2, 0.0], atol=1e-6)  # 40 steps per rollout of T = 4 x B = 10
    assert float(state.env_steps) == 160.0
    assert schedule.apply(state, "lib").motion_lib == "lib"
    with pytest.raises(ConfigError, match="assist_decay_env_steps"):
        assist.RootAssistSchedule(decay_env_steps=-1.0)
    assert assist.make_root_assist(0) is None


def test_expert_config_builds_the_assisted_training_env():
    config = expert_config.default_config("smoke")
    config.env.action_mode = "residual"
    config.env.assist_decay_env_steps = 1000
    expert = build_expert(config)
    assert isinstance(expert.curriculum, assist.RootAssistSchedule)
    assert isinstance(expert.training_env.env, assist.AssistedEnv)
    assert isinstance(expert.env, imitation.ImitationEnv)  # evaluation plays the plain env
    config.motions.clip_sampling = "failure"
    with pytest.raises(ConfigError, match="cannot be combined"):
        build_expert(config)


def test_assist_pulls_a_displaced_pelvis_back():
    config = expert_config.default_config("smoke")
    config.env.action_mode = "residual"
    expert = build_expert(config)
    env, lib = expert.env, expert.motion_lib
    assisted = assist.AssistedEnv(env, assist.AssistGains())

    clip = jnp.zeros((3,), jnp.int32)  # the same clip from the same frame in 3 envs
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    states = jax.vmap(env.reset_to, in_axes=(0, None, 0, None))(keys, lib, clip, jnp.float32(0.0))
    # The pelvis starts 6 cm behind the reference (x) in every env; the levels differ.
    states = states.replace(data=states.data.replace(qpos=states.data.qpos.at[:, 0].add(-0.06)))
    assert np.all(np.asarray(assisted.wrench(jax.tree.map(lambda x: x[0], states), lib, 0.0)) == 0.0)
    levels = jnp.array([0.0, 0.5, 1.0])
    step = jax.jit(jax.vmap(lambda s, a, level: assisted.step(s, a, assist.AssistedData(lib, level))))
    zero = jnp.zeros((3, env.action_size))
    for _ in range(6):  # zero residual actions: PD on the reference pose
        states = step(states, zero, levels)
    assert np.all(np.asarray(states.data.xfrc_applied) == 0.0)  # no wrench is carried out of a step
    ref = jax.vmap(lib.state_at)(states.clip_id, states.time_s)
    error = np.asarray(jnp.linalg.norm(states.data.xpos[:, imitation.ROOT_BODY_ID] - ref.body_pos[:, 0], axis=-1))
    # The stronger the assist, the closer the pelvis (measured: 85, 77, 69 mm; the feet's
    # friction holds the body where it started, and the pull is 60 N at 6 cm).
    assert error[2] < error[1] < error[0], error
    assert error[2] < error[0] - 0.01, error
