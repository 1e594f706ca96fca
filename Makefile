# Two entry points for a newcomer:  `make run`  and  `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run test install install-dev index lint bench clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

# torch 2.13.0 is the CPU build available offline; a plain `torch` would pull CUDA.
$(VENV)/.dev: $(VENV)/.base
	$(PIP) install "torch==2.13.0"
	$(PIP) install -e ".[dev,sentence-transformers]"
	touch $@

install: $(VENV)/.base
install-dev: $(VENV)/.dev

index: install
	$(PY) -m indexer refresh

run: install
	$(PY) -m indexer refresh --if-missing
	$(PY) -m bot run

test: install-dev
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

bench: install-dev
	$(PY) benchmarks/retrieval.py
	$(PY) benchmarks/answers.py

clean:
	rm -rf $(VENV) data
