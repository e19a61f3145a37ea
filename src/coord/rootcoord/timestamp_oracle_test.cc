#include "common/test_util.h"
#include "coord/rootcoord/timestamp_oracle.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "meta/meta_kv_factory.h"

namespace quiver::rootcoord {
namespace {

using quiver::test::IsOk;
using quiver::test::TempDir;

using namespace std::chrono_literals;

constexpr char kTsoKey[] = "test/tso";
constexpr char kIdKey[] = "test/id";
constexpr uint32_t kMaxBatch = (1u << kLogicalBits) - 1;  // the largest count Alloc accepts

int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t Logical(uint64_t ts) { return ts & ((uint64_t{1} << kLogicalBits) - 1); }

// Forks a child that runs `report_until_killed(fd)`, which writes 8-byte values to `fd` in
// an endless loop. Kills the child with SIGKILL once `reports_before_kill` values arrived
// and returns every value it reported, including those written just before the kill.
std::vector<uint64_t> ReportsOfKilledChild(const std::function<void(int)>& report_until_killed,
                                           size_t reports_before_kill) {
  int report_pipe[2];
  if (pipe(report_pipe) != 0) {
    ADD_FAILURE() << "pipe failed";
    return {};
  }
  pid_t child = fork();
  if (child < 0) {
    ADD_FAILURE() << "fork failed";
    return {};
  }
  if (child == 0) {
    close(report_pipe[0]);
    report_until_killed(report_pipe[1]);
    _exit(1);
  }
  close(report_pipe[1]);

  std::vector<uint64_t> reports;
  uint64_t value = 0;
  // Writes of 8 bytes to a pipe are atomic, so a read never returns part of a value.
  auto read_one = [&] { return read(report_pipe[0], &value, sizeof value) == sizeof value; };
  while (reports.size() < reports_before_kill && read_one()) reports.push_back(value);
  kill(child, SIGKILL);
  int wait_status = 0;
  EXPECT_EQ(waitpid(child, &wait_status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(wait_status)) << "child exited on its own with status " << WEXITSTATUS(wait_status);
  while (read_one()) reports.push_back(value);
  close(report_pipe[0]);
  EXPECT_GE(reports.size(), reports_before_kill);
  return reports;
}

// One MetaKV directory that a test can close and reopen, as a restarted process would.
class AllocatorTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(Reopen()); }

  void Reopen() {
    kv_.reset();
    auto kv = meta::OpenEmbeddedMetaKV(dir_.path());
    ASSERT_TRUE(IsOk(kv));
    kv_ = std::move(*kv);
  }

  std::unique_ptr<TimestampOracle> StartOracle(int64_t window_ms = 3000) {
    auto oracle = std::make_unique<TimestampOracle>(kv_.get(), kTsoKey, window_ms);
    EXPECT_TRUE(IsOk(oracle->Init()));
    return oracle;
  }

  std::unique_ptr<IdAllocator> StartIdAllocator(int64_t first_id, int64_t batch = 10000) {
    auto ids = std::make_unique<IdAllocator>(kv_.get(), kIdKey, batch);
    EXPECT_TRUE(IsOk(ids->Init(first_id)));
    return ids;
  }

  int64_t Revision() { return *kv_->CurrentRevision(); }

  int64_t PersistedValue(const std::string& key) {
    auto value = kv_->Get(key);
    EXPECT_TRUE(IsOk(value));
    EXPECT_TRUE(value->has_value()) << key << " was never persisted";
    return value->has_value() ? std::stoll(**value) : 0;
  }

  TempDir dir_;
  std::unique_ptr<meta::MetaKV> kv_;
};

// ---- TimestampOracle ----

using TimestampOracleTest = AllocatorTest;

TEST_F(TimestampOracleTest, SuccessiveTimestampsStrictlyIncrease) {
  auto oracle = StartOracle();
  uint64_t previous = 0;
  for (int i = 0; i < 100000; ++i) {
    auto ts = oracle->Alloc(1);
    ASSERT_TRUE(IsOk(ts));
    ASSERT_GT(*ts, previous) << "allocation " << i;
    previous = *ts;
  }
}

TEST_F(TimestampOracleTest, ConcurrentAllocationsNeverCollide) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10000;
  auto oracle = StartOracle();
  std::vector<std::vector<uint64_t>> handed_out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto ts = oracle->Alloc(1);
        if (!ts.ok()) return;  // the missing values fail the size check below
        handed_out[t].push_back(*ts);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::vector<uint64_t> all;
  for (const auto& mine : handed_out) {
    ASSERT_EQ(mine.size(), size_t{kPerThread});
    EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end())) << "one thread saw time go backwards";
    all.insert(all.end(), mine.begin(), mine.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a timestamp was handed out twice";
}

