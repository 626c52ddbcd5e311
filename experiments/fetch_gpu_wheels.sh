#!/usr/bin/env bash
# Fetch the Python 3.12 wheels that the GPU machines lack (they have JAX 0.11, flax, optax,
# orbax, chex, numpy, scipy, matplotlib, tqdm, imageio and no package index) into .whl/,
# for experiments/gpu_run.sh to install from. Run once from the repository root, on a
# machine that reaches PyPI:
#
#   bash experiments/fetch_gpu_wheels.sh        # -> .whl/*.whl, about 20 MiB (limit 60 MiB)
#
# .whl/ is git-ignored through .git/info/exclude; the device tool carries it (carry: [".whl"]).
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
mkdir -p .whl
# Pinned to requirements.txt's versions; --no-deps: each missing dependency is named here.
WHEELS=(
  mujoco==4.0.0 mujoco-core==4.0.0 mujoco-mjx==3.17.0 brax==0.14.2 ml-collections==1.1.0
  tensorboardX==2.6.5 trimesh
)
PY=${PYTHON:-python3}
$PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any -d .whl "${WHEELS[@]}"
du -sh .whl
total=$(du -sm .whl | cut -f1)
if [ "$total" -gt 60 ]; then echo "error: .whl is ${total} MiB, over the 60 MiB budget" >&2; exit 1; fi
ls -1 .whl
