# protein_performer — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

CONFIG ?= configs/default.yaml
CHECKPOINT ?=
BENCH_ARGS ?=
BUDGET ?= 25000000
EXPERIMENTS_ARGS ?=
SOAK ?= 25
GPU_CHECK_ARGS ?=
# The GPU machine has no network and no .venv: use its own python3 (which holds torch) there.
GPU_PY ?= $(if $(wildcard $(PY)),$(PY),python3)

# No network calls by default: W&B logs offline, Hugging Face never reaches the hub.
export WANDB_MODE ?= offline
export HF_DATASETS_OFFLINE := 1
export HF_HUB_OFFLINE := 1
export MPLBACKEND := Agg
export TOKENIZERS_PARALLELISM := false

.PHONY: help install data train family family-bench family-speed analyze bench gpu-check test \
	soak lint format notebooks experiments help-text clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install -c constraints.txt -e '.[dev]'
	touch $@

$(BENCH_STAMP): $(STAMP)
	$(VENV)/bin/pip install -c constraints.txt -e '.[dev,bench]'
	touch $@

install: $(STAMP) ## Create .venv and install the package with dev tools (torch pinned by constraints.txt)

data: $(STAMP) ## Prepare the shipped UniProt sample into tokenised Arrow splits (cached)
	$(VENV)/bin/protein-performer prepare

train: data ## Train the default Performer-ReLU MLM on CPU (CONFIG=configs/x.yaml for another); continues an existing run
	$(VENV)/bin/protein-performer train --config $(CONFIG) --resume true

FAMILY_CONFIG ?= configs/family.yaml
FAMILY_ARGS ?=

family: $(STAMP) ## Train the default family model on PF00595 (PDZ); DMS + contact tables (FAMILY_CONFIG=...)
	$(VENV)/bin/protein-performer family --config $(FAMILY_CONFIG) $(FAMILY_ARGS)

family-bench: $(STAMP) ## Family-model ablation, then models and ensembles, on both families -> docs/FAMILIES.md
	$(PY) -m protein_performer.family.bench --out docs/FAMILIES.md --jobs 2
	$(PY) -m protein_performer.family.ensemble_bench --out docs/FAMILIES.md --jobs 2

analyze: $(STAMP) ## Attention maps, BLOSUM62 similarity, contacts (CHECKPOINT=…, default: the shipped model)
	$(VENV)/bin/protein-performer analyze $(if $(CHECKPOINT),--checkpoint $(CHECKPOINT))

bench: $(BENCH_STAMP) ## Attention + generation benchmarks (BENCH_ARGS=--quick for a seconds-long run)
	$(VENV)/bin/protein-performer bench attention $(BENCH_ARGS)
	$(VENV)/bin/protein-performer bench generation $(BENCH_ARGS)

family-speed: $(STAMP) ## Family training step vs a bare loop and the GEMM rate; 200-column evaluation (BENCH_ARGS=--quick)
	$(VENV)/bin/protein-performer bench family $(BENCH_ARGS)

gpu-check: ## GPU correctness, bf16, attention/training speed, 2-min run (<= 8 min; docs/gpu.md)
	PYTHONPATH=$(CURDIR) $(GPU_PY) -m protein_performer.gpu_check $(GPU_CHECK_ARGS)

test: $(STAMP) ## Run the test suite (CPU, a few minutes)
	WANDB_MODE=disabled $(PY) -m pytest -q

soak: $(STAMP) ## Fault injection: SOAK seeded kills each of prepare --force and training, then counts
	rm -f reports/soak.jsonl && mkdir -p reports
	PP_FAULT_ITERATIONS=$(SOAK) PP_FAULT_TIMED=1 PP_FAULT_REPORT=reports/soak.jsonl \
		WANDB_MODE=disabled $(PY) -m pytest -q tests/reliability/test_fault_injection.py \
		tests/reliability/test_fault_saves_shards.py; \
	status=$$?; $(PY) -m tests.reliability.fault_counts reports/soak.jsonl; exit $$status

lint: $(STAMP) ## ruff check + format check (99 columns, notebooks included)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP) ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

help-text: $(STAMP) ## Rewrite the commands' --help pages (protein_performer/help_text.py)
	$(PY) -m protein_performer.help_snapshot
	$(VENV)/bin/ruff format protein_performer/help_text.py

notebooks: $(STAMP) ## Re-execute the notebooks in place (outputs committed); fail if one lacks its figures
	$(if $(CHECKPOINT),PROTEIN_PERFORMER_CHECKPOINT=$(CHECKPOINT)) $(PY) -m protein_performer.notebook_check notebooks/*.ipynb --in-place

experiments: data ## The paper's protein experiments at CPU scale + docs/RESULTS.md (BUDGET=training tokens per Table-2 model)
	$(PY) -m protein_performer.experiments.run --budget-tokens $(BUDGET) --out docs $(EXPERIMENTS_ARGS)

clean: ## Remove caches and run outputs (keeps .venv, data/ and the committed reports/bench/, gpu/)
	rm -rf cache runs lightning_logs wandb .pytest_cache .ruff_cache
	find reports -mindepth 1 -maxdepth 1 ! -name bench ! -name gpu -exec rm -rf {} +
