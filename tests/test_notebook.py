"""``notebooks/quickstart.ipynb`` runs top to bottom (nbclient) at toy scale: a 1 s clip,
the shipped encoder and student (physhmr_jax/pretrained/)."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_quickstart_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSHMR_NOTEBOOK_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("PHYSHMR_NOTEBOOK_SECONDS", "1.0")
    monkeypatch.setenv("MUJOCO_GL", os.environ.get("MUJOCO_GL", "egl"))
    # The kernel shares the suite's compilation cache (conftest.py): IK and the student's play
    # are programs other tests compile too.
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(REPO / ".cache" / "jax"))
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "2")
    nb = nbformat.read(REPO / "notebooks" / "quickstart.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "text" in o
    )
    # Rays through the true joints: the noise-free keypoints' rays miss them by < 0.01 mm.
    miss = float(text.split("noise-free rays: max ")[1].split(" mm")[0])
    assert miss < 0.01, text
    assert "x real time" in text and "31 control steps" in text, text
    assert (tmp_path / "out" / "reconstruction" / "reconstruction.mp4").stat().st_size > 1000
    # The inline video and every figure made it into the executed notebook.
    kinds = [k for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) for k in o.get("data", {})]
    assert kinds.count("image/png") >= 4 and "text/html" in kinds, kinds
