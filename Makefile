# Entry points a user and CI call. Everything is built by CMake + Ninja (+ ccache) in build/.
BUILD_DIR ?= build
QUIVER    := $(BUILD_DIR)/quiver
ARGS      ?=
BENCH_ARGS ?=
JOBS      ?= $(shell nproc)

BACKENDS_DIR := $(abspath $(BUILD_DIR))/backends
export BACKENDS_DIR

.PHONY: all deps service-deps configure build run test unit-test e2e-test e2e-backends-test backends backends-down \
        bench-write bench-search clean

all: build

deps:
	@bash scripts/install-deps.sh

service-deps:
	@bash scripts/install-deps.sh --services

$(BUILD_DIR)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts standalone Quiver in the foreground: gRPC on 19530, health and metrics on 9091.
run: build
	$(QUIVER) run standalone $(ARGS)

# Unit tests (ctest starts the real services once for the backend suites), then the
# end-to-end suite on the embedded stores and again on etcd + NATS JetStream + radosgw.
test: build service-deps
	$(MAKE) --no-print-directory unit-test e2e-test e2e-backends-test

unit-test:
	ctest --test-dir $(BUILD_DIR) -j $(JOBS) --output-on-failure

e2e-test:
	QUIVER_BIN=$(abspath $(QUIVER)) node --test --test-concurrency=$(JOBS) tests/e2e/

e2e-backends-test:
	scripts/backends.sh up
	QUIVER_E2E_BACKENDS=$(BACKENDS_DIR)/quiver.env QUIVER_BIN=$(abspath $(QUIVER)) \
	  sh -c 'node --test --test-concurrency=$(JOBS) tests/e2e/ && node --test --test-concurrency=1 tests/faults/'; \
	  status=$$?; scripts/backends.sh down; exit $$status

# 3 etcd members, 3 NATS JetStream nodes and a Ceph radosgw on 127.0.0.1 under build/backends/;
# then: build/quiver run standalone --config build/backends/quiver.yaml
backends: service-deps
	scripts/backends.sh up

backends-down:
	scripts/backends.sh down

# Write-path benchmark (not part of `test`): prints figures, e.g. BENCH_ARGS="--rows 100000 --writers 4".
bench-write: build
	QUIVER_BIN=$(abspath $(QUIVER)) node bench/write_query_bench.mjs $(BENCH_ARGS)

# End-to-end search benchmark against the raw libraries (not part of `test`); 1M x 128 by default,
# e.g. BENCH_ARGS="--rows 100000" for a quick run. See bench/README.md.
bench-search: build
	$(BUILD_DIR)/bench/search_bench --quiver $(QUIVER) $(BENCH_ARGS)

clean:
	rm -rf $(BUILD_DIR)
