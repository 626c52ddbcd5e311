"""Exported networks (``agents/policy_file.py``): kinds, format versions and shapes are
checked on load, each refusal one line naming the file; the shipped checkpoints load."""

import json

import jax
import numpy as np
import pytest

from physhmr_jax import pretrained
from physhmr_jax.agents import policy_file
from physhmr_jax.agents.run_dir import RunDirError
from physhmr_jax.student.export import load_student_policy

TREE = {"dense": {"kernel": np.arange(6, dtype=np.float32).reshape(2, 3), "bias": np.zeros(3, np.float32)}}


def test_round_trip_and_refusals(tmp_path):
    path = tmp_path / "net.npz"
    summary = policy_file.write(path, "student", {"p:": TREE}, {"config": {"a": 1}, "iteration": 3})
    assert summary["kind"] == "student" and summary["arrays"] == 2
    assert not list(tmp_path.glob("*.partial.npz"))  # written under a temporary name, then moved
    arrays, meta = policy_file.read(path, "student")
    assert meta == {"format_version": policy_file.FORMAT_VERSION, "kind": "student", "config": {"a": 1}, "iteration": 3}
    shapes = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), TREE)
    back = policy_file.rebuild(shapes, arrays, "p:", path)
    jax.tree.map(np.testing.assert_array_equal, back, TREE)
    assert policy_file.read(path, None)[1]["kind"] == "student"

    with pytest.raises(RunDirError, match=r"net\.npz: an exported student, not an exported encoder"):
        policy_file.read(path, "encoder")
    wide = jax.tree.map(lambda x: jax.ShapeDtypeStruct((*x.shape[:-1], 4), x.dtype), shapes)
    with pytest.raises(
        RunDirError, match=r"p:\['dense'\]\['bias'\]: expected shape \(4,\) \(numbers\), got float32 \(3,\)"
    ):
        policy_file.rebuild(wide, arrays, "p:", path)
    with pytest.raises(RunDirError, match=r"p:\['other'\]: expected shape \(\) \(numbers\), got missing"):
        policy_file.rebuild({"other": jax.ShapeDtypeStruct((), np.float32)}, arrays, "p:", path)

    meta["format_version"] = 99
    np.savez(tmp_path / "future.npz", __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    with pytest.raises(RunDirError, match="format version 99 does not fit this code"):
        policy_file.read(tmp_path / "future.npz", "student")
    with pytest.raises(RunDirError, match=r"future\.npz: format version 99"):
        load_student_policy(tmp_path / "future.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(RunDirError, match=r"text\.npz: not an exported encoder"):
        policy_file.read(tmp_path / "text.npz", "encoder")
    # One line each: what the CLI prints after "error: ".
    with pytest.raises(RunDirError) as err:
        policy_file.read(path, "expert")
    assert "\n" not in str(err.value)


def test_shipped_checkpoints_load_and_are_small():
    """What a fresh clone plays with: each file loads into its networks; a few MB in all."""
    from physhmr_jax.expert.export import load_policy
    from physhmr_jax.vision.encoder_train import load_encoder

    sizes = {kind: pretrained.path(kind).stat().st_size for kind in pretrained.FILES}
    assert sum(sizes.values()) < 8e6, sizes
    load_policy(pretrained.path("expert"))
    load_encoder(pretrained.path("encoder"))
    student = load_student_policy(pretrained.path("student"))
    assert student.feature_size == 512 and student.env_steps > 0
    assert student.teacher_config.to_dict() == load_policy(pretrained.path("expert"))[3].to_dict()
