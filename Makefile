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

.PHONY: book test venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

book: $(STAMP)
	$(BIN)/snakemake $(SMK_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf data/processed data/fits figures/*/ build _book logs .snakemake
