#!/usr/bin/env bash
# The teacher the student issues distil from, on a named motion set with a stated budget.
# Run from the repository root (the CMU set needs `make motions-cmu` and
# `bash experiments/gpu_run.sh --prepare-cmu` first).
#
#   bash experiments/teacher.sh procedural [ENV_STEPS_PER_SEED]   # 8 types x 2 clips, default 1M
#   PER_TYPE=6 bash experiments/teacher.sh procedural ...            # 8 types x 6 clips (the first 2 the same)
#   bash experiments/teacher.sh cmu [ENV_STEPS_PER_SEED]          # CMU minus 49_06/49_08, default 1M
#
# 2 seeds x 128 envs on the `cpu` preset with the best variant measured on the CMU walks
# (docs/expert.md: residual actions, horizon 16 in minibatches of 512, fixed learning rate
# 1e-4, a pelvis-position reward term 0.3), evaluated every 10 iterations (20,480 env steps
# per seed; EVAL_EVERY=N iterations instead); the evaluation of each seed at the end is printed and
# the policy of the better seed exported to runs/expert/teacher_SET/policy.npz (OUT=DIR puts the
# run elsewhere).
# SYMMETRY: how the left-right symmetry of the task is used (docs/expert.md): `networks` (actor
# and critic symmetric by construction, ppo.symmetric_networks: both walks on both seeds at every
# evaluation but one from 532k to 1M), `loss` (the mirror loss at 10, ppo.symmetry_coef: both
# walks from about 600k, at half the evaluations), `off`. Default: networks for cmu, off for
# procedural (every procedural figure and shipped checkpoint was made without it).
# UPDATE: `decay` (PPO's clip at 0.4 and the rate falling linearly from 1e-4 to 1e-5 over the
# budget: with symmetric networks both CMU walks on both seeds from about 500k and G-MPJPE under
# 50 mm at 1M, docs/expert.md) or `fixed` (the recipe's constant 1e-4, clip 0.2). Default:
# decay for cmu, fixed for procedural.
# STARTS: where training episodes start. `uniform` (a clip by the library's weights, a time
# uniform in it) or `failureS` with S a whole number (PHC's hard-negative mining per S-th of each
# clip: a part drawn by its failure rate in training, 20 % by the library's weights, a time
# uniform in the part; envs/clip_sampling.py). Default: uniform. With `failureS`, PER=step has
# the rule share out each clip's training *steps* instead of its resets (a clip's reset weight
# divided by its mean episode length, no clip above 35 % of the steps; motions.failure_per), and
# SCORE=progress weights each part by the change of its failure rate (fast against slow counts)
# instead of the rate (motions.failure_score), and PLACE=start counts each step in the part where its
# episode started instead of the part of its own time (motions.failure_place: the jump is lost after
# its landing because of its take-off).
# TERMINATION=D: training episodes end when a body is D m from its reference (env.termination_distance_m;
# default PHC's 0.25): the procedural jump alone, held at 6 of 6 pairs from 102k with 0.5, 0 of 6 with 0.25.
set -euo pipefail
PHYSHMR=.venv/bin/physhmr
SET=${1:?usage: teacher.sh procedural|cmu [ENV_STEPS_PER_SEED]}
STEPS=${2:-1000000}
ITERATIONS=$(( STEPS / (128 * 16) ))
source "$(dirname "$0")/teacher_recipe.sh"  # recipe=(...)
case "$SET" in
  procedural) MOTIONS=procedural SYMMETRY=${SYMMETRY:-off} UPDATE=${UPDATE:-fixed}
              recipe+=(--set motions.procedural_per_type="${PER_TYPE:-2}") ;;
  cmu) MOTIONS=runs/motions/cmu_no_cartwheels SYMMETRY=${SYMMETRY:-networks} UPDATE=${UPDATE:-decay} ;;
  *) echo "usage: $0 procedural|cmu [ENV_STEPS_PER_SEED]" >&2; exit 2 ;;
esac
case "$UPDATE" in
  decay) recipe+=(--set ppo.clip_eps=0.4 --set ppo.learning_rate_schedule=linear --set ppo.learning_rate_final=1e-5
                  --set ppo.learning_rate_decay_env_steps="$STEPS") ;;
  fixed) ;;
  *) echo "UPDATE must be decay or fixed, not $UPDATE" >&2; exit 2 ;;
esac
case "$SYMMETRY" in
  networks) recipe+=(--set ppo.symmetric_networks=true) ;;
  loss) recipe+=(--set ppo.symmetry_coef=10.0) ;;
  off) ;;
  *) echo "SYMMETRY must be networks, loss or off, not $SYMMETRY" >&2; exit 2 ;;
esac
STARTS=${STARTS:-uniform}
case "$STARTS" in
  uniform) ;;
  failure[1-9]|failure[1-9][0-9]) recipe+=(--set motions.clip_sampling=failure --set motions.failure_segments="${STARTS#failure}"
                                   --set motions.failure_per="${PER:-reset}" --set motions.failure_score="${SCORE:-rate}")
                                   if [ -n "${PLACE:-}" ]; then recipe+=(--set motions.failure_place="$PLACE"); fi ;;
  *) echo "STARTS must be uniform or failureS (S a whole number, e.g. failure4), not $STARTS" >&2; exit 2 ;;
esac
if [ -n "${TERMINATION:-}" ]; then recipe+=(--set env.termination_distance_m="$TERMINATION"); fi
OUT=${OUT:-runs/expert/teacher_$SET}
if [ -d "$OUT/checkpoints" ]; then resume=(--resume); else resume=(); fi
$PHYSHMR train expert --preset cpu --motions "$MOTIONS" --seeds 2 --num-envs 128 --iterations "$ITERATIONS" \
  --checkpoint-every 10 --set run.eval_every="${EVAL_EVERY:-10}" --no-progress --out "$OUT" "${recipe[@]}" "${resume[@]}"
best=0 best_rate=-1
for s in 0 1; do
  $PHYSHMR eval expert --run "$OUT" --seed-index "$s" --json > "$OUT/eval_seed$s.json"
  rate=$(python3 -c "import json; print(json.load(open('$OUT/eval_seed$s.json'))['success_rate'])")
  echo "seed $s: success $rate"
  if python3 -c "import sys; sys.exit(0 if $rate > $best_rate else 1)"; then best=$s best_rate=$rate; fi
done
$PHYSHMR export expert --run "$OUT" --seed-index "$best" --out "$OUT/policy.npz"
