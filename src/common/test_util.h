// Helpers shared by the GoogleTest suites (header-only; include from *_test.cc only).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

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
