# "RNNs, executable": every set-up step is here, so a fresh machine needs only `make book`
# and `make test`. Times in README.md are measured on a 2-core CPU.

VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
# The lowest supported TensorFlow, Keras, NumPy, matplotlib and ipywidgets (Colab's runtime):
# a second virtualenv, its own lock, every notebook run there in the smoke profile.
COMPAT_VENV  := .venv-compat
COMPAT_PY    := $(COMPAT_VENV)/bin/python
COMPAT_STAMP := $(COMPAT_VENV)/.installed
NB        ?= $(wildcard chapters/*.ipynb)
SITE      := _build/html
PORT      ?= 8000
JB_FLAGS  := --builder html -W -n --keep-going

.PHONY: book test execute serve clean lock venv vendor chromium unit lint nbval freshness site browser smoke-times \
	run-times export bench reproduce jupyter reader-copies compat

book: $(STAMP) vendor  ## build the static site from the committed outputs
	$(VENV)/bin/jupyter-book build . $(JB_FLAGS)
	@echo "Site built: open $(CURDIR)/$(SITE)/index.html (or run 'make serve')"

venv: $(STAMP)
$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(BENCH_STAMP): requirements-bench.txt | $(STAMP)  # PyTorch (CPU build) for the benchmarks and their test
	$(PY) -m pip install --quiet -r requirements-bench.txt -c constraints.txt
	touch $@

$(COMPAT_STAMP): constraints-compat.txt pyproject.toml
	rm -rf $(COMPAT_VENV)  # a new lock: installed afresh, so that nothing of the old one stays
	python3 -m venv $(COMPAT_VENV)
	$(COMPAT_PY) -m pip install --quiet --upgrade pip
	$(COMPAT_PY) -m pip install --quiet -r constraints-compat.txt
	$(COMPAT_PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

vendor: $(STAMP)  ## the widget JS and KaTeX the site serves, KaTeX's renderer and axe-core: checked against tools/vendor_manifest.json every time
	$(PY) tools/vendor_widgets.py

chromium:  ## the browser the browser test drives (Debian's package)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

test: $(STAMP) vendor chromium  ## everything CI checks
	$(MAKE) unit lint freshness nbval compat site browser

unit: $(STAMP) $(BENCH_STAMP)
	$(PY) -m pytest tests --ignore=tests/browser -q

lint: $(STAMP)  ## pyflakes' rules and import order (ruff) over the code and the notebooks
	$(VENV)/bin/ruff check utils chapter_code tests tools bench book/_ext conftest.py
	$(VENV)/bin/nbqa ruff chapters

freshness: $(STAMP)
	$(PY) -m utils.freshness check chapters/*.ipynb

nbval: $(STAMP)
	RNNBOOK_PROFILE=smoke TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest --nbval-lax -p no:cacheprovider chapters -q

compat: $(COMPAT_STAMP)  ## every notebook, smoke profile, at the lowest supported versions (constraints-compat.txt)
	$(COMPAT_PY) -c "import importlib.metadata as m; print('compat:', *(f'{p} {m.version(p)}' for p in \
		('tensorflow-cpu', 'keras', 'numpy', 'matplotlib', 'ipywidgets')))"
	RNNBOOK_PROFILE=smoke TF_CPP_MIN_LOG_LEVEL=2 $(COMPAT_PY) -m pytest --nbval-lax --nbval-current-env \
		-p no:cacheprovider chapters -q

smoke-times: $(STAMP)  ## run the notebooks in the smoke profile; record their times (landing page, README)
	RNNBOOK_PROFILE=smoke TF_CPP_MIN_LOG_LEVEL=2 RNNBOOK_RECORD_SMOKE_TIMES=1 \
		$(PY) -m pytest --nbval-lax -p no:cacheprovider $(NB) -q
	$(PY) tools/sync_run_times.py

run-times: $(STAMP)  ## rewrite the run times in the README and the chapters' Overviews from the recorded times
	$(PY) tools/sync_run_times.py
	$(PY) tools/reader_copies.py

site: $(STAMP) vendor
	rm -rf _build
	$(VENV)/bin/jupyter-book build . $(JB_FLAGS)

browser: $(STAMP) chromium
	$(PY) -m pytest tests/browser -q

export: $(STAMP)  ## write chapter_code/ from the chapters' cells marked `#| export`
	$(PY) tools/export_chapters.py

execute: $(STAMP)  ## re-run notebooks (profile: RNNBOOK_PROFILE, default full); store outputs and figures
	$(PY) -m utils.freshness execute $(NB)
	$(PY) tools/sync_run_times.py
	$(PY) tools/reader_copies.py

reproduce: $(STAMP)  ## run committed notebooks again (full profile, nothing stored); compare their figures
	$(PY) -m utils.freshness reproduce $(NB)

bench: $(BENCH_STAMP)  ## benchmarks (about 12 min on 2 cores): bench/results/*.json and book/bench_figures/*.png
	$(PY) -m bench.run

reader-copies: $(STAMP)  ## write reader/ (the chapters for Colab and download: MyST roles as links to the site)
	$(PY) tools/reader_copies.py

APP ?= lab
jupyter: $(STAMP)  ## the chapters live in JupyterLab (PROFILE=smoke for a quick look, default full; APP=notebook for Notebook 7)
	$(PY) tools/jupyter_reader.py --app $(APP) $(if $(PROFILE),--profile $(PROFILE))

serve:  ## serve the built site on 127.0.0.1
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory $(SITE)

lock: $(STAMP)  ## rewrite constraints.txt from the virtualenv
	(echo "# Generated by 'make lock' from requirements.txt: every package of the virtualenv, pinned."; \
	 $(PY) -m pip freeze --exclude-editable | grep -v '^rnn-book-utils') > constraints.txt

clean:
	rm -rf _build .jupyter_cache book/_static_widgets/vendor book/_vendor
