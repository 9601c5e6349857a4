# make run: set up everything and serve on http://127.0.0.1:5000 (SQLite, one process).
# make test: the same set-up, then every check. A second run only redoes what changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.requirements-installed
JS_STAMP := static/vendor/.installed
MO_FILES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))
export FLASK_APP := app:create_app_or_exit

.PHONY: run test setup lint format translations-update clean

setup: $(PY_STAMP) $(JS_STAMP) $(MO_FILES)

$(PY_STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(JS_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.esm.min.js static/vendor/
	cp node_modules/axe-core/axe.min.js static/vendor/
	touch $@

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(PY_STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d translations -l $* >/dev/null

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	@$(BIN)/python -m app.demo_logins
	$(BIN)/python wsgi.py

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(PY_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-extract every wrapped string and merge it into each language's catalogue.
translations-update: $(PY_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations

clean:
	rm -rf $(VENV) node_modules static/vendor
