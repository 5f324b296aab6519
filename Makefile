SHELL := /bin/bash -o pipefail
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

NAME    := docker
OUTPUT  := lib$(NAME).so
VERSION := $(shell sed -n 's/^\tpluginVersion = "\(.*\)"/\1/p' plugin/docker.go)
OPEN    ?=
CONFIG  ?=
# make run FIELDS=... N=...: from the command line only (a stray N in the
# environment must not cut runs short).
FIELDS  :=
N       :=
PLUGIN_RUN := build/plugin-run
FUZZTIME ?= 10s
# Engines of the test matrix beside the system Docker daemon: moby v2's
# dockerd (API 1.56) from the Go module proxy, cached in build/engines;
# Podman from Debian's packages (test-tools).
MOBY_VERSION ?= v2.0.0-beta.24
ENGINES := build/engines/dockerd

# shq quotes a make variable's value for the shell (single quotes, embedded
# ones escaped), so OPEN/CONFIG/FIELDS values and install paths reach their
# commands unchanged.
shq = '$(subst ','\'',$(1))'

# Pure-Go packages tested directly (rules/ holds the rules tests).
PUREPKGS := ./internal/... $(if $(wildcard rules/*.go),./rules/...)

GOFILES := $(shell find . -name '*.go' -not -path './build/*')
CFILES  := $(shell find abi tests/harness -name '*.[ch]')

.PHONY: all clean test vet fmt-check unit harness harness-cgocheck2 run install uninstall package rules bench fuzz readme profile engines test-tools mutate conformance

all: $(OUTPUT)

$(OUTPUT): $(GOFILES) $(CFILES) go.mod go.sum
	$(GO) build -buildmode=c-shared -o $(OUTPUT) ./plugin

$(PLUGIN_RUN): $(GOFILES) $(CFILES) go.mod go.sum
	@mkdir -p $(dir $(PLUGIN_RUN))
	$(GO) build -o $(PLUGIN_RUN) ./tests/cmd/plugin-run

clean:
	rm -rf $(OUTPUT) lib$(NAME).h build $(DIST)

# Everything the project checks.
test: fmt-check vet engines unit harness harness-cgocheck2

# The real engines the Docker integration tests start themselves (see
# tests/dockertest/engines.go). A cold module cache takes ~20 min on 2 cores
# for dockerd; the Go build cache makes later builds take seconds.
engines: $(ENGINES) test-tools

$(ENGINES):
	@mkdir -p build/engines
	GOBIN=$(CURDIR)/build/engines $(GO) install github.com/moby/moby/v2/cmd/dockerd@$(MOBY_VERSION)

# Debian packages the tests need: podman (an engine of the matrix),
# docker-compose and systemd-analyze (tests/deploy checks deploy/ with them).
test-tools:
	@missing=""; \
	command -v podman >/dev/null || missing="$$missing podman"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing (apt-get, root)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

fmt-check:
	@bad=$$(gofmt -l $(GOFILES)); if [ -n "$$bad" ]; then echo "gofmt needed: $$bad"; exit 1; fi

vet:
	$(GO) vet ./...

# internal/ and rules/ are pure Go: tested directly, with the race detector.
# Every fuzz target's committed corpus runs here as ordinary tests; fuzzing
# itself (make fuzz) is not part of make test: on a loaded 2-core machine a
# short -fuzztime run can end in "context deadline exceeded" (its workers
# miss the deadline), a failure that says nothing about the code.
unit:
	$(GO) test -race -count=1 $(PUREPKGS)

# The cgo harness drives the built .so through the C ABI.
harness: $(OUTPUT)
	DOCKER_PLUGIN_SO=$(CURDIR)/$(OUTPUT) $(GO) test -count=1 -timeout 15m ./tests/...

# The harness again against a build with full cgo pointer checking: any Go
# pointer the plugin (or the harness) leaves in C memory panics the run.
harness-cgocheck2:
	@mkdir -p build
	GOEXPERIMENT=cgocheck2 $(GO) build -buildmode=c-shared -o build/libdocker-cgocheck2.so ./plugin
	GOEXPERIMENT=cgocheck2 DOCKER_PLUGIN_SO=$(CURDIR)/build/libdocker-cgocheck2.so $(GO) test -count=1 -timeout 15m ./tests/

# Deliberate bugs (tests/cmd/mutate/mutations.go), each applied alone to a
# copy of the tree (never this one): every one must turn the suite red.
# Prints caught/missed and fails when one survives. Optional and slow, not
# part of make test: a caught bug costs up to a minute, a missed one a whole
# suite run. MUTATE_ARGS='-only a,b' runs some, '-list' prints them.
mutate: engines
	$(GO) run ./tests/cmd/mutate $(MUTATE_ARGS)

# Every fuzz target of the module, FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list $(PUREPKGS)); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Load the plugin through the project's loader and print events with fields:
# live from the local daemon by default, OPEN=file:///abs/events.jsonl replays,
# FIELDS=docker.type,docker.exec.cmdline chooses the fields, N=10 stops after
# ten events. When the loader fails (status 3: no daemon answers) make reports
# "Error 3" and exits with its own status, 2.
run: $(OUTPUT) $(PLUGIN_RUN)
	$(PLUGIN_RUN) -so ./$(OUTPUT) -open $(call shq,$(OPEN)) -config $(call shq,$(CONFIG))$(if $(FIELDS), -fields $(call shq,$(FIELDS)))$(if $(N), -n $(call shq,$(N)))

# The conformance suite (tests/conformance; README "Conformance suite") on
# any plugin: make conformance PLUGIN=/path/libfoo.so [CONFIG=...] [OPEN=...]
# (CONFIG unset: the defaults of the plugin's init schema; OPEN unset: "").
# Without PLUGIN: this plugin, replaying a recorded engine corpus. Prints the
# table, writes build/conformance.json, fails when a check FAILs. make test
# runs the suite too (tests/TestConformance, tests/conformance).
CONFORMANCE_OPEN = $(if $(PLUGIN)$(OPEN),$(OPEN),file://$(CURDIR)/tests/testdata/engines/docker-20.10.jsonl)

conformance: build/conformance $(if $(PLUGIN),,$(OUTPUT))
	build/conformance -plugin $(call shq,$(or $(PLUGIN),./$(OUTPUT)))$(if $(CONFIG), -init $(call shq,$(CONFIG))) -open $(call shq,$(CONFORMANCE_OPEN)) -json build/conformance.json

build/conformance: $(GOFILES) $(CFILES) go.mod go.sum
	@mkdir -p build
	$(GO) build -o build/conformance ./tests/cmd/conformance

# Profile the plugin's own runtime (pprofAddr) under a replay+extraction
# workload driven through the ABI; profiles land in build/profile/.
profile: $(OUTPUT)
	@mkdir -p build/profile
	PROFILE_OUT=$(CURDIR)/build/profile DOCKER_PLUGIN_SO=$(CURDIR)/$(OUTPUT) $(GO) test -count=1 -run '^TestProfileWorkload$$' ./tests/
	$(GO) tool pprof -top -nodecount=25 $(OUTPUT) build/profile/cpu.prof
	@echo "profiles: build/profile/cpu.prof build/profile/heap.prof"

# README's field and init config tables, from the built plugin.
readme: $(OUTPUT)
	$(GO) run ./tests/cmd/readme -so ./$(OUTPUT) -readme README.md

# Install layout of a packaged Falco (>= 0.41), which picks the plugin up with
# no edit of its falco.yaml: the library in its plugins directory, the rules in
# rules.d, a config drop-in in config.d. DESTDIR is a staging root for
# packagers (files land in $(DESTDIR)$(PREFIX)/...).
DESTDIR   ?=
PREFIX    ?= /usr
FALCO_ETC ?= /etc/falco
PLUGINDIR := $(PREFIX)/share/falco/plugins
RULESDIR  := $(FALCO_ETC)/rules.d
CONFIGDIR := $(FALCO_ETC)/config.d
DROPIN    := falco.docker_plugin.yaml
# Release tarballs go to DIST, named as falcosecurity publishes plugins:
# <name>-<version>-linux-<arch>.tar.gz, arch as `uname -m` spells it, for the
# GOARCH the library is built for.
DIST      := dist
ARCH      := $(shell $(GO) env GOARCH 2>/dev/null | sed 's/^amd64$$/x86_64/; s/^arm64$$/aarch64/')

# install writes exactly three files (modes 0644, directories 0755 whatever
# the umask). The drop-in names the library where it was installed; an
# installed drop-in that differs from the one install would write (edited
# init_config) is kept, and said so. uninstall removes the three files and
# leaves the directories, which a Falco package owns.
install: $(OUTPUT)
	@case $(call shq,$(PLUGINDIR)) in *[!A-Za-z0-9_./+-]*|"") \
	  echo "install: PREFIX=$(PREFIX): only letters, digits and _ . / + - are supported" >&2; exit 1;; esac
	umask 022; \
	install -d $(call shq,$(DESTDIR)$(PLUGINDIR)) $(call shq,$(DESTDIR)$(RULESDIR)) $(call shq,$(DESTDIR)$(CONFIGDIR)) && \
	install -m 0644 $(OUTPUT) $(call shq,$(DESTDIR)$(PLUGINDIR)/$(OUTPUT)) && \
	install -m 0644 rules/docker_rules.yaml $(call shq,$(DESTDIR)$(RULESDIR)/docker_rules.yaml)
	@umask 022; new=$$(mktemp) && trap 'rm -f "$$new"' EXIT && \
	sed 's|^\(    library_path: \)/usr/share/falco/plugins/libdocker\.so$$|\1$(PLUGINDIR)/$(OUTPUT)|' deploy/$(DROPIN) > "$$new" && \
	grep -qx '    library_path: $(PLUGINDIR)/$(OUTPUT)' "$$new" && \
	dst=$(call shq,$(DESTDIR)$(CONFIGDIR)/$(DROPIN)) && \
	if [ -e "$$dst" ] && ! cmp -s "$$new" "$$dst"; then \
	  echo "install: kept $$dst: it differs from deploy/$(DROPIN) (edited?); compare and merge by hand"; \
	else \
	  echo "install -m 0644 deploy/$(DROPIN) $$dst" && install -m 0644 "$$new" "$$dst"; \
	fi

uninstall:
	rm -f $(call shq,$(DESTDIR)$(PLUGINDIR)/$(OUTPUT)) $(call shq,$(DESTDIR)$(RULESDIR)/docker_rules.yaml) $(call shq,$(DESTDIR)$(CONFIGDIR)/$(DROPIN))

# The library and its LICENSE, beside the rules tarball: what a plugin index
# publishes. Owner root, fixed modes.
package: $(OUTPUT) rules
	@rm -rf build/package && mkdir -p build/package $(DIST)
	install -m 0644 $(OUTPUT) LICENSE build/package/
	tar --owner=0 --group=0 --numeric-owner -czf $(DIST)/$(NAME)-$(VERSION)-linux-$(ARCH).tar.gz -C build/package $(OUTPUT) LICENSE
	@rm -rf build/package
	@echo $(DIST)/$(NAME)-$(VERSION)-linux-$(ARCH).tar.gz

rules:
	@mkdir -p $(DIST)
	tar --owner=0 --group=0 --numeric-owner -czf $(DIST)/$(NAME)-rules-$(VERSION).tar.gz -C rules docker_rules.yaml
	@echo $(DIST)/$(NAME)-rules-$(VERSION).tar.gz

bench: $(OUTPUT)
	DOCKER_PLUGIN_SO=$(CURDIR)/$(OUTPUT) $(GO) test -run='^$$' -bench=. -benchmem -count=1 ./tests/ ./internal/...
