# difymesh.platform: one entry point for set-up, the lab, the demo and the tests.
#   make demo   converge the whole site on the local lab and print a summary
#   make test   every test: unit, sanity, lint, integration and Molecule, on the lab
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
CACHE := $(CURDIR)/.cache
VENV := $(CACHE)/venv
BIN := $(VENV)/bin
COLLECTIONS := $(CACHE)/collections
LINK := $(COLLECTIONS)/ansible_collections/difymesh/platform
SANITY_ROOT := $(CACHE)/ansible-test/ansible_collections
LAB := $(BIN)/python tools/lab/lab.py
KUBECTL := $(CACHE)/lab/current/kubectl
# The site's Istio chart mirror; for the lab, the fixtures beside the checkout.
ISTIO_CHARTS ?= $(or $(DIFYMESH_ISTIO_CHARTS),$(abspath $(CURDIR)/../shared/fixtures/istio-1.30.3))

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
# Inventories read the mirror from here: Molecule's own inventory can come first and change inventory_dir.
export DIFYMESH_ISTIO_CHARTS := $(ISTIO_CHARTS)
export KUBECONFIG := $(CACHE)/lab/run/kubeconfig
export K8S_AUTH_KUBECONFIG := $(KUBECONFIG)
export PATH := $(CACHE)/lab/current:$(BIN):$(PATH)
export ANSIBLE_FORCE_COLOR ?= 0
export ANSIBLE_NOCOLOR ?= 1

.PHONY: help venv link shellcheck lab-build lab-up lab-down lab-status lab-reset demo test unit sanity lint \
	integration molecule bench build changelog clean docs ee jaeger-build lab-crds

help:  ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

$(BIN)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

venv: $(BIN)/.installed  ## create the Python virtualenv with pinned tools

link: venv  ## make the checkout usable in place as difymesh.platform
	@mkdir -p $(dir $(LINK))
	@ln -sfn $(CURDIR) $(LINK)

lab-build:  ## build the lab's programs from Go modules (cached)
	bash tools/lab/build.sh

lab-up: venv lab-build  ## start the lab (idempotent)
	$(LAB) up

lab-down:  ## stop every lab process
	$(LAB) down

lab-reset: venv  ## stop the lab and delete its state
	$(LAB) down --purge

lab-status: venv  ## show the lab's processes, memory and nodes
	$(LAB) status

demo: link lab-up  ## converge the site on the lab, then print its summary
	$(BIN)/ansible-playbook -i inventories/lab playbooks/site.yml
	$(BIN)/ansible-playbook -i inventories/lab playbooks/status.yml

test: link lab-up  ## run every test suite; non-zero on any failure
	$(MAKE) --no-print-directory unit sanity lint integration molecule
	@echo "make test: all suites passed"

unit: link  ## unit tests (pure logic)
	$(BIN)/pytest -q -n auto tests/unit

shellcheck:
	@command -v shellcheck >/dev/null || { apt-get update -qq && apt-get install -y -qq shellcheck >/dev/null; }

sanity: link shellcheck  ## ansible-test sanity on a copy of the tracked collection files
	@rm -rf $(SANITY_ROOT)/difymesh && mkdir -p $(SANITY_ROOT)/difymesh/platform $(SANITY_ROOT)/kubernetes
	@git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C $(SANITY_ROOT)/difymesh/platform
	@# A repository of its own, or ansible-test would list files through the checkout's git and see none.
	@git -C $(SANITY_ROOT)/difymesh/platform init -q
	@ln -sfn $$($(BIN)/python -c 'import ansible_collections.kubernetes.core as c; print(list(c.__path__)[0])') $(SANITY_ROOT)/kubernetes/core
	@# ansible-test downloads a pip bootstrap script; an offline stand-in serves from its cache.
	@mkdir -p $(HOME)/.ansible/test/cache
	@cp tools/ansible-test/get_pip.py $(HOME)/.ansible/test/cache/get_pip_$$($(BIN)/python -c \
		'import types; from ansible_test._internal.python_requirements import get_venv_packages as g; print(g(types.SimpleNamespace(version="3.11"))["pip"].replace(".", "_"))').py
	cd $(SANITY_ROOT)/difymesh/platform && $(BIN)/ansible-test sanity --local --python 3.11 --requirements

lint: link  ## ansible-lint (production profile); module pages in docs/ match ansible-doc
	$(BIN)/ansible-lint --profile production
	$(BIN)/python tools/docs/module_docs.py --check

docs: link  ## regenerate docs/modules/*.md from ansible-doc
	$(BIN)/python tools/docs/module_docs.py

jaeger-build:  ## build Jaeger v2 from its Go module (cached) for the span round-trip test
	bash tools/tracing/build-jaeger.sh

integration: link lab-up jaeger-build  ## integration tests on the lab
	$(BIN)/pytest -q tests/lab tests/integration

lab-crds: lab-up  ## install the Istio CRDs from the chart mirror (scenarios expect them)
	$(KUBECTL) apply --server-side --field-manager=difymesh --force-conflicts -f $(ISTIO_CHARTS)/crd-all.gen.yaml >/dev/null
	$(KUBECTL) wait --for=condition=Established --timeout=60s -f $(ISTIO_CHARTS)/crd-all.gen.yaml >/dev/null

molecule: link lab-crds  ## every Molecule scenario on the lab (SCENARIO=name for one)
	@# The lab is never destroyed, so Molecule's own state would remember "prepared" across runs.
	rm -rf $(HOME)/.ansible/tmp/molecule.*
	$(BIN)/molecule test $(if $(SCENARIO),-s $(SCENARIO),--all)

bench: link lab-up  ## benchmarks on the lab (prints ratios)
	$(BIN)/python bench/mesh_traffic_bench.py

build: venv  ## build the collection tarball
	$(BIN)/ansible-galaxy collection build --force --output-path $(CACHE)/dist

ee: build lab-build  ## write the execution-environment build context to .cache/ee (no image build)
	$(BIN)/ansible-builder create -f execution-environment.yml --context $(CACHE)/ee

changelog: venv  ## regenerate CHANGELOG.rst from changelogs/fragments
	$(BIN)/antsibull-changelog release --refresh

clean: lab-down  ## remove everything built (keeps the Go module cache)
	rm -rf $(CACHE) ansible_collections tests/output
