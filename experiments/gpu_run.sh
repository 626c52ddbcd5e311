#!/usr/bin/env bash
# The GPU session's one command (H100/H200, Python 3.12 with JAX 0.11 preinstalled, no package
# index): throughput at 4096 and 8192 envs, then the teacher trained on a motion set for a
# fixed wall-clock budget and evaluated. Everything it measures goes to OUT_DIR (at most 8
# files, each <= 15 MiB: results.json, curves.png, metrics.csv, config.json, policy.npz.part-*).
#
#   bash experiments/fetch_gpu_wheels.sh          # once, where PyPI is reachable: .whl/ (~20 MiB)
#   make motions-cmu && bash experiments/gpu_run.sh --prepare-cmu   # CMU set minus the cartwheels
#   bash experiments/gpu_run.sh OUT_DIR [MOTIONS_DIR]               # on the GPU (device tool:
#                                              # carry [".whl", "runs/motions/cmu_no_cartwheels"])
#
# Sizes come from the environment so the same script dry-runs on a CPU in minutes:
#   GPU_RUN_ENVS=16 GPU_RUN_TRAIN_PRESET=smoke GPU_RUN_BENCH_PRESET=smoke GPU_RUN_TRAIN_SECONDS=120 \
#     GPU_RUN_BENCH_ITERATIONS=1 PYTHON=.venv/bin/python bash experiments/gpu_run.sh /tmp/gpu_dry procedural
# Defaults (the GPU run):
#   GPU_RUN_ENVS="4096 8192"  GPU_RUN_TRAIN_PRESET=gpu  GPU_RUN_SEEDS=2  GPU_RUN_TRAIN_SECONDS=300
#   GPU_RUN_BENCH_PRESET=gpu  GPU_RUN_BENCH_ITERATIONS=2  GPU_RUN_TRAIN_ITERATIONS=100000
#   GPU_RUN_SYMMETRIC=true   (the teacher's actor and critic symmetric by construction,
#                             ppo.symmetric_networks, as experiments/teacher.sh cmu; false: plain)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ "${1:-}" = "--prepare-cmu" ]; then
  mkdir -p runs/motions/cmu_no_cartwheels
  for f in runs/motions/cmu/*.npz; do
    case "$(basename "$f")" in 49_06.npz|49_08.npz) ;; *) cp "$f" runs/motions/cmu_no_cartwheels/ ;; esac
  done
  ls runs/motions/cmu_no_cartwheels | wc -l
  exit 0
fi

OUT=${1:?usage: gpu_run.sh OUT_DIR [MOTIONS_DIR] | --prepare-cmu}
MOTIONS=${2:-runs/motions/cmu_no_cartwheels}
[ -d "$MOTIONS" ] || MOTIONS=procedural
ENVS=${GPU_RUN_ENVS:-"4096 8192"}
TRAIN_PRESET=${GPU_RUN_TRAIN_PRESET:-gpu}
BENCH_PRESET=${GPU_RUN_BENCH_PRESET:-gpu}
SEEDS=${GPU_RUN_SEEDS:-2}
TRAIN_SECONDS=${GPU_RUN_TRAIN_SECONDS:-300}
TRAIN_ITERATIONS=${GPU_RUN_TRAIN_ITERATIONS:-100000}
BENCH_ITERATIONS=${GPU_RUN_BENCH_ITERATIONS:-2}
SYMMETRIC=${GPU_RUN_SYMMETRIC:-true}
WORK=${GPU_RUN_WORK:-/tmp/physhmr_gpu_run}
mkdir -p "$OUT" "$WORK"
rm -rf "$WORK/run"

# The wheels are for Python 3.12 (the GPU machines); a CPU dry run uses its own environment.
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1 && $PY -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$WORK/site" .whl/*.whl || exit 1
  export PYTHONPATH="$WORK/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export MUJOCO_GL=${MUJOCO_GL:-egl}
export XLA_PYTHON_CLIENT_PREALLOCATE=false
CLI="$PY -m physhmr_jax.cli"
start=$(date +%s)
log() { echo "[gpu_run $(( $(date +%s) - start ))s] $*" >&2; }

$PY - <<'PY' > "$WORK/versions.json" || { echo "error: imports failed (missing wheels? run experiments/fetch_gpu_wheels.sh)" >&2; exit 1; }
import physhmr_jax.agents.ppo  # noqa: F401  first: MJX without its Warp chatter on stdout, then brax's pieces
import json, jax, mujoco, brax, ml_collections, flax, optax, orbax.checkpoint
print(json.dumps({"python": __import__("sys").version.split()[0], "jax": jax.__version__, "mujoco": mujoco.__version__,
                  "brax": brax.__version__, "flax": flax.__version__, "devices": [str(d) for d in jax.devices()],
                  "device_kind": jax.devices()[0].device_kind}))
PY
log "versions: $(cat "$WORK/versions.json")"

for n in $ENVS; do
  log "bench env --num-envs $n"
  $CLI bench env --num-envs "$n" --json > "$WORK/bench_env_$n.json" || log "bench env $n failed"
  log "bench train --num-envs $n --preset $BENCH_PRESET"
  $CLI bench train --num-envs "$n" --preset "$BENCH_PRESET" --iterations "$BENCH_ITERATIONS" --json \
    > "$WORK/bench_train_$n.json" || log "bench train $n failed"
done

log "train expert --preset $TRAIN_PRESET --motions $MOTIONS --seeds $SEEDS (symmetric networks: $SYMMETRIC) for ${TRAIN_SECONDS}s"
# SIGINT at the budget: the run checkpoints its last iteration and writes its curves.
timeout -s INT -k 90 "$TRAIN_SECONDS" $CLI train expert --preset "$TRAIN_PRESET" --motions "$MOTIONS" --seeds "$SEEDS" \
  --iterations "$TRAIN_ITERATIONS" --set ppo.symmetric_networks="$SYMMETRIC" --out "$WORK/run" --no-progress \
  > "$WORK/train.json"
log "train exit $?"
for s in $(seq 0 $((SEEDS - 1))); do
  $CLI eval expert --run "$WORK/run" --seed-index "$s" --json > "$WORK/eval_seed$s.json" || log "eval seed $s failed"
done
$CLI export expert --run "$WORK/run" --out "$WORK/policy.npz" --json > "$WORK/export.json" || log "export failed"

$PY - "$WORK" "$OUT" <<'PY'
import json, pathlib, sys
work, out = map(pathlib.Path, sys.argv[1:])
def last_rows(p):  # the last CSV row of each seed: env steps, wall time, the latest figures
    import csv
    try:
        rows = list(csv.DictReader(p.open()))
    except OSError as err:
        return {"error": f"{p.name}: {err}"}
    return {r["seed"]: {k: v for k, v in r.items() if v != ""} for r in rows}
def read(p):
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError) as err:
        return {"error": f"{p.name}: {err}"}
results = {"versions": read(work / "versions.json"),
           "bench_env": {p.stem.split("_")[-1]: read(p) for p in sorted(work.glob("bench_env_*.json"))},
           "bench_train": {p.stem.split("_")[-1]: read(p) for p in sorted(work.glob("bench_train_*.json"))},
           "train": read(work / "train.json"), "train_last_rows": last_rows(work / "run" / "metrics.csv"),
           "export": read(work / "export.json"),
           "eval": {p.stem: {k: v for k, v in read(p).items() if k != "per_clip"} for p in sorted(work.glob("eval_seed*.json"))},
           "eval_per_clip": {p.stem: read(p).get("per_clip") for p in sorted(work.glob("eval_seed*.json"))}}
(out / "results.json").write_text(json.dumps(results, indent=1))
PY
for f in curves.png metrics.csv config.json; do [ -f "$WORK/run/$f" ] && cp "$WORK/run/$f" "$OUT/"; done
if [ -f "$WORK/policy.npz" ]; then split -b 15M -d "$WORK/policy.npz" "$OUT/policy.npz.part-"; fi
log "done: $(ls "$OUT" | tr '\n' ' ')"
