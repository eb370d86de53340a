# One entry point for setting up, testing, building and demonstrating the
# nomad_drivers.rkt collection. `make help` lists the targets.
#
# `make test` runs every test step, keeps going when one fails, prints a
# summary, and exits non-zero if any step failed. Every step is also a target
# of its own. Plugins, unit tests, integration targets, roles and molecule
# scenarios are found by looking at the tree, so new ones need no change here.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

REPO_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

# Virtualenv with the pinned tools. Override with VENV=path (for example to
# prove that a fresh clone needs nothing from an existing .venv). PYTHON=path
# picks the interpreter for a new virtualenv.
VENV ?= $(REPO_ROOT)/.venv
VENV_BIN := $(abspath $(VENV))/bin
VENV_PYTHON := $(VENV_BIN)/python
REQUIREMENTS := $(REPO_ROOT)/requirements/dev.txt
CONSTRAINTS := $(REPO_ROOT)/requirements/constraints.txt

# Debian packages the tests need: gnupg signs and verifies test releases and
# trust keys, shellcheck runs in ansible-test sanity, python3-venv lets the
# python3 fallback create a virtualenv. Add a package here when a test needs it.
DEBIAN_PACKAGES := gnupg git make tar shellcheck python3-venv ca-certificates

# Build output, the build check's and the demo's collections paths live under
# this git-ignored folder.
BUILD_DIR := $(REPO_ROOT)/.build
DIST_DIR := $(BUILD_DIR)/dist
BUILD_CHECK_COLLECTIONS := $(BUILD_DIR)/build-check-collections
DEMO_COLLECTIONS := $(BUILD_DIR)/demo-collections
COLLECTION_VERSION = $(shell sed -n 's/^version: *//p' $(REPO_ROOT)/galaxy.yml)
TARBALL = $(DIST_DIR)/nomad_drivers-rkt-$(COLLECTION_VERSION).tar.gz
# `make test` also writes its summary line here, for .ci/run to print last.
TEST_SUMMARY_FILE := $(BUILD_DIR)/make-test-summary.txt

# Test steps run in copies of the collection outside the repository, one per
# step, at $(COLLECTION_COPY_BASE)/<step>/ansible_collections/nomad_drivers/rkt.
# .ci/in-collection-copy explains why a copy outside the git work tree is needed.
# The folder name carries a hash of the repository path, so two clones on one
# machine do not share copies.
export COLLECTION_COPY_BASE ?= $(or $(TMPDIR),/tmp)/nomad_drivers-rkt-$(shell printf '%s' '$(REPO_ROOT)' | sha256sum | cut -c1-12)
IN_COPY := $(REPO_ROOT)/.ci/in-collection-copy

