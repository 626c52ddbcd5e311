#!/usr/bin/env bash
# The expert on the shared CMU clips: the CPU curve recorded in docs/expert.md and the
# paper-scale GPU run. Run from the repository root after `make motions-cmu`.
#
#   bash experiments/expert_cmu.sh cpu    # 2 walks, 2 seeds x 128 envs, PHC's recipe (cpu-phc), 45 min
#   bash experiments/expert_cmu.sh gpu    # every clip but the cartwheels, 4096 envs, PHC networks
set -euo pipefail
PHYSHMR=.venv/bin/physhmr
case "${1:-cpu}" in
  cpu)
    mkdir -p runs/motions/cmu_walks
    cp runs/motions/cmu/02_01.npz runs/motions/cmu/16_17.npz runs/motions/cmu_walks/
    # SIGINT makes the run save a checkpoint and its curves before it exits.
    timeout -s INT 2700 $PHYSHMR train expert --preset cpu-phc --motions runs/motions/cmu_walks \
      --seeds 2 --num-envs 128 --iterations 10000 --checkpoint-every 10 \
      --out runs/expert/cmu_walks_cpu || true
    $PHYSHMR eval expert --run runs/expert/cmu_walks_cpu --json \
      --video runs/expert/cmu_walks_cpu/eval_16_17.mp4 --video-clip 16_17
    ;;
  gpu)
    # The CMU set minus the cartwheel clips (the issue's success target excludes them).
    mkdir -p runs/motions/cmu_no_cartwheels
    for f in runs/motions/cmu/*.npz; do
      case "$(basename "$f")" in 49_06.npz|49_08.npz) ;; *) cp "$f" runs/motions/cmu_no_cartwheels/ ;; esac
    done
    $PHYSHMR train expert --preset gpu --motions runs/motions/cmu_no_cartwheels --seeds 1 \
      --iterations 20000 --checkpoint-every 200 --out runs/expert/cmu_gpu
    $PHYSHMR eval expert --run runs/expert/cmu_gpu --json
    ;;
  *) echo "usage: $0 cpu|gpu" >&2; exit 2 ;;
esac
