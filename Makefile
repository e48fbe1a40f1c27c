.DEFAULT_GOAL := help
.PHONY: help run test test-sqlite test-dist dist docs extract_translations compile_translations check_translations test-mariadb test-verawood compile-stack bench-paired test-platform test-browser test-tutor quality validate requirements upgrade bench bench-platform clean

# Two stacks, each with its own virtualenv: Open edX Teak's (Python 3.11, Django 4.2 and Teak's
# pins; the default) and Verawood's (Python 3.12, Django 5.2 and Verawood's pins). `STACK=verawood`
# runs any target on the second, e.g. `make run STACK=verawood`.
STACK ?= teak
ifeq ($(STACK),teak)
STACK_PYTHON := 3.11
VENV ?= .venv
else ifeq ($(STACK),verawood)
STACK_PYTHON := 3.12
VENV ?= .venv-verawood
else
$(error STACK must be teak or verawood, not $(STACK))
endif
PYTHON ?= $(shell scripts/find-python.sh $(STACK_PYTHON))
BIN := $(VENV)/bin
PORT ?= 8000
REQUIREMENTS := requirements/test-$(STACK).txt
# The stack's pins (constraints) for what is installed beside its requirements (mysqlclient).
STACK_PINS := -c requirements/constraints.txt -c requirements/constraints-$(STACK).txt