TEST_F(TimestampOracleTest, BatchIsConsecutiveAndNeverReused) {
  auto oracle = StartOracle();
  uint64_t next_free = 0;
  for (uint32_t count : {1u, 7u, 1000u, kMaxBatch, 3u, kMaxBatch, kMaxBatch, 1u, 100000u, 200000u, 1u}) {
    auto first = oracle->Alloc(count);
    ASSERT_TRUE(IsOk(first));
    EXPECT_GE(*first, next_free) << "batch of " << count << " overlaps the previous one";
    // All of the batch shares one millisecond: first + i is a valid timestamp for every i.
    EXPECT_LE(Logical(*first) + count, uint64_t{1} << kLogicalBits) << "batch of " << count;
    next_free = *first + count;
  }
  auto after = oracle->Alloc(1);
  ASSERT_TRUE(IsOk(after));
  EXPECT_GE(*after, next_free);
}

TEST_F(TimestampOracleTest, RejectsEmptyAndOversizedBatches) {
  auto oracle = StartOracle();
  EXPECT_EQ(oracle->Alloc(0).status().code(), Code::kParameterInvalid);
  EXPECT_EQ(oracle->Alloc(kMaxBatch + 1).status().code(), Code::kParameterInvalid);
  EXPECT_TRUE(IsOk(oracle->Alloc(kMaxBatch)));
}

TEST_F(TimestampOracleTest, PhysicalPartFollowsTheWallClock) {
  auto oracle = StartOracle();
  int64_t before = WallClockMs();
  auto ts = oracle->Alloc(1);
  int64_t after = WallClockMs();
  ASSERT_TRUE(IsOk(ts));
  EXPECT_GE(PhysicalMs(*ts), before);
  EXPECT_LE(PhysicalMs(*ts), after);

  std::this_thread::sleep_for(50ms);
  auto later = oracle->Alloc(1);
  ASSERT_TRUE(IsOk(later));
  EXPECT_GE(PhysicalMs(*later) - PhysicalMs(*ts), 50);
  EXPECT_LE(PhysicalMs(*later), WallClockMs());
}

TEST_F(TimestampOracleTest, PersistsABoundAheadOncePerWindow) {
  auto oracle = StartOracle(/*window_ms=*/60000);
  int64_t revision = Revision();
  uint64_t last = 0;
  for (int i = 0; i < 10000; ++i) {
    auto ts = oracle->Alloc(1);
    ASSERT_TRUE(IsOk(ts));
    last = *ts;
  }
  EXPECT_EQ(Revision(), revision) << "allocations inside the window must not write";
  EXPECT_GT(PersistedValue(kTsoKey), PhysicalMs(last));
}

TEST_F(TimestampOracleTest, RestartStartsAboveTimestampsThatRanAheadOfTheClock) {
  uint64_t last_handed_out = 0;
  {
    // Full batches exhaust a millisecond each, so the oracle runs ahead of the wall clock
    // and repeatedly crosses its (short) persisted window.
    auto oracle = StartOracle(/*window_ms=*/50);
    for (int i = 0; i < 2000; ++i) {
      auto first = oracle->Alloc(kMaxBatch);
      ASSERT_TRUE(IsOk(first));
      last_handed_out = *first + kMaxBatch - 1;
    }
  }
  ASSERT_GT(PhysicalMs(last_handed_out), WallClockMs()) << "the oracle did not get ahead of the clock";
  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto restarted = StartOracle(/*window_ms=*/50);
  auto ts = restarted->Alloc(1);
  ASSERT_TRUE(IsOk(ts));
  EXPECT_GT(*ts, last_handed_out);
}

TEST_F(TimestampOracleTest, RestartStaysAboveAPersistedBoundInTheFuture) {
  uint64_t last_handed_out = 0;
  {
    auto oracle = StartOracle();
    auto ts = oracle->Alloc(10);
    ASSERT_TRUE(IsOk(ts));
    last_handed_out = *ts + 9;
  }
  // As if a previous process had run an hour ahead of this machine's clock.
  int64_t future_bound_ms = WallClockMs() + 3600 * 1000;
  ASSERT_TRUE(IsOk(kv_->Put(kTsoKey, std::to_string(future_bound_ms))));
  ASSERT_NO_FATAL_FAILURE(Reopen());

  auto oracle = StartOracle();
  auto first = oracle->Alloc(1);
  ASSERT_TRUE(IsOk(first));
  EXPECT_GT(*first, last_handed_out);
  EXPECT_GT(PhysicalMs(*first), future_bound_ms);
  auto second = oracle->Alloc(1);
  ASSERT_TRUE(IsOk(second));
  EXPECT_GT(*second, *first);
  EXPECT_GT(PersistedValue(kTsoKey), PhysicalMs(*second)) << "the future bound must move up, not back to the clock";
}

