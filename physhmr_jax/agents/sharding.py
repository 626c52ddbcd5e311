"""Devices: one ``jax.sharding.Mesh`` over every device, environments split along the batch.

The trainer is written for one global batch (``jit`` of the whole iteration, the
"global view"); this module only says where arrays live:

  * environment states and anything with an environment axis are split along that axis
    over the mesh axis ``"batch"`` (each device steps ``num_envs / num_devices`` humanoids);
  * parameters, optimiser state, observation statistics, keys and metrics are replicated.

XLA's SPMD partitioner then inserts the collectives: the loss is a mean over a sharded
batch, so each device computes its part of every gradient and an all-reduce averages
them; the observation statistics are summed across devices the same way. A run on N
devices computes the same numbers as one device with the same global batch, up to the
order of floating-point sums (``tests/test_ppo.py::test_four_devices_match_one_device`` checks 4 forced host devices
against 1).

Multi-host (TPU pods, several GPU nodes): every process runs the same program and calls
:func:`initialize_distributed` first, before anything starts JAX's backend;
``jax.devices()`` is then the global device list and the same mesh spans all hosts (each
process steps the environments on its own devices). Parameters and metrics are
replicated, so every process reads them locally (:func:`to_host`); process 0 alone
writes logs and plots (:func:`is_main_process`); checkpoints are written by every process
together (orbax, each its own shards). ``tests/test_multihost.py`` checks that 2 processes
of 2 CPU devices compute what 1 process of 4 does (``docs/scaling.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

BATCH_AXIS = "batch"


def initialize_distributed(
    coordinator_address: str | None = None, num_processes: int | None = None, process_id: int | None = None
) -> None:
    """Join a multi-process run (``jax.distributed.initialize``); no-op for a single process.

    Nothing happens when all three are None (a single-process run) or ``num_processes``
    is 1. Pass them explicitly (``physhmr train expert --coordinator HOST:PORT
    --num-processes N --process-id I``), or only ``num_processes`` on a cluster JAX can
    detect (SLURM, TPU pods, Open MPI), where the rest is found automatically. Must run
    before anything touches a device.
    """
    if num_processes == 1 or (coordinator_address is None and num_processes is None and process_id is None):
        return
    jax.distributed.initialize(
        coordinator_address=coordinator_address, num_processes=num_processes, process_id=process_id
    )


def make_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named ``"batch"`` over ``devices`` (all devices by default)."""
    devices = list(jax.devices() if devices is None else devices)
    return Mesh(np.array(devices), (BATCH_AXIS,))


def check_divisible(num_envs: int, mesh: Mesh) -> None:
    size = mesh.shape[BATCH_AXIS]
    if num_envs % size:
        raise ValueError(f"num_envs = {num_envs} does not split evenly over {size} devices; use a multiple of {size}")


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh, batch_dim: int) -> NamedSharding:
    """Split dimension ``batch_dim`` over the mesh, replicate the others."""
    return NamedSharding(mesh, PartitionSpec(*([None] * batch_dim), BATCH_AXIS))


def env_shardings(tree: Any, mesh: Mesh, batch_dim: int) -> Any:
    """Shardings for a pytree of batched environment arrays (leaves ``[..., B, ...]``).

    Leaves with a dimension ``batch_dim`` are split along it; lower-rank leaves (none in
    practice) are replicated. ``tree`` may hold arrays or ``ShapeDtypeStruct``s.
    """
    split, whole = batch_sharded(mesh, batch_dim), replicated(mesh)
    return jax.tree.map(lambda x: split if len(x.shape) > batch_dim else whole, tree)


def replicated_shardings(tree: Any, mesh: Mesh) -> Any:
    whole = replicated(mesh)
    return jax.tree.map(lambda _: whole, tree)


def to_host(tree: Any) -> Any:
    """Fetch a pytree of arrays as numpy (global values), multi-host safe.

    In a multi-process run a replicated array (parameters, metrics) is read from this
    process's first copy; an array split over several processes' devices (the
    environments) is gathered (``multihost_utils.process_allgather``), a collective:
    every process must fetch it at the same point of the program.
    """

    def fetch(x):
        if not isinstance(x, jax.Array) or x.is_fully_addressable:
            return np.asarray(x)
        if x.sharding.is_fully_replicated:
            return np.asarray(x.addressable_data(0))
        return np.asarray(multihost_utils.process_allgather(x, tiled=True))

    return jax.tree.map(fetch, tree)


def is_main_process() -> bool:
    """Process 0 of a multi-process run (the one that writes logs and plots); True alone."""
    return jax.process_index() == 0


def barrier(name: str) -> None:
    """Wait until every process reaches the barrier ``name``; no-op for a single process."""
    if jax.process_count() > 1:
        multihost_utils.sync_global_devices(name)


__all__ = [
    "BATCH_AXIS",
    "barrier",
    "batch_sharded",
    "check_divisible",
    "env_shardings",
    "initialize_distributed",
    "is_main_process",
    "make_mesh",
    "replicated",
    "replicated_shardings",
    "to_host",
]
