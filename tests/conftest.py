"""Shared test fixtures: paths to ../shared data and small built objects."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
# The suite is compile-bound (every MJX program compiles for tens of seconds and then runs a
# few steps): without LLVM's optimisation passes XLA compiles ~20% faster here
# (the expert CLI test, then in tests/test_expert_cli.py: 266 s -> 220 s on the 2-core CPU) and the programs still run
# fast enough. Set before JAX starts; subprocesses inherit it.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()

REPO = Path(__file__).resolve().parents[1]
CMU_DIR = REPO.parent / "shared" / "data" / "mocap" / "cmu"


@pytest.fixture(scope="session")
def cmu_dir() -> Path:
    if not CMU_DIR.is_dir():
        pytest.skip(f"CMU mocap clips not found at {CMU_DIR} (they live in ../shared, which a user's clone lacks)")
    return CMU_DIR


def pytest_configure(config):
    # MJX functions take 20-30 s to compile on this CPU; keep compiled programs between runs.
    import jax

    jax.config.update("jax_compilation_cache_dir", str(REPO / ".cache" / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 2.0)
    # pytest-xdist's --dist loadfile hands out files sorted by their number of tests (most
    # first) unless told not to, which left the one-test, longest file (test_student.py) to
    # the end; keep the order below instead (the option exists in xdist >= 3.6).
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


# The modules that compile MJX programs, longest first (measured in a fresh clone, 2-core
# CPU, both workers busy). xdist (--dist loadfile) gives each worker one file, then another
# whenever the worker has two tests or fewer left, so a one-test file always has the next
# file queued behind it: the longest file (one test) goes first with a short one-test file
# behind it, while the other worker starts the next longest.
_LONGEST_FIRST = ("test_student.py", "test_ppo.py", "test_notebook.py", "test_vision_env.py", "test_imitation_env.py",
                  "test_import.py", "test_crash_safety.py", "test_humanoid.py", "test_compare.py", "test_multihost.py",
                  "test_retarget.py", "test_video_lib.py", "test_fuzz_loaders.py", "test_distill.py")  # fmt: skip


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(_LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).name, len(rank)))
