# Two commands: `make book` and `make test`. Both bootstrap .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATASET ?=
CONFIG  ?=
CORES   ?= 2
REMOTE  ?=
BRANCH  ?= gh-pages
PORT    ?= 8000
SITE    ?= _site

SMK_ARGS := --cores $(CORES)
ifneq ($(CONFIG),)
SMK_ARGS += --configfile $(CONFIG)
endif
ifneq ($(DATASET),)
SMK_ARGS += --config dataset=$(DATASET)
endif

.PHONY: book test test-fast bench publish site preview venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

book: $(STAMP)
	$(BIN)/python -m hlm.build $(SMK_ARGS)

# On the 2 cores (pytest-xdist); the builds the tests share are made once (tests/fixtures/shared.py).
test: $(STAMP)
	$(BIN)/python -m pytest -n $(CORES)

# The edit loop: everything but the end-to-end builds (tests marked slow); a test file's
# tests in one process, so that its module fixtures are computed once.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(CORES) --dist loadfile -m "not slow"

# The speed table of bench/README.md, from a clean clone of HEAD (a quiet machine; about an hour).
bench: $(STAMP)
	$(BIN)/python bench/run.py $(if $(ROWS),--only $(ROWS)) $(if $(ROUNDS),--rounds $(ROUNDS))

# Every built book (_book/<dataset>/) with a landing page, pushed to a branch for Pages.
publish: $(STAMP)
	$(BIN)/python -m hlm.publish --remote "$(REMOTE)" --branch "$(BRANCH)" $(if $(CONFIG),--configfile $(CONFIG))

# The same site in a folder (what .github/workflows/book.yml deploys).
site: $(STAMP)
	$(BIN)/python -m hlm.publish --site "$(SITE)" $(if $(CONFIG),--configfile $(CONFIG))

# Rebuild as the sources change and serve the book on http://127.0.0.1:$(PORT) with reloads.
preview: $(STAMP)
	$(BIN)/python -m hlm.preview --port $(PORT) --cores $(CORES) $(if $(DATASET),--dataset $(DATASET)) $(if $(CONFIG),--configfile $(CONFIG))

clean:
	rm -rf data/processed data/fits figures/*/ build _book _site logs .snakemake
