# Test and development entry points for cluster.netboot (Debian 12, as root).
#
#   make deps          Debian packages (tests/utils/apt-packages.txt) + .venv
#   make sanity        ansible-test sanity (no ignore files)
#   make units         ansible-test units
#   make lint          ansible-lint, production profile
#   make integration   pytest tests/integration: real daemons in network namespaces
#   make molecule      every molecule scenario under extensions/molecule/
#   make test          deps, then all the layers above, with a summary
#   make lab / lab-down  the QEMU lab (SCENARIO=imaging or diskless; KEEP=1)
#   make clean         test outputs and caches (not .venv: `make distclean`)
#
# Variables: PYTHON (interpreter for .venv), VENV, ANSIBLE_TEST_PYTHON,
# SCENARIOS (molecule scenarios to run, default: all), KEEP_DOCKERD=1 (leave a
# Docker engine started by `make molecule` running), STOP_ON_FAILURE=1.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= /usr/bin/python3
VENV ?= .venv
ANSIBLE_TEST_PYTHON ?= 3.11
SCENARIOS ?=
LAYERS := sanity units lint integration molecule

export PYTHON
export VENV := $(abspath $(VENV))

DEPS_STAMP := .cache/deps.stamp
DEPS_INPUTS := tests/utils/apt-packages.txt requirements-test.txt \
	tests/utils/constraints-test.txt tests/utils/install-deps.sh
# A virtualenv removed by hand makes the stamp stale.
ifeq ($(wildcard $(VENV)/bin/ansible-test),)
$(shell rm -f $(DEPS_STAMP))
endif

.PHONY: help deps sanity units lint integration molecule test lab lab-down clean distclean

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

deps: $(DEPS_STAMP)

$(DEPS_STAMP): $(DEPS_INPUTS)
	tests/utils/install-deps.sh
	@mkdir -p $(@D)
	@touch $@

sanity: deps
	tests/utils/ansible-test.sh sanity --venv --python $(ANSIBLE_TEST_PYTHON) --color no

units: deps
	tests/utils/ansible-test.sh units --venv --requirements --python $(ANSIBLE_TEST_PYTHON) --color no

# ANSIBLE_HOME in the tree: a copy of cluster.netboot installed under ~/.ansible
# would otherwise shadow the working tree.
lint: deps
	PATH="$(VENV)/bin:$$PATH" ANSIBLE_HOME="$(CURDIR)/.ansible" ansible-lint

integration: deps
	tests/utils/run-integration.sh

molecule: deps
	tests/utils/run-molecule.sh $(SCENARIOS)

test: deps
	tests/utils/run-layers.sh $(LAYERS)

# KEEP=1 leaves the lab running (tests/lab/lab.sh status / down).
# SCENARIO=imaging (default): image_nodes.yml on two groups; SCENARIO=diskless:
# two NFS-root workers provisioned by provision_diskless.yml and add_node.yml.
# DHCP=kea: the console serves DHCP with Kea instead of ISC dhcpd (imaging scenario).
SCENARIO ?= imaging
DHCP ?= isc
lab: deps
ifeq ($(SCENARIO),diskless)
	tests/lab/diskless/run.sh
else ifeq ($(SCENARIO),imaging)
	LAB_DHCP=$(DHCP) tests/lab/lab.sh run $(if $(filter 1 yes true,$(KEEP)),--keep)
else
	@echo "make lab: unknown SCENARIO '$(SCENARIO)' (imaging or diskless)" >&2; exit 2
endif

lab-down:
	tests/lab/lab.sh down

clean:
	rm -rf tests/output .cache/collections .ansible .pytest_cache
	find . -path ./.venv -prune -o -path ./.git -prune -o -type d -name __pycache__ -print0 | xargs -0r rm -rf

distclean: clean
	rm -rf $(VENV) .cache
