#!/usr/bin/env bash
# The paper's argument for distillation, measured: the same student (observation, networks,
# envs, videos) trained by DAgger from the teacher vs by PPO from scratch on the imitation
# reward (the finetune stage with kin_weight 0: no teacher term), 2 seeds each, vmapped,
# evaluated on the test videos every EVAL_EVERY iterations; then both curves at equal env
# steps (physhmr bench compare) into docs/student_distill_vs_scratch.png.
#
#   bash experiments/pretrained.sh cpu                  # first: teacher, videos, encoder features
#   bash experiments/distill_vs_scratch.sh [ENV_STEPS_PER_SEED]   # default 163840 (40 iterations)
#
# Environment overrides: TEACHER, VIDEOS, OUT (folder of the two runs), EVAL_EVERY, FIGURE,
# DAGGER (an existing DAgger run of these videos, 2 seeds x 128 envs evaluated every EVAL_EVERY
# iterations, e.g. student.sh's: then only PPO from scratch trains and the curves compare the two).
# Each run resumes from its last checkpoint when run again.
#
# The 48-clip benchmark (docs/student.md, "Three times the motions"), against its 655k DAgger run:
#   R=runs/pretrained_cpu_pt6; TEACHER=$R/expert/policy.npz VIDEOS=$R/videos OUT=$R/distill_vs_scratch \
#     DAGGER=$R/student EVAL_EVERY=10 FIGURE=docs/student_distill_vs_scratch_pt6.png \
#     bash experiments/distill_vs_scratch.sh 655360
set -euo pipefail
STEPS=${1:-163840}
source "$(dirname "$0")/student_common.sh"  # PHYSHMR, ITERATIONS
TEACHER=${TEACHER:-runs/pretrained_cpu/expert/policy.npz}
VIDEOS=${VIDEOS:-runs/pretrained_cpu/videos}
OUT=${OUT:-runs/student/distill_vs_scratch}
EVAL_EVERY=${EVAL_EVERY:-4}
FIGURE=${FIGURE:-docs/student_distill_vs_scratch.png}
DAGGER=${DAGGER:-}
[ -f "$TEACHER" ] || { echo "error: $TEACHER missing: run experiments/pretrained.sh cpu first" >&2; exit 2; }
[ -f "$VIDEOS/manifest.json" ] || { echo "error: $VIDEOS missing: run experiments/pretrained.sh cpu first" >&2; exit 2; }

train() {  # NAME STAGE [--set ...]
  local name=$1 stage=$2; shift 2
  local resume=()
  [ -d "$OUT/$name/checkpoints" ] && resume=(--resume)
  echo "=== $name: stage $stage, $ITERATIONS iterations x 2 seeds x 128 envs ($(date +%H:%M:%S))"
  $PHYSHMR train student --teacher "$TEACHER" --data "$VIDEOS" --stage "$stage" --preset cpu --seeds 2 \
    --num-envs 128 --iterations "$ITERATIONS" --checkpoint-every "$EVAL_EVERY" --set "run.eval_every=$EVAL_EVERY" \
    --no-progress --out "$OUT/$name" "$@" "${resume[@]}"
}
if [ -n "$DAGGER" ]; then
  [ -f "$DAGGER/metrics.csv" ] || { echo "error: DAGGER=$DAGGER has no metrics.csv: not a training run" >&2; exit 2; }
else
  DAGGER=$OUT/dagger
  train dagger distill
fi
train ppo_scratch finetune --set ppo.kin_weight=0.0
$PHYSHMR bench compare "$DAGGER" "$OUT/ppo_scratch" --labels "DAgger (BC from the teacher)" \
  "PPO from scratch" --metric eval/success_rate --metric eval/g_mpjpe_mm --metric rollout/episode_length_mean \
  --title "The student on the procedural benchmark: DAgger vs PPO from scratch, 2 seeds each" --out "$FIGURE"
