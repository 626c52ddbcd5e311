# Sourced by the student's experiment scripts after they set STEPS (env steps per seed):
# PHYSHMR, ITERATIONS (STEPS over one iteration of the `cpu` student preset, 128 envs x 32
# steps; at least 1) and `require_pretrained ROOT`, which stops with one line naming the
# first missing output of `experiments/pretrained.sh cpu` under ROOT.
PHYSHMR=.venv/bin/physhmr
ITERATIONS=$(( STEPS / (128 * 32) ))
ITERATIONS=$(( ITERATIONS > 0 ? ITERATIONS : 1 ))
require_pretrained() {  # ROOT
  for f in "$1/expert/policy.npz" "$1/videos/manifest.json" "$1/student/config.json"; do
    [ -f "$f" ] || { echo "error: $f missing: run bash experiments/pretrained.sh cpu first" >&2; exit 2; }
  done
}
