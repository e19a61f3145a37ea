// S3Options for tests on the radosgw of scripts/backends.sh (include from *_test.cc only).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "common/test_util.h"
#include "storage/object_store_factory.h"

namespace quiver::storage::test {

// The tests' own bucket, apart from the one Quiver uses.
inline constexpr char kTestBucket[] = "quiver-tests";

// A key prefix that no other test, in this run or an earlier one, uses: the service is shared
// by tests running in parallel and is not wiped between runs.
inline std::string UniqueKeyPrefix() {
  static std::mt19937_64 random(std::random_device{}());
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  return "t/" + std::to_string(::getpid()) + "-" + std::to_string(random()) + "/";
}

// The service's address and keys with a fresh key prefix, or nullopt when the test runs
// without the services (QUIVER_BACKENDS_CONFIG unset).
inline std::optional<S3Options> TestS3Options() {
  auto config = quiver::test::BackendsConfig();
  if (!config) return std::nullopt;
  S3Options options;
  options.address = config->minio.address;
  options.port = config->minio.port;
  options.access_key_id = config->minio.access_key_id;
  options.secret_access_key = config->minio.secret_access_key;
  options.use_ssl = config->minio.use_ssl;
  options.bucket = kTestBucket;
  options.key_prefix = UniqueKeyPrefix();
  return options;
}

}  // namespace quiver::storage::test
