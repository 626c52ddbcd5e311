"""``physhmr eval vision``: the results table, every method on the same test videos, both protocols.

Each method turns every video of a split into world joint positions [T, 24, 3]; the ground
truth is the shard's ``joints3d`` (synthetic videos carry it), the same for every row. Then
one row per method: PhysHMR's protocol (100-frame clips, rigid alignment, PA-MPJPE > 100 mm
counted as failures) and PHC's (success from the first frame, errors until the first
failure), :mod:`physhmr_jax.eval.protocols`.

Methods:

* **kinematic**: the encoder head per frame (the shard's ``joints_rel_cam_estimate``, written
  by ``physhmr encoder features``), its root on the pelvis keypoint's ray
  (:func:`physhmr_jax.vision.encoder_features.kinematic_world_joints`). No physics.
* **two-stage** (GVHMR x PHC in kind): that estimate smoothed over ``smooth_frames`` frames,
  retargeted to the humanoid by the IK fit that imports mocap (grounded), then tracked in
  simulation by an expert from the retargeted clip's first frame. The tracker reads the
  estimate as its reference: errors of the first stage become its targets.
* **student runs** (``physhmr train student``): the vision policy plays video i in env i from
  frame 0 (the humanoid starts at the video motion's first reference state, as ``eval
  student`` does) with its mean action; its simulated bodies are the prediction.

Per-frame global errors of a few videos are drawn against the frame index (one panel per
video, one line per method) when a plot path is given.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from physhmr_jax.config_io import ConfigError
from physhmr_jax.eval import protocols
from physhmr_jax.humanoid.skeleton import FOOT_BODIES
from physhmr_jax.vision.shards import VideoFileError, VideoSample, encoder_output, load_sample

SMOOTH_FRAMES = 5  # the two-stage baseline's moving average over the kinematic estimate (frames)

# Table columns: (key in a row, header). PhysHMR's protocol first, then PHC's success.
COLUMNS = (
    ("pa_mpjpe_mm", "PA-MPJPE"),
    ("wa_mpjpe_mm", "WA-MPJPE"),
    ("w_mpjpe_mm", "W-MPJPE"),
    ("mpjpe_mm", "MPJPE"),
    ("pelvis_accel_error", "Accel"),
    ("foot_sliding_mm", "Foot sliding"),
    ("ground_penetration_mm", "Penetration"),
    ("height_variance", "Height var."),
    ("failure_rate", "Failure rate"),
    ("success_rate", "Success (PHC)"),
)
PHC_COLUMNS = (
    ("success_rate", "Success"),
    ("g_mpjpe_mm", "G-MPJPE"),
    ("mpjpe_mm", "MPJPE"),
    ("pa_mpjpe_mm", "PA-MPJPE"),
    ("accel_error_mm", "Accel"),
    ("ground_penetration_mm", "Penetration"),
)


@dataclasses.dataclass(frozen=True)
class MethodSequences:
    """One method's world joints per video, beside the ground truth."""

    method: str
    names: list[str]
    pred: list[np.ndarray]  # [T_i, 24, 3] metres
    gt: list[np.ndarray]  # [T_i, 24, 3] metres
    budget: str = ""  # what training it took, in words (env steps, ...)
    qpos: list[np.ndarray] | None = None  # [T_i, 76] the simulated humanoid's (simulated methods)


def load_split(data: str | Path, split: str) -> list[VideoSample]:
    """The shards of ``data/<split>`` (sorted by file name), each with ground-truth ``joints3d``."""
    from physhmr_jax.vision.encoder_train import split_shards

    samples = [load_sample(p) for p in split_shards(data, split)]
    for s in samples:
        if s.joints3d is None:
            raise VideoFileError(s.source, "has no ground-truth 'joints3d': the results table needs synthetic videos")
    return samples


def kinematic_sequences(samples: Sequence[VideoSample]) -> MethodSequences:
    """The encoder head per frame, root on the pelvis ray (no physics)."""
    from physhmr_jax.vision.encoder_features import kinematic_world_joints

    pred = [kinematic_world_joints(encoder_output(s, "joints_rel_cam_estimate"), s)[0] for s in samples]
    return MethodSequences("kinematic", [s.name for s in samples], pred, [s.joints3d for s in samples], "encoder only")


