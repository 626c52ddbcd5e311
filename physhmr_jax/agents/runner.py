"""The one training driver: seeds, devices, checkpoints, logs around an algorithm's iteration.

:class:`Trainer` takes an algorithm's per-seed functions (:class:`physhmr_jax.agents.ppo.
Algorithm`: ``init``, ``reset``, ``iteration``) and defines once how one seed starts
(:meth:`Trainer._init_one_seed`: key split into network, environment and loop keys) and
steps (:meth:`Trainer._step_one_seed`). Its only other jobs are to

  * ``vmap`` them over ``num_seeds`` independent seeds (a leading seed axis: parameters
    ``[S, ...]``, environments ``[S, B, ...]``),
  * split the environments of every seed over the device mesh (dimension 1 of every
    environment leaf, :mod:`physhmr_jax.agents.sharding`), parameters replicated, and
  * ``jit`` them with explicit shardings, donating the loop state.

:func:`run_training` is the loop a ``physhmr train ...`` command runs: it writes the run
directory (:mod:`physhmr_jax.agents.run_dir`), shows a progress bar with env steps per
second and the ETA, logs every iteration, saves an orbax checkpoint every
``checkpoint_every`` iterations and at exit (also on Ctrl-C or an exception), and with
``resume=True`` restores the latest checkpoint and continues exactly: the loop state holds
every array the next iteration reads (networks, optimiser, observation statistics, the
environments mid-episode and the PRNG keys), so 2 + 2 iterations equal 4
(``tests/test_ppo.py::test_resume_continues_exactly``).

Multi-process (after :func:`sharding.initialize_distributed`), every process runs the same
loop on the global mesh: all of them save and restore the checkpoints together (orbax
writes each process's shards and synchronises them), while process 0 alone writes
``metrics.csv``, TensorBoard and ``curves.png`` and shows the progress bar; the others
keep the same rows in memory (``tests/test_multihost.py``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from jax import Array
from jax.sharding import Mesh

from physhmr_jax.agents import metric_names as names
from physhmr_jax.agents import policy_average, sharding
from physhmr_jax.agents.ppo import Algorithm
from physhmr_jax.agents.run_dir import Checkpoints, MetricsLog, RunDirError, metric_rows

SEED_DIM = 0  # leading axis of every loop-state leaf
ENV_DIM = 1  # environment axis of env-state leaves, split over devices


@struct.dataclass
class LoopState:
    """Everything one training iteration reads, for all seeds (a pytree of arrays)."""

    training_state: Any  # leaves [S, ...], replicated over devices
    env_state: Any  # leaves [S, B, ...], B split over devices
    key: Array  # [S, 2] uint32, one PRNG key per seed


class Trainer:
    """Seeds (vmap) x devices (mesh) around one algorithm's iteration.

    Args:
      algorithm: per-seed ``init`` / ``reset`` / ``iteration`` (``ppo.make_algorithm``).
      num_seeds: independent seeds trained side by side.
      mesh: device mesh (all devices by default); ``algorithm.num_envs`` (the per-seed
        global batch) must divide over it.
      compiler_options: XLA options for the compiled iteration alone (``jax.jit``'s
        ``compiler_options``), e.g. ``{"xla_backend_optimization_level": 2}`` where the
        process runs with cheaper compilation for everything else (``tests/conftest.py``).
    """

    def __init__(
        self,
        algorithm: Algorithm,
        *,
        num_seeds: int = 1,
        mesh: Mesh | None = None,
        compiler_options: dict[str, Any] | None = None,
    ):
        self.algorithm = algorithm
        self.num_seeds = num_seeds
        self.compiler_options = compiler_options
        self.mesh = mesh if mesh is not None else sharding.make_mesh()
        sharding.check_divisible(algorithm.num_envs, self.mesh)
        self._replicated = sharding.replicated(self.mesh)
        self._compiled: dict[str, Callable] = {}

    # ----------------------------------------------------------------------------------
    # Shardings.

    def state_shardings(self, abstract: LoopState) -> LoopState:
        return LoopState(
            training_state=sharding.replicated_shardings(abstract.training_state, self.mesh),
            env_state=sharding.env_shardings(abstract.env_state, self.mesh, ENV_DIM),
            key=self._replicated,
        )

    @property
    def env_steps_per_iteration(self) -> int:
        """Env steps of one iteration, all seeds together."""
        return self.algorithm.env_steps_per_iteration * self.num_seeds

    def abstract_state(self, env_data: Any) -> LoopState:
        """Shapes, dtypes and shardings of the loop state (what a restore needs), no compute."""
        abstract = jax.eval_shape(self._init, jax.random.PRNGKey(0), env_data)
        shardings = self.state_shardings(abstract)
        return jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), abstract, shardings)

    def place_env_data(self, env_data: Any) -> Any:
        """Replicate the env's data (motion library, videos) over the mesh, once."""
        return jax.device_put(env_data, self._replicated)

    # ----------------------------------------------------------------------------------
    # Pure functions.

    def _init_one_seed(self, key: Array, env_data: Any) -> LoopState:
        """One seed's start: its key split into network, environment and loop keys."""
        key_init, key_env, key_loop = jax.random.split(key, 3)
        return LoopState(self.algorithm.init(key_init), self.algorithm.reset(key_env, env_data), key_loop)

    def _step_one_seed(self, state: LoopState, env_data: Any) -> tuple[LoopState, dict[str, Array]]:
        """One seed's iteration with a fresh key split off its loop key."""
        key, key_iteration = jax.random.split(state.key)
        training_state, env_state, metrics = self.algorithm.iteration(
            state.training_state, state.env_state, env_data, key_iteration
        )
        return LoopState(training_state, env_state, key), metrics

    def _init(self, key: Array, env_data: Any) -> LoopState:
        keys = jax.random.split(key, self.num_seeds)
        return jax.vmap(self._init_one_seed, in_axes=(0, None))(keys, env_data)

    def _step(self, loop_state: LoopState, env_data: Any) -> tuple[LoopState, dict[str, Array]]:
        return jax.vmap(self._step_one_seed, in_axes=(0, None))(loop_state, env_data)

    # ----------------------------------------------------------------------------------
    # Compiled entry points.

    def init(self, key: Array, env_data: Any) -> LoopState:
        """Fresh networks and environments for every seed, laid out over the mesh."""
        if "init" not in self._compiled:
            shardings = self.state_shardings(jax.eval_shape(self._init, key, env_data))
            self._compiled["init"] = jax.jit(
                self._init, in_shardings=(self._replicated, self._replicated), out_shardings=shardings
            )
        return self._compiled["init"](key, env_data)

    def step(self, loop_state: LoopState, env_data: Any) -> tuple[LoopState, dict[str, Array]]:
        """One iteration of every seed; ``loop_state``'s buffers are donated.

        Returns the new state and metrics ``{name: [S]}`` (replicated).
        """
        if "step" not in self._compiled:
            shardings = self.state_shardings(loop_state)
            self._compiled["step"] = jax.jit(
                self._step,
                in_shardings=(shardings, self._replicated),
                out_shardings=(shardings, self._replicated),
                donate_argnums=0,
                compiler_options=self.compiler_options,
            )
        return self._compiled["step"](loop_state, env_data)


