// Helpers shared by the GoogleTest suites (header-only; include from *_test.cc only).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace quiver::test {

// EXPECT_TRUE(IsOk(status)) prints the status when it fails.
inline testing::AssertionResult IsOk(const Status& status) {
  if (status.ok()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << status.ToString();
}

template <typename T>
testing::AssertionResult IsOk(const StatusOr<T>& result) {
  return IsOk(result.status());
}

// A fresh directory under /tmp, removed with its contents at the end of the test.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "quiver-test") {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Collects what a callback reports from another thread (watch events, leader changes), so a
// test can wait for it.
template <typename T>
class CallbackLog {
 public:
  std::function<void(const T&)> Callback() {
    return [this](const T& value) {
      std::lock_guard lock(mu_);
      values_.push_back(value);
      arrived_.notify_all();
    };
  }

  // The values so far, once there are at least `count` of them or `patience` has passed.
  std::vector<T> WaitFor(size_t count, std::chrono::milliseconds patience = std::chrono::seconds(10)) {
    return WaitUntil([count](const std::vector<T>& values) { return values.size() >= count; }, patience);
  }

  // The values so far, once `done(values)` holds or `patience` has passed.
  std::vector<T> WaitUntil(const std::function<bool(const std::vector<T>&)>& done, std::chrono::milliseconds patience) {
    std::unique_lock lock(mu_);
    arrived_.wait_for(lock, patience, [&] { return done(values_); });
    return values_;
  }

 private:
  std::mutex mu_;
  std::condition_variable arrived_;
  std::vector<T> values_;
};

// `size` pseudo-random bytes, the same for the same seed.
inline std::string RandomBytes(size_t size, uint64_t seed) {
  std::string bytes(size, '\0');
  std::mt19937_64 random(seed);
  for (size_t i = 0; i < size; i += 8) {
    uint64_t word = random();
    std::memcpy(bytes.data() + i, &word, std::min<size_t>(8, size - i));
  }
  return bytes;
}

// The config of the real etcd / NATS / radosgw services that `scripts/backends.sh up` wrote
// (ctest sets QUIVER_BACKENDS_CONFIG for tests declared with BACKENDS), or nullopt when the
// test runs without them. Throws when the variable is set but the file does not load: a
// test that was promised the services must not quietly skip them.
inline std::optional<Config> BackendsConfig() {
  const char* path = std::getenv("QUIVER_BACKENDS_CONFIG");
  if (path == nullptr || *path == '\0') return std::nullopt;
  Config config;
  Status loaded = ApplyConfigFile(path, &config);
  if (!loaded.ok()) throw std::runtime_error("QUIVER_BACKENDS_CONFIG: " + loaded.ToString());
  return config;
}

// Runs `scripts/backends/<service>.sh <args>` (fault tests: "kill 1", "start 1"); true on exit 0.
inline bool RunBackendScript(const std::string& service, const std::string& args) {
#ifdef QUIVER_SOURCE_DIR
  const char* config = std::getenv("QUIVER_BACKENDS_CONFIG");
  if (config == nullptr) return false;
  std::string dir = std::filesystem::path(config).parent_path().string();
  std::string command = "BACKENDS_DIR='" + dir + "' " + std::string(QUIVER_SOURCE_DIR) + "/scripts/backends/" +
                        service + ".sh " + args;
  return std::system(command.c_str()) == 0;
#else
  (void)service;
  (void)args;
  return false;
#endif
}

}  // namespace quiver::test
