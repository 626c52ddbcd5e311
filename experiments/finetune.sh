#!/usr/bin/env bash
# Fine-tuning the distilled student (PhysHMR's second stage), with and without the motion
# prior, from the same distilled weights at equal env steps, in one table.
#
#   bash experiments/pretrained.sh cpu          # first: runs/pretrained_cpu/{expert,videos,student}
#   bash experiments/finetune.sh [ENV_STEPS_PER_SEED]    # default 40960 (10 iterations)
#
# finetune: PPO on the imitation reward (and the power penalty) + 0.1 x the MSE to the
# teacher's action, rate 3e-5 (student/config.py's `finetune` stage); finetune_amp: the same
# with PhysHMR's AMP-style motion prior mixed into the reward (ppo.amp_weight 0.5: a
# discriminator on state transitions, agents/amp.py), which should lower foot sliding.
# Both start every seed from the distilled student's seed 0 (2 seeds x 128 envs). Then
# eval vision puts them beside the distilled student and both baselines on the test videos
# (docs/student.md). Finished runs are skipped, interrupted ones resume.
set -euo pipefail
STEPS=${1:-40960}
ROOT=${ROOT:-runs/pretrained_cpu}
source "$(dirname "$0")/student_common.sh"  # PHYSHMR, ITERATIONS, require_pretrained
require_pretrained "$ROOT"

runs=("distilled=$ROOT/student")
for arm in finetune finetune_amp; do
  OUT=$ROOT/student_$arm
  runs+=("$arm=$OUT")
  if [ -d "$OUT/checkpoints/$ITERATIONS" ]; then
    echo "done before: $OUT"; continue
  fi
  if [ -d "$OUT/checkpoints" ]; then resume=(--resume); else resume=(--init "$ROOT/student"); fi
  extra=(); [ "$arm" = finetune_amp ] && extra=(--set ppo.amp_weight=0.5)
  echo "== $arm: $ITERATIONS iterations, 2 seeds x 128 envs -> $OUT"
  /usr/bin/time -f "$arm: %e s wall" $PHYSHMR train student --teacher "$ROOT/expert/policy.npz" \
    --data "$ROOT/videos" --stage finetune --preset cpu --seeds 2 --num-envs 128 --iterations "$ITERATIONS" \
    --checkpoint-every 5 --set run.eval_every=5 --set ppo.learning_rate=3e-5 --no-progress \
    --out "$OUT" "${resume[@]}" "${extra[@]}"
done
mkdir -p "$ROOT/results_finetune"
$PHYSHMR eval vision --data "$ROOT/videos" --split test --runs "${runs[@]}" --tracker "$ROOT/expert/policy.npz" \
  --out "$ROOT/results_finetune" --markdown "$ROOT/results_finetune/table.md" --json \
  > "$ROOT/results_finetune/results_stdout.json"
cat "$ROOT/results_finetune/table.md"
