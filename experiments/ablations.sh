#!/usr/bin/env bash
# PhysHMR's input ablations of the student at the shipped student's budget, in one table.
#
#   bash experiments/pretrained.sh cpu          # first: runs/pretrained_cpu/{expert,videos,student}
#   bash experiments/ablations.sh [ENV_STEPS_PER_SEED]   # default 81920, the shipped student's
#
# Each ablation (env.ablation, envs/vision.py) is the shipped student's command with one input
# changed: no_rays (the 48 ray inputs zeroed), no_features (the image features zeroed),
# root_position (the rays replaced by the offset of the kinematic baseline's 3D pelvis).
# Same teacher, videos, encoder features, networks, seeds (2 x 128 envs) and budget; then
# eval vision puts them beside the student and both baselines on the test videos
# (docs/results.md). Finished runs are skipped, interrupted ones resume.
set -euo pipefail
STEPS=${1:-81920}
ROOT=${ROOT:-runs/pretrained_cpu}
source "$(dirname "$0")/student_common.sh"  # PHYSHMR, ITERATIONS, require_pretrained, train_arm, results_table
require_pretrained "$ROOT"

runs=("distilled=$ROOT/student")
for ablation in no_rays no_features root_position; do
  runs+=("$ablation=$ROOT/ablation_$ablation")
  train_arm "$ablation" "$ROOT/ablation_$ablation" -- --stage distill --checkpoint-every 10 \
    --set run.eval_every=10 --set env.ablation="$ablation"
done
results_table ablations "${runs[@]}"