def start_every_seed_from(loop_state: LoopState, params: Any, normalizer_params: Any) -> LoopState:
    """``loop_state`` with every seed's networks and observation statistics set to one
    seed's ``params`` / ``normalizer_params`` (same structure, no seed axis), each array
    placed as the one it replaces. The optimiser and counters stay fresh.

    Applied to the output of :meth:`Trainer.init` (``run_training(start_from=...)``), so the
    weights are arguments, not constants of a compiled init: a run that starts from another
    run's weights reuses the fresh start's program.
    """

    def put(old: Array, new: Any) -> Array:
        return jax.device_put(jnp.broadcast_to(jnp.asarray(new, old.dtype), old.shape), old.sharding)

    state = loop_state.training_state
    training_state = state.replace(
        params=jax.tree.map(put, state.params, params),
        normalizer_params=jax.tree.map(put, state.normalizer_params, normalizer_params),
    )
    if getattr(state, "policy_average", None) is not None:  # the average starts at the given policy
        training_state = policy_average.restart(
            training_state, jax.tree.map(put, state.policy_average, params["policy"])
        )
    return loop_state.replace(training_state=training_state)


def unreplicate_seed(training_state: Any, seed: int) -> Any:
    """One seed's training state out of a ``[S, ...]`` one."""
    return jax.tree.map(lambda x: x[seed], training_state)


# --------------------------------------------------------------------------------------
# The loop.


def _checkpoint_items(state: LoopState) -> dict[str, Any]:
    """The checkpoint's items: ``training_state`` alone (what evaluation restores) and the
    ``rollout`` (environments mid-episode and keys, what an exact resume also needs)."""
    return {"training_state": state.training_state, "rollout": {"env_state": state.env_state, "key": state.key}}


