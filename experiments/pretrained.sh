#!/usr/bin/env bash
# Every stage of PhysHMR from scratch on the embedded procedural motions, then the demo on
# the networks it made: the teacher (PPO, experiments/teacher.sh), the benchmark videos, the
# image encoder and the distilled student (experiments/student.sh), each exported as one
# file, then `physhmr demo` with those files instead of the shipped ones.
#
#   bash experiments/pretrained.sh toy      # minutes: a few iterations per stage (`make demo-from-scratch`)
#   bash experiments/pretrained.sh cpu      # the shipped checkpoints' budgets (about an hour on 2 cores)
#   bash experiments/pretrained.sh cpu --install   # ... and copy them into physhmr_jax/pretrained/
#
# Everything goes under runs/pretrained_SCALE/. Run again after an interruption: finished
# stages are skipped, training stages resume from their last checkpoint.
#
#   PER_TYPE=6 bash experiments/pretrained.sh cpu   # 6 procedural clips per motion type instead
#       of 2 (48 clips, 144 videos), under runs/pretrained_cpu_pt6/ (docs/student.md)
set -euo pipefail
SCALE=${1:?usage: pretrained.sh toy|cpu [--install]}
INSTALL=${2:-}
case "$SCALE" in
  toy) TEACHER_STEPS=8192 STUDENT_STEPS=8192 CAMERAS=1 ENCODER_PRESET=tiny ;;
  cpu) TEACHER_STEPS=61440 STUDENT_STEPS=81920 CAMERAS=3 ENCODER_PRESET=cpu ;;
  *) echo "usage: $0 toy|cpu [--install]" >&2; exit 2 ;;
esac
PER_TYPE=${PER_TYPE:-2}
export PER_TYPE  # teacher.sh and student.sh read it
if [ "$PER_TYPE" = 2 ]; then ROOT=runs/pretrained_$SCALE; else ROOT=runs/pretrained_${SCALE}_pt$PER_TYPE; fi
if [ "$PER_TYPE" != 2 ] && [ "$INSTALL" = "--install" ]; then
  echo "error: --install ships the 2-clips-per-type networks only (PER_TYPE=$PER_TYPE)" >&2; exit 2
fi
PHYSHMR=.venv/bin/physhmr
stage() { echo; echo "=== [pretrained $SCALE] $* ($(date +%H:%M:%S))"; }

stage "1/4 teacher: PPO on the procedural motions, $TEACHER_STEPS env steps per seed"
if [ -f "$ROOT/expert/policy.npz" ]; then echo "done before: $ROOT/expert/policy.npz"
else OUT=$ROOT/expert bash experiments/teacher.sh procedural "$TEACHER_STEPS"; fi

stage "2/4 videos, encoder, distilled student ($STUDENT_STEPS env steps per seed), table, reconstruction"
if [ -f "$ROOT/student.npz" ]; then echo "done before: $ROOT/student.npz"
else
  TEACHER=$ROOT/expert/policy.npz VIDEOS=$ROOT/videos ENCODER=$ROOT/encoder OUT=$ROOT/student \
    RESULTS=$ROOT/results CAMERAS=$CAMERAS ENCODER_PRESET=$ENCODER_PRESET \
    bash experiments/student.sh "$STUDENT_STEPS"
  $PHYSHMR export student --run "$ROOT/student" --out "$ROOT/student.npz"
fi

stage "3/4 the networks as files"
cp "$ROOT/expert/policy.npz" "$ROOT/expert.npz"
[ -f "$ROOT/encoder.npz" ] || $PHYSHMR export encoder --run "$ROOT/encoder" --out "$ROOT/encoder.npz"
ls -l "$ROOT"/*.npz
if [ "$INSTALL" = "--install" ]; then
  cp "$ROOT/expert.npz" physhmr_jax/pretrained/expert_procedural.npz
  cp "$ROOT/encoder.npz" physhmr_jax/pretrained/encoder_procedural.npz
  cp "$ROOT/student.npz" physhmr_jax/pretrained/student_procedural.npz
  echo "installed into physhmr_jax/pretrained/"
fi

stage "4/4 the demo on these networks"
$PHYSHMR demo --out "$ROOT/demo" --student "$ROOT/student.npz" --encoder "$ROOT/encoder.npz" \
  --expert "$ROOT/expert.npz"
