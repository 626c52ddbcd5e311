#!/usr/bin/env bash
# The expert's sample-efficiency comparison on the shared CMU walks (02_01, 16_17): PHC's
# recipe (absolute PD targets, fixed learning rate 3e-4) against residual actions about the
# reference (the expert's recipe, `cpu` preset), against residual + a KL-adaptive rate, against
# residual with horizon 16 (more updates per sample) and a linear learning-rate decay, and that
# with the training termination distance at 0.5 m, horizon 16 with a fixed rate of 1e-4,
# that with 3 future reference frames in the observation, horizon 16 at 3e-5, and horizon 16
# at 1e-4 with 512 envs per seed, and horizon 16 at 1e-4 with a 0.2 s target lead or a pelvis-position
# reward term; each with 2 seeds vmapped in one program, 128 envs per seed
# (the 512-env variant: 512), evaluated every 10 iterations (that one: every 3) on every clip from its
# first frame. Then one figure and one table at equal env steps
# (docs/expert.md). Run from the repository root after `make motions-cmu`:
#
#   bash experiments/expert_recipes.sh [ENV_STEPS_PER_SEED]     # default 307,200 (75 iterations)
#
# Each variant's run directory can be continued to a larger budget with
#   .venv/bin/physhmr train expert --out runs/expert/recipes/VARIANT --resume --iterations N
set -euo pipefail
PHYSHMR=.venv/bin/physhmr
STEPS=${1:-307200}
ITERATIONS=$(( STEPS / (128 * 32) ))
mkdir -p runs/motions/cmu_walks runs/expert/recipes
cp runs/motions/cmu/02_01.npz runs/motions/cmu/16_17.npz runs/motions/cmu_walks/
common=(--motions runs/motions/cmu_walks --seeds 2 --num-envs 128 --checkpoint-every 10 --no-progress
        --iterations "$ITERATIONS" --set run.eval_every=10)
train() {  # VARIANT PRESET [--set ...]
  local variant=$1 preset=$2; shift 2
  local out=runs/expert/recipes/$variant
  if [ -d "$out/checkpoints" ]; then resume=(--resume); else resume=(); fi
  $PHYSHMR train expert --preset "$preset" --out "$out" "${common[@]}" "${resume[@]}" "$@"
}
# Horizon 16 with minibatches of 512: 24 Adam steps per 2,048 transitions instead of 12 per
# 4,096 (same iteration count per env step budget: twice the iterations).
h16=(--set ppo.horizon=16 --set ppo.minibatch_size=512)
linear=(--set ppo.learning_rate_schedule=linear --set ppo.learning_rate_final=3e-5
        --set ppo.learning_rate_decay_env_steps=1000000)
train residual cpu                                                   # residual, fixed lr 3e-4
train residual_kl cpu --set ppo.learning_rate_schedule=kl_adaptive  # residual, KL-adaptive lr
train absolute cpu-phc                                              # PHC: absolute, fixed lr 3e-4
ITERATIONS=$(( STEPS / (128 * 16) ))  # horizon 16: twice the iterations per env step
common=(--motions runs/motions/cmu_walks --seeds 2 --num-envs 128 --checkpoint-every 10 --no-progress
        --iterations "$ITERATIONS" --set run.eval_every=10)
train residual_h16_linear cpu "${h16[@]}" "${linear[@]}"            # + horizon 16, linear lr decay
train residual_h16_linear_term05 cpu "${h16[@]}" "${linear[@]}" --set env.termination_distance_m=0.5
train residual_h16_lr1e-4 cpu "${h16[@]}" --set ppo.learning_rate=1e-4           # + horizon 16, fixed lr 1e-4
train residual_h16_lr1e-4_future3 cpu "${h16[@]}" --set ppo.learning_rate=1e-4 --set env.num_future_frames=3
train residual_h16_lr3e-5 cpu "${h16[@]}" --set ppo.learning_rate=3e-5           # + horizon 16, fixed lr 3e-5
train residual_h16_lr1e-4_lead0.2 cpu "${h16[@]}" --set ppo.learning_rate=1e-4 --set env.target_lead_s=0.2  # + target lead
train residual_h16_lr1e-4_rootpos0.3 cpu "${h16[@]}" --set ppo.learning_rate=1e-4 --set env.reward_scales.root_pos=0.3  # + pelvis term
# Four times the batch per update at the same updates per sample: 512 envs per seed, minibatches
# of 2,048, evaluated every 3 iterations (24,576 env steps per seed).
ITERATIONS=$(( (STEPS + 512 * 16 - 1) / (512 * 16) ))
train residual_h16_lr1e-4_envs512 cpu "${h16[@]}" --set ppo.learning_rate=1e-4 --num-envs 512 \
  --set ppo.minibatch_size=2048 --iterations "$ITERATIONS" --set run.eval_every=3 --checkpoint-every 3
$PHYSHMR bench compare runs/expert/recipes/{absolute,residual,residual_kl,residual_h16_linear,residual_h16_linear_term05,residual_h16_lr1e-4,residual_h16_lr1e-4_future3,residual_h16_lr3e-5,residual_h16_lr1e-4_envs512,residual_h16_lr1e-4_lead0.2,residual_h16_lr1e-4_rootpos0.3} \
  --labels "absolute (PHC), lr 3e-4" "residual 0.5, lr 3e-4" "residual 0.5, KL-adaptive lr" \
           "residual, horizon 16, linear lr" "... and terminate at 0.5 m" "residual, horizon 16, lr 1e-4" \
           "... and 3 future frames" "residual, horizon 16, lr 3e-5" "horizon 16, lr 1e-4, 512 envs" \
           "horizon 16, lr 1e-4, target lead 0.2 s" "horizon 16, lr 1e-4, pelvis term 0.3" \
  --metric eval/success_rate --metric eval/g_mpjpe_mm --metric rollout/episode_length_mean \
  --metric sgd/clip_fraction --title "CMU 02_01 + 16_17, 2 seeds, 128 envs each unless labelled (CPU)" \
  --out docs/expert_recipes_cmu_walks.png