def _restore_latest(checkpoints: Checkpoints, trainer: Trainer, env_data: Any) -> tuple[int, LoopState, dict] | None:
    """(iteration, loop state, meta) of the newest checkpoint that reads back, or None.

    Half-written checkpoints (a crash while saving) are removed first, with a warning; a
    complete one that fails to restore is removed, with a warning, for the one before it
    (so that the resumed run writes that iteration's checkpoint again).
    """
    if sharding.is_main_process():
        checkpoints.discard_partial()
    sharding.barrier("runner:discard_partial")  # no process restores while process 0 cleans up
    abstract = _checkpoint_items(trainer.abstract_state(env_data))
    for iteration in reversed(checkpoints.iterations()):
        try:
            items, meta = checkpoints.restore(iteration, abstract)
        except Exception as e:  # orbax raises many types for a damaged directory
            first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
            warnings.warn(
                f"{checkpoints.directory / str(iteration)}: cannot read this checkpoint ({first_line}); "
                "removing it and trying the one before it",
                stacklevel=2,
            )
            checkpoints.delete(iteration)
            continue
        loop_state = LoopState(items["training_state"], items["rollout"]["env_state"], items["rollout"]["key"])
        return iteration, loop_state, meta
    if checkpoints.iterations():
        raise RunDirError(checkpoints.directory, "no checkpoint could be read back")
    return None


class _RowsInMemory:
    """The metrics log of a process other than 0 in a multi-process run: the same rows as
    :class:`MetricsLog` (the metrics are replicated, so every process has them), kept in
    memory only; process 0 alone writes ``metrics.csv``, TensorBoard and ``curves.png``.
    On resume it holds this session's rows only (process 0's log re-reads the CSV)."""

    def __init__(self):
        self._rows: list[dict[str, float]] = []

    @property
    def rows(self) -> list[dict[str, float]]:
        return list(self._rows)

    def write(self, iteration: int, env_steps: float, wall_time_s: float, metrics: Mapping[str, np.ndarray]) -> None:
        self._rows.extend(metric_rows(iteration, env_steps, wall_time_s, metrics))

    def plot(self) -> None:
        return None

    def close(self) -> None:
        pass


