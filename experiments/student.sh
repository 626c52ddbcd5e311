#!/usr/bin/env bash
# PhysHMR's student on the procedural benchmark, on this CPU: videos of the teacher's motions
# from several cameras, split by motion (test motions are never seen by the encoder or the
# student in training), the encoder trained on the train split, DAgger from the teacher, and
# the student evaluated on the test videos beside the teacher on the same motions.
#
#   bash experiments/teacher.sh procedural          # first: runs/expert/teacher_procedural/policy.npz
#   bash experiments/student.sh [ENV_STEPS_PER_SEED]  # default 2M
#
# Then the results table (eval vision, with the two-stage baseline) and one reconstruction.
# Each data and training step is skipped when its output exists, so the script resumes
# after an interruption (training steps resume from their last checkpoint).
# Environment overrides (experiments/pretrained.sh uses them): TEACHER (an exported expert
# inside its run directory), VIDEOS, ENCODER, OUT, RESULTS, CAMERAS (per clip),
# ENCODER_PRESET (tiny|cpu), PER_TYPE (procedural clips per motion type, 2; the teacher's
# motions.procedural_per_type must be the same: `PER_TYPE=N experiments/teacher.sh procedural`).
set -euo pipefail
STEPS=${1:-2000000}
source "$(dirname "$0")/student_common.sh"  # PHYSHMR, ITERATIONS
TEACHER=${TEACHER:-runs/expert/teacher_procedural/policy.npz}
PER_TYPE=${PER_TYPE:-2}
if [ "$PER_TYPE" = 2 ]; then MOTIONS=runs/motions/procedural; else MOTIONS=runs/motions/procedural_pt$PER_TYPE; fi
VIDEOS=${VIDEOS:-runs/videos/procedural}
ENCODER=${ENCODER:-runs/encoder/procedural}
OUT=${OUT:-runs/student/procedural_distill}
RESULTS=${RESULTS:-runs/results/procedural}
CAMERAS=${CAMERAS:-3}
ENCODER_PRESET=${ENCODER_PRESET:-cpu}
[ -f "$TEACHER" ] || { echo "error: $TEACHER missing: run experiments/teacher.sh procedural first" >&2; exit 2; }

# The teacher's motions (expert motions.path "procedural": PER_TYPE clips per type, seed 0) as files.
[ -d "$MOTIONS" ] || $PHYSHMR motion procedural --out "$MOTIONS" --per-type "$PER_TYPE" --seed 0
# 3 random cameras per clip, split by clip into train/ and test/.
[ -f "$VIDEOS/manifest.json" ] || $PHYSHMR video synth --motions "$MOTIONS" --out "$VIDEOS" --cameras "$CAMERAS" --seed 0
# The encoder sees the train split only; then features for every shard.
[ -f "$ENCODER/config.json" ] || $PHYSHMR encoder train --data "$VIDEOS" --out "$ENCODER" --preset "$ENCODER_PRESET"
$PHYSHMR encoder features --encoder "$ENCODER" --data "$VIDEOS"
$PHYSHMR encoder eval --encoder "$ENCODER" --data "$VIDEOS" --split test --json > "$ENCODER/eval_test.json"

if [ -d "$OUT/checkpoints" ]; then resume=(--resume); else resume=(); fi
$PHYSHMR train student --teacher "$TEACHER" --data "$VIDEOS" --stage distill --preset cpu --seeds 2 \
  --num-envs 128 --iterations "$ITERATIONS" --checkpoint-every 10 --set run.eval_every=10 --no-progress \
  --out "$OUT" "${resume[@]}"
for s in 0 1; do
  $PHYSHMR eval student --run "$OUT" --split test --seed-index "$s" --json > "$OUT/eval_test_seed$s.json"
done
# The teacher on the same test motions (it reads the true reference; the student only the video).
python3 - "$VIDEOS/manifest.json" "$MOTIONS" "${MOTIONS}_test" <<'PY'
import json, pathlib, shutil, sys
manifest, motions, out = json.load(open(sys.argv[1])), pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
for clip, split in manifest["split"].items():
    if split == "test":
        shutil.copy(motions / f"{clip}.npz", out / f"{clip}.npz")
PY
# The seed the teacher file was exported from (teacher.sh exports the better one).
teacher_seed=$(${PYTHON:-.venv/bin/python} -c \
  "import sys; from physhmr_jax.expert.export import policy_meta; print(policy_meta(sys.argv[1])['seed_index'])" "$TEACHER")
$PHYSHMR eval expert --run "$(dirname "$TEACHER")" --seed-index "$teacher_seed" --motions "${MOTIONS}_test" --json \
  > "$OUT/teacher_eval_test.json"
# The results table on the test videos (docs/results.md): the kinematic baseline, the
# two-stage baseline (the estimate retargeted and tracked by the teacher) and the student.
$PHYSHMR eval vision --data "$VIDEOS" --split test --runs "distilled=$OUT" --tracker "$TEACHER" \
  --out "$RESULTS" --markdown "$RESULTS/table.md"
# One test video reconstructed (clip, BVH, mp4; play time vs real time in summary.json).
$PHYSHMR reconstruct --video "$(ls "$VIDEOS"/test/*.npz | head -1)" --run "$OUT" --out "$RESULTS/reconstruct" --json
