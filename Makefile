# Two commands: `make book` and `make test`. Both bootstrap .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATASET ?=
CONFIG  ?=
CORES   ?= 2

SMK_ARGS := --cores $(CORES)
ifneq ($(CONFIG),)
SMK_ARGS += --configfile $(CONFIG)
endif
ifneq ($(DATASET),)
SMK_ARGS += --config dataset=$(DATASET)
endif

.PHONY: book test test-fast venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

book: $(STAMP)
	$(BIN)/python -m hlm.build $(SMK_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest

# The edit loop: everything but the end-to-end builds (tests marked slow).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf data/processed data/fits figures/*/ build _book logs .snakemake
