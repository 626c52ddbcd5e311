"""Failure-weighted clip sampling (``envs/clip_sampling.py``): counts and weights by hand,
resets drawn by the weights, and the curriculum inside the PPO iteration (the toy env:
its state updated in the one compiled program and resumed exactly from a checkpoint).
The expert end to end with it: ``tests/test_student.py::test_cli_train_and_eval_expert``."""

from __future__ import annotations

from types import SimpleNamespace

import chex
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct
from hypothesis import given, settings
from toy_env import ToyEnv, toy_config

from physhmr_jax.agents import acting, ppo, runner, sharding
from physhmr_jax.agents import metric_names as names
from physhmr_jax.config_io import ConfigError
from physhmr_jax.envs import clip_sampling
from physhmr_jax.envs.clip_sampling import (
    CLIP_ID,
    EPISODE_START,
    PRIOR_FAILURES,
    PRIOR_STARTS,
    PRIOR_STEPS,
    ClipFailures,
    FailureWeightedClips,
)


def _transitions(clip_ids, terminated, valid=None, starts=None) -> acting.Transition:
    """A [T, B] rollout with only the fields the curriculum reads."""
    clip_ids = jnp.asarray(clip_ids, jnp.float32)
    zeros = jnp.zeros_like(clip_ids)
    extras = (
        {CLIP_ID: clip_ids} if starts is None else {CLIP_ID: clip_ids, EPISODE_START: jnp.asarray(starts, jnp.float32)}
    )
    return acting.Transition(
        obs=zeros, action=zeros, reward=zeros, terminated=jnp.asarray(terminated, jnp.float32), truncated=zeros,
        valid=jnp.ones_like(clip_ids) if valid is None else jnp.asarray(valid, jnp.float32),
        extras=extras, metrics={},
    )  # fmt: skip


def test_counts_rates_and_weights_by_hand():
    sampler = FailureWeightedClips(3, decay=0.5, floor=0.2)
    state = sampler.init()
    base = jnp.array([0.5, 0.25, 0.25])
    # No evidence yet: every clip has the prior's rate, so the weights are the library's.
    np.testing.assert_allclose(sampler.weights(state, base), base, rtol=1e-6)
    # T = 2 steps of B = 4 envs. Clip 0: 4 steps, 0 failures; clip 1: 3 steps, 2 failures
    # (one more on an invalid step, not counted); clip 2: 0 steps.
    rollout = _transitions(
        clip_ids=[[0, 0, 1, 1], [0, 0, 1, 1]],
        terminated=[[0, 0, 1, 1], [0, 0, 1, 0]],
        valid=[[1, 1, 1, 0], [1, 1, 1, 1]],
    )
    state, metrics = sampler.update(state, rollout)
    np.testing.assert_allclose(state.steps, [4.0, 3.0, 0.0])
    np.testing.assert_allclose(state.failures, [0.0, 2.0, 0.0])
    rates = np.array([1 / 24, 3 / 23, 1 / 20])  # (failures + 1) / (steps + 20)
    np.testing.assert_allclose(sampler.rates(state), rates, rtol=1e-6)
    np.testing.assert_allclose(metrics["failure_rate_max"], 3 / 23, rtol=1e-6)
    np.testing.assert_allclose(metrics["failure_rate_min"], 1 / 24, rtol=1e-6)
    failing = np.array([0.5, 0.25, 0.25]) * rates
    expected = 0.8 * failing / failing.sum() + 0.2 * np.array([0.5, 0.25, 0.25])
    np.testing.assert_allclose(sampler.weights(state, base), expected, rtol=1e-6)
    # A second rollout: the counts decay by half before the new ones are added.
    state, _ = sampler.update(state, _transitions(clip_ids=[[2, 2]], terminated=[[1, 0]]))
    np.testing.assert_allclose(state.steps, [2.0, 1.5, 2.0])
    np.testing.assert_allclose(state.failures, [0.0, 1.0, 1.0])
    assert PRIOR_FAILURES / PRIOR_STEPS == pytest.approx(0.05)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(0.0, 1e4), min_size=4, max_size=4),
    failure_share=st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
    base=st.lists(st.floats(0.01, 1.0), min_size=4, max_size=4),
    floor=st.floats(0.01, 1.0),
)
def test_weights_are_a_distribution_that_keeps_every_clip(steps, failure_share, base, floor):
    sampler = FailureWeightedClips(4, floor=floor)
    steps = np.float32(steps)
    state = ClipFailures(steps=jnp.asarray(steps), failures=jnp.asarray(steps * np.float32(failure_share)))
    base = np.float32(base) / np.sum(np.float32(base))
    weights = np.asarray(sampler.weights(state, jnp.asarray(base)))
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-5)
    assert np.all(weights >= floor * base * (1 - 1e-5)), (weights, floor * base)
    # The clip failing most often per step gains share over the library's weights (or keeps it).
    worst = int(np.argmax(np.asarray(sampler.rates(state))))
    assert weights[worst] >= base[worst] * (1 - 1e-5)


