# «Mecanismos de atención» / «Attention Mechanisms»
#   make book    build the whole site (both editions, every cell executed) into _build/html
#   make test    unit tests, the strict build of both editions and their PDFs, then the site tests in a browser
#   make serve   live preview while writing (rebuilds the edition you edit, serves on :8000)
# Everything installs itself on first use: a virtual environment in .venv (pinned by
# requirements/constraints.txt) and the node tools in node_modules (pinned by package-lock.json).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PORT   ?= 8000
CHROMIUM ?= /usr/bin/chromium

.PHONY: all book book-es book-en pdf pdf-es pdf-en test unit site-test notebooks lint stale parity glue-parity serve bench lock clean distclean help
all: book

help:
	@sed -n '2,6p' Makefile

$(VENV)/.installed: pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	# torch first, exactly: pip takes the CPU build (see README); any looser range could pull CUDA.
	$(BIN)/pip install --disable-pip-version-check -q "torch==2.13.0"
	$(BIN)/pip install --disable-pip-version-check -q -c requirements/constraints.txt -e ".[book,test]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

book: setup
	$(PY) tools/build.py

book-es: setup
	$(PY) tools/build.py --lang es

book-en: setup
	$(PY) tools/build.py --lang en

# After `make book` (it reuses the execution cache): the whole book as one PDF per edition, printed
# by Chromium from a single-page build, into each edition's folder (tools/pdf.py; about 2 minutes).
pdf: setup
	CHROMIUM="$(CHROMIUM)" $(PY) tools/pdf.py

pdf-es: setup
	CHROMIUM="$(CHROMIUM)" $(PY) tools/pdf.py --lang es

pdf-en: setup
	CHROMIUM="$(CHROMIUM)" $(PY) tools/pdf.py --lang en

unit: setup
	$(PY) -m pytest -m "not site" -q

site-test: setup
	@test -x "$(CHROMIUM)" || { echo "Site tests need Debian's chromium at $(CHROMIUM): sudo apt-get install chromium (or set CHROMIUM=...)"; exit 1; }
	CHROMIUM="$(CHROMIUM)" $(PY) -m pytest -m site -q

test: lint parity unit book pdf site-test

# After `make book`, not part of `make test` (about as long as a build): every page's downloadable
# notebook, in both editions, run in a new environment without atencion, which its install cell
# installs from this checkout at the commit it names; its glued values must equal the page's.
# (make test runs one chapter this way.)
notebooks: setup
	ATENCION_NOTEBOOKS=all $(PY) -m pytest -m site -q tests/site/test_site_notebooks.py -k clean_environment

# ruff (pinned in requirements/constraints.txt, configured in pyproject.toml) over the
# library, tests, tools, extensions, benchmarks and every code cell of both editions.
lint: setup
	$(BIN)/ruff check src tests tools _ext benchmarks
	$(PY) tools/cells.py lint

stale: setup
	$(PY) tools/i18n.py stale

# The editions have the same structure (cells, labels, glue names, ...) and run the same
# code: each code cell equals its twin once comments and string literals are set aside.
parity: setup
	$(PY) tools/i18n.py parity
	$(PY) tools/cells.py parity

# After `make book`: every glued value has the same numbers in both editions (also run by make test).
glue-parity: setup
	$(PY) tools/glue_parity.py

serve: setup
	$(PY) tools/serve.py --port $(PORT)

# Not part of `make test`: times atencion's attention against PyTorch's (a few minutes).
bench: setup
	$(PY) benchmarks/attention.py

# Regenerate the pins after changing pyproject.toml (needs a fresh environment).
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install -q "torch==2.13.0" && .venv-lock/bin/pip install -q -e ".[book,test]"
	{ sed -n '1,2p' requirements/constraints.txt; .venv-lock/bin/pip freeze --exclude-editable | grep -v '^atencion' | sed 's/^torch==2.13.0+cpu$$/torch==2.13.0/'; } > requirements/constraints.new
	mv requirements/constraints.new requirements/constraints.txt && rm -rf .venv-lock

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis
