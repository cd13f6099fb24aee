# IPCNet - a thin wrapper around CMake.  On a fresh Debian 12 machine:
#
#   make demo    install what is missing (as root), build, run the demo
#   make test    install what is missing (as root), build every way, run every test
#
# Other targets:
#   make build                      optimised build (-O3) with debug info in build/
#   make install [PREFIX=/usr/local] [DESTDIR=...]   (library, headers, CLI, Python)
#   make sanitize                   ASan + UBSan build in build-asan/ and its tests
#   make fuzz [FUZZ_SECONDS=60]     clang build in build-fuzz/ and a bounded fuzz run
#   make deps                       only check/install the Debian packages (scripts/deps.sh)
#   make clean                      remove build/, build-asan/, build-fuzz/
# Variables: JOBS (parallel jobs, default 2), BUILD_TYPE (default RelWithDebInfo).

SHELL := /bin/bash
JOBS ?= 2
PREFIX ?= /usr/local
BUILD_TYPE ?= RelWithDebInfo
FUZZ_SECONDS ?= 60
DEMO := build/bin/ipcnet-demo
export JOBS PREFIX BUILD_TYPE

.PHONY: all help deps build demo test install sanitize fuzz clean

all: build

help:
	@sed -n '1,/^$$/s/^# \{0,1\}//p' Makefile

deps:
	@bash scripts/deps.sh

build: deps
	@bash scripts/build.sh normal

demo: build
	@if [ ! -x $(DEMO) ]; then \
	    echo "make demo: $(DEMO) was not built (no demo program in examples/ yet?)" >&2; \
	    exit 1; \
	fi
	@echo "+ $(DEMO)"
	@$(DEMO)

test: deps
	@bash tests/run-all.sh

# Builds only what it installs (the library, headers, CLI, Python package,
# pkg-config and CMake files): not the tests, the benchmark or the demo.
install: deps
	@TARGET=ipcnet_installed bash scripts/build.sh normal
	DESTDIR="$(DESTDIR)" cmake --install build --prefix "$(PREFIX)"

sanitize: deps
	@bash tests/run-all.sh asan

fuzz: deps
	@if [ ! -f tests/fuzz/run.sh ]; then \
	    echo "make fuzz: tests/fuzz/run.sh does not exist: there is nothing to fuzz yet" >&2; \
	    exit 1; \
	fi
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/run-all.sh fuzz

clean:
	rm -rf build build-asan build-fuzz
