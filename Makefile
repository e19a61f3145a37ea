# Entry points a user and CI call. Everything is built by CMake + Ninja (+ ccache) in build/.
BUILD_DIR ?= build
QUIVER    := $(BUILD_DIR)/quiver
ARGS      ?=
BENCH_ARGS ?=
JOBS      ?= $(shell nproc)

.PHONY: all deps configure build run test unit-test e2e-test bench-write bench-search clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts standalone Quiver in the foreground: gRPC on 19530, health and metrics on 9091.
run: build
	$(QUIVER) run standalone $(ARGS)

test: build
	$(MAKE) --no-print-directory unit-test e2e-test

unit-test:
	ctest --test-dir $(BUILD_DIR) -j $(JOBS) --output-on-failure

e2e-test:
	QUIVER_BIN=$(abspath $(QUIVER)) node --test --test-concurrency=$(JOBS) tests/e2e/

# Write-path benchmark (not part of `test`): prints figures, e.g. BENCH_ARGS="--rows 100000 --writers 4".
bench-write: build
	QUIVER_BIN=$(abspath $(QUIVER)) node bench/write_query_bench.mjs $(BENCH_ARGS)

# End-to-end search benchmark against the raw libraries (not part of `test`); 1M x 128 by default,
# e.g. BENCH_ARGS="--rows 100000" for a quick run. See bench/README.md.
bench-search: build
	$(BUILD_DIR)/bench/search_bench --quiver $(QUIVER) $(BENCH_ARGS)

clean:
	rm -rf $(BUILD_DIR)
