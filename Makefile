# Two commands do everything on a fresh machine:  make run  ·  make test
# They create .venv, install the pinned requirements, fetch what data and browser the
# command needs (degrading with a clear message where they cannot), then run.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt constraints.txt | cksum | cut -d' ' -f1)
PORT   ?= 8501

.PHONY: run class test test-quick setup data browser lint format clean benchmark benchmark-docs screenshots help constraints ort-web i18n

help:
	@echo "make run        start the explorer (http://localhost:$(PORT))"
	@echo "make class      the same, served to the classroom's network (presenter mode shows the address)"
	@echo "make test       run the whole test suite (library, app, browser)"
	@echo "make test-quick the suite without the tests marked slow (while iterating)"
	@echo "make data       fetch the Fashion-MNIST train split (for training)"
	@echo "make benchmark  run the benchmarks (--quick; report in runs/benchmarks/)"
	@echo "make benchmark-docs  the full benchmark run that rewrites docs/benchmarks.md (about 35 min on 2 cores; run it on a quiet machine)"
	@echo "make screenshots     rerun the browser tests and refresh docs/screenshots/"
	@echo "make i18n       extract the app's texts, update and compile the translations (locale/)"

run: setup
	@$(BIN)/python -m vae data --check fashion-mnist --split test
	$(BIN)/streamlit run app.py --server.port $(PORT)

# The explorer on every network interface, for a lecture: students open the address that presenter
# mode shows in the sidebar (with a QR code of it). Anyone on that network can reach the app.
class: setup
	@$(BIN)/python -m vae data --check fashion-mnist --split test
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address 0.0.0.0

# Two pytest-xdist workers by default: the browser modules that share a server one after another in
# one, the other modules beside them, each module whole; browser modules with servers of their own go
# last, to whichever is free (tests/conftest.py: Lanes). Each lane computes on its share of the cores
# (tests/conftest.py: THREADS). TEST_WORKERS=3 gives the browser modules two lanes of their own, for
# machines with more than 2 cores. How long it takes, measured: docs/testing.md.
TEST_WORKERS ?= 2
test: setup browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope

# While iterating: everything but the tests marked slow (about a quarter of the suite's time).
test-quick: setup browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope -m "not slow"

setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt
	@test -n "$(PYTHON)" || { echo "error: python3 not found; install Python 3.11" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt -c constraints.txt
	@echo "compiling the neighbour-search kernels (once; cached under cache/numba)"
	@$(BIN)/python -c "from vae.explore.knn import warm_up; warm_up(background=False)"
	@echo "compressing the in-browser runtime and Streamlit's frontend for serving (once; cached under cache/static)"
	@$(BIN)/python -m components.static_files
	@$(BIN)/python -m components.frontend_files
	@rm -f $(VENV)/.installed-*
	@touch $@

# The train split of Fashion-MNIST: Debian's package where apt works, else torchvision's download.
data: setup
	@$(BIN)/python -m vae data --check fashion-mnist --split train 2>/dev/null || \
	  { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	    apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; } || true
	$(BIN)/python -m vae data --fetch fashion-mnist
	@$(BIN)/python -m vae data --fetch emoji || echo "make data: the emoji train split was not fetched (the line above says why);" \
	  "the shipped emoji test split (data/emoji/) still opens; run \`python -m vae data --fetch emoji\` when online" >&2

# Debian's package $(1), installed where apt-get can run as root (once more after an apt-get update)
apt_install = command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
  { apt-get install -y -q $(1) >/dev/null 2>&1 || \
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(1) >/dev/null 2>&1; }; }

# Chromium + Playwright for the browser tests: Debian's chromium where apt works, else
# Playwright's own download; the browser tests are skipped, with the reason, when neither works.
browser: setup
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { $(call apt_install,chromium); } || \
	  $(BIN)/python -m playwright install chromium >/dev/null 2>&1 || \
	  echo "note: no Chromium could be installed; the browser tests will be skipped" >&2
	@# the same engine without the browser's window, which the tests drive where it is there (13% less
	@# CPU than chromium on the same pages); without it they drive chromium
	@command -v chromium-headless-shell >/dev/null 2>&1 || { $(call apt_install,chromium-headless-shell); } || true
	@# a CJK font for the Chinese pages (?lang=zh): Debian's fonts-noto-cjk, as for Chromium above
	@fc-list :lang=zh 2>/dev/null | grep -q . || { $(call apt_install,fonts-noto-cjk); } || \
	  echo "note: no CJK font could be installed (fonts-noto-cjk); Chinese text will show as boxes" >&2

# The app's translations: extract every _()/ngettext/N_ text into locale/messages.pot, merge it into
# each language's .po (new texts arrive untranslated; tests/app/test_i18n.py fails until they are
# translated) and compile the .mo files the app reads (committed: make run needs no build step).
i18n: setup
	$(BIN)/pybabel extract -F babel.cfg -k N_ -o locale/messages.pot --no-location \
	  --sort-output --project "VAE latent-space explorer" --omit-header .
	$(BIN)/pybabel update -i locale/messages.pot -d locale -D messages --no-fuzzy-matching --ignore-obsolete \
	  --ignore-pot-creation-date
	$(BIN)/pybabel compile -d locale -D messages --statistics

# Reports of these runs go to runs/benchmarks/ (ignored); only benchmark-docs rewrites docs/.
benchmark: setup browser
	$(BIN)/python -m benchmarks --quick

benchmark-docs: setup browser
	$(BIN)/python -m benchmarks --update-docs

# The README's pictures: the browser tests, copying their screenshots into docs/screenshots/.
screenshots: setup browser
	VAE_UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser/test_browser.py tests/browser/test_browser_i18n.py tests/browser/test_classroom.py::test_the_tour_walks_every_step \
	  tests/browser/test_map_filters_browser.py::test_a_filter_in_the_link_and_a_brush_mark_the_plotly_map \
	  tests/browser/test_map_tools_browser.py::test_a_click_shows_the_neighbours_and_rings_them_on_the_map \
	  tests/browser/test_map_structure_browser.py::test_clusters_show_their_labels_and_contours_lie_under_the_points \
	  tests/browser/test_thumbnails_browser.py::test_the_emoji_models_thumbnails_are_in_colour

lint: setup
	$(BIN)/python -m ruff check vae frame pages components tests benchmarks app.py

format: setup
	$(BIN)/python -m ruff format vae frame pages components tests benchmarks app.py

# Refresh the vendored onnxruntime-web (static/ort: module, wasm, licence, MANIFEST.json with sha256)
# from npm. Needs Node's npm; `make run` does not (it serves the files in the repository).
ORT_WEB_VERSION ?= 1.30.0
ort-web: setup
	$(BIN)/python components/live_decoder/vendor_runtime.py --version $(ORT_WEB_VERSION)

# Re-pin every transitive dependency after changing requirements.txt.
constraints: setup
	@{ echo "# Every package the pinned requirements pull in, at the versions tested here"; \
	   echo "# (pip install -r requirements.txt -c constraints.txt; regenerate with: make constraints)."; \
	   $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts cache
