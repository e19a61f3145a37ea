// MetaKV backends for tests (include from *_test.cc only): the embedded store, and etcd when
// the test services run (quiver::test::BackendsConfig()).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "meta/meta_kv_factory.h"

namespace quiver::test {

// The test etcd, in a namespace of its own: tests run in parallel against the same etcd,
// which is not wiped between runs. nullopt without the services.
inline std::optional<meta::EtcdOptions> TestEtcdOptions(const std::string& dir) {
  auto config = BackendsConfig();
  if (!config) return std::nullopt;
  meta::EtcdOptions options;
  options.endpoints = config->etcd.endpoints;
  options.root_path = config->etcd.root_path + "-test/" + std::filesystem::path(dir).filename().string() + "-" +
                      std::to_string(std::random_device{}());
  return options;
}

inline StatusOr<std::unique_ptr<meta::MetaKV>> OpenTestEtcd(const std::string& dir) {
  auto options = TestEtcdOptions(dir);
  if (!options) return Status(Code::kServiceNotReady, "the test services are not running (QUIVER_BACKENDS_CONFIG)");
  return meta::OpenEtcdMetaKV(*options);
}

// A MetaKV backend a suite runs against. `open` gets a fresh scratch directory per test
// (etcd uses it only to name its namespace).
struct MetaBackend {
  std::string name;
  std::function<StatusOr<std::unique_ptr<meta::MetaKV>>(const std::string& dir)> open;
  bool needs_services = false;  // skipped without QUIVER_BACKENDS_CONFIG
};

inline void PrintTo(const MetaBackend& backend, std::ostream* os) { *os << backend.name; }

// Every backend: tests are listed at build time, before any service runs, so etcd's are
// always there and skip themselves when the services are not.
inline std::vector<MetaBackend> AllMetaBackends() {
  return {MetaBackend{"rocksdb", meta::OpenEmbeddedMetaKV}, MetaBackend{"etcd", OpenTestEtcd, true}};
}

inline std::string MetaBackendName(const testing::TestParamInfo<MetaBackend>& info) { return info.param.name; }

// A suite run on every backend: kv_ is a fresh store for each test.
class MetaBackendTest : public testing::TestWithParam<MetaBackend> {
 protected:
  void SetUp() override {
    if (GetParam().needs_services && !BackendsConfig()) GTEST_SKIP() << "needs the test services";
    auto opened = GetParam().open(dir_.path());
    ASSERT_TRUE(IsOk(opened));
    kv_ = std::move(*opened);
  }

  TempDir dir_;
  std::unique_ptr<meta::MetaKV> kv_;
};

}  // namespace quiver::test