def run_training(
    trainer: Trainer,
    env_data: Any,
    run_dir: str | Path,
    *,
    num_iterations: int,
    seed: int = 0,
    checkpoint_every: int = 50,
    resume: bool = False,
    progress: bool = True,
    tensorboard: bool = True,
    plot_every: int = 25,
    curve_panels: Mapping[str, str] | None = None,
    evaluate: Callable[[Any], Mapping[str, np.ndarray]] | None = None,
    evaluate_every: int = 0,
    on_iteration: Callable[[int, Mapping[str, np.ndarray]], None] | None = None,
    start_from: Callable[[LoopState], LoopState] | None = None,
) -> tuple[LoopState, list[dict[str, float]]]:
    """Train until ``num_iterations`` iterations in total are done; returns the final loop
    state and the logged rows (per iteration and seed).

    ``resume=True`` continues from the latest checkpoint in ``run_dir/checkpoints`` (a
    fresh start if there is none); the metrics CSV is cut back to that checkpoint first.
    The config is the caller's business (``run_dir.save_config``). ``curve_panels``
    (metric name -> axis label) chooses the panels of ``curves.png`` (default:
    ``run_dir.CURVE_PANELS``). Every ``evaluate_every`` iterations (0: never)
    ``evaluate(training_state [S, ...]) -> {name: [S]}`` runs on the new state and its
    metrics join that iteration's row (the sample-efficiency curve: evaluation against
    env steps); it must not change the state. ``start_from(loop_state)`` edits a fresh
    start's state (not a resumed one), e.g. :func:`start_every_seed_from` another run's weights.
    """
    from tqdm import tqdm

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoints = Checkpoints(run_dir)
    env_data = trainer.place_env_data(env_data)
    steps_per_iteration = trainer.env_steps_per_iteration

    restored = _restore_latest(checkpoints, trainer, env_data) if resume else None
    if restored is not None:
        start_iteration, loop_state, meta = restored
        wall_offset_s = float(meta["wall_time_s"])
    else:
        if not resume and checkpoints.latest_iteration() is not None:
            raise FileExistsError(
                f"{run_dir} already holds checkpoints; pass resume=True (--resume) or choose a new run directory"
            )
        start_iteration, wall_offset_s = 0, 0.0
        loop_state = trainer.init(jax.random.PRNGKey(seed), env_data)
        if start_from is not None:
            loop_state = start_from(loop_state)

    main = sharding.is_main_process()
    log = (
        MetricsLog(
            run_dir, resume_iteration=start_iteration if resume else None, tensorboard=tensorboard,
            panels=curve_panels,
        )
        if main
        else _RowsInMemory()
    )  # fmt: skip
    bar = tqdm(
        total=num_iterations, initial=start_iteration, desc="train", unit="it", disable=not (progress and main),
        dynamic_ncols=True,
    )  # fmt: skip
    iteration = start_iteration
    start = time.perf_counter()
    steady_since: tuple[float, int] | None = None  # (time, iteration) after the first (compiling) step

    def save(it: int) -> None:
        meta = {"iteration": it, "wall_time_s": wall_offset_s + time.perf_counter() - start, "seed": seed}
        checkpoints.save(it, _checkpoint_items(loop_state), meta)
        # The next step donates these buffers: let orbax finish reading them first (a save
        # is a few MB to a few hundred MB, every ``checkpoint_every`` iterations).
        checkpoints.wait()

    try:
        while iteration < num_iterations:
            loop_state, metrics = trainer.step(loop_state, env_data)
            metrics = sharding.to_host(metrics)
            iteration += 1
            if evaluate is not None and evaluate_every > 0 and iteration % evaluate_every == 0:
                metrics = {**metrics, **evaluate(loop_state.training_state)}
            now = time.perf_counter()
            if steady_since is None:
                steady_since = (now, iteration)
            env_steps = float(np.asarray(metrics[names.ENV_STEPS])[0])
            wall = wall_offset_s + now - start
            log.write(iteration, env_steps, wall, metrics)
            if main and iteration % plot_every == 0:
                log.plot()
            if on_iteration is not None:
                on_iteration(iteration, metrics)
            elapsed, done = now - steady_since[0], iteration - steady_since[1]
            sps = done * steps_per_iteration / elapsed if elapsed > 0 and done > 0 else float("nan")
            bar.set_postfix(
                sps=f"{sps:,.0f}",
                ret=f"{np.mean(metrics.get(names.EPISODE_RETURN, metrics[names.REWARD_MEAN])):.2f}",
                len=f"{np.mean(metrics.get(names.EPISODE_LENGTH, np.nan)):.1f}",
                refresh=False,
            )
            bar.update(1)
            if iteration % checkpoint_every == 0:
                save(iteration)
    finally:
        # At exit, whatever the reason: the last completed iteration is kept (unless the
        # failure struck inside the step, after its input buffers were donated).
        alive = not any(getattr(x, "is_deleted", lambda: False)() for x in jax.tree.leaves(loop_state))
        if alive:
            # Label the checkpoint by the state's own counter: an interrupt can land after a
            # step returned and before the host loop counted it (that iteration's CSV row
            # is then missing; the state is exact).
            iteration = int(sharding.to_host(loop_state.training_state.iteration)[0])
            if iteration > start_iteration or checkpoints.latest_iteration() is None:
                save(iteration)
        checkpoints.close()
        bar.close()
        if main:
            log.plot()
        log.close()
    return loop_state, log.rows


def run_summary(
    out: str | Path, loop_state: LoopState, rows: list[dict[str, float]], start: float, metrics: Sequence[str]
) -> dict:
    """A training session's summary: run dir, iterations, env steps, wall time since
    ``start`` (``time.perf_counter``), and the seed means of ``metrics``: evaluation names
    (``names.EVAL_PREFIX``) from the last evaluated iteration (with ``eval_iteration``),
    the others from the last iteration."""
    last = [r for r in rows if r["iteration"] == max(r["iteration"] for r in rows)] if rows else []
    evaluated = [r for r in rows if np.isfinite(r.get(names.EVAL_SUCCESS_RATE, np.nan))]
    last_eval = [r for r in evaluated if r["iteration"] == evaluated[-1]["iteration"]] if evaluated else []
    summary = {
        "run_dir": str(out),
        "iterations": int(sharding.to_host(loop_state.training_state.iteration)[0]),
        "env_steps": float(sharding.to_host(loop_state.training_state.env_steps)[0]),
        "wall_time_s_this_session": time.perf_counter() - start,
    }
    for name in metrics:
        source = last_eval if name.startswith(names.EVAL_PREFIX) else last
        if source and name in source[0]:
            summary[name] = float(np.mean([r[name] for r in source]))
    if last_eval:
        summary["eval_iteration"] = int(last_eval[0]["iteration"])
    return summary


__all__ = ["LoopState", "Trainer", "run_summary", "run_training", "unreplicate_seed"]
