# Two set-up commands (README): `make run` (chat UI on samples/) and `make test`.
# Each builds the virtual environment from the pinned requirements.txt when it is missing or stale.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8501

.PHONY: run test test-slow test-browser bench bench-scale ingest-samples clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

ingest-samples: $(STAMP)
	$(BIN)/python -m qa ingest samples/

run: ingest-samples
	QA_INDEX=$${QA_INDEX:-index} $(BIN)/streamlit run app.py --server.headless true --server.port $(PORT) --server.fileWatcherType none

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

test-browser: $(STAMP)
	$(BIN)/python -m pytest -q -m browser

bench: $(STAMP)
	$(BIN)/python bench/bench_engine.py

# Scale, ingest and backend figures of docs/performance.md (about 20 minutes on 2 cores):
# bench/out/scale.json, bench/out/ingest.json, docs/latency.png
bench-scale: $(STAMP)
	$(BIN)/python bench/bench_scale.py
	$(BIN)/python bench/bench_ingest.py

clean:
	rm -rf $(VENV) bench/out
