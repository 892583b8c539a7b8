# reko-mm: the two quick-start commands and their building blocks.
#   make demo   set up, then distil vintagify's trained generator into a 7x ReKo student
#   make test   set up, then lint (ruff, ruff.toml) and run the whole test suite
export REKO_VENV ?= $(CURDIR)/.venv
PY := $(REKO_VENV)/bin/python

.PHONY: setup demo lint test
setup:
	bash tools/setup_env.sh

demo: setup
	bash tools/quick_start.sh

lint: setup
	$(PY) -m ruff check .

test: setup lint
	$(PY) -m pytest tests -q -p no:cacheprovider
