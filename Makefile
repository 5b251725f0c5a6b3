# Test and development entry points for cluster.netboot (Debian 12, as root).
#
#   make deps          Debian packages (tests/utils/apt-packages.txt) + .venv
#   make sanity        ansible-test sanity (no ignore files)
#   make units         ansible-test units
#   make lint          ansible-lint, production profile
#   make docs          documentation site: antsibull-docs lint-collection-docs, then
#                      the HTML pages of modules, plugins and roles (build/docs/html)
#   make shellcheck    shellcheck on the shell scripts without .sh (ansible-test misses them)
#   make integration   pytest tests/integration: real daemons in network namespaces
#   make molecule      every molecule scenario under extensions/molecule/
#   make lab-test      every QEMU lab (tests/lab/test_*.py), one after the other; the
#                      imaging lab from inside the execution environment (EE=1 below)
#   make test          deps, then all the layers above, with a summary
#   make lab / lab-down  one QEMU lab (SCENARIO=imaging or diskless; KEEP=1)
#   make clean         test outputs and caches (not .venv: `make distclean`)
#
# Variables: PYTHON (interpreter for .venv), VENV, ANSIBLE_TEST_PYTHON,
# SCENARIOS (molecule scenarios to run, default: all), KEEP_DOCKERD=1 (leave a
# Docker engine started by `make molecule` running), STOP_ON_FAILURE=1,
# STRICT=1 (a test skipped loudly as NOT TESTED fails: for machines that have
# the programs Debian does not package).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= /usr/bin/python3
VENV ?= .venv
ANSIBLE_TEST_PYTHON ?= 3.11
SCENARIOS ?=
LAYERS := sanity units lint docs shellcheck integration molecule lab-test

export PYTHON
export VENV := $(abspath $(VENV))
ifneq ($(filter 1 yes true,$(STRICT)),)
export CNB_TEST_STRICT := 1
endif

DEPS_STAMP := .cache/deps.stamp
DEPS_INPUTS := tests/utils/apt-packages.txt requirements-test.txt \
	tests/utils/constraints-test.txt tests/utils/install-deps.sh
# A virtualenv removed by hand makes the stamp stale.
ifeq ($(wildcard $(VENV)/bin/ansible-test),)
$(shell rm -f $(DEPS_STAMP))
endif

.PHONY: help deps sanity units lint docs shellcheck integration molecule lab-test test lab lab-down clean distclean

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

# Its own virtualenv (docs/site/requirements.txt): Sphinx and the test venv
# disagree on docutils.
docs:
	tests/utils/docs.sh build

shellcheck: deps
	tests/utils/shellcheck.sh

integration: deps
	tests/utils/run-integration.sh

molecule: deps
	tests/utils/run-molecule.sh $(SCENARIOS)

test: deps
	tests/utils/run-layers.sh $(LAYERS)

# The imaging lab runs image_nodes.yml inside the execution environment (as
# AWX does), built first; the Kea and diskless labs run their playbooks from
# the host. One lab run each: the EE adds its build (about 1-2 min), no run.
lab-test: deps
	tests/utils/ee.sh build
	LAB_EE=1 tests/utils/run-lab.sh

# A lab is its test (tests/lab/test_<SCENARIO>.py), run verbosely: it prints the
# result table and tears everything down. SCENARIO=imaging (default):
# image_nodes.yml on two groups and a node that cannot boot; SCENARIO=diskless:
# two NFS-root workers provisioned by provision_diskless.yml and add_node.yml.
# KEEP=1 (imaging) builds and images a lab and leaves it running
# (tests/lab/lab.sh status / down, make lab-down).
# DHCP=kea: the console serves DHCP with Kea instead of ISC dhcpd (imaging scenario).
# EE=1 (imaging scenario): builds the execution environment (tests/utils/ee.sh)
# and runs image_nodes.yml inside it through ansible-navigator, as AWX does;
# the test then also checks the run's events.
# FRISBEE_DIR=DIR (imaging scenario): DIR holds the operator's frisbeed, frisbee and
# imagezip; one group is then imaged through frisbee (otherwise the lab says it was not run).
SCENARIO ?= imaging
DHCP ?= isc
EE ?= 0
ifneq ($(filter 1 yes true,$(EE)),)
export LAB_EE := 1
endif
# POWER=ipmi: every VM gets an ipmi_sim BMC and image_nodes powers the VMs with ipmitool (imaging scenario).
POWER ?= qmp
lab: deps
ifneq ($(filter 1 yes true,$(EE)),)
	tests/utils/ee.sh build
endif
ifneq ($(filter 1 yes true,$(KEEP)),)
ifneq ($(SCENARIO),imaging)
	@echo "make lab: KEEP=1 is for SCENARIO=imaging" >&2; exit 2
endif
	LAB_DHCP=$(DHCP) LAB_POWER=$(POWER) FRISBEE_DIR=$(FRISBEE_DIR) tests/lab/lab.sh run --keep
else
	LAB_DHCP=$(DHCP) LAB_POWER=$(POWER) FRISBEE_DIR=$(FRISBEE_DIR) tests/utils/run-lab.sh $(SCENARIO)
endif

lab-down:
	tests/lab/lab.sh down

clean:
	rm -rf tests/output .cache/collections .ansible .pytest_cache
	find . -path ./.venv -prune -o -path ./.git -prune -o -type d -name __pycache__ -print0 | xargs -0r rm -rf

distclean: clean
	rm -rf $(VENV) .cache
