.PHONY: install test lint format serve bench constraints

install:
	python3 -m pip install -e '.[test]' -c constraints.txt

test:
	python3 -m pytest

lint:
	python3 -m ruff check searchsvc tests benchmarks
	python3 -m ruff format --check searchsvc tests benchmarks

format:
	python3 -m ruff format searchsvc tests benchmarks
	python3 -m ruff check --fix searchsvc tests benchmarks

serve:
	python3 -m searchsvc serve

bench:
	python3 benchmarks/index_build.py --n 155346

constraints:
	.ci/refresh-constraints