def smooth(x: np.ndarray, frames: int) -> np.ndarray:
    """[T, ...] moving average over ``frames`` (odd) frames along axis 0, edges padded by repetition."""
    if frames <= 1:
        return np.asarray(x)
    if frames % 2 == 0:
        raise ConfigError(f"smoothing window must be odd, got {frames}")
    half = frames // 2
    padded = np.concatenate([np.repeat(x[:1], half, 0), x, np.repeat(x[-1:], half, 0)])
    cumsum = np.cumsum(np.concatenate([np.zeros_like(padded[:1]), padded]), axis=0)
    return (cumsum[frames:] - cumsum[:-frames]) / frames


def retargeted_estimate(name: str, source: str, fps: float, joints: np.ndarray, smooth_frames: int = SMOOTH_FRAMES):
    """A clip from a kinematic estimate's world joints [T, 24, 3]: smoothed over
    ``smooth_frames``, fitted to the mean body by the mocap importer's IK and put on the floor."""
    from physhmr_jax.humanoid.skeleton import NUM_BODIES, mean_skeleton
    from physhmr_jax.motion.retarget import retarget
    from physhmr_jax.motion.source import SourceMotion

    motion = SourceMotion(
        name=name, path=source, fps=fps, joints_m=smooth(joints, smooth_frames), skeleton=mean_skeleton(),
        weights=np.ones(NUM_BODIES),
    )  # fmt: skip
    return retarget(motion)[0]


def two_stage_sequences(
    samples: Sequence[VideoSample],
    kinematic: MethodSequences,
    tracker: str | Path,
    clips_dir: str | Path,
    *,
    smooth_frames: int = SMOOTH_FRAMES,
    seed_index: int = 0,
) -> MethodSequences:
    """The kinematic estimate, smoothed, retargeted (IK, grounded; clips written to
    ``clips_dir``) and tracked in simulation by the expert ``tracker`` (a run directory or an
    exported policy) from each clip's first frame."""
    import jax

    from physhmr_jax.expert.build import build_expert
    from physhmr_jax.expert.evaluate import SIM_BODY_POS, make_play_clips, steps_per_clip
    from physhmr_jax.student.build import load_teacher

    clips_dir = Path(clips_dir)
    clips_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for s, joints in zip(samples, kinematic.pred, strict=True):
        clip = retargeted_estimate(s.name, str(s.source), s.fps, joints, smooth_frames)
        paths.append(str(clip.save(clips_dir / f"{s.name}.npz")))
    teacher = load_teacher(tracker, seed_index=seed_index)
    expert = build_expert(teacher.config, motions=paths)
    steps = steps_per_clip(expert)
    play = make_play_clips(expert, max(steps))
    sim = np.asarray(jax.device_get(play(teacher.params, expert.motion_lib).extras[SIM_BODY_POS]))
    by_name = {c.name: i for i, c in enumerate(expert.clips)}
    pred, gt = [], []
    for s in samples:
        i = by_name[s.name]
        n = min(steps[i], s.num_frames)
        pred.append(sim[:n, i])
        gt.append(s.joints3d[:n])
    budget = _run_budget(tracker)
    return MethodSequences("two-stage", [s.name for s in samples], pred, gt, f"tracker: {budget}")


def student_sequences(
    run: str | Path, samples: Sequence[VideoSample], *, label: str | None = None, seed_index: int = 0,
    iteration: int | None = None, motions: str | Path | None = None,
) -> MethodSequences:  # fmt: skip
    """A trained student (a run directory or an exported file) on every video of ``samples``
    from frame 0, starting at the motion each shows (``motions``, default its teacher's set)."""
    import jax

    from physhmr_jax.expert import evaluate as expert_evaluate
    from physhmr_jax.student.build import build_student_on_videos
    from physhmr_jax.student.evaluate import make_play_videos, steps_per_video
    from physhmr_jax.student.export import load_student_policy

    policy = load_student_policy(run, seed_index=seed_index, iteration=iteration)
    student = build_student_on_videos(policy, samples, motions=None if motions is None else str(motions))
    if abs(student.env.dt * samples[0].fps - 1.0) > 1e-6:
        raise ConfigError(f"{run}: videos at {samples[0].fps} fps, the student steps at {1 / student.env.dt:g} Hz")
    steps = steps_per_video(student)
    extras = make_play_videos(student, max(steps))(policy.state, student.data).extras
    sim = np.asarray(jax.device_get(extras[expert_evaluate.SIM_BODY_POS]))
    qpos = np.asarray(jax.device_get(extras[expert_evaluate.QPOS]))
    pred = [sim[: min(n, s.num_frames), i] for i, (n, s) in enumerate(zip(steps, samples, strict=True))]
    gt = [s.joints3d[: len(p)] for p, s in zip(pred, samples, strict=True)]
    label = label or Path(run).stem
    names = [s.name for s in samples]
    budget = _run_budget(run, policy.iteration)
    return MethodSequences(label, names, pred, gt, budget, [qpos[: len(p), i] for i, p in enumerate(pred)])


