# shipyard.deploy — the two commands of the README: `make test` and `make demo`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BUILD := build
COLLECTION_TREE := $(BUILD)/ansible_collections/shipyard/deploy
# Debian packages the tests start for real (PostgreSQL 15 is the second server version).
DEB_PACKAGES := postgresql postgresql-client haproxy nginx-light sqitch libdbd-pg-perl prometheus chromium fonts-dejavu-core openssh-server openssh-client default-jre-headless ruby-activerecord ruby-pg
DEB_BINARIES := /usr/lib/postgresql/*/bin/postgres haproxy nginx sqitch prometheus chromium /usr/sbin/sshd ssh java
# The real Liquibase for the migration_status tests: the npm package bundles a runnable Liquibase.
LIQUIBASE_NPM_VERSION := 4.28.1
PYTEST_ARGS ?=

.PHONY: test venv system-deps liquibase lint ansible-lint changelog-lint sanity unit integration collection-tree demo demo-stop docs release-notes clean

test: venv system-deps lint ansible-lint changelog-lint sanity unit integration

venv: $(BIN)/.installed

$(BIN)/.installed: requirements.txt requirements-test.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# On Debian, ask dpkg which packages are missing (a package such as postgresql-client or a font
# adds no binary of its own to look for); elsewhere look for the binaries.
system-deps:
	@missing=""; \
	if command -v dpkg-query >/dev/null; then \
	  for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null | grep -qx installed || missing="$$missing $$p"; \
	  done; \
	else \
	  for b in $(DEB_BINARIES); do \
	    case "$$b" in */*) ls $$b >/dev/null 2>&1 || missing=1 ;; *) command -v $$b >/dev/null || missing=1 ;; esac; \
	  done; \
	fi; \
	if [ -z "$$missing" ]; then echo "system packages: present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian packages: $(DEB_PACKAGES)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEB_PACKAGES) >/dev/null; \
	else \
	  echo "missing Debian packages; as root run: apt-get install $(DEB_PACKAGES)"; \
	  echo "(tests that need them are skipped)"; \
	fi

lint: venv
	$(BIN)/ruff check .

# ansible-lint (profile and exclusions in .ansible-lint) must resolve shipyard.deploy.* modules and
# roles: it runs offline and does not install the collection itself, so lint against an installed
# build of the collection (made from the same file copy as ansible-test's).
LINT_COLLECTIONS := $(BUILD)/lint-collections
ansible-lint: venv collection-tree
	rm -rf $(BUILD)/lint-dist $(LINT_COLLECTIONS)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/lint-dist $(COLLECTION_TREE) >/dev/null
	$(BIN)/ansible-galaxy collection install --offline --force -p $(LINT_COLLECTIONS) $(BUILD)/lint-dist/shipyard-deploy-*.tar.gz 2>&1 | \
	  grep -v "is not part of the configured Ansible collections paths" || true
	test -f $(LINT_COLLECTIONS)/ansible_collections/shipyard/deploy/MANIFEST.json
	PATH="$(abspath $(BIN)):$$PATH" ANSIBLE_COLLECTIONS_PATH="$(abspath $(LINT_COLLECTIONS))" ansible-lint --nocolor

# changelogs/: fragments and changelog.yaml in antsibull-changelog's format
changelog-lint: venv
	$(BIN)/antsibull-changelog lint

# Fold changelogs/fragments into the release of galaxy.yml's version and write CHANGELOG.rst
# (--reload-plugins runs ansible-doc, hence the venv on PATH). See docs/development.md.
release-notes: venv
	PATH="$(abspath $(BIN)):$$PATH" antsibull-changelog release --update-existing --reload-plugins \
	  --version $$(sed -n 's/^version: *//p' galaxy.yml)

# ansible-test wants the collection at ansible_collections/<ns>/<name>: copy the files git knows.
collection-tree:
	rm -rf $(BUILD)/ansible_collections
	mkdir -p $(COLLECTION_TREE)
	git ls-files -z --cached --others --exclude-standard | \
	  while IFS= read -r -d '' f; do [ -e "$$f" ] && printf '%s\0' "$$f"; done | \
	  xargs -0 cp --parents -t $(COLLECTION_TREE)
	# its own git repository, so ansible-test lists these files and not the enclosing checkout's
	cd $(COLLECTION_TREE) && git init -q && git add -A

# ansible-test fetches pip's bootstrap script from a CI file host; seed its cache with a stand-in
# that uses ensurepip and the package index instead (see tests/utils/get_pip_offline.py).
ANSIBLE_TEST_CACHE := $(HOME)/.ansible/test/cache
sanity: venv collection-tree
	mkdir -p $(ANSIBLE_TEST_CACHE)
	pipver=$$(grep -ho "pip='[0-9.]*'" $(BIN)/../lib/python*/site-packages/ansible_test/_internal/python_requirements.py | tr -dc '0-9.'); \
	f=$(ANSIBLE_TEST_CACHE)/get_pip_$${pipver//./_}.py; [ -e "$$f" ] || cp tests/utils/get_pip_offline.py "$$f"
	cd $(COLLECTION_TREE) && PATH="$(abspath $(BIN)):$$PATH" \
	  ansible-test sanity --color no --python $$($(abspath $(BIN))/python -c 'import sys; print("%d.%d" % sys.version_info[:2])') \
	  --requirements

unit: venv
	$(BIN)/pytest -q -p no:cacheprovider tests/unit $(PYTEST_ARGS)

# Liquibase (npm package, runs on the JRE of DEB_PACKAGES) under build/liquibase, where
# tests/integration/migrations/test_liquibase_real.py looks for it.
liquibase: $(BUILD)/liquibase/node_modules/liquibase/dist/liquibase/liquibase

# Without npm (Node.js) the target says so and those tests are skipped.
$(BUILD)/liquibase/node_modules/liquibase/dist/liquibase/liquibase:
	@if command -v npm >/dev/null; then \
	  mkdir -p $(BUILD)/liquibase && \
	  npm install --prefix $(BUILD)/liquibase --no-audit --no-fund --loglevel=error liquibase@$(LIQUIBASE_NPM_VERSION); \
	else echo "npm not found: the real-Liquibase tests are skipped (install Node.js and npm)"; fi

integration: venv system-deps liquibase
	$(BIN)/pytest -q -p no:cacheprovider --timeout 900 tests/integration $(PYTEST_ARGS)

# The whole pipeline on local infrastructure (PostgreSQL, HAProxy, supervisord on loopback).
demo: venv system-deps
	$(BIN)/python demo/run.py

demo-stop:
	$(BIN)/python demo/infra.py stop

# The reference pages of docs/ (modules, roles, playbooks, index) from the collection's own
# documentation; `make unit` fails while the committed pages differ from what this writes.
docs: venv
	$(BIN)/python docs/generate.py

clean:
	rm -rf $(BUILD) $(VENV)
