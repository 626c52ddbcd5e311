"""The host loop around the jitted PPO iteration: seeds, devices, checkpoints, logs.

:class:`Trainer` wraps :func:`physhmr_jax.agents.ppo.make_train_iteration` into one
compiled ``step(loop_state, motion_lib) -> (loop_state, metrics)`` that

  * trains ``config.num_seeds`` independent agents side by side (``vmap`` over a leading
    seed axis: parameters ``[S, ...]``, environments ``[S, B, ...]``), and
  * splits the environments of every seed over the device mesh (dimension 1 of every
    environment leaf, :mod:`physhmr_jax.agents.sharding`), parameters replicated.

:func:`run_training` is the loop a ``physhmr train ...`` command runs: it writes the run
directory (:mod:`physhmr_jax.agents.run_dir`), shows a progress bar with env steps per
second and the ETA, logs every iteration, saves an orbax checkpoint every
``checkpoint_every`` iterations and at exit (also on Ctrl-C or an exception), and with
``resume=True`` restores the latest checkpoint and continues exactly: the loop state holds
every array the next iteration reads (networks, optimiser, observation statistics, the
environments mid-episode and the PRNG keys), so 2 + 2 iterations equal 4
(``tests/test_distributed.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jax
import ml_collections
import numpy as np
from flax import struct
from jax import Array
from jax.sharding import Mesh

from physhmr_jax.agents import ppo, sharding
from physhmr_jax.agents.run_dir import Checkpoints, MetricsLog

SEED_DIM = 0  # leading axis of every loop-state leaf
ENV_DIM = 1  # environment axis of env-state leaves, split over devices


@struct.dataclass
class LoopState:
    """Everything one training iteration reads, for all seeds (a pytree of arrays)."""

    training_state: ppo.TrainingState  # leaves [S, ...], replicated over devices
    env_state: Any  # leaves [S, B, ...], B split over devices
    key: Array  # [S, 2] uint32, one PRNG key per seed


class Trainer:
    """Seeds (vmap) x devices (mesh) around one PPO iteration.

    Args:
      env: anything with the :class:`physhmr_jax.agents.ppo.Env` contract.
      config: PPO config (``ppo.get_config``); ``num_envs`` is the per-seed global batch.
      mesh: device mesh (all devices by default); ``num_envs`` must divide over it.
    """

    def __init__(self, env: ppo.Env, config: ml_collections.ConfigDict, mesh: Mesh | None = None):
        self.env = env
        self.config = config
        self.mesh = mesh if mesh is not None else sharding.make_mesh()
        sharding.check_divisible(config.num_envs, self.mesh)
        self._iteration = ppo.make_train_iteration(env, config)
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

    def abstract_state(self, motion_lib: Any) -> LoopState:
        """Shapes, dtypes and shardings of the loop state (what a restore needs), no compute."""
        abstract = jax.eval_shape(self._init, jax.random.PRNGKey(0), motion_lib)
        shardings = self.state_shardings(abstract)
        return jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), abstract, shardings)

    def place_motion_lib(self, motion_lib: Any) -> Any:
        """Replicate the motion library over the mesh (once, before the first step)."""
        return jax.device_put(motion_lib, self._replicated)

    # ----------------------------------------------------------------------------------
    # Pure functions.

    def _init_one_seed(self, key: Array, motion_lib: Any) -> tuple[ppo.TrainingState, Any, Array]:
        # The same split as ``ppo.make_train``'s single seed.
        key_init, key_env, key_loop = jax.random.split(key, 3)
        training_state = ppo.init_training_state(self.env, self.config, key_init)
        env_state = ppo.reset_envs(self.env, self.config, key_env, motion_lib)
        return training_state, env_state, key_loop

    def _init(self, key: Array, motion_lib: Any) -> LoopState:
        keys = jax.random.split(key, self.config.num_seeds)
        training_state, env_state, loop_keys = jax.vmap(self._init_one_seed, in_axes=(0, None))(keys, motion_lib)
        return LoopState(training_state, env_state, loop_keys)

    def _step_one_seed(self, training_state, env_state, key, motion_lib):
        key, key_iteration = jax.random.split(key)
        training_state, env_state, metrics = self._iteration(training_state, env_state, motion_lib, key_iteration)
        return training_state, env_state, key, metrics

    def _step(self, loop_state: LoopState, motion_lib: Any) -> tuple[LoopState, dict[str, Array]]:
        training_state, env_state, key, metrics = jax.vmap(self._step_one_seed, in_axes=(0, 0, 0, None))(
            loop_state.training_state, loop_state.env_state, loop_state.key, motion_lib
        )
        return LoopState(training_state, env_state, key), metrics

    # ----------------------------------------------------------------------------------
    # Compiled entry points.

    def init(self, key: Array, motion_lib: Any) -> LoopState:
        """Fresh networks and environments for every seed, laid out over the mesh."""
        if "init" not in self._compiled:
            shardings = self.state_shardings(jax.eval_shape(self._init, key, motion_lib))
            self._compiled["init"] = jax.jit(
                self._init, in_shardings=(self._replicated, self._replicated), out_shardings=shardings
            )
        return self._compiled["init"](key, motion_lib)

    def step(self, loop_state: LoopState, motion_lib: Any) -> tuple[LoopState, dict[str, Array]]:
        """One PPO iteration of every seed; ``loop_state``'s buffers are donated.

        Returns the new state and metrics ``{name: [S]}`` (replicated).
        """
        if "step" not in self._compiled:
            shardings = self.state_shardings(loop_state)
            self._compiled["step"] = jax.jit(
                self._step,
                in_shardings=(shardings, self._replicated),
                out_shardings=(shardings, self._replicated),
                donate_argnums=0,
            )
        return self._compiled["step"](loop_state, motion_lib)


def unreplicate_seed(training_state: ppo.TrainingState, seed: int) -> ppo.TrainingState:
    """One seed's training state out of a ``[S, ...]`` one."""
    return jax.tree.map(lambda x: x[seed], training_state)


