# The two commands a newcomer needs: `make serve` and `make test`. Both set up .venv from
# requirements.lock first (skipped while the lock file is older than the set-up).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SETUP := $(VENV)/.set-up-from-lock
NEEDS_311 := import sys; sys.exit("Python 3.11 or newer is needed" if sys.version_info < (3, 11) else 0)
# From the npm registry, exactly as package-lock.json pins them: Mermaid, which the site
# serves itself, and axe-core, which the browser test runs on every page.
NODE_SETUP := node_modules/.set-up-from-lock
MERMAID := docs/javascripts/mermaid.min.js

# Material for MkDocs prints a notice about MkDocs 2.0 on every build; it is not a warning
# about this site, and silencing it this way keeps every real warning visible.
export NO_MKDOCS_2_WARNING := 1

# Test runs write nothing into the repository (.ci/run checks): bytecode caches go under .venv,
# which git ignores, and the next run reuses them. Not writing them at all cost about 3 s of CPU
# per pytest process (each worker, each page's pytest of its own): pytest rewrites the asserts
# of every plugin's whole package (schemathesis, hypothesis: some 360 modules) at each start.
TEST_ENV := PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/$(VENV)/pycache

.PHONY: serve test build lock clean update-docs lint bench bench-hostile setup repeat mutate \
	test-latest

serve: $(SETUP) $(MERMAID) ## set up, then serve the site on http://127.0.0.1:8000/async-fastapi-tested/ (the path of site_url), with live reload
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

# Two workers, each running whole files (a page's blocks share one namespace); pytest-randomly
# picks a new order every run and prints its seed: `-p randomly -p "randomly_seed=N"` repeats it.
#
# The run is measured by coverage.py (pytest-cov's --cov; what, in pyproject.toml's
# [tool.coverage]): every line a page shows must run (tests/support/shown_lines.py). Its data
# and the run's report go to build/, which git ignores: `make build` and `make serve` put each
# page's figures from that report at its foot (hooks/stamp.py).
PAGES_REPORT ?= build/pages-report.json
export PAGES_REPORT
test: $(SETUP) $(MERMAID) ## set up, then run every page and every test; write build/pages-report.json
	mkdir -p build/coverage
	$(TEST_ENV) COVERAGE_FILE=$(CURDIR)/build/coverage/data $(BIN)/python -m pytest \
		-n 2 --dist loadfile --cov --cov-report= --pages-report $(PAGES_REPORT)

setup: $(SETUP) $(MERMAID) ## set up .venv from requirements.lock and node_modules/ from package-lock.json (serve and test do this first)

# The suite again and again, each run in a new random order; stops at the first failure and
# shows that run in full, with the seed that repeats its order. `make mutate` runs the same
# once, on its unchanged copy, before any mutant (CI's repeat); the weekly soak
# (.github/workflows/soak.yml) runs it 20 times. The browser test sits out: it reads the built
# site, which no other test's order can change, and at about three minutes a run it would
# double the repeats' time (make test runs it every time).
RUNS ?= 20
repeat: $(SETUP) $(MERMAID) ## run make test's suite, the browser test aside, RUNS times in a row (default 20)
	@for run in $$(seq $(RUNS)); do \
		output=$$($(TEST_ENV) $(BIN)/python -m pytest -n 2 --dist loadfile \
			--ignore tests/test_browser.py 2>&1) \
			|| { echo "$$output"; echo "run $$run of $(RUNS) failed"; exit 1; }; \
		echo "run $$run of $(RUNS): $$(echo "$$output" | grep -o 'randomly-seed=[0-9]*'):" \
			"$$(echo "$$output" | tail -n 1 | tr -d '=')"; \
	done

# Mutants run MUTATE_JOBS at a time (`make mutate MUTATE_JOBS=1`; by default one for each CPU).
mutate: $(SETUP) $(MERMAID) ## break snippets and pages on purpose; every break must fail the tests
	$(TEST_ENV) $(BIN)/python scripts/mutations.py

# Rot caught early: the lock ignored, pyproject.toml's direct dependencies at their newest releases
# (PRE=1: pre-releases too) in a fresh .venv-latest, then the whole suite there as `make test`
# runs it, and update-docs in a copy of the repository. build/latest/report.md says which
# versions differ from the lock, what failed, and what the pages would now show; the exit status
# fails when anything did. PIP_CONSTRAINT=FILE holds a library back (a line `fastapi<0.165`).
# The weekly workflow .github/workflows/latest.yml runs it and keeps build/latest/. It needs no
# .venv: any Python 3.11 runs scripts/latest.py, which makes its own.
test-latest: $(MERMAID) ## the suite against the newest releases of the direct dependencies; report in build/latest/ (PRE=1: pre-releases)
	@$(PYTHON) -c '$(NEEDS_311)'
	$(PYTHON) scripts/latest.py $(if $(PRE),--pre)

build: $(SETUP) $(MERMAID) ## write the site to site/
	$(BIN)/mkdocs build --strict

# The project itself goes in last, editable and without dependencies: that installs the engine
# (src/pytest_pages/) and its pytest entry point, built by the locked setuptools, offline.
$(SETUP): requirements.lock pyproject.toml
	@$(PYTHON) -c '$(NEEDS_311)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --no-index --editable .
	touch $@

# npm ci installs exactly what package-lock.json lists (checked against its hashes), and runs
# no package's install scripts. Only files for the browser are used (Mermaid's bundle,
# axe-core's script), so a package asking for a newer Node than Debian's only warns.
$(NODE_SETUP): package-lock.json package.json
	@command -v npm >/dev/null || { echo "npm is needed (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(MERMAID): $(NODE_SETUP)
	cp node_modules/mermaid/dist/mermaid.min.js $@

lock: ## re-resolve pyproject.toml's dependencies, and the setuptools that builds it, into requirements.lock
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet pip-tools==7.6.2
	.venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --all-build-deps \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml
	rm -rf .venv-lock

clean: ## remove the set-up and the built site
	rm -rf $(VENV) node_modules $(MERMAID) site

lint: $(SETUP) ## ruff and mypy over the code, ruff over the pages' Python blocks (make test runs it too)
	$(BIN)/python -m pytest tests/test_lint.py -q

update-docs: $(SETUP) ## rewrite every shown response, conversation, printed output and prose number that differs
	$(BIN)/python -m pytest docs -q --update-docs

bench: $(SETUP) ## measure the endpoints under uvicorn; rewrite the Benchmarks page's data (scripts/benchmarks.py --kinds NAME... measures a few)
	$(BIN)/python scripts/benchmarks.py

bench-hostile: $(SETUP) ## what a compressed bomb and a 50 MiB upload cost the apps, under uvicorn
	$(BIN)/python scripts/benchmarks_hostile.py
