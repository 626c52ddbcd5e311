#!/usr/bin/env bash
# Fine-tuning the distilled student (PhysHMR's second stage), with and without the motion
# prior, from the same distilled weights at equal env steps, in one table.
#
#   bash experiments/pretrained.sh cpu          # first: runs/pretrained_cpu/{expert,videos,student}
#   bash experiments/finetune.sh [ENV_STEPS_PER_SEED]    # default 163840 (40 iterations)
#
# The default is past the dip: on the 48-clip benchmark (PER_TYPE=6) both arms lose success
# in the first 41k env steps and the plain arm has it back by 82k (docs/student.md).
#
# finetune: PPO on the imitation reward (and the power penalty) + 0.1 x the MSE to the
# teacher's action, rate 3e-5 (student/config.py's `finetune` stage); finetune_amp: the same
# with PhysHMR's AMP-style motion prior mixed into the reward (ppo.amp_weight 0.5: a
# discriminator on state transitions, agents/amp.py), which should lower foot sliding.
# Both start every seed from the distilled student's seed 0 (2 seeds x 128 envs). Then
# eval vision puts them beside the distilled student and both baselines on the test videos
# (docs/student.md). Finished runs are skipped, interrupted ones resume.
set -euo pipefail
STEPS=${1:-163840}
ROOT=${ROOT:-runs/pretrained_cpu}
source "$(dirname "$0")/student_common.sh"  # PHYSHMR, ITERATIONS, require_pretrained, train_arm, results_table
require_pretrained "$ROOT"

runs=("distilled=$ROOT/student")
for arm in finetune finetune_amp; do
  runs+=("$arm=$ROOT/student_$arm")
  extra=(); [ "$arm" = finetune_amp ] && extra=(--set ppo.amp_weight=0.5)
  train_arm "$arm" "$ROOT/student_$arm" --init "$ROOT/student" -- --stage finetune --checkpoint-every 5 \
    --set run.eval_every=5 --set ppo.learning_rate=3e-5 "${extra[@]}"
done
results_table finetune "${runs[@]}"