# Always pass --python: without it ansible-test probes every Python it finds
# and trips on pyenv shims. The version is the virtualenv's (3.13 in CI).
PYTHON_VERSION = $(shell $(VENV_PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')

export PATH := $(VENV_BIN):$(PATH)

# CI logs are plain text: no ANSI colour codes from ansible, ansible-lint,
# molecule (rich) or pytest.
ifdef CI
export NO_COLOR := 1
export ANSIBLE_NOCOLOR := 1
export PY_COLORS := 0
endif

# Arguments passed through to the tools, e.g. make sanity SANITY_ARGS='--test pep8'.
SANITY_ARGS ?=
UNITS_ARGS ?=
INTEGRATION_ARGS ?=
PYTEST_ARGS ?=

# The steps of `make test`, in order. Each is a target below.
TEST_STEPS := changelog-lint sanity units integration lint simulator-test molecule build-check docs-check

.PHONY: help deps venv stage ansible-test-pip-bootstrap test $(TEST_STEPS) build demo clean

help: ## Show this help
	@echo "Targets (run from the repository root; the first run installs everything):"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  \1\t\2/' | expand -t 22
	@echo
	@echo "Variables: VENV=$(VENV)  PYTHON=<interpreter for a new venv>  SANITY_ARGS UNITS_ARGS INTEGRATION_ARGS PYTEST_ARGS"

deps: ## Install the Debian packages the tests need (apt-get, only when one is missing)
	@missing=(); \
	for package in $(DEBIAN_PACKAGES); do \
	    if ! dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q 'install ok installed'; then \
	        missing+=("$$package"); \
	    fi; \
	done; \
	if [[ $${#missing[@]} -eq 0 ]]; then \
	    echo "deps: Debian packages present: $(DEBIAN_PACKAGES)"; \
	    exit 0; \
	fi; \
	if [[ $$(id -u) -ne 0 ]]; then \
	    echo "deps: missing Debian packages: $${missing[*]}; run 'sudo make deps' or install them with apt-get" >&2; \
	    exit 1; \
	fi; \
	echo "deps: installing Debian packages: $${missing[*]}"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq; \
	apt-get install -y -qq --no-install-recommends "$${missing[@]}"

venv: ## Create .venv if missing and install the pinned tools (requirements/)
	@$(REPO_ROOT)/.ci/ensure-venv $(VENV) $(REQUIREMENTS) $(CONSTRAINTS)

stage: ## Make a copy for running ansible-test by hand and print its path
	@$(REPO_ROOT)/.ci/stage-collection $(REPO_ROOT) $(COLLECTION_COPY_BASE)/manual/ansible_collections/nomad_drivers/rkt

# ansible-test creates sanity-test virtualenvs without pip and bootstraps pip
# with a get-pip script that it downloads from a host CI cannot reach. This
# seeds the cache path it checks first with .ci/get_pip_offline.py, which uses
# ensurepip and the package index instead. The pip version in the file name
# comes from ansible-test itself. A cached script that is not ours is kept.
GET_PIP_CACHE_DIR := $(HOME)/.ansible/test/cache
ansible-test-pip-bootstrap: venv
	@pip_version=$$($(VENV_PYTHON) -c 'import types; from ansible_test._internal.python_requirements import get_venv_packages; print(get_venv_packages(types.SimpleNamespace(version="$(PYTHON_VERSION)"))["pip"])'); \
	cache_file=$(GET_PIP_CACHE_DIR)/get_pip_$${pip_version//./_}.py; \
	if [[ -f $$cache_file ]] && ! grep -q 'Offline stand-in for the get-pip bootstrap script' "$$cache_file"; then \
	    echo "ansible-test-pip-bootstrap: keeping the existing $$cache_file"; \
	elif ! cmp -s $(REPO_ROOT)/.ci/get_pip_offline.py "$$cache_file"; then \
	    install -D -m 0644 $(REPO_ROOT)/.ci/get_pip_offline.py "$$cache_file"; \
	    echo "ansible-test-pip-bootstrap: seeded $$cache_file (offline pip $$pip_version bootstrap)"; \
	fi

# $(call skip-step,STEP,REASON) prints why STEP has nothing to run and records
# it as skipped for `make test`.
skip-step = echo "$(1): $(2); nothing to run"; [[ -z $${MAKE_TEST_SKIP_FILE:-} ]] || echo "$(1)" >> "$$MAKE_TEST_SKIP_FILE"

# Sanity runs in ansible-test's default mode (neither --venv nor --local): the
# controller is the .venv Python, and every sanity test that needs packages
# gets its own virtualenv under ~/.ansible/test/venv, installed from the package
# index with ansible-test's own pins. --docker needs a container engine, which
# this machine does not have. --venv would add one more virtualenv for the
# controller without testing anything more.
#
# Then .ci/sanity-older-pythons checks modules and module_utils on the other
# managed-node Pythons that tests/config.yml promises (3.7 to 3.12).
sanity: venv ansible-test-pip-bootstrap ## ansible-test sanity (--python X.Y), then compile/import on Python 3.7-3.12
	@status=0; \
	$(IN_COPY) sanity ansible-test sanity --python $(PYTHON_VERSION) --color no $(SANITY_ARGS) || status=$$?; \
	$(IN_COPY) sanity $(REPO_ROOT)/.ci/sanity-older-pythons $(PYTHON_VERSION) || status=$$?; \
	exit $$status

# Units use the .venv Python (default mode), which has the pinned pytest,
# pytest-xdist and mock that ansible-test units needs.
units: venv ## ansible-test units (skipped when tests/unit has no test_*.py)
	@if [[ -z $$(find $(REPO_ROOT)/tests/unit -name 'test_*.py' 2>/dev/null | head -n 1) ]]; then \
	    $(call skip-step,units,no tests/unit/**/test_*.py files yet); \
	else \
	    $(IN_COPY) units ansible-test units --python $(PYTHON_VERSION) --color no $(UNITS_ARGS); \
	fi

# Integration runs with --local on this machine (no container engine). Targets
# get the rkt simulator through setup_rkt_simulator, so no real rkt is touched.
# Targets marked destructive are skipped unless INTEGRATION_ARGS=--allow-destructive.
integration: venv ## ansible-test integration --local (skipped when there are no targets)
	@targets=$$(find $(REPO_ROOT)/tests/integration/targets -mindepth 1 -maxdepth 1 -type d \
	    ! -name 'setup_*' ! -name 'prepare_*' 2>/dev/null | wc -l || true); \
	if [[ $$targets -eq 0 ]]; then \
	    $(call skip-step,integration,no targets in tests/integration/targets yet); \
	else \
	    $(IN_COPY) integration ansible-test integration --local --python $(PYTHON_VERSION) --color no $(INTEGRATION_ARGS); \
	fi

# ansible-lint reads .ansible-lint (production profile, offline). It runs in a
# copy so that it sees exactly the files a clean clone has.
lint: venv ## ansible-lint, production profile, on roles and playbooks
	@$(IN_COPY) lint ansible-lint --offline $(if $(CI),--nocolor)

# The suites give every test its own simulator root, servers and GPG homes, so
# they run on both cores with pytest-xdist.
simulator-test: venv ## pytest tests/rkt_simulator (simulator and testkit suites)
	@if [[ ! -d $(REPO_ROOT)/tests/rkt_simulator ]]; then \
	    $(call skip-step,simulator-test,tests/rkt_simulator does not exist yet); \
	    exit 0; \
	fi; \
	cd $(REPO_ROOT) && status=0; \
	$(VENV_BIN)/pytest -n 2 tests/rkt_simulator $(PYTEST_ARGS) || status=$$?; \
	if [[ $$status -eq 5 ]]; then \
	    $(call skip-step,simulator-test,pytest collected no tests in tests/rkt_simulator); \
	    exit 0; \
	fi; \
	exit $$status

# Scenarios are found at roles/*/molecule/<scenario>/molecule.yml and
# extensions/molecule/<scenario>/molecule.yml, and each runs `molecule test`
# from its project folder in a copy. There is no container engine here, so
# scenarios use molecule's default (delegated) driver on localhost.
molecule: venv ## molecule test for every scenario found (skipped when there are none)
	@cd $(REPO_ROOT); \
	mapfile -t scenario_files < <(compgen -G 'roles/*/molecule/*/molecule.yml' || true; compgen -G 'extensions/molecule/*/molecule.yml' || true); \
	if [[ $${#scenario_files[@]} -eq 0 ]]; then \
	    $(call skip-step,molecule,no scenarios in roles/*/molecule/ or extensions/molecule/ yet); \
	    exit 0; \
	fi; \
	$(IN_COPY) molecule $(REPO_ROOT)/.ci/run-molecule "$${scenario_files[@]}"

changelog-lint: venv ## antsibull-changelog lint (changelogs/ config and fragments)
	@cd $(REPO_ROOT) && antsibull-changelog lint && echo "changelog-lint: changelogs/ is valid"

build: venv ## Build the collection tarball into .build/dist/
	@mkdir -p $(DIST_DIR)
	@cd $(REPO_ROOT) && ansible-galaxy collection build --force --output-path $(DIST_DIR) .

build-check: build ## Install the built tarball and check that ansible-doc lists every plugin and role
	@rm -rf $(BUILD_CHECK_COLLECTIONS)
	@$(VENV_PYTHON) $(REPO_ROOT)/.ci/build_check.py $(TARBALL) $(REPO_ROOT) $(BUILD_CHECK_COLLECTIONS)

# Each step runs in its own make, so one failure does not stop the others.
# The last line is the summary that CI reads: "N passed, N failed[, N skipped]".
test: deps venv ## Run every test step; non-zero exit if any failed
	@skip_file=$$(mktemp); \
	passed=0; failed=0; skipped=0; results=(); \
	for step in $(TEST_STEPS); do \
	    echo; echo "==> make $$step"; \
	    started=$$SECONDS; \
	    if MAKE_TEST_SKIP_FILE=$$skip_file $(MAKE) -C $(REPO_ROOT) $$step; then \
	        if grep -qx "$$step" "$$skip_file"; then \
	            outcome=skipped; skipped=$$((skipped + 1)); \
	        else \
	            outcome=passed; passed=$$((passed + 1)); \
	        fi; \
	    else \
	        outcome=FAILED; failed=$$((failed + 1)); \
	    fi; \
	    results+=("$$(printf '  %-16s %-8s %4ss' "$$step" "$$outcome" "$$((SECONDS - started))")"); \
	done; \
	rm -f "$$skip_file"; \
	echo; echo "make test steps:"; printf '%s\n' "$${results[@]}"; \
	summary="$$passed passed, $$failed failed"; \
	[[ $$skipped -eq 0 ]] || summary="$$summary, $$skipped skipped"; \
	echo "$$summary"; \
	mkdir -p $(BUILD_DIR) && echo "$$summary" > $(TEST_SUMMARY_FILE); \
	[[ $$failed -eq 0 ]]

demo: deps venv build ## Build, install into .build/demo-collections and run playbooks/demo.yml on localhost
	@rm -rf $(DEMO_COLLECTIONS)
	@ANSIBLE_COLLECTIONS_PATH=$(DEMO_COLLECTIONS) ansible-galaxy collection install --force --collections-path $(DEMO_COLLECTIONS) $(TARBALL)
	@echo "demo: installed $(TARBALL) into $(DEMO_COLLECTIONS)"
	@cd $(REPO_ROOT) && ANSIBLE_COLLECTIONS_PATH=$(DEMO_COLLECTIONS) \
	    ansible-playbook --inventory localhost, --connection local playbooks/demo.yml
	@echo "demo: done: built nomad_drivers.rkt $(COLLECTION_VERSION), installed it into $(DEMO_COLLECTIONS) and ran playbooks/demo.yml against localhost"

clean: ## Remove generated files (.build, tests/output, the test copies); keeps .venv
	rm -rf $(BUILD_DIR) $(REPO_ROOT)/tests/output $(REPO_ROOT)/collections $(COLLECTION_COPY_BASE)

# Containers that boot systemd as PID 1, for the tests that need a real
# systemd: the rkt role's molecule scenario `systemd` and rkt_task with
# supervisor: systemd. tests/container/systemd-container builds the images
# (a debootstrap rootfs cached under NOMAD_RKT_CACHE_DIR, imported into
# podman) and starts and stops the containers; docs/testing.md explains its use.
CONTAINER_DEBIAN_PACKAGES := podman runc debootstrap
CONTAINER_TOOL := $(REPO_ROOT)/tests/container/systemd-container
# Debian suites to build images for: localhost/nomad-rkt-systemd:<suite>.
CONTAINER_SUITES ?= bookworm trixie
# The rootfs tarballs and the ansible wheel are kept outside the work tree, so
# `make clean` and a fresh clone on the same machine reuse them.
export NOMAD_RKT_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/nomad_drivers-rkt
# containers.podman (its podman connection plugin runs Ansible inside the
# containers) comes from the `ansible` package on PyPI, because Galaxy is not
# reachable. ansible 14.5.0 requires ansible-core ~=2.21.5, which matches the
# ansible-core pinned in requirements/constraints.txt.
ANSIBLE_PACKAGE_VERSION := 14.5.0
# It goes into the cache folder too: integration targets run under
# ansible-test, which passes only a few environment variables (HOME among
# them), so they find it at its default path below HOME
# (`tests/container/systemd-container collections-path` prints it).
export NOMAD_RKT_CONTAINER_COLLECTIONS := $(NOMAD_RKT_CACHE_DIR)/collections

.PHONY: container-deps container-image podman-collection

container-deps: ## Install podman, runc, debootstrap and dpkg-dev (apt-get, only when one is missing)
	@$(MAKE) -C $(REPO_ROOT) deps DEBIAN_PACKAGES='$(CONTAINER_DEBIAN_PACKAGES)'

container-image: container-deps ## Build the systemd container images (cached; CONTAINER_SUITES=bookworm trixie)
	@for suite in $(CONTAINER_SUITES); do \
	    started=$$SECONDS; \
	    $(CONTAINER_TOOL) image "$$suite"; \
	    echo "container-image: $$suite ready in $$((SECONDS - started)) s"; \
	done

podman-collection: venv ## Install containers.podman (from the ansible wheel on PyPI) into the container cache
	@PIP=$(VENV_BIN)/pip $(REPO_ROOT)/tests/container/install-podman-collection \
	    $(NOMAD_RKT_CONTAINER_COLLECTIONS) $(ANSIBLE_PACKAGE_VERSION)

# The molecule scenario roles/rkt/molecule/systemd and the integration
# targets that test supervisor: systemd run in these containers.
molecule: container-image podman-collection
integration: container-image podman-collection

# User documentation. docs/reference/ is rendered from the modules'
# DOCUMENTATION, EXAMPLES and RETURN and from the roles' argument specs, and
# committed. docs-check (a step of `make test`) fails when it is stale or when
# CHANGELOG.rst does not match changelogs/changelog.yaml. The doc examples
# themselves run in the integration target docs_examples.
.PHONY: docs docs-check changelog

docs: venv ## Render docs/reference/ from the plugins' and roles' own documentation
	@$(VENV_PYTHON) $(REPO_ROOT)/docs/render_reference.py

docs-check: venv ## Fail when docs/reference/ or CHANGELOG.rst is stale
	@status=0; \
	$(VENV_PYTHON) $(REPO_ROOT)/docs/render_reference.py --check || status=$$?; \
	$(VENV_PYTHON) $(REPO_ROOT)/docs/check_changelog.py || status=$$?; \
	exit $$status

# Releases only: collects changelogs/fragments/ into changelogs/changelog.yaml
# for the version in galaxy.yml, removes the fragments and writes CHANGELOG.rst.
changelog: venv ## antsibull-changelog release: fragments into changelog.yaml and CHANGELOG.rst
	@cd $(REPO_ROOT) && antsibull-changelog release

# One molecule scenario instead of all of them, for example
# `make molecule-scenario SCENARIO=roles/rkt/molecule/package`. The copy gets
# its own label, so it never waits for or replaces the copy of `make molecule`.
# The rkt role's scenario `package` builds .deb files and their apt index on
# the host with dpkg-deb and dpkg-scanpackages (Debian package dpkg-dev).
CONTAINER_DEBIAN_PACKAGES += dpkg-dev
SCENARIO ?=

.PHONY: molecule-scenario

molecule-scenario: venv container-image podman-collection ## molecule test for one scenario: SCENARIO=roles/rkt/molecule/package
	@if [[ ! -f $(REPO_ROOT)/$(SCENARIO)/molecule.yml ]]; then \
	    echo "molecule-scenario: no molecule.yml in '$(SCENARIO)'; set SCENARIO to a scenario folder, for example SCENARIO=roles/rkt/molecule/package" >&2; \
	    exit 2; \
	fi
	@cd $(REPO_ROOT) && $(IN_COPY) molecule-$(notdir $(SCENARIO)) $(REPO_ROOT)/.ci/run-molecule $(SCENARIO)/molecule.yml

# Benchmarks, not part of `make test`: benchmarks/run_benchmarks.py times the
# modules and the role against the rkt simulator on this machine and rewrites
# the results section of docs/performance.md (BENCH_ARGS=--no-write only
# prints it). The defaults take about 6 minutes on a 2-core machine; see
# benchmarks/README.md for what each knob sets.
BENCH_RUNS ?= 7
BENCH_SCALE_RUNS ?= 3
BENCH_FLEET_RUNS ?= 3
BENCH_ROLE_RUNS ?= 3
BENCH_ARGS ?=

.PHONY: bench

bench: venv ## Run the benchmarks and rewrite docs/performance.md's results (BENCH_RUNS=7 BENCH_ARGS=...)
	@cd $(REPO_ROOT) && $(VENV_PYTHON) benchmarks/run_benchmarks.py --runs $(BENCH_RUNS) --scale-runs $(BENCH_SCALE_RUNS) \
	    --fleet-runs $(BENCH_FLEET_RUNS) --role-runs $(BENCH_ROLE_RUNS) $(BENCH_ARGS)
