# First commands on a fresh clone: `make test`, `make demo`. Both create .venv when it is
# missing or older than requirements.txt / pyproject.toml, and install into it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export MUJOCO_GL ?= egl

.PHONY: test test-full test-fast demo demo-from-scratch lint format bench-env motions-cmu clean system-deps

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

# Headless rendering (EGL, software llvmpipe) for videos; installed only when missing.
system-deps:
	@if ! ldconfig -p | grep -q libEGL_mesa; then \
	  echo "installing EGL/Mesa for headless rendering"; \
	  (apt-get update -qq && apt-get install -y -qq libegl1 libegl-mesa0 libgl1-mesa-dri >/dev/null) || \
	  echo "warning: could not install EGL; rendering tests will be skipped"; \
	fi

test: $(STAMP) system-deps
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=15 -m "not full"

# Everything, with the acceptance checks at full size (every CMU clip imported, ...).
test-full: $(STAMP) system-deps
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=15

test-fast: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile -m "not slow and not full"

# PhysHMR from the shipped checkpoints (physhmr_jax/pretrained/): videos -> student -> table, mp4.
demo: $(STAMP) system-deps
	$(VENV)/bin/physhmr demo --out runs/demo

# Every stage retrained at toy scale (minutes), then the demo on those networks.
demo-from-scratch: $(STAMP) system-deps
	bash experiments/pretrained.sh toy

bench-env: $(STAMP)
	$(VENV)/bin/physhmr bench env --num-envs 512 --json

# Import the shared CMU clips (not shipped with the project) into runs/motions/cmu.
motions-cmu: $(STAMP)
	$(VENV)/bin/physhmr motion import ../shared/data/mocap/cmu --out runs/motions/cmu

lint: $(STAMP)
	$(VENV)/bin/ruff check physhmr_jax tests experiments
	$(VENV)/bin/ruff format --check physhmr_jax tests experiments

format: $(STAMP)
	$(VENV)/bin/ruff check --fix physhmr_jax tests experiments
	$(VENV)/bin/ruff format physhmr_jax tests experiments

clean:
	rm -rf $(VENV) runs .pytest_cache
