"""The command line: user errors are one line naming the file, exit status 2."""

import numpy as np
import pytest

from physhmr_jax import cli


def _run(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_import_truncated_bvh_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "cut.bvh"
    bad.write_text(
        "HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation\n"
    )
    code, _, err = _run(["motion", "import", str(bad), "--out", str(tmp_path / "out")], capsys)
    assert code == cli.EXIT_USER_ERROR
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "cut.bvh" in lines[0] and lines[0].startswith("error: "), err


def test_import_npz_missing_keys(tmp_path, capsys):
    bad = tmp_path / "not_amass.npz"
    np.savez(bad, poses=np.zeros((4, 72)))
    code, _, err = _run(["motion", "import", str(bad), "--out", str(tmp_path / "out")], capsys)
    assert code == cli.EXIT_USER_ERROR
    assert "not_amass.npz" in err and "trans" in err, err


def test_missing_path_and_unknown_suffix(tmp_path, capsys):
    code, _, err = _run(["motion", "import", str(tmp_path / "nope.bvh"), "--out", str(tmp_path)], capsys)
    assert code == cli.EXIT_USER_ERROR and "no such file" in err
    other = tmp_path / "clip.txt"
    other.write_text("x")
    code, _, err = _run(["motion", "import", str(other), "--out", str(tmp_path)], capsys)
    assert code == cli.EXIT_USER_ERROR and "unsupported motion format" in err


def test_humanoid_mjcf_writes_loadable_xml(tmp_path, capsys):
    import mujoco

    out = tmp_path / "h.xml"
    code, _, _ = _run(["humanoid", "mjcf", "--out", str(out), "--contacts", "all"], capsys)
    assert code == 0
    model = mujoco.MjModel.from_xml_path(str(out))
    assert model.nu == 69 and model.npair == model.ngeom - 1


def test_help_lists_groups(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for group in ("humanoid", "motion", "bench", "demo"):
        assert group in out


def test_humanoid_info_json_is_quiet_on_stderr():
    """A fresh process prints the JSON and nothing else (MJX's 'Failed to import warp' lines
    are dropped by physhmr_jax.humanoid.quiet_mjx)."""
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "physhmr_jax.cli", "humanoid", "info", "--json"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert json.loads(proc.stdout)["nu"] == 69


def test_sigterm_and_ignored_sigint_interrupt_a_command():
    """A command stopped by kill / a scheduler / ``timeout -s INT`` from a background job gets
    KeyboardInterrupt (its ``finally`` checkpoints); the previous handlers come back after."""
    import os
    import signal
    import time

    before_term = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job
    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with pytest.raises(KeyboardInterrupt, match=sig.name), cli.interrupt_on_signals():
                os.kill(os.getpid(), sig)
                time.sleep(1.0)  # the handler raises as soon as the signal arrives
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is before_term
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.mark.parametrize(
    "argv, option, value, expected",
    [
        (["train", "expert", "--out", "RUN", "--num-envs", "abc"], "--num-envs", "'abc'", "an integer >= 1"),
        (["train", "expert", "--out", "RUN", "--seeds", "0"], "--seeds", "'0'", "an integer >= 1"),
        (["train", "expert", "--out", "RUN", "--preset", "huge"], "--preset", "'huge'", "choose from"),
        (["eval", "expert", "--run", "RUN", "--iteration", "-1"], "--iteration", "'-1'", "an integer >= 0"),
        (["video", "import", "--keypoints", "k.json", "--format", "coco", "--fov", "nan", "--out", "s.npz"],
         "--fov", "'nan'", "a number > 0"),
        (["bench", "env", "--num-envs", "1.5"], "--num-envs", "'1.5'", "an integer >= 1"),
        (["bench", "train", "--num-envs", "2", "--set", "ppo.learning_rate=abc"], "ppo.learning_rate", "abc",
         "expected a number"),
        (["train", "expert", "--out", "RUN", "--set", "ppo.learning_rate=abc"], "ppo.learning_rate", "abc",
         "expected a number"),
        (["train", "expert", "--out", "RUN", "--set", "ppo.learning_rate_schedule=cosine"],
         "ppo.learning_rate_schedule", "'cosine'", "'fixed', 'linear' or 'kl_adaptive'"),
        (["train", "expert", "--out", "RUN", "--num-envs", "3"], "--num-envs", "3 * 32", "minibatches of 2048"),
    ],
)  # fmt: skip
def test_every_bad_option_is_one_line(tmp_path, capsys, argv, option, value, expected):
    argv = [str(tmp_path / a) if a == "RUN" else a for a in argv]
    try:
        code = cli.main(argv)
    except SystemExit as e:  # argparse's own checks exit from inside parse_args
        code = e.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == cli.EXIT_USER_ERROR, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert option in lines[0] and value in lines[0] and expected in lines[0], lines[0]
