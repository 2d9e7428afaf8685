# db2ops.docker — the two commands a user needs: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV        ?= .venv
PY          := $(CURDIR)/$(VENV)/bin/python
BIN         := $(CURDIR)/$(VENV)/bin
COLL_ROOT   := $(CURDIR)/.collections
COLL_LINK   := $(COLL_ROOT)/ansible_collections/db2ops/docker
SANITY_ROOT := $(or $(TMPDIR),/tmp)/db2ops-sanity/ansible_collections/db2ops/docker
PYTEST_ARGS ?=
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
export PATH := $(BIN):$(PATH)

.PHONY: help setup system venv collection dockerd images demo demo-hadr test unit integration checks static sanity lint molecule bench-smoke clean

help:
	@echo "make demo   - set everything up and run the demo fleet upgrade"
	@echo "make demo-hadr - set up an HADR pair on the local daemon and give it a rolling fix pack"
	@echo "make test   - set everything up and run unit, integration, sanity and lint"

setup: system venv collection dockerd images

system:
	@scripts/setup-system.sh

$(VENV)/.installed: requirements.txt tests/requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r tests/requirements.txt
	@touch $@

venv: system $(VENV)/.installed

# The collection is used in place: a link in a local collections path points at this checkout.
collection:
	@mkdir -p $(dir $(COLL_LINK))
	@ln -sfn ../../.. $(COLL_LINK)

dockerd: system
	@scripts/ensure-dockerd.sh

images: dockerd
	@tests/images/build.sh

demo: setup
	@scripts/demo-fleet.sh up
	@$(BIN)/ansible-playbook -i inventory/demo playbooks/demo.yml

# An HADR pair on the local daemon: hadr_setup.yml, then hadr_fixpack.yml 11.5.8.0 -> 11.5.9.0 (docs/hadr.md).
demo-hadr: setup
	@$(BIN)/ansible-playbook -i inventory/hadr-demo playbooks/hadr_demo.yml

# Unit tests, then each engine's line coverage from them alone (>= 80%, docs/testing.md).
UNIT_COV    := $(or $(TMPDIR),/tmp)/db2ops-unit-coverage
unit: venv collection
	@COVERAGE_FILE=$(UNIT_COV).data $(BIN)/pytest -q tests/unit $(PYTEST_ARGS) \
		--cov=ansible_collections.db2ops.docker.plugins.module_utils --cov-report=json:$(UNIT_COV).json
	@$(PY) scripts/check-engine-coverage.py $(UNIT_COV).json

integration: setup
	@$(BIN)/pytest -q -n 2 --dist loadfile --durations=25 tests/integration $(PYTEST_ARGS)

# ansible-test needs a tree under ansible_collections/<ns>/<name>: copy the files git knows.
# ansible-test fetches a get-pip script from a server this network cannot reach: give it ours.
sanity: venv
	@$(PY) scripts/ansible-test-get-pip.py --install-shim
	@rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	@git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t $(SANITY_ROOT)
	@cd $(SANITY_ROOT) && $(BIN)/ansible-test sanity --venv --python 3.11 --color no

lint: venv collection
	@$(BIN)/ansible-lint --offline --profile production

# One molecule scenario per role (extensions/molecule), sharing the stand-ins of the default
# scenario; the collection comes from this checkout, nothing from Galaxy. Names carry this run's id.
molecule: setup
	@DB2OPS_MOLECULE_PREFIX=db2ops-mol-$$$$ $(BIN)/molecule test --all

# Benchmarks in their short mode, only to prove they still run (figures: docs/benchmarks.md).
bench-smoke: setup
	@for bench in tests/bench/bench_*.py; do echo "[bench] $$bench --quick"; $(PY) $$bench --quick >/dev/null; done

# The static checks run beside the integration tests, which spend much of their time waiting on
# containers, daemons and playbooks: side by side instead of one after the other (lines kept whole).
checks: setup
	@$(MAKE) --no-print-directory -j2 --output-sync=line integration static

static: sanity lint

test: setup unit checks molecule bench-smoke

clean:
	@rm -rf $(SANITY_ROOT) .collections $(VENV) .pytest_cache
