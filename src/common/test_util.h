// Helpers shared by the GoogleTest suites (header-only; include from *_test.cc only).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

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

}  // namespace quiver::test
