# The two commands a newcomer needs: `make run` and `make test`.
# Both build .venv/ from the pinned requirements.lock when it is missing or stale.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MO     := $(patsubst %.po,%.mo,$(wildcard locales/*/LC_MESSAGES/messages.po))

.PHONY: run test locales extract-messages bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . \
	  || $(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -D messages -i $< -o $@

locales: $(MO)

# Re-extracts the message template and merges it into every catalog (for developers adding strings).
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F locales/babel.cfg -k _ -k N_ --no-location --sort-output --project Pikir -o locales/messages.pot bot handlers analysis
	$(BIN)/pybabel update -D messages -i locales/messages.pot -d locales --no-fuzzy-matching --width 120

run: $(STAMP) locales
	$(BIN)/python -m bot run

# pytest exits 5 when it collects no test; that is not a failure of the suite.
test: $(STAMP) locales
	$(BIN)/python -m pytest -q $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

bench: $(STAMP) locales
	$(BIN)/python -m bench.survey_throughput

clean:
	rm -rf $(VENV) locales/*/LC_MESSAGES/*.mo .pytest_cache
