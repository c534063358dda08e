# rtcbill's front door. `make test` is the one way to run the tests;
# `make demo` bills the example events. The real build is CMake's (build/).

BUILD := build
ASAN_BUILD := build-asan
MAKEFLAGS += --no-print-directory
JOBS := $(shell nproc 2>/dev/null || echo 2)
C_FILES = $(shell find core bindings tests bench -name '*.[ch]' 2>/dev/null)

# Targets run one after another (deps before build before tests); the
# compiler parallelism is CMake's.
.NOTPARALLEL:
.PHONY: all deps build test demo asan fuzz format clean

all: build

deps:
	@bash scripts/install-deps.sh

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) --parallel $(JOBS)

test: deps build
	ctest --test-dir $(BUILD) --output-on-failure

demo: deps build
	./$(BUILD)/rtcbill simulate --out $(BUILD)/demo examples/events/*.jsonl

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DRTCBILL_SANITIZE=ON
	cmake --build $(ASAN_BUILD) --parallel $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure

# Fuzzing (not part of `make test`): builds the libFuzzer targets with
# clang into build-fuzz/ and runs each for SECONDS (tests/fuzz/run.sh).
SECONDS ?= 600
fuzz:
	bash tests/fuzz/run.sh all $(SECONDS)

# Installs the command, the libraries, rtcbill.h, rtcbill.pc and the
# rules under PREFIX (docs/operations.md).
PREFIX ?= /usr/local
.PHONY: install
install: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD) --parallel $(JOBS)
	cmake --install $(BUILD)

format:
	clang-format -i $(C_FILES)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