# --------------------------------------------------------------------------------------
# The loop.


def _checkpoint_items(state: LoopState) -> dict[str, Any]:
    """The checkpoint's items: ``training_state`` alone (what evaluation restores) and the
    ``rollout`` (environments mid-episode and keys, what an exact resume also needs)."""
    return {"training_state": state.training_state, "rollout": {"env_state": state.env_state, "key": state.key}}


def _is_main_process() -> bool:
    return jax.process_index() == 0


def run_training(
    trainer: Trainer,
    motion_lib: Any,
    run_dir: str | Path,
    *,
    num_iterations: int,
    seed: int = 0,
    checkpoint_every: int = 50,
    resume: bool = False,
    progress: bool = True,
    tensorboard: bool = True,
    plot_every: int = 25,
    on_iteration: Callable[[int, Mapping[str, np.ndarray]], None] | None = None,
) -> tuple[LoopState, list[dict[str, float]]]:
    """Train until ``num_iterations`` iterations in total are done; returns the final loop
    state and the logged rows (per iteration and seed).

    ``resume=True`` continues from the latest checkpoint in ``run_dir/checkpoints`` (a
    fresh start if there is none); the metrics CSV is cut back to that checkpoint first.
    The config is the caller's business (``run_dir.save_config``).
    """
    from tqdm import tqdm

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoints = Checkpoints(run_dir)
    motion_lib = trainer.place_motion_lib(motion_lib)
    cfg = trainer.config
    steps_per_iteration = cfg.num_envs * cfg.horizon * cfg.num_seeds

    start_iteration = checkpoints.latest_iteration() if resume else None
    if start_iteration is not None:
        abstract = trainer.abstract_state(motion_lib)
        items, meta = checkpoints.restore(start_iteration, _checkpoint_items(abstract))
        loop_state = LoopState(items["training_state"], items["rollout"]["env_state"], items["rollout"]["key"])
        wall_offset_s = float(meta["wall_time_s"])
    else:
        if not resume and checkpoints.latest_iteration() is not None:
            raise FileExistsError(
                f"{run_dir} already holds checkpoints; pass resume=True (--resume) or choose a new run directory"
            )
        start_iteration, wall_offset_s = 0, 0.0
        loop_state = trainer.init(jax.random.PRNGKey(seed), motion_lib)

    log = MetricsLog(run_dir, resume_iteration=start_iteration if resume else None, tensorboard=tensorboard)
    main = _is_main_process()
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
            loop_state, metrics = trainer.step(loop_state, motion_lib)
            metrics = sharding.to_host(metrics)
            iteration += 1
            now = time.perf_counter()
            if steady_since is None:
                steady_since = (now, iteration)
            env_steps = float(np.asarray(metrics["env_steps"])[0])
            wall = wall_offset_s + now - start
            if main:
                log.write(iteration, env_steps, wall, metrics)
                if iteration % plot_every == 0:
                    log.plot()
            if on_iteration is not None:
                on_iteration(iteration, metrics)
            elapsed, done = now - steady_since[0], iteration - steady_since[1]
            sps = done * steps_per_iteration / elapsed if elapsed > 0 and done > 0 else float("nan")
            bar.set_postfix(
                sps=f"{sps:,.0f}",
                ret=f"{np.mean(metrics.get('rollout/episode_return_mean', metrics['rollout/reward_mean'])):.2f}",
                len=f"{np.mean(metrics['rollout/episode_length_mean']):.1f}",
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


__all__ = ["LoopState", "Trainer", "run_training", "unreplicate_seed"]