def _run_budget(run: str | Path, iteration: int | None = None) -> str:
    """A run's training budget in words: the env steps per seed of its metrics.csv row at
    ``iteration`` (else the last row); for an exported policy, those of the run it came from."""
    import csv

    if Path(run).is_file():  # an exported network: the budget of the run and iteration it came from
        from physhmr_jax.agents import policy_file

        meta = policy_file.read(run, None)[1]
        if isinstance(meta.get("env_steps"), int):
            return f"{meta['env_steps']:,} env steps per seed (exported, iteration {meta.get('iteration')})"
        origin = _run_budget(meta["run_dir"], meta.get("iteration")) if meta.get("run_dir") else ""
        return origin or f"exported {meta['kind']}, iteration {meta.get('iteration')}"
    path = Path(run) / "metrics.csv"
    if not path.is_file():
        return ""
    rows = list(csv.DictReader(path.open()))
    if not rows or "env_steps" not in rows[-1]:
        return ""
    exact = [r for r in rows if iteration is None or int(float(r["iteration"])) == iteration]
    if exact:
        return f"{int(float(exact[-1]['env_steps'])):,} env steps per seed"
    # A checkpoint taken on an interrupt, after the last logged iteration.
    return f"{int(float(rows[-1]['env_steps'])):,}+ env steps per seed (checkpoint {iteration})"


def method_row(method: MethodSequences) -> dict:
    """Both protocols' summaries of one method (per-clip rows kept under ``per_clip``)."""
    pairs = list(zip(method.pred, method.gt, strict=True))
    physhmr = protocols.physhmr_protocol(pairs, foot_indices=FOOT_BODIES, names=method.names)
    phc = protocols.phc_protocol(pairs, foot_indices=FOOT_BODIES, names=method.names)
    return {
        "method": method.method,
        "budget": method.budget,
        **{k: v for k, v in physhmr.items() if k not in ("per_clip", "protocol")},
        "success_rate": phc["success_rate"],
        "phc": {k: v for k, v in phc.items() if k not in ("per_clip", "protocol")},
        "per_clip": {"physhmr": physhmr["per_clip"], "phc": phc["per_clip"]},
    }


def _cells(row: Mapping, columns) -> list[str]:
    cells = []
    for key, _ in columns:
        v = row.get(key)
        if v is None:
            cells.append("–")
        elif key in ("failure_rate", "success_rate"):
            cells.append(f"{100 * v:.0f}%")
        else:
            cells.append(f"{v:.1f}")
    return cells


def _table(rows: Sequence[Mapping], columns, *, budget: bool) -> list[str]:
    lines = ["| method | " + " | ".join(h for _, h in columns) + (" | training |" if budget else " |")]
    lines.append("|" + "---|" * (len(columns) + 1 + budget))
    for r in rows:
        tail = f" | {r['budget'] or '–'} |" if budget else " |"
        lines.append(f"| {r['method']} | " + " | ".join(_cells(r, columns)) + tail)
    return lines