# The virtualenv is (re)built when the pinned requirements change.
$(BIN)/.installed: $(REQUIREMENTS) setup.py
	@test -n "$(PYTHON)" || { echo "No Python $(STACK_PYTHON) for the $(STACK) stack (see scripts/find-python.sh)." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(REQUIREMENTS) -e .
	touch $@

# mysqlclient builds against Debian's libmariadb-dev; only the MariaDB runs need it.
$(BIN)/.installed-mariadb: $(BIN)/.installed requirements/constraints-$(STACK).txt
	$(BIN)/python -m pip install --quiet $(STACK_PINS) mysqlclient
	touch $@

# scim2-tester, the SCIM checker the suites run, in its own virtualenv (it needs a newer pydantic than Teak's).
SCIM_TESTER := .venv-scim-tester
export SCIM_TESTER_PYTHON := $(CURDIR)/$(SCIM_TESTER)/bin/python
$(SCIM_TESTER)/.installed: requirements/scim-tester.txt
	@test -n "$(PYTHON)" || { echo "No Python $(STACK_PYTHON) for scim2-tester (see scripts/find-python.sh)." >&2; exit 1; }
	test -x $(SCIM_TESTER)/bin/python || $(PYTHON) -m venv $(SCIM_TESTER)
	$(SCIM_TESTER)/bin/python -m pip install --quiet --upgrade pip
	$(SCIM_TESTER)/bin/python -m pip install --quiet -r requirements/scim-tester.txt
	touch $@

$(BIN)/.installed-docs: $(BIN)/.installed requirements/docs.txt
	$(BIN)/python -m pip install --quiet -r requirements/docs.txt
	touch $@

# build and twine, in a virtualenv of their own (make dist, make test-dist).
DIST_VENV := .venv-dist
$(DIST_VENV)/.installed: requirements/dist.txt
	@test -n "$(PYTHON)" || { echo "No Python $(STACK_PYTHON) to build the release with (see scripts/find-python.sh)." >&2; exit 1; }
	test -x $(DIST_VENV)/bin/python || $(PYTHON) -m venv $(DIST_VENV)
	$(DIST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DIST_VENV)/bin/python -m pip install --quiet -r requirements/dist.txt
	touch $@

$(BIN)/.installed-browser: $(BIN)/.installed requirements/browser.txt
	$(BIN)/python -m pip install --quiet -r requirements/browser.txt
	touch $@

help: ## show this help
	@echo "tahoe-registration-api: make <target>"
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

run: $(BIN)/.installed ## start the development LMS on http://127.0.0.1:$(PORT) (sqlite; DATABASE_URL=mysql://... for MariaDB)
	@mkdir -p var
	@if echo "$$DATABASE_URL" | grep -q '^mysql'; then $(MAKE) --no-print-directory $(BIN)/.installed-mariadb; fi
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py devlms_seed
	@echo "\nOutgoing mail is printed below (set EMAIL_HOST and EMAIL_PORT to send it over SMTP)."
	@echo "Webhooks may be posted to http:// and private addresses (a receiver on this machine): development only."
	DEVLMS_CELERY_WORKER=1 DEVLMS_WEBHOOKS_LOCAL=1 $(BIN)/python manage.py devlms_serve 127.0.0.1:$(PORT)

test: check_translations test-sqlite test-browser test-mariadb test-verawood test-platform test-tutor test-dist ## run the whole test suite: the catalogues, then on sqlite, in a browser, on a throwaway MariaDB server (Teak's stack, then Verawood's), inside a real LMS, the Tutor plugin, then the release

# Coverage per stack: .coverage and coverage.xml for Teak's, .coverage-verawood and coverage-verawood.xml for Verawood's.
COVERAGE := COVERAGE_FILE=$(if $(filter teak,$(STACK)),.coverage,.coverage-$(STACK))
COVERAGE_XML := $(if $(filter teak,$(STACK)),coverage.xml,coverage-$(STACK).xml)

test-sqlite: $(BIN)/.installed $(SCIM_TESTER)/.installed ## run the test suite on sqlite, with coverage
	$(COVERAGE) $(BIN)/pytest --cov=tahoe_registration_api --cov-report=term --cov-report=xml:$(COVERAGE_XML)

test-verawood: ## run the sqlite and MariaDB suites again on Verawood's stack (Python 3.12, Django 5.2, Verawood's pins)
	$(MAKE) --no-print-directory STACK=verawood test-sqlite test-mariadb

test-browser: $(BIN)/.installed-browser docs ## run the browser tests: headless Chromium on the token page of `make run`'s server and on the documentation site (screenshots, axe report: var/screenshots/)
	scripts/test-browser.sh

test-mariadb: $(BIN)/.installed $(SCIM_TESTER)/.installed ## run the test suite on a throwaway MariaDB server (needs Debian's mariadb-server)
	@if command -v mariadbd >/dev/null || test -x /usr/sbin/mariadbd; then \
		$(MAKE) --no-print-directory $(BIN)/.installed-mariadb && \
		$(COVERAGE) scripts/mariadb.sh $(BIN)/pytest --cov=tahoe_registration_api --cov-append --cov-report=term; \
	elif [ -n "$$CI" ]; then \
		echo "MariaDB is missing: CI must run the MariaDB suite (see .ci/run)." >&2; exit 1; \
	else \
		echo "\n*** MariaDB is not installed: the MariaDB suite (concurrency, atomicity) did NOT run. ***"; \
		echo "*** Install it with: sudo apt-get install mariadb-server libmariadb-dev pkg-config ***\n"; \
	fi

test-platform: $(SCIM_TESTER)/.installed ## run the platform suite inside a real Open edX LMS (built once into .platform/; PLATFORM_SRC picks the source)
	scripts/test-platform.sh

test-tutor: ## test the Tutor plugin with each supported Tutor (20, 21, 22), pinned, in virtualenvs under .tutor/ (no Docker)
	scripts/test-tutor.sh

# Translations (edx-i18n-tools' conventions): each app's catalogues in <app>/locale/ (config.yaml, en, es_419).
I18N_APPS := tahoe_registration_api devlms
I18N_LANGUAGES := es_419
I18N_TOOL := PATH=$(CURDIR)/$(BIN):$$PATH i18n_tool

extract_translations: $(BIN)/.installed ## extract the marked messages into the source catalogues (en) and merge them into each language's (needs gettext)
	@for app in $(I18N_APPS); do \
	  (cd $$app && $(I18N_TOOL) extract --no-segment) || exit 1; \
	  for lang in $(I18N_LANGUAGES); do \
	    msgmerge --quiet --update --backup=none $$app/locale/$$lang/LC_MESSAGES/django.po \
	      $$app/locale/en/LC_MESSAGES/django.po || exit 1; \
	  done; \
	done

compile_translations: $(BIN)/.installed ## compile each catalogue (.po) into the one Django reads (.mo)
	@for app in $(I18N_APPS); do (cd $$app && $(I18N_TOOL) generate) || exit 1; done

check_translations: extract_translations ## fail when the committed catalogues are not those of the code, or not complete and compiled
	@git diff --exit-code -G '^(msgid|msgstr)' -- $(addsuffix /locale,$(I18N_APPS)) \
	  || { echo "The catalogues are not those of the code: run make extract_translations, translate, make compile_translations." >&2; exit 1; }
	$(BIN)/pytest -q -p no:randomly tests/test_translations.py -k catalogue

docs: $(BIN)/.installed-docs ## build the documentation site into docs/_build/html (Sphinx, warnings as errors)
	$(BIN)/sphinx-build -W --keep-going -E -a -q -b html docs docs/_build/html

dist: $(DIST_VENV)/.installed ## build the release: the sdist and the wheel, into dist/
	rm -rf dist build
	$(DIST_VENV)/bin/python -m build --outdir dist .

test-dist: dist ## check the release: twine check --strict, the wheel's contents, installed by name into a fresh virtualenv
	scripts/check-dist.sh $(DIST_VENV)/bin/python $(PYTHON) $(STACK_PINS)

TUTOR_PLUGIN := tutor-contrib-tahoe-registration-api
quality: $(BIN)/.installed-browser $(DIST_VENV)/.installed ## check code quality: pylint (edx-lint), pycodestyle, pydocstyle, isort, the layering (import-linter), the GitHub workflow's and Read the Docs' schemas
	$(BIN)/python -m pip install --quiet -r requirements/quality.txt
	$(BIN)/pylint tahoe_registration_api devlms bench tests browser_tests
	@# the Tutor plugin imports tutor, which only the virtualenvs of .tutor/ have (make test-tutor)
	$(BIN)/pylint --disable=import-error,django-settings-module-not-found $(TUTOR_PLUGIN)/tutor_tahoe_registration_api \
		$(TUTOR_PLUGIN)/tests/*.py
	@# platform_tests/ imports the LMS, which only its own environment has: style and import order here
	$(BIN)/pycodestyle tahoe_registration_api devlms bench tests platform_tests browser_tests $(TUTOR_PLUGIN)
	$(BIN)/pydocstyle tahoe_registration_api devlms bench browser_tests $(TUTOR_PLUGIN)/tutor_tahoe_registration_api
	$(BIN)/isort --check-only --diff tahoe_registration_api devlms bench tests platform_tests browser_tests manage.py \
		setup.py $(TUTOR_PLUGIN)
	@# the layering: drivers above the pipeline, above the one-learner API, above the adapter (setup.cfg)
	$(BIN)/lint-imports
	@# OEP-30: every model of the plugin annotated (code_annotations, the Open edX configuration); report in var/pii_report
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/code_annotations django_find_annotations --config_file .pii_annotations.yml \
		--app_name tahoe_registration_api --lint --report --coverage
	@# the public repository's workflow and Read the Docs' configuration, against their published schemas (vendored copies)
	$(DIST_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(DIST_VENV)/bin/check-jsonschema --builtin-schema vendor.readthedocs .readthedocs.yaml

validate: quality test ## everything a change must pass before it lands

requirements: ## install the development requirements (pip-tools, tox, quality)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt -e .

COMPILE = $(BIN)/pip-compile --quiet --allow-unsafe --strip-extras --resolver=backtracking
upgrade: ## re-pin requirements/*.txt from requirements/*.in
	$(BIN)/python -m pip install --quiet pip-tools
	$(COMPILE) --upgrade -o requirements/pip-tools.txt requirements/pip-tools.in
	$(COMPILE) --upgrade -o requirements/base.txt requirements/base.in
	@# each stack's test requirements, compiled with the stack's own Python (its pins were compiled for it)
	$(MAKE) --no-print-directory STACK=teak compile-stack
	$(MAKE) --no-print-directory STACK=verawood compile-stack
	$(COMPILE) --upgrade -o requirements/mariadb.txt requirements/mariadb.in
	$(COMPILE) --upgrade -o requirements/browser.txt requirements/browser.in
	$(COMPILE) --upgrade -o requirements/docs.txt requirements/docs.in
	$(COMPILE) --upgrade -o requirements/dist.txt requirements/dist.in
	$(COMPILE) --upgrade -o requirements/bench.txt requirements/bench.in
	$(COMPILE) --upgrade -o requirements/quality.txt requirements/quality.in
	$(COMPILE) --upgrade -o requirements/dev.txt requirements/dev.in
	$(COMPILE) --upgrade -o requirements/scim-tester.txt requirements/scim-tester.in
	for major in 20 21 22; do $(COMPILE) --upgrade --no-emit-index-url --no-emit-find-links \
		-o $(TUTOR_PLUGIN)/requirements/tutor$$major.txt $(TUTOR_PLUGIN)/requirements/tutor$$major.in; done

bench: $(BIN)/.installed-mariadb ## measure registrations over HTTP (gunicorn, MariaDB) against the ORM and hasher floors, the outbox's duplicate window, one worker's webhook deliveries/s, and a 10,000-learner job on `make run`'s server
	$(BIN)/python -m pip install --quiet -r requirements/bench.txt
	scripts/mariadb.sh $(BIN)/python bench/run.py
	scripts/mariadb.sh $(BIN)/python bench/outbox_window.py
	scripts/mariadb.sh $(BIN)/python bench/webhook_deliveries.py
	$(BIN)/python bench/dev_job.py

bench-paired: $(BIN)/.installed-mariadb ## compare this checkout's import rates with BASE=<another checkout>'s, the same calls alternated in pairs (WHERE=dev|lms, ROUNDS=8)
	$(BIN)/python -m pip install --quiet -r requirements/bench.txt
	$(BIN)/python bench/paired.py

bench-platform: ## measure a registration inside the real LMS (gunicorn, MariaDB, PBKDF2, Celery on Redis) against the platform's own view and the floors, and 10,000-learner jobs on one then two of its Celery workers
	scripts/platform-env.sh
	.platform/venv/bin/python -m pip install --quiet -c .platform/constraints.txt pyinstrument matplotlib
	cd .platform/src && $(CURDIR)/scripts/mariadb.sh $(CURDIR)/.platform/venv/bin/python $(CURDIR)/bench/platform_run.py

compile-stack: # re-pin requirements/test-$(STACK).txt with the stack's Python (part of `make upgrade`)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip-tools
	$(COMPILE) --upgrade -o requirements/test-$(STACK).txt requirements/test-$(STACK).in

clean: ## remove the virtualenvs, the development database and build leftovers
	rm -rf .venv .venv-verawood .venv-scim-tester .venv-dist var .tox build dist *.egg-info .coverage .coverage-verawood coverage.xml coverage-verawood.xml htmlcov .tutor browser_tests/node_modules docs/_build
	@echo "(the LMS environment in .platform/ is kept: rm -rf .platform to rebuild it)"
