"""Failure-weighted clip sampling: the training episodes start more often in the clips the
expert fails (PHC's hard-negative mining), as a :class:`~physhmr_jax.agents.curriculum.Curriculum`.

PHC evaluates every motion now and then and samples the failed ones more often. Here the
training rollouts themselves are the evidence, counted inside the compiled iteration (so a
resumed run is exact and nothing waits on an evaluation): per clip, discounted counts of
the steps played and the failures (terminations) among them,

    steps_c <- decay * steps_c + steps of clip c in this rollout
    fails_c <- decay * fails_c + failures in clip c in this rollout
    rate_c   = (fails_c + PRIOR_FAILURES) / (steps_c + PRIOR_STEPS)   (failures per step)

and the next rollout's resets draw clip c with probability

    p_c = (1 - floor) * base_c * rate_c / sum_k base_k * rate_k  +  floor * base_c

where ``base`` is the library's own ``clip_weight`` (by duration): the first term is the
share of the failures clip c would see under ``base``, the second keeps every clip in play
(a clip that is held is still rehearsed, at ``floor`` of its old share). The pseudo-counts
make an unplayed clip look like one failing every 20 steps, so it is tried early.
These are the probabilities of a *reset*: a clip that fails often has short episodes, so its
share of the training steps is well below its weight (``eval expert`` prints both; on the
8 procedural clips every clip got 10-15 % of the steps, the run half the resets).
With ``per = "step"`` the rule sets each clip's share of the *steps* instead: the same
counts also keep each clip's episode starts, a clip's reset weight is its share from the
rule above divided by its mean episode length (steps_c + PRIOR_STEPS) / (starts_c +
PRIOR_STARTS), normalised, and no clip's step share exceeds ``max_step_share`` (the excess
goes to the others in proportion; a clip failing everywhere would otherwise take most of
the steps). The segments of a clip keep their shares of its resets.
With ``score = "progress"`` a cell's weight follows its learning progress instead of its
rate: the same counts are also kept with a slower decay (``slow_decay``), and the first term
uses base_c * (|rate_c - slow_rate_c| + PROGRESS_EPS) in place of base_c * rate_c (the
absolute learning progress of ALP-GMM and teacher-student curriculum learning: a clip whose
failure rate is falling, or rising again, is played more; one failing as often as it always
did, learned or hopeless, is left near the floor; while the slow counts fill, every cell
is drawn about by ``base``).
With ``segments`` S > 1 the same counts are kept per *cell*: each clip's start range
[0, duration - dt] cut into S equal segments, a step counted in the segment of its time. The
cells' weights ``base_c / S * rate_cs`` (floor as above) give the clip's weight (their sum)
and where in the clip its episodes start (``MotionLib.segment_weight``): a clip that fails
in one place, a walk's turn, is started there more often. S = 1 is the per-clip rule,
bitwise.
With ``place = "start"`` (and S > 1) a step is counted in the segment where its *episode
started* instead of the segment of its own time: the rate of a cell is then how often the
episodes started there fail, per step. A failure is often decided before the place it
happens: the procedural jump (airborne at frames 45-56) is lost at frames 66-86
from every start up to frame 50-55 and held from every later start (session 31,
``experiments/start_probe.py``), so counted where they happen its failures draw starts after
the landing, from the reference's own state there, which the policy holds; counted where
their episodes started they draw starts before the take-off.

Works on the training env (``envs/wrappers.py``) around the imitation env: it reads the
clip and time of each step's state (``state.inner.clip_id``, ``state.inner.time_s``).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import struct

from physhmr_jax.agents import acting
from physhmr_jax.config_io import ConfigError
from physhmr_jax.motion.library import MotionLib

CLIP_ID = "clip_id"  # Transition.extras key: the cell (clip, segment) each step played, c * S + s
EPISODE_START = "episode_start"  # Transition.extras key (per = "step"): 1 on an episode's first step
PRIOR_FAILURES = 1.0  # pseudo-counts of every clip's rate: 1 failure in 20 steps
PRIOR_STEPS = 20.0
PRIOR_STARTS = 1.0  # with PRIOR_STEPS: an unplayed clip's episodes look 20 steps long
PER = ("reset", "step")  # what the failure rule shares out
SCORES = ("rate", "progress")  # what a cell's weight follows: its failure rate, or the change of it
PROGRESS_EPS = 1e-4  # failures per step: with every rate steady, the cells fall back to ``base``
PLACES = ("step", "start")  # where a step is counted: its own time, or its episode's start


@struct.dataclass
class ClipFailures:
    """Discounted counts [C * S] (per clip and segment, clip-major) from the rollouts so far;
    ``starts`` (episode starts) only when the rule shares out steps (None: a run's state
    keeps the shape it had before they were counted)."""

    steps: jax.Array
    failures: jax.Array
    starts: jax.Array | None = None
    slow_steps: jax.Array | None = None  # score "progress": the counts at ``slow_decay``
    slow_failures: jax.Array | None = None


@dataclasses.dataclass(frozen=True)
class FailureWeightedClips:
    """Clips drawn by their failure rate in training (module docstring).

    num_clips: the library's clips; decay: per iteration, of the counts (0.9: about the last
    10 rollouts); floor: the share of the library's own weights kept; segments: S, the
    segments of each clip's start range counted apart (1: per clip); start_spans_s: with
    S > 1, each clip's start range in seconds (duration - dt), which places a step's time;
    per: what the rule shares out, ``"reset"`` (PHC) or ``"step"``; max_step_share: with
    ``"step"``, the most of the steps one clip may get (raised to 1 / num_clips if below);
    score: ``"rate"`` (PHC) or ``"progress"`` (the change of the rate); slow_decay: with
    ``"progress"``, the decay of the slow counts the rate is compared with (0.98: about the
    last 50 rollouts); place: with S > 1, the segment a step is counted in, that of its time
    (``"step"``) or that of its episode's start (``"start"``); dt: with ``"start"``, the
    control step in seconds (an episode's start is its time less ``step_count * dt``).
    """

    num_clips: int
    decay: float = 0.9
    floor: float = 0.2
    segments: int = 1
    start_spans_s: tuple[float, ...] = ()
    per: str = "reset"
    max_step_share: float = 0.35
    score: str = "rate"
    slow_decay: float = 0.98
    place: str = "step"
    dt: float = 0.0

    def __post_init__(self):
        if self.num_clips < 1:
            raise ConfigError(f"failure-weighted clip sampling needs at least one clip, not {self.num_clips}")
        if not 0.0 <= self.decay < 1.0:
            raise ConfigError(f"motions.failure_decay must be within [0, 1), not {self.decay}")
        if not 0.0 < self.floor <= 1.0:
            raise ConfigError(f"motions.failure_floor must be within (0, 1], not {self.floor}")
        if not (isinstance(self.segments, int) and self.segments >= 1):
            raise ConfigError(f"motions.failure_segments must be a whole number >= 1, not {self.segments!r}")
        if self.per not in PER:
            raise ConfigError(f"motions.failure_per must be one of {PER}, not {self.per!r}")
        if not 0.0 < self.max_step_share <= 1.0:
            raise ConfigError(f"motions.failure_max_step_share must be within (0, 1], not {self.max_step_share}")
        if self.score not in SCORES:
            raise ConfigError(f"motions.failure_score must be one of {SCORES}, not {self.score!r}")
        if self.score == "progress" and not self.decay < self.slow_decay < 1.0:
            raise ConfigError(
                f"motions.failure_slow_decay must be within (motions.failure_decay, 1) = ({self.decay}, 1), "
                f"not {self.slow_decay}"
            )
        if self.place not in PLACES:
            raise ConfigError(f"motions.failure_place must be one of {PLACES}, not {self.place!r}")
        if self.place == "start" and not self.dt > 0.0:
            raise ConfigError(f"motions.failure_place 'start' needs the control step dt > 0, not {self.dt}")
        if self.segments > 1 and len(self.start_spans_s) != self.num_clips:
            raise ConfigError(
                f"failure-weighted segments need each clip's start range: {len(self.start_spans_s)} "
                f"for {self.num_clips} clips"
            )

    @property
    def num_cells(self) -> int:
        return self.num_clips * self.segments

    def init(self) -> ClipFailures:
        zeros = jnp.zeros((self.num_cells,), jnp.float32)
        slow = zeros if self.score == "progress" else None
        return ClipFailures(
            steps=zeros,
            failures=zeros,
            starts=zeros if self.per == "step" else None,
            slow_steps=slow,
            slow_failures=slow,
        )

    def rates(self, state: ClipFailures) -> jax.Array:
        """[C * S] failures per step (with the pseudo-counts)."""
        return _rate(state.failures, state.steps)

    def scores(self, state: ClipFailures) -> jax.Array:
        """[C * S] what the cells' weights follow: the failure rate, or (``"progress"``) its
        absolute change, the fast rate against the slow one (plus PROGRESS_EPS)."""
        if self.score == "rate":
            return self.rates(state)
        return jnp.abs(self.rates(state) - _rate(state.slow_failures, state.slow_steps)) + PROGRESS_EPS

    def weights(self, state: ClipFailures, base: jax.Array) -> jax.Array:
        """[C * S] sampling probabilities of the cells from the library's own ``base`` [C]
        clip weights (each clip's share split evenly over its segments)."""
        base = jnp.repeat(base, self.segments) / self.segments
        failing = base * self.scores(state)
        return (1.0 - self.floor) * failing / jnp.sum(failing) + self.floor * base

    def _per_clip(self, x: jax.Array) -> jax.Array:
        return jnp.sum(x.reshape(self.num_clips, self.segments), axis=1)

    def clip_rates(self, state: ClipFailures) -> jax.Array:
        """[C] each clip's failures per step over all its segments (with the pseudo-counts)."""
        return _rate(self._per_clip(state.failures), self._per_clip(state.steps))

    def episode_lengths(self, state: ClipFailures) -> jax.Array:
        """[C] each clip's mean training episode length in steps (with the pseudo-counts; ``per = "step"``)."""
        return (self._per_clip(state.steps) + PRIOR_STEPS) / (self._per_clip(state.starts) + PRIOR_STARTS)

    def step_shares(self, state: ClipFailures, base: jax.Array) -> jax.Array:
        """[C] the shares of the steps the rule gives the clips (``per = "step"``): the
        clips' weights, none above ``max_step_share``."""
        return self._capped(self._per_clip(self.weights(state, base)))

    def _capped(self, share: jax.Array) -> jax.Array:
        """[C] ``share`` with none above ``max_step_share``, the excess spread in proportion."""
        cap = max(self.max_step_share, 1.0 / self.num_clips)
        for _ in range(self.num_clips):  # each round caps at least one more clip, or none is left over
            over = share >= cap
            free = jnp.sum(jnp.where(over, 0.0, share))
            share = jnp.where(over, cap, share * (1.0 - cap * jnp.sum(over)) / jnp.maximum(free, 1e-12))
        return share

    def apply(self, state: ClipFailures, motion_lib: MotionLib) -> MotionLib:
        cells = self.weights(state, motion_lib.clip_weight)
        if self.per == "step":  # clip weights for those step shares; each clip's cells keep their split
            resets = self._capped(self._per_clip(cells)) / self.episode_lengths(state)  # ``step_shares``
            resets = resets / jnp.sum(resets)
            split = cells.reshape(self.num_clips, self.segments)
            cells = (split / jnp.sum(split, axis=1, keepdims=True) * resets[:, None]).reshape(-1)
        if self.segments == 1:
            return motion_lib.replace(clip_weight=cells)
        cells = cells.reshape(self.num_clips, self.segments)
        clip_weight = jnp.sum(cells, axis=1)
        return motion_lib.replace(clip_weight=clip_weight, segment_weight=cells / clip_weight[:, None])

    def cell(self, clip_id: jax.Array, time_s: jax.Array) -> jax.Array:
        """[B] int32 cell c * S + s of steps at ``time_s`` seconds into clip ``clip_id``."""
        if self.segments == 1:
            return clip_id.astype(jnp.int32)
        spans = jnp.maximum(jnp.asarray(self.start_spans_s, jnp.float32)[clip_id], 1e-6)
        segment = jnp.clip(jnp.floor(time_s / spans * self.segments), 0, self.segments - 1).astype(jnp.int32)
        return clip_id.astype(jnp.int32) * self.segments + segment

    def record(self, state, action, next_state) -> dict[str, jax.Array]:
        del action, next_state
        time_s = None
        if self.segments > 1:
            time_s = state.inner.time_s
            if self.place == "start":  # the training wrapper's count of the episode's steps so far
                time_s = jnp.maximum(time_s - state.step_count * self.dt, 0.0)
        # float: the rollout zeroes invalid fields
        out = {CLIP_ID: self.cell(state.inner.clip_id, time_s).astype(jnp.float32)}
        if self.per == "step":  # the training wrapper's count of the episode's steps so far
            out[EPISODE_START] = (state.step_count == 0).astype(jnp.float32)
        return out

    def update(self, state: ClipFailures, transitions: acting.Transition) -> tuple[ClipFailures, dict[str, jax.Array]]:
        cell = transitions.extras[CLIP_ID].reshape(-1).astype(jnp.int32)
        valid = transitions.valid.reshape(-1)
        steps = jax.ops.segment_sum(valid, cell, num_segments=self.num_cells)
        failures = jax.ops.segment_sum(transitions.terminated.reshape(-1) * valid, cell, num_segments=self.num_cells)
        starts = None
        if self.per == "step":
            started = jax.ops.segment_sum(
                transitions.extras[EPISODE_START].reshape(-1) * valid, cell, num_segments=self.num_cells
            )
            starts = self.decay * state.starts + started
        slow_steps = slow_failures = None
        if self.score == "progress":
            slow_steps = self.slow_decay * state.slow_steps + steps
            slow_failures = self.slow_decay * state.slow_failures + failures
        state = ClipFailures(
            steps=self.decay * state.steps + steps,
            failures=self.decay * state.failures + failures,
            starts=starts,
            slow_steps=slow_steps,
            slow_failures=slow_failures,
        )
        rates = self.rates(state)
        metrics = {"failure_rate_max": jnp.max(rates), "failure_rate_min": jnp.min(rates)}
        if self.score == "progress":
            metrics["failure_progress_max"] = jnp.max(self.scores(state))
        return state, metrics


def _rate(failures: jax.Array, steps: jax.Array) -> jax.Array:
    """Failures per step from discounted counts, with the pseudo-counts."""
    return (failures + PRIOR_FAILURES) / (steps + PRIOR_STEPS)


def make_clip_sampling(
    kind: str,
    num_clips: int,
    *,
    decay: float = 0.9,
    floor: float = 0.2,
    segments: int = 1,
    start_spans_s: tuple[float, ...] = (),
    per: str = "reset",
    max_step_share: float = 0.35,
    score: str = "rate",
    slow_decay: float = 0.98,
    place: str = "step",
    dt: float = 0.0,
):
    """The curriculum of ``motions.clip_sampling``: None for ``"duration"`` (the library's
    own weights, fixed), :class:`FailureWeightedClips` for ``"failure"``."""
    if kind == "duration":
        return None
    if kind == "failure":
        spans = tuple(float(x) for x in start_spans_s) if segments != 1 else ()
        return FailureWeightedClips(
            num_clips,
            decay=decay,
            floor=floor,
            segments=segments,
            start_spans_s=spans,
            per=per,
            max_step_share=max_step_share,
            score=score,
            slow_decay=slow_decay,
            place=place,
            dt=dt,
        )
    raise ConfigError(f"unknown motions.clip_sampling {kind!r} (use 'duration' or 'failure')")


__all__ = [
    "CLIP_ID",
    "EPISODE_START",
    "PER",
    "PLACES",
    "PRIOR_FAILURES",
    "PRIOR_STARTS",
    "PRIOR_STEPS",
    "PROGRESS_EPS",
    "SCORES",
    "ClipFailures",
    "FailureWeightedClips",
    "make_clip_sampling",
]
