# reko-mm: the two quick-start commands and their building blocks.
#   make demo   set up, then distil vintagify's trained generator into a 7x ReKo student
#   make test   set up, then lint (ruff, ruff.toml) and run the whole test suite
export REKO_VENV ?= $(CURDIR)/.venv
PY := $(REKO_VENV)/bin/python
# pytest workers (pytest-xdist; each on one thread): 2, for a 2-core machine (TEST_WORKERS=N);
# whole files go to a worker, the slowest first (SLOW_FIRST in tests/conftest.py)
TEST_WORKERS ?= 2

.PHONY: setup demo lint test
setup:
	bash tools/setup_env.sh

demo: setup
	bash tools/quick_start.sh

lint: setup
	$(PY) -m ruff check .

test: setup lint
	$(PY) -m pytest tests -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