def test_resets_draw_clips_by_the_weights():
    """The library the rollout plays (``apply``) has the weights; its start sampler follows them."""
    from physhmr_jax.motion.library import build_motion_lib
    from physhmr_jax.motion.procedural import generate_library

    lib = build_motion_lib(generate_library(num_clips_per_type=1, seed=0)[:3])
    sampler = FailureWeightedClips(3, decay=0.9, floor=0.1)
    # Clip 1 failed 200 of 1000 steps, the others 0 of 1000: rates 1/1020, 201/1020, 1/1020.
    state = ClipFailures(steps=jnp.full((3,), 1000.0), failures=jnp.array([0.0, 200.0, 0.0]))
    played = sampler.apply(state, lib)
    expected = np.asarray(sampler.weights(state, lib.clip_weight))
    np.testing.assert_allclose(played.clip_weight, expected, rtol=1e-6)
    assert expected[1] > 0.9
    chex.assert_trees_all_equal(played.root_pos, lib.root_pos)  # only the weights change
    clip_ids, _ = played.sample_starts(jax.random.PRNGKey(0), 20_000, 1 / 30)
    share = np.bincount(np.asarray(clip_ids), minlength=3) / 20_000
    np.testing.assert_allclose(share, expected, atol=0.01)


def test_record_reads_the_training_env_clip():
    state = SimpleNamespace(inner=SimpleNamespace(clip_id=jnp.array([2, 0, 1], jnp.int32)))
    recorded = FailureWeightedClips(3).record(state, None, None)
    np.testing.assert_array_equal(recorded[CLIP_ID], [2.0, 0.0, 1.0])


def test_segments_count_where_in_the_clip_and_start_there():
    """S = 3 segments: a step is counted in the segment of its time, the cells' weights give
    the clips' weights and each clip's segment weights, and resets follow both."""
    from physhmr_jax.motion.library import build_motion_lib
    from physhmr_jax.motion.procedural import generate_library

    dt = 1 / 30
    lib = build_motion_lib(generate_library(num_clips_per_type=1, seed=0)[:2])
    spans = tuple(float(d) - dt for d in np.asarray(lib.clip_duration_s))
    sampler = FailureWeightedClips(2, decay=0.5, floor=0.2, segments=3, start_spans_s=spans)
    # record: clip 0 at 10 % of its span is segment 0, clip 1 at 50 % segment 1, at its end segment 2.
    state = SimpleNamespace(
        inner=SimpleNamespace(
            clip_id=jnp.array([0, 1, 1]), time_s=jnp.array([0.1 * spans[0], 0.5 * spans[1], spans[1]])
        )
    )
    np.testing.assert_array_equal(sampler.record(state, None, None)[CLIP_ID], [0.0, 4.0, 5.0])
    # One rollout: cell 4 (clip 1, middle) fails 3 of 4 steps, cell 0 plays 4 steps without failing.
    counts, _ = sampler.update(sampler.init(), _transitions(clip_ids=[[0, 0, 4, 4], [0, 0, 4, 4]],
                                                            terminated=[[0, 0, 1, 1], [0, 0, 1, 0]]))  # fmt: skip
    np.testing.assert_allclose(counts.steps, [4, 0, 0, 0, 4, 0])
    np.testing.assert_allclose(counts.failures, [0, 0, 0, 0, 3, 0])
    rates = np.array([1 / 24, 1 / 20, 1 / 20, 1 / 20, 4 / 24, 1 / 20])
    np.testing.assert_allclose(sampler.rates(counts), rates, rtol=1e-6)
    base = np.repeat(np.asarray(lib.clip_weight), 3) / 3
    cells = 0.8 * base * rates / np.sum(base * rates) + 0.2 * base
    np.testing.assert_allclose(sampler.weights(counts, lib.clip_weight), cells, rtol=1e-5)
    np.testing.assert_allclose(sampler.clip_rates(counts), [1 / 24, 4 / 24], rtol=1e-6)  # the per-clip rule on the sums
    played = sampler.apply(counts, lib)
    np.testing.assert_allclose(played.clip_weight, cells.reshape(2, 3).sum(1), rtol=1e-5)
    np.testing.assert_allclose(
        played.segment_weight, cells.reshape(2, 3) / cells.reshape(2, 3).sum(1, keepdims=True), rtol=1e-5
    )
    n = 40_000
    clip_ids, times = played.sample_starts(jax.random.PRNGKey(1), n, dt)
    clip_ids, times = np.asarray(clip_ids), np.asarray(times)
    cell = np.asarray(sampler.cell(jnp.asarray(clip_ids), jnp.asarray(times)))
    np.testing.assert_array_equal(cell // 3, clip_ids)
    share = np.bincount(cell, minlength=6) / n
    np.testing.assert_allclose(share, cells, atol=0.01)
    assert np.all(times >= 0) and np.all(times <= np.asarray(spans)[clip_ids] + 1e-5)


def test_start_place_counts_each_step_where_its_episode_started():
    """``place = "start"``: a step is counted in the segment its episode started in (its time
    less step_count * dt), so an episode started before a hard part and failing after it
    weighs the segment where it started; ``"step"`` counts the same steps where they are."""
    dt = 0.1
    spans = (3.0, 3.0)  # 3 segments of 1 s each
    state = SimpleNamespace(
        inner=SimpleNamespace(clip_id=jnp.array([0, 0, 1, 1]), time_s=jnp.array([2.5, 2.5, 1.2, 0.05])),
        step_count=jnp.array([0, 20, 5, 3]),  # started at 2.5, 0.5, 0.7 s and (clamped) 0 s
    )
    at_step = FailureWeightedClips(2, segments=3, start_spans_s=spans)
    at_start = FailureWeightedClips(2, segments=3, start_spans_s=spans, place="start", dt=dt)
    np.testing.assert_array_equal(at_step.record(state, None, None)[CLIP_ID], [2.0, 2.0, 4.0, 3.0])
    np.testing.assert_array_equal(at_start.record(state, None, None)[CLIP_ID], [2.0, 0.0, 3.0, 3.0])
    # One clip (S = 2, spans 2 s): an episode started at 0.5 s (segment 0) runs 15 steps of
    # 0.1 s and fails at 1.9 s (segment 1). Counted where it started, segment 0 holds the
    # failure; counted per step, segment 1 does.
    one = dict(segments=2, start_spans_s=(2.0,), decay=0.5)
    times = 0.5 + 0.1 * jnp.arange(15)
    episode = SimpleNamespace(inner=SimpleNamespace(clip_id=jnp.zeros(15, jnp.int32), time_s=times),
                              step_count=jnp.arange(15))  # fmt: skip
    terminated = [[0.0] * 14 + [1.0]]
    for place, steps, failures in (("step", [5, 10], [0, 1]), ("start", [15, 0], [1, 0])):
        sampler = FailureWeightedClips(1, place=place, dt=0.1, **one)
        cells = sampler.record(episode, None, None)[CLIP_ID][None]
        counts, _ = sampler.update(sampler.init(), _transitions(cells, terminated))
        np.testing.assert_allclose(counts.steps, steps)
        np.testing.assert_allclose(counts.failures, failures)


def test_one_segment_draws_as_before_segments_existed():
    """The default library (S = 1) draws its starts from the same random numbers as the
    per-clip rule always did, so earlier runs replay bitwise."""
    from physhmr_jax.motion.library import build_motion_lib
    from physhmr_jax.motion.procedural import generate_library

    lib = build_motion_lib(generate_library(num_clips_per_type=1, seed=0)[:3])
    assert lib.num_segments == 1
    key = jax.random.PRNGKey(7)
    clip_ids, times = lib.sample(key, 64)
    key_clip, key_time = jax.random.split(key)
    expected_ids = jax.random.choice(key_clip, 3, (64,), p=lib.clip_weight)
    chex.assert_trees_all_equal(clip_ids, expected_ids)
    chex.assert_trees_all_equal(times, jax.random.uniform(key_time, (64,)) * lib.clip_duration_s[expected_ids])
    sampler = FailureWeightedClips(3)
    state = ClipFailures(steps=jnp.array([10.0, 20.0, 30.0]), failures=jnp.array([1.0, 0.0, 5.0]))
    chex.assert_trees_all_equal(sampler.clip_rates(state), sampler.rates(state))
    chex.assert_trees_all_equal(sampler.apply(state, lib).segment_weight, lib.segment_weight)


def test_step_shares_by_hand():
    """``per = "step"``: the failure rule's weights become the clips' shares of the steps (none
    above the cap), and the reset weights are those shares over each clip's episode length."""
    from physhmr_jax.motion.library import build_motion_lib
    from physhmr_jax.motion.procedural import generate_library

    lib = build_motion_lib(generate_library(num_clips_per_type=1, seed=0)[:3])
    sampler = FailureWeightedClips(3, floor=0.2, per="step", max_step_share=0.5)
    assert sampler.init().starts.shape == (3,)
    assert FailureWeightedClips(3).init().starts is None  # a reset-weighted run's state keeps its shape
    # Clip 1 fails 60 of 300 steps over 60 episodes (5 steps each); clips 0 and 2 are held
    # through 300 steps in 2 and 3 episodes.
    state = ClipFailures(
        steps=jnp.array([300.0, 300.0, 300.0]), failures=jnp.array([0.0, 60.0, 0.0]), starts=jnp.array([2.0, 60.0, 3.0])
    )
    base = np.asarray(lib.clip_weight)
    rates = np.array([1 / 320, 61 / 320, 1 / 320])
    rule = 0.8 * base * rates / np.sum(base * rates) + 0.2 * base  # the reset rule's weights
    assert rule[1] > 0.5  # above the cap: clip 1 gets 0.5, the others the rest in proportion
    shares = np.array([rule[0], 0.0, rule[2]]) * 0.5 / (rule[0] + rule[2])
    shares[1] = 0.5
    np.testing.assert_allclose(sampler.step_shares(state, lib.clip_weight), shares, rtol=1e-5)
    lengths = np.array([320 / 3, 320 / 61, 320 / 4])  # (steps + 20) / (starts + 1)
    np.testing.assert_allclose(sampler.episode_lengths(state), lengths, rtol=1e-6)
    played = sampler.apply(state, lib)
    resets = shares / lengths
    np.testing.assert_allclose(played.clip_weight, resets / resets.sum(), rtol=1e-5)
    # Played that way, the resets give the clips those shares of the steps.
    steps = np.asarray(played.clip_weight) * lengths
    np.testing.assert_allclose(steps / steps.sum(), shares, rtol=1e-5)
    assert played.clip_weight[1] > 0.9  # most resets go to the clip whose episodes are short
    assert PRIOR_STEPS / PRIOR_STARTS == 20.0  # an unplayed clip's episodes look 20 steps long


@settings(max_examples=60, deadline=None)
@given(
    failures=st.lists(st.floats(0.0, 1e3), min_size=5, max_size=5),
    cap=st.floats(0.05, 1.0),
    floor=st.floats(0.01, 1.0),
)
def test_step_shares_are_a_capped_distribution(failures, cap, floor):
    sampler = FailureWeightedClips(5, floor=floor, per="step", max_step_share=cap)
    state = ClipFailures(steps=jnp.full((5,), 1e3), failures=jnp.asarray(np.float32(failures)), starts=jnp.ones(5))
    base = jnp.full((5,), 0.2)
    shares = np.asarray(sampler.step_shares(state, base))
    rule = np.asarray(sampler.weights(state, base))
    np.testing.assert_allclose(shares.sum(), 1.0, rtol=1e-5)
    assert np.all(shares <= max(cap, 0.2) * (1 + 1e-5)), (shares, cap)
    if rule.max() <= cap:  # nothing to cap: the rule's own weights
        np.testing.assert_allclose(shares, rule, rtol=1e-5)
    order = np.argsort(rule, kind="stable")  # capping keeps the order (ties aside)
    assert np.all(np.diff(shares[order]) >= -1e-6)


def test_step_shares_count_the_episode_starts():
    sampler = FailureWeightedClips(2, decay=0.5, per="step")
    state = SimpleNamespace(inner=SimpleNamespace(clip_id=jnp.array([1, 0, 1])), step_count=jnp.array([0, 7, 0]))
    recorded = sampler.record(state, None, None)
    np.testing.assert_array_equal(recorded[EPISODE_START], [1.0, 0.0, 1.0])
    assert EPISODE_START not in FailureWeightedClips(2).record(state, None, None)
    # Clip 0: 4 steps, one start; clip 1: 3 valid steps, two starts (a third on an invalid step).
    rollout = _transitions(
        clip_ids=[[0, 0, 1, 1], [0, 0, 1, 1]],
        terminated=[[0, 0, 1, 0], [0, 0, 0, 0]],
        valid=[[1, 1, 1, 0], [1, 1, 1, 1]],
        starts=[[1, 0, 1, 1], [0, 0, 1, 0]],
    )
    counts, _ = sampler.update(sampler.init(), rollout)
    np.testing.assert_allclose(counts.starts, [1.0, 2.0])
    counts, _ = sampler.update(counts, rollout)
    np.testing.assert_allclose(counts.starts, [1.5, 3.0])
    np.testing.assert_allclose(counts.steps, [6.0, 4.5])


def test_progress_weights_by_hand():
    """``score = "progress"``: the cells' weights follow |fast rate - slow rate|: a clip whose
    failure rate falls gains, one failing as it always did (learned or hopeless) keeps the floor."""
    sampler = FailureWeightedClips(3, decay=0.5, floor=0.2, score="progress", slow_decay=0.9)
    assert FailureWeightedClips(3).init().slow_steps is None  # a rate-weighted run's state keeps its shape
    state = sampler.init()
    base = jnp.array([0.5, 0.25, 0.25])
    # Nothing played: the fast and slow rates agree, every score is PROGRESS_EPS: the library's weights.
    np.testing.assert_allclose(sampler.weights(state, base), base, rtol=1e-6)
    # 100 steps per clip per rollout. Clip 0 fails 30 per rollout throughout (hopeless), clip 1
    # 30 then 0 (being learned), clip 2 never.
    for failures in ([30.0, 30.0, 0.0], [30.0, 0.0, 0.0]):
        clip_ids = np.repeat([[0, 1, 2]], 100, axis=0)
        terminated = (np.arange(100)[:, None] < np.asarray(failures)[None, :]).astype(np.float32)
        state, metrics = sampler.update(state, _transitions(clip_ids=clip_ids, terminated=terminated))
    # Fast counts (decay 0.5): steps 150 each, failures 45, 15, 0; slow (0.9): 190, failures 57, 27, 0.
    np.testing.assert_allclose(state.steps, [150.0] * 3)
    np.testing.assert_allclose(state.failures, [45.0, 15.0, 0.0])
    np.testing.assert_allclose(state.slow_steps, [190.0] * 3)
    np.testing.assert_allclose(state.slow_failures, [57.0, 27.0, 0.0])
    fast = np.array([46 / 170, 16 / 170, 1 / 170])
    slow = np.array([58 / 210, 28 / 210, 1 / 210])
    scores = np.abs(fast - slow) + clip_sampling.PROGRESS_EPS
    np.testing.assert_allclose(sampler.scores(state), scores, rtol=1e-5)
    np.testing.assert_allclose(metrics["failure_progress_max"], scores.max(), rtol=1e-5)
    progress = np.asarray(base) * scores
    expected = 0.8 * progress / progress.sum() + 0.2 * np.asarray(base)
    weights = np.asarray(sampler.weights(state, base))
    np.testing.assert_allclose(weights, expected, rtol=1e-5)
    # The clip being learned (rate 0.094 against 0.133) takes most of the draw (0.66; the rate
    # rule: 0.17); the hopeless one (0.271 against 0.276) 0.27, where the rate rule gives it 0.77.
    by_rate = np.asarray(FailureWeightedClips(3).weights(state, base))
    assert weights[1] > 0.6 > by_rate[1] and weights[0] < 0.3 < by_rate[0]


def test_config_names_the_bad_setting():
    assert clip_sampling.make_clip_sampling("duration", 3) is None
    assert isinstance(clip_sampling.make_clip_sampling("failure", 3), FailureWeightedClips)
    with pytest.raises(ConfigError, match="motions.clip_sampling 'hardest'"):
        clip_sampling.make_clip_sampling("hardest", 3)
    with pytest.raises(ConfigError, match="motions.failure_floor"):
        clip_sampling.make_clip_sampling("failure", 3, floor=0.0)
    with pytest.raises(ConfigError, match="motions.failure_decay"):
        clip_sampling.make_clip_sampling("failure", 3, decay=1.0)
    with pytest.raises(ConfigError, match="motions.failure_segments"):
        clip_sampling.make_clip_sampling("failure", 3, segments=0)
    with pytest.raises(ConfigError, match="motions.failure_per must be one of"):
        clip_sampling.make_clip_sampling("failure", 3, per="episode")
    with pytest.raises(ConfigError, match="motions.failure_max_step_share"):
        clip_sampling.make_clip_sampling("failure", 3, per="step", max_step_share=0.0)
    with pytest.raises(ConfigError, match="motions.failure_score must be one of"):
        clip_sampling.make_clip_sampling("failure", 3, score="regret")
    with pytest.raises(ConfigError, match="motions.failure_slow_decay"):
        clip_sampling.make_clip_sampling("failure", 3, score="progress", decay=0.9, slow_decay=0.8)
    with pytest.raises(ConfigError, match="motions.failure_place must be one of"):
        clip_sampling.make_clip_sampling("failure", 3, place="end")
    with pytest.raises(ConfigError, match="motions.failure_place 'start' needs the control step"):
        clip_sampling.make_clip_sampling("failure", 3, place="start")
    with pytest.raises(ConfigError, match="start range: 2 for 3 clips"):
        clip_sampling.make_clip_sampling("failure", 3, segments=4, start_spans_s=(1.0, 2.0))


# ------------------------------------------------------------------------------------
# The curriculum inside the PPO iteration (toy env, no MJX).


@struct.dataclass
class _Counts:
    steps: jax.Array
    failures: jax.Array
    applied: jax.Array  # how often ``apply`` ran


class _CountingCurriculum:
    """Counts the valid steps and failures of the episodes starting at x > 0 and x <= 0."""

    def init(self):
        return _Counts(jnp.zeros(2), jnp.zeros(2), jnp.zeros(()))

    def apply(self, state, env_data):
        return env_data  # the toy env reads no data; the count below says this ran

    def record(self, state, action, next_state):
        return {"side": (state.obs[:, 0] > 0).astype(jnp.float32)}

    def update(self, state, transitions):
        side = transitions.extras["side"].reshape(-1).astype(jnp.int32)
        valid = transitions.valid.reshape(-1)
        steps = jax.ops.segment_sum(valid, side, num_segments=2)
        failures = jax.ops.segment_sum(transitions.terminated.reshape(-1) * valid, side, num_segments=2)
        new = _Counts(state.steps + steps, state.failures + failures, state.applied + 1.0)
        return new, {"steps": jnp.sum(steps)}


def test_curriculum_state_lives_in_the_iteration_and_resumes_exactly(tmp_path):
    env, config = ToyEnv(), toy_config(log_std_init=-1.0)
    trainer = runner.Trainer(ppo.make_algorithm(env, config, curriculum=_CountingCurriculum()), num_seeds=2)
    options = dict(progress=False, tensorboard=False, checkpoint_every=2, seed=3)
    straight, rows = runner.run_training(trainer, None, tmp_path / "straight", num_iterations=4, **options)
    state = sharding.to_host(straight.training_state.curriculum)
    np.testing.assert_array_equal(state.applied, [4.0, 4.0])
    np.testing.assert_allclose(state.steps.sum(axis=1), [4 * 16 * 16] * 2)  # every toy step is valid
    # Its failures are the rollouts' terminations (the logged rate is per valid step).
    for seed in range(2):
        terminations = sum(r[names.TERMINATION_RATE] * 16 * 16 for r in rows if r["seed"] == seed)
        np.testing.assert_allclose(state.failures[seed].sum(), terminations, rtol=1e-5)
    assert all(r[names.curriculum_metric("steps")] == 256 for r in rows)

    runner.run_training(trainer, None, tmp_path / "resumed", num_iterations=2, **options)
    resumed, _ = runner.run_training(trainer, None, tmp_path / "resumed", num_iterations=4, resume=True, **options)
    chex.assert_trees_all_equal(sharding.to_host(straight.training_state), sharding.to_host(resumed.training_state))
    assert trainer._compiled["step"]._cache_size() == 1


def test_expert_curriculum_keeps_the_training_library_size(tmp_path):
    """``eval expert --motions OTHER`` restores a checkpoint whose curriculum counts the
    training clips: the built curriculum keeps the config's library size."""
    from video_fixtures import synthetic_clip

    from physhmr_jax.expert import config as expert_config
    from physhmr_jax.expert.build import build_expert

    for clip in (synthetic_clip("walk", 40, 0.5), synthetic_clip("turn", 25, -1.0)):
        clip.save(tmp_path / f"{clip.name}.npz")
    config = expert_config.default_config("smoke")
    config.motions.path = str(tmp_path)
    assert build_expert(config).curriculum is None  # the default: the library's own weights
    config.motions.clip_sampling = "failure"
    assert build_expert(config).curriculum.num_clips == 2
    config.motions.failure_segments = 4
    expert = build_expert(config)
    assert expert.curriculum.segments == 4 and expert.curriculum.num_cells == 8
    spans = [c.duration_s - expert.env.dt for c in expert.clips]  # each clip's start range
    np.testing.assert_allclose(expert.curriculum.start_spans_s, spans, rtol=1e-6)
    assert sorted(np.round(np.array(spans) * 30)) == [23, 38]  # 25 and 40 frames at 30 fps, less a step
    assert expert.curriculum.place == "step"
    config.motions.failure_place = "start"
    expert = build_expert(config)
    assert expert.curriculum.place == "start" and expert.curriculum.dt == expert.env.dt
    config.motions.failure_segments = 1
    other = build_expert(config, motions=[str(tmp_path / "turn.npz")])
    assert len(other.clips) == 1 and other.curriculum.num_clips == 2
    del config.motions["clip_sampling"]  # a run saved before the setting existed
    assert build_expert(config).curriculum is None
