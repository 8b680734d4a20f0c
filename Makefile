# paperkit: `make` sets everything up and builds the default outputs; `make test` sets up and tests.
VENV     := .venv
PY       := $(VENV)/bin/python
PAPERKIT := $(VENV)/bin/paperkit
SOURCE   := source
BUILD    := build
LOCALE   := src/paperkit/locale
PO       := $(LOCALE)/zh_CN/LC_MESSAGES/paperkit.po
MO       := $(LOCALE)/zh_CN/LC_MESSAGES/paperkit.mo

CONTENT   := $(wildcard $(SOURCE)/handbook.yaml $(SOURCE)/modules/*.yaml)
CODE      := $(shell find src/paperkit -name '*.py') $(wildcard templates/*) $(wildcard fonts/*.otf) $(wildcard fonts/*.ttf)

.PHONY: all setup install uninstall test test-fast test-unit lint validate bench bench-scan bench-compare bench-parallel previews docs clean i18n

all: $(BUILD)/.validated $(BUILD)/handbook.pdf $(BUILD)/checklist.pdf install

# `paperkit` on the PATH in every new shell: a link to the venv's command in /usr/local/bin (root) or
# ~/.local/bin (anyone else); `make uninstall` removes it (only if it is ours).
BIN_DIR := $(if $(filter 0,$(shell id -u)),/usr/local/bin,$(HOME)/.local/bin)
install: $(VENV)/.installed $(MO)
	@mkdir -p $(BIN_DIR)
	@ln -sfn $(abspath $(PAPERKIT)) $(BIN_DIR)/paperkit
	@echo "paperkit: linked $(BIN_DIR)/paperkit -> $(abspath $(PAPERKIT)) ($$($(PAPERKIT) --version))"
	@case ":$$PATH:" in *":$(BIN_DIR):"*) ;; *) echo "paperkit: $(BIN_DIR) is not on your PATH; add it, e.g. export PATH=\"$(BIN_DIR):\$$PATH\"";; esac

uninstall:
	@if [ "$$(readlink $(BIN_DIR)/paperkit)" = "$(abspath $(PAPERKIT))" ]; then rm $(BIN_DIR)/paperkit && echo "paperkit: removed $(BIN_DIR)/paperkit"; else echo "paperkit: $(BIN_DIR)/paperkit is not this checkout's link; left alone"; fi

setup: $(VENV)/.installed $(MO)

# Messages in Chinese: the catalog (.po, in git) compiled to what gettext reads (.mo) with Babel; `make i18n`
# extracts every _("…") from the code and adds the new ones to the .po for translation (tests/test_i18n.py fails
# while any is untranslated).
$(MO): $(PO) $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -D paperkit -d $(LOCALE) -l zh_CN

i18n: $(VENV)/.installed
	@mkdir -p $(BUILD)
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _ -k N_ -k ngettext:1,2 --no-location --sort-output --no-wrap \
		--project paperkit -o $(BUILD)/paperkit.pot .
	@if [ -f $(PO) ]; then $(VENV)/bin/pybabel -q update -D paperkit -i $(BUILD)/paperkit.pot -d $(LOCALE) -l zh_CN \
		--no-wrap --ignore-obsolete --no-fuzzy-matching; \
	else $(VENV)/bin/pybabel -q init -D paperkit -i $(BUILD)/paperkit.pot -d $(LOCALE) -l zh_CN --no-wrap; fi

# System libraries first (root installs them; anyone else is told the command), then the venv.
$(VENV)/.system: scripts/setup-system.sh
	@sh scripts/setup-system.sh
	@mkdir -p $(VENV) && touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.system
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@# Bytecode for our own modules too (pip compiles only site-packages): each command starts faster.
	@$(PY) -m compileall -q src >/dev/null
	@touch $@

$(BUILD)/.validated: $(CONTENT) $(CODE) $(VENV)/.installed
	$(PAPERKIT) validate --source $(SOURCE)
	@mkdir -p $(BUILD) && touch $@

# The PDFs depend on the content, the code, the templates and the fonts: nothing changed, nothing runs.
$(BUILD)/handbook.pdf: $(CONTENT) $(CODE) $(VENV)/.installed
	$(PAPERKIT) handbook --source $(SOURCE) --out $@

$(BUILD)/checklist.pdf: $(CONTENT) $(CODE) $(VENV)/.installed
	$(PAPERKIT) checklist --source $(SOURCE) --out $@

# Pictures for the README (cover, contents, a section page, the checklist), from the real PDFs.
PARTS := choice:10x2,truefalse:5x2,fill:5x2,short:4x10
previews: $(BUILD)/handbook.pdf $(BUILD)/checklist.pdf
	@# One exam folder each: an older build under another id would be picked up too.
	rm -rf $(BUILD)/previews/exam $(BUILD)/previews/a3 $(BUILD)/previews/class
	$(PAPERKIT) exam --source $(SOURCE) --modules 2,3,8 --seed 7 --parts $(PARTS) --variants 2 --seal-line \
		--date 2026-12-09 --course 深度学习 --out $(BUILD)/previews/exam
	$(PAPERKIT) exam --source $(SOURCE) --modules 2,3,8 --seed 7 --parts $(PARTS) --paper A3 --seal-line \
		--out $(BUILD)/previews/a3
	@sh scripts/previews.sh $(BUILD)/handbook.pdf $(BUILD)/checklist.pdf \
		$$(ls -d $(BUILD)/previews/exam/*/) $$(ls -d $(BUILD)/previews/a3/*/) docs/previews
	$(PY) bench/fake_scores.py $(BUILD)/previews/class 45 >/dev/null
	$(PAPERKIT) analyze $(BUILD)/previews/class/manifest.json $(BUILD)/previews/class/scores.xlsx
	pdftoppm -r 70 -png -singlefile -f 1 -l 1 $(BUILD)/previews/class/analysis.pdf docs/previews/analysis
	rm -rf $(BUILD)/previews/scan && $(PY) scripts/scan_preview.py $(BUILD)/previews/scan docs/previews

validate: setup
	$(PAPERKIT) validate --source $(SOURCE)

# What the tests use beyond the venv (LibreOffice Calc, to recalculate score sheets), installed once.
$(VENV)/.test-tools: scripts/setup-test-tools.sh $(VENV)/.installed
	@sh scripts/setup-test-tools.sh
	@touch $@

# Lint and types first (seconds), then every test; test-fast skips the ones marked slow (whole handbooks, rosters),
# test-unit every one that renders.
lint: setup
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/mypy

# The docs site (mkdocs.yml): docs/ into build/site/; --strict, so a broken link, anchor or image fails the build.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict -f mkdocs.yml -d $(BUILD)/site

# Test files run on the cores (pytest-xdist), each file whole on one worker so its fixtures are made once.
test: lint docs $(VENV)/.test-tools
	$(PY) -m pytest -n auto --dist loadfile

test-fast: lint $(VENV)/.test-tools
	$(PY) -m pytest -n auto --dist loadfile -m "not slow"

# The unit tier: every test that lays out no PDF and starts no paperkit process (conftest.py marks the rest).
test-unit: lint
	$(PY) -m pytest -n auto --dist load -p no:anyio -m "not render"

# Timings are noisy on shared machines: the benchmark reports against budgets, it never fails.
bench: setup
	$(PY) bench/run.py

# One run, the same content typeset by paperkit, XeLaTeX and Typst (each skipped when not installed).
# The answer-sheet reader's accuracy on simulated classes (bench/scan_bench.py; about 30,000 questions).
bench-scan: setup
	$(PY) bench/scan_bench.py

bench-compare: setup
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(PY) bench/compare.py

# The handbook in one process against in parts on two (warm and cold page-number hint), in one run.
bench-parallel: setup
	$(PY) bench/parallel.py

clean:
	rm -rf $(BUILD)
