// S3ObjectStore while the gateway dies: radosgw is killed with SIGKILL while Puts (single and
// multipart) are in flight and started again 2 s later. Every Put that returned OK must be
// readable with its bytes, and the Puts caught by the outage must finish once the gateway is
// back (the store retries them). Runs alone (SERIAL): it takes the service away.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "common/test_util.h"
#include "storage/object_store_factory.h"
#include "storage/s3/s3_test_util.h"

namespace quiver::storage {
namespace {

using quiver::test::IsOk;
using quiver::test::RunBackendScript;

constexpr uint64_t kMiB = 1024 * 1024;

std::string Payload(uint64_t seed, size_t size) { return quiver::test::RandomBytes(size, seed); }

// Puts objects of `size` under `dir` until told to stop, remembering which succeeded.
class Writer {
 public:
  Writer(ObjectStore* store, std::string dir, size_t size) : store_(store), dir_(std::move(dir)), size_(size) {}

  void Run(const std::atomic<bool>& stop) {
    for (uint64_t n = 0; !stop; ++n) {
      std::string key = dir_ + "/" + std::to_string(n);
      Status put = store_->Put(key, Payload(n, size_));
      std::lock_guard lock(mutex_);
      if (put.ok()) {
        acked_[key] = n;
      } else {
        failures_.push_back(key + ": " + put.ToString());
      }
    }
  }
  size_t acked() {
    std::lock_guard lock(mutex_);
    return acked_.size();
  }

  ObjectStore* store_;
  const std::string dir_;
  const size_t size_;
  std::mutex mutex_;
  std::map<std::string, uint64_t> acked_;
  std::vector<std::string> failures_;
};

void WaitUntil(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST(S3ObjectStoreFaultTest, PutsSurviveAGatewayKilledAndRestartedMidStream) {
  auto options = test::TestS3Options();
  if (!options) GTEST_SKIP() << "QUIVER_BACKENDS_CONFIG is not set (run with ctest, or scripts/backends.sh up)";
  options->multipart_threshold = 5 * kMiB;
  options->part_size = 5 * kMiB;
  options->retry_timeout = std::chrono::seconds(60);  // the outage lasts ~2.5 s
  auto opened = OpenS3ObjectStore(*options);
  ASSERT_TRUE(IsOk(opened));
  ObjectStore* store = opened->get();

  Writer small(store, "small", 64 * 1024);
  Writer multipart(store, "multipart", 11 * kMiB);  // three parts
  std::atomic<bool> stop{false};
  std::thread small_thread([&] { small.Run(stop); });
  std::thread multipart_thread([&] { multipart.Run(stop); });

  WaitUntil([&] { return small.acked() >= 20 && multipart.acked() >= 1; });
  size_t small_before = small.acked(), multipart_before = multipart.acked();
  ASSERT_TRUE(RunBackendScript("rgw", "kill 0"));
  std::thread restarter([] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_TRUE(RunBackendScript("rgw", "start 0"));
  });
  restarter.join();
  // Both writers go on once the gateway is back.
  WaitUntil([&] { return small.acked() >= small_before + 20 && multipart.acked() >= multipart_before + 2; });
  stop = true;
  small_thread.join();
  multipart_thread.join();

  EXPECT_TRUE(small.failures_.empty()) << small.failures_.front();
  EXPECT_TRUE(multipart.failures_.empty()) << multipart.failures_.front();
  EXPECT_GE(small.acked(), small_before + 20);
  EXPECT_GE(multipart.acked(), multipart_before + 2);
  for (Writer* writer : {&small, &multipart}) {
    for (const auto& [key, seed] : writer->acked_) {
      auto got = store->Get(key);
      ASSERT_TRUE(IsOk(got)) << key;
      EXPECT_TRUE(*got == Payload(seed, writer->size_)) << key << " differs";
    }
    auto listed = store->List(writer->dir_ + "/");
    ASSERT_TRUE(IsOk(listed));
    EXPECT_EQ(listed->size(), writer->acked_.size());
  }
}

}  // namespace
}  // namespace quiver::storage