def markdown_table(rows: Sequence[dict], *, split: str, videos: int) -> str:
    """Two tables, rows methods: PhysHMR's protocol's means (and PHC's success), then PHC's
    errors over the frames tracked before each sequence fails (so a method whose every
    clip fails PhysHMR's 100 mm rule still shows its errors)."""
    lines = [
        f"PhysHMR's protocol: 100-frame clips, rigid alignment, clips with PA-MPJPE > 100 mm are failures "
        f"and left out of the means (mm; accel mm/frame^2; height variance x1e6); PHC's success: every frame "
        f"within 0.5 m from the first. Split `{split}`, {videos} videos.",
        "",
        *_table(rows, COLUMNS, budget=True),
        "",
        "PHC's protocol: no alignment, errors over each sequence's frames until it fails, means over all sequences.",
        "",
        *_table([{**r, **r["phc"], "method": r["method"]} for r in rows], PHC_COLUMNS, budget=False),
    ]
    return "\n".join(lines) + "\n"


def plot_per_frame(methods: Sequence[MethodSequences], path: str | Path, *, videos: int = 3) -> Path:
    """Per-frame global error (mean over joints, mm) of the first ``videos`` videos, each method a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from physhmr_jax.agents.run_dir import save_figure

    count = min(videos, len(methods[0].names))
    fig, axes = plt.subplots(1, count, figsize=(4.5 * count, 3.2), squeeze=False)
    for j in range(count):
        ax = axes[0, j]
        for m in methods:
            err = 1000.0 * np.linalg.norm(m.pred[j] - m.gt[j], axis=-1).mean(-1)
            ax.plot(np.arange(len(err)), err, label=m.method)
        ax.set_title(methods[0].names[j])
        ax.set_xlabel("frame")
        ax.set_ylabel("global joint error (mm)")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)


def parse_runs(runs: Sequence[str]) -> list[tuple[str, str]]:
    """``LABEL=DIR`` or ``DIR`` (labelled by its folder name) -> [(label, dir)]."""
    out = []
    for text in runs:
        label, _, path = text.rpartition("=") if "=" in text else ("", "", text)
        out.append((label or Path(path).name, path))
    return out


def evaluate_vision(
    data: str | Path,
    *,
    split: str = "test",
    runs: Sequence[str] = (),
    kinematic: bool = True,
    tracker: str | Path | None = None,
    out: str | Path | None = None,
    seed_index: int = 0,
    plot_videos: int = 3,
    motions: str | Path | None = None,
) -> dict:
    """The results table on ``data/<split>``: the kinematic baseline, the two-stage baseline
    (with ``tracker``), and each student of ``runs`` (``LABEL=RUN``: a run directory or an
    exported file; ``motions``: the clips the videos show, default each student's teacher's
    set). With ``out``, writes
    ``results.json``, ``results.md``, ``per_frame_errors.png`` (and the two-stage clips) there."""
    samples = load_split(data, split)
    methods: list[MethodSequences] = []
    kin = kinematic_sequences(samples) if (kinematic or tracker is not None) else None
    if kinematic:
        methods.append(kin)
    if tracker is not None:
        if out is None:
            raise ConfigError("the two-stage baseline writes its retargeted clips: give --out DIR")
        methods.append(two_stage_sequences(samples, kin, tracker, Path(out) / "two_stage_clips", seed_index=seed_index))
    for label, run in parse_runs(runs):
        methods.append(student_sequences(run, samples, label=label, seed_index=seed_index, motions=motions))
    if not methods:
        raise ConfigError("nothing to evaluate: give --runs, --tracker, or keep the kinematic baseline")
    rows = [method_row(m) for m in methods]
    result = {
        "data": str(data),
        "split": split,
        "videos": len(samples),
        "protocols": ["physhmr", "phc"],
        "rows": rows,
        "markdown": markdown_table(rows, split=split, videos=len(samples)),
    }
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(result, indent=2))
        (out / "results.md").write_text(result["markdown"])
        result["plot"] = str(plot_per_frame(methods, out / "per_frame_errors.png", videos=plot_videos))
    result["sequences"] = methods  # in memory only (the simulated bodies and qpos per video)
    return result


__all__ = [
    "COLUMNS",
    "PHC_COLUMNS",
    "MethodSequences",
    "evaluate_vision",
    "kinematic_sequences",
    "load_split",
    "markdown_table",
    "method_row",
    "parse_runs",
    "plot_per_frame",
    "retargeted_estimate",
    "smooth",
    "student_sequences",
    "two_stage_sequences",
]
