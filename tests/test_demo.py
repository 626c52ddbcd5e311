"""`make demo` end to end at a tiny scale: procedural clips -> MJX playback -> video."""

import json

import imageio.v3 as iio
import pytest

from physhmr_jax.demo import run_demo

pytestmark = pytest.mark.slow


def test_demo_writes_video_strip_and_summary(tmp_path):
    # Feet-only contacts and 1 s (30 control steps): the same compiled rollout as the PD
    # hold tests, so the suite compiles MJX once for all three.
    summary = run_demo(motions=None, out_dir=tmp_path, clip_name="squat_0", seconds=1.0, contacts="feet")
    assert not summary["nan"]
    assert summary["control_steps"] == 30
    # Open-loop PD playback from the reference state stays on a slow squat for 1 s.
    assert summary["mean_body_error_m_first_second"] < 0.15, summary
    frames = iio.imread(tmp_path / "playback.mp4")
    assert frames.shape[0] == 31 and frames.shape[-1] == 3
    assert iio.imread(tmp_path / "strip.png").shape[0] == 5 * frames.shape[1]
    assert json.loads((tmp_path / "summary.json").read_text())["clip"] == "squat_0"
