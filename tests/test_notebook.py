"""``notebooks/quickstart.ipynb`` runs top to bottom (nbclient) at toy scale: a 1 s clip,
the shipped encoder and student (physhmr_jax/pretrained/); then ``physhmr reconstruct`` with
the shipped student on an imported COCO video of the same length."""

import dataclasses
import json
import os
from pathlib import Path

import jax.numpy as jnp
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from video_fixtures import synthetic_motion_lib

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


def _imported_coco_video(tmp_path, num_frames: int, feature_size: int):
    """A walk's joints, 4 m in front of the importer's default camera (1.5 m high, level),
    projected with fx 300 px into COCO-17 keypoints, imported, then given the estimates
    ``physhmr encoder features`` would write (here the truth in that camera; features 0)."""
    from physhmr_jax.geometry import rotations as rot
    from physhmr_jax.geometry.camera import look_at
    from physhmr_jax.humanoid.skeleton import BODY_INDEX
    from physhmr_jax.vision import show
    from physhmr_jax.vision.shards import COCO17_NAMES, save_sample
    from physhmr_jax.vision.video_import import import_video

    lib = synthetic_motion_lib()
    ref = lib.state_at(jnp.zeros(num_frames, jnp.int32), jnp.arange(num_frames) / 30.0)
    joints = np.asarray(ref.body_pos, np.float64) + np.array([4.0, 0.0, 0.0])
    K = np.array([[300.0, 0.0, 160.0], [0.0, 300.0, 120.0], [0.0, 0.0, 1.0]])
    eye = np.array([0.0, 0.0, 1.5])
    R_wc = np.repeat(np.asarray(look_at(jnp.asarray(eye), jnp.asarray(eye + [1.0, 0.0, 0.0])))[None], num_frames, 0)
    uv, _ = show.project_np(K, R_wc, np.repeat(eye[None], num_frames, 0), joints)
    body = {f"{side}_{part}": f"{s}_{part.lower()}" for side, s in (("L", "left"), ("R", "right"))
            for part in ("Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle")}  # fmt: skip
    coco_of = {v: BODY_INDEX[k] for k, v in body.items()} | {"nose": BODY_INDEX["Head"]}
    entries = []
    for t in range(num_frames):
        kp = [[*uv[t, coco_of[n]], 0.9] if n in coco_of else [0.0, 0.0, 0.0] for n in COCO17_NAMES]
        entries.append({"image_id": t, "category_id": 1, "keypoints": np.ravel(kp).tolist(), "score": 0.9})
    (tmp_path / "coco.json").write_text(json.dumps(entries))
    sample = import_video(None, tmp_path / "coco.json", "coco", fx=300.0, width=320, height=240, fps=30)
    np.testing.assert_allclose(sample.R_wc, R_wc, atol=1e-6)  # the importer's default camera
    R_root = np.asarray(rot.quat_to_matrix(ref.root_quat), np.float64)
    R_cam = np.einsum("tji,tjk->tik", sample.R_wc, R_root)
    rel = np.einsum("tji,tnj->tni", sample.R_wc, joints - joints[:, :1])
    estimated = dataclasses.replace(
        sample, features=np.zeros((num_frames, feature_size), np.float32),
        root_6d_estimate=np.concatenate([R_cam[..., 0], R_cam[..., 1]], -1), joints_rel_cam_estimate=rel,
        name="imported_walk",
    )  # fmt: skip
    return save_sample(tmp_path / "imported.npz", estimated)


def test_reconstruct_an_imported_coco_video(tmp_path, capsys):
    """``physhmr reconstruct`` on an imported "real" video with the shipped student (no
    ``--run``): COCO keypoints written from a synthetic walk, imported with the importer's
    guessed camera, no ground truth; the clip, BVH and mp4 written, the BVH read back by our
    loader equal to the clip's joints within 1 mm. 31 frames of 512-D features, as the
    notebook's video: the same MJX program, found in the compilation cache the notebook
    (run first, above) filled."""
    from physhmr_jax import cli
    from physhmr_jax.humanoid.kinematics import forward_kinematics
    from physhmr_jax.motion.bvh import load_bvh
    from physhmr_jax.motion.clip import load_clip

    video = _imported_coco_video(tmp_path, 31, 512)
    rec = tmp_path / "reconstruction"
    assert cli.main(["reconstruct", "--video", str(video), "--out", str(rec), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == summary["video_frames"] == 31 and "phc" not in summary  # no ground truth
    with capsys.disabled():
        print(f"\nreconstruct: {summary['steps']} frames, play {summary['play_s']} s "
              f"({summary['realtime_factor']}x real time), compile {summary['compile_s']} s")  # fmt: skip
    assert {k: Path(v).suffix for k, v in summary["outputs"].items()} == {"npz": ".npz", "bvh": ".bvh", "mp4": ".mp4"}
    assert Path(summary["outputs"]["mp4"]).stat().st_size > 1000
    clip = load_clip(summary["outputs"]["npz"])
    joints, _ = forward_kinematics(jnp.asarray(clip.root_pos_m), jnp.asarray(clip.root_quat), jnp.asarray(clip.dof),
                                   jnp.asarray(clip.skeleton.offsets_m))  # fmt: skip
    source = load_bvh(summary["outputs"]["bvh"])
    assert clip.num_frames == 31 and source.layout == "physhmr"
    assert np.abs(source.joints_m - np.asarray(joints)).max() < 1e-3
