# Sourced by the student's experiment scripts after they set STEPS (env steps per seed):
# PHYSHMR, ITERATIONS (STEPS over one iteration of the `cpu` student preset, 128 envs x 32
# steps; at least 1) and `require_pretrained ROOT`, which stops with one line naming the
# first missing output of `experiments/pretrained.sh cpu` under ROOT; for the scripts that
# train arms from those outputs (ROOT set before sourcing), `train_arm` and `results_table`.
PHYSHMR=${PHYSHMR:-.venv/bin/physhmr}
ITERATIONS=$(( STEPS / (128 * 32) ))
ITERATIONS=$(( ITERATIONS > 0 ? ITERATIONS : 1 ))
require_pretrained() {  # ROOT
  for f in "$1/expert/policy.npz" "$1/videos/manifest.json" "$1/student/config.json"; do
    [ -f "$f" ] || { echo "error: $f missing: run bash experiments/pretrained.sh cpu first" >&2; exit 2; }
  done
}
train_arm() {  # LABEL OUT [FRESH_ARGS...] -- TRAIN_ARGS...
  # `train student` with ROOT's teacher and videos, 2 seeds x 128 envs, ITERATIONS iterations:
  # a run with checkpoint ITERATIONS is skipped, an interrupted one resumed, a new one started
  # with FRESH_ARGS (e.g. --init DIR).
  local label=$1 out=$2 fresh=() start=()
  shift 2
  while [ "$1" != "--" ]; do fresh+=("$1"); shift; done
  shift
  if [ -d "$out/checkpoints/$ITERATIONS" ]; then echo "done before: $out"; return; fi
  if [ -d "$out/checkpoints" ]; then start=(--resume); else start=("${fresh[@]}"); fi
  echo "== $label: $ITERATIONS iterations, 2 seeds x 128 envs -> $out"
  /usr/bin/time -f "$label: %e s wall" $PHYSHMR train student --teacher "$ROOT/expert/policy.npz" \
    --data "$ROOT/videos" --preset cpu --seeds 2 --num-envs 128 --iterations "$ITERATIONS" --no-progress \
    --out "$out" "${start[@]}" "$@"
}
results_table() {  # NAME LABEL=RUN...: eval vision on ROOT's test videos into ROOT/results_NAME; prints the table
  local dir=$ROOT/results_$1
  shift
  mkdir -p "$dir"
  $PHYSHMR eval vision --data "$ROOT/videos" --split test --runs "$@" --tracker "$ROOT/expert/policy.npz" \
    --out "$dir" --markdown "$dir/table.md" --json > "$dir/results_stdout.json"
  cat "$dir/table.md"
}