TEST_F(TimestampOracleTest, RestartAfterSigkillStartsAboveEveryReportedTimestamp) {
  kv_.reset();  // the child opens the store itself
  const std::string dir = dir_.path();
  auto reports = ReportsOfKilledChild(
      [&dir](int report_fd) {
        auto kv = meta::OpenEmbeddedMetaKV(dir);
        if (!kv.ok()) _exit(2);
        TimestampOracle oracle(kv->get(), kTsoKey, /*window_ms=*/20);
        if (!oracle.Init().ok()) _exit(3);
        for (uint32_t i = 0;; ++i) {
          uint32_t count = i % 2 == 0 ? 1 : kMaxBatch;  // full batches push the oracle ahead of the clock
          auto first = oracle.Alloc(count);
          if (!first.ok()) _exit(4);
          uint64_t last = *first + count - 1;
          if (write(report_fd, &last, sizeof last) != sizeof last) _exit(5);
        }
      },
      /*reports_before_kill=*/2000);
  ASSERT_FALSE(reports.empty());
  EXPECT_TRUE(std::is_sorted(reports.begin(), reports.end()));

  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto oracle = StartOracle(/*window_ms=*/20);
  auto ts = oracle->Alloc(1);
  ASSERT_TRUE(IsOk(ts));
  EXPECT_GT(*ts, *std::max_element(reports.begin(), reports.end()));
}

// ---- IdAllocator ----

using IdAllocatorTest = AllocatorTest;

TEST_F(IdAllocatorTest, NewStoreStartsAtFirstIdAndLaterFirstIdsAreIgnored) {
  int64_t last = 0;
  {
    auto ids = StartIdAllocator(/*first_id=*/1000);
    auto first = ids->Alloc(1);
    ASSERT_TRUE(IsOk(first));
    EXPECT_EQ(*first, 1000);
    auto batch = ids->Alloc(5);
    ASSERT_TRUE(IsOk(batch));
    EXPECT_EQ(*batch, 1001);
    last = *batch + 4;
  }
  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto ids = StartIdAllocator(/*first_id=*/1);
  auto id = ids->Alloc(1);
  ASSERT_TRUE(IsOk(id));
  EXPECT_GT(*id, last);
}

TEST_F(IdAllocatorTest, BatchesAreConsecutiveAndNeverOverlap) {
  auto ids = StartIdAllocator(/*first_id=*/1, /*batch=*/100);
  int64_t next_free = 0;
  for (uint32_t count : {1u, 1u, 50u, 99u, 100u, 101u, 5000u, 1u}) {
    auto first = ids->Alloc(count);
    ASSERT_TRUE(IsOk(first));
    EXPECT_GE(*first, next_free) << "batch of " << count << " overlaps the previous one";
    next_free = *first + count;
  }
  EXPECT_EQ(ids->Alloc(0).status().code(), Code::kParameterInvalid);
}

TEST_F(IdAllocatorTest, ConcurrentAllocationsNeverCollide) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10000;
  auto ids = StartIdAllocator(/*first_id=*/1, /*batch=*/1000);
  std::vector<std::vector<int64_t>> handed_out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto id = ids->Alloc(1 + i % 3);
        if (!id.ok()) return;
        for (int k = 0; k < 1 + i % 3; ++k) handed_out[t].push_back(*id + k);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::vector<int64_t> all;
  for (const auto& mine : handed_out) all.insert(all.end(), mine.begin(), mine.end());
  ASSERT_EQ(all.size(), size_t{kThreads} * (kPerThread / 3 * 6 + 1));  // counts cycle 1, 2, 3
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "an ID was handed out twice";
}

TEST_F(IdAllocatorTest, PersistsAheadOncePerBatch) {
  auto ids = StartIdAllocator(/*first_id=*/1, /*batch=*/100);
  int64_t revision = Revision();
  int64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    auto id = ids->Alloc(1);
    ASSERT_TRUE(IsOk(id));
    last = *id;
  }
  EXPECT_EQ(Revision(), revision + 1) << "100 IDs from a batch of 100 must cost one write";
  EXPECT_GT(PersistedValue(kIdKey), last);

  auto big = ids->Alloc(1000);  // larger than a batch
  ASSERT_TRUE(IsOk(big));
  EXPECT_GT(PersistedValue(kIdKey), *big + 999);
}

TEST_F(IdAllocatorTest, RestartAfterSigkillNeverReusesAReportedId) {
  kv_.reset();  // the child opens the store itself
  const std::string dir = dir_.path();
  auto reports = ReportsOfKilledChild(
      [&dir](int report_fd) {
        auto kv = meta::OpenEmbeddedMetaKV(dir);
        if (!kv.ok()) _exit(2);
        IdAllocator ids(kv->get(), kIdKey, /*batch=*/16);
        if (!ids.Init(1).ok()) _exit(3);
        for (uint32_t i = 0;; ++i) {
          uint32_t count = 1 + i % 40;  // sometimes more than a batch
          auto first = ids.Alloc(count);
          if (!first.ok()) _exit(4);
          uint64_t last = static_cast<uint64_t>(*first + count - 1);
          if (write(report_fd, &last, sizeof last) != sizeof last) _exit(5);
        }
      },
      /*reports_before_kill=*/1000);
  ASSERT_FALSE(reports.empty());

  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto ids = StartIdAllocator(/*first_id=*/1, /*batch=*/16);
  auto id = ids->Alloc(1);
  ASSERT_TRUE(IsOk(id));
  EXPECT_GT(static_cast<uint64_t>(*id), *std::max_element(reports.begin(), reports.end()));
}

}  // namespace
}  // namespace quiver::rootcoord
