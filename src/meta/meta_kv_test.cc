#include "common/test_util.h"
#include "meta/meta_kv.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "meta/meta_kv_factory.h"
#include "meta/meta_test_backends.h"

namespace quiver::meta {
namespace {

using quiver::test::IsOk;
using quiver::test::TempDir;
using quiver::test::AllMetaBackends;
using quiver::test::MetaBackend;
using quiver::test::MetaBackendName;

using namespace std::chrono_literals;
using EventLog = quiver::test::CallbackLog<WatchEvent>;

// Polls `condition` for up to 5 s.
bool Eventually(const std::function<bool()>& condition) {
  for (auto deadline = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < deadline;) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

// The conformance suite every MetaKV backend must pass.
class MetaKVConformanceTest : public quiver::test::MetaBackendTest {
 protected:
  std::optional<std::string> Value(const std::string& key) {
    auto value = kv_->Get(key);
    EXPECT_TRUE(IsOk(value));
    return value.ok() ? *value : std::nullopt;
  }

  std::vector<std::string> Keys(const std::string& prefix, size_t limit = 0) {
    auto scanned = kv_->Scan(prefix, limit);
    EXPECT_TRUE(IsOk(scanned));
    std::vector<std::string> keys;
    if (scanned.ok()) {
      for (const auto& kv : *scanned) keys.push_back(kv.key);
    }
    return keys;
  }

  int64_t Revision() {
    auto revision = kv_->CurrentRevision();
    EXPECT_TRUE(IsOk(revision));
    return revision.ok() ? *revision : -1;
  }
};

TEST_P(MetaKVConformanceTest, GetReturnsTheLatestPutUntilDeleted) {
  EXPECT_EQ(Value("a"), std::nullopt);
  ASSERT_TRUE(IsOk(kv_->Put("a", "1")));
  EXPECT_EQ(Value("a"), "1");
  ASSERT_TRUE(IsOk(kv_->Put("a", "2")));
  EXPECT_EQ(Value("a"), "2");
  ASSERT_TRUE(IsOk(kv_->Delete("a")));
  EXPECT_EQ(Value("a"), std::nullopt);
}

TEST_P(MetaKVConformanceTest, ScanReturnsKeysUnderPrefixInAscendingOrder) {
  for (const char* key : {"col/b", "other", "col/a", "col0", "co", "col/c"}) {
    ASSERT_TRUE(IsOk(kv_->Put(key, std::string("v-") + key)));
  }
  EXPECT_EQ(Keys("col/"), (std::vector<std::string>{"col/a", "col/b", "col/c"}));
  EXPECT_EQ(Keys("col/", 2), (std::vector<std::string>{"col/a", "col/b"}));
  EXPECT_EQ(Keys(""), (std::vector<std::string>{"co", "col/a", "col/b", "col/c", "col0", "other"}));

  auto scanned = kv_->Scan("col/", 1);
  ASSERT_TRUE(IsOk(scanned));
  ASSERT_EQ(scanned->size(), 1u);
  EXPECT_EQ(scanned->front().value, "v-col/a");
}

TEST_P(MetaKVConformanceTest, ScanReportsModRevisionAndLease) {
  ASSERT_TRUE(IsOk(kv_->Put("a", "1")));
  const int64_t a_revision = Revision();
  ASSERT_TRUE(IsOk(kv_->Put("b", "1")));
  auto lease = kv_->GrantLease(60s);
  ASSERT_TRUE(IsOk(lease));
  ASSERT_TRUE(IsOk(kv_->Put("c", "1", *lease)));

  auto scanned = kv_->Scan("");
  ASSERT_TRUE(IsOk(scanned));
  ASSERT_EQ(scanned->size(), 3u);
  EXPECT_EQ((*scanned)[0].mod_revision, a_revision);
  EXPECT_EQ((*scanned)[1].mod_revision, a_revision + 1);
  EXPECT_EQ((*scanned)[2].mod_revision, a_revision + 2);
  EXPECT_EQ((*scanned)[0].lease, kNoLease);
  EXPECT_EQ((*scanned)[2].lease, *lease);
}

TEST_P(MetaKVConformanceTest, DeletePrefixRemovesOnlyKeysUnderPrefix) {
  for (const char* key : {"job/1", "job/2", "jobs", "x"}) ASSERT_TRUE(IsOk(kv_->Put(key, "v")));
  ASSERT_TRUE(IsOk(kv_->DeletePrefix("job/")));
  EXPECT_EQ(Keys(""), (std::vector<std::string>{"jobs", "x"}));
}

TEST_P(MetaKVConformanceTest, EachWriteAdvancesTheRevisionByOne) {
  const int64_t start = Revision();
  ASSERT_TRUE(IsOk(kv_->Put("a", "1")));
  EXPECT_EQ(Revision(), start + 1);
  auto committed = kv_->Txn({}, {Op::Put("b", "1"), Op::Put("c", "1"), Op::Delete("a")});
  ASSERT_TRUE(IsOk(committed));
  EXPECT_EQ(Revision(), start + 2);
  ASSERT_TRUE(IsOk(kv_->DeletePrefix("")));
  EXPECT_EQ(Revision(), start + 3);

  // Writes that change nothing keep the revision.
  ASSERT_TRUE(IsOk(kv_->Delete("missing")));
  ASSERT_TRUE(IsOk(kv_->DeletePrefix("nothing/")));
  EXPECT_EQ(Revision(), start + 3);
}

TEST_P(MetaKVConformanceTest, TxnAppliesEveryOpWhenAllComparesHold) {
  ASSERT_TRUE(IsOk(kv_->Put("cfg", "v1")));
  ASSERT_TRUE(IsOk(kv_->Put("old/1", "x")));
  ASSERT_TRUE(IsOk(kv_->Put("old/2", "y")));
  const int64_t before = Revision();

  auto committed = kv_->Txn({{"cfg", "v1"}, {"new", std::nullopt}},
                            {Op::Put("new", "n"), Op::Put("cfg", "v2"), Op::DeletePrefix("old/")});
  ASSERT_TRUE(IsOk(committed));
  EXPECT_TRUE(*committed);
  EXPECT_EQ(Value("new"), "n");
  EXPECT_EQ(Value("cfg"), "v2");
  EXPECT_TRUE(Keys("old/").empty());
  EXPECT_EQ(Revision(), before + 1);

  auto scanned = kv_->Scan("");
  ASSERT_TRUE(IsOk(scanned));
  for (const auto& kv : *scanned) EXPECT_EQ(kv.mod_revision, before + 1) << kv.key;
}

TEST_P(MetaKVConformanceTest, TxnAppliesNothingWhenACompareFails) {
  ASSERT_TRUE(IsOk(kv_->Put("cfg", "v1")));
  const int64_t before = Revision();
  const std::vector<Op> ops = {Op::Put("cfg", "v2"), Op::Put("new", "n"), Op::Delete("cfg")};

  for (const std::vector<Compare>& compares : std::vector<std::vector<Compare>>{
           {{"cfg", "v1"}, {"cfg", "other"}},  // a later compare fails
           {{"cfg", std::nullopt}},             // must be absent but exists
           {{"missing", "x"}},                  // must have a value but is absent
       }) {
    auto committed = kv_->Txn(compares, ops);
    ASSERT_TRUE(IsOk(committed));
    EXPECT_FALSE(*committed);
  }
  EXPECT_EQ(Value("cfg"), "v1");
  EXPECT_EQ(Value("new"), std::nullopt);
  EXPECT_EQ(Revision(), before);
}

TEST_P(MetaKVConformanceTest, KeyAbsentCompareLetsOnlyTheFirstCreatorWin) {
  auto first = kv_->Txn({{"leader", std::nullopt}}, {Op::Put("leader", "node-1")});
  auto second = kv_->Txn({{"leader", std::nullopt}}, {Op::Put("leader", "node-2")});
  ASSERT_TRUE(IsOk(first));
  ASSERT_TRUE(IsOk(second));
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
  EXPECT_EQ(Value("leader"), "node-1");
}

TEST_P(MetaKVConformanceTest, ConcurrentWritersEachGetTheirOwnRevision) {
  const int64_t start = Revision();
  constexpr int kThreads = 4;
  constexpr int kPutsPerThread = 10;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPutsPerThread; ++i) {
        EXPECT_TRUE(IsOk(kv_->Put("conc/" + std::to_string(t) + "/" + std::to_string(i), "v")));
      }
    });
  }
  for (auto& writer : writers) writer.join();

  EXPECT_EQ(Revision(), start + kThreads * kPutsPerThread);
  auto scanned = kv_->Scan("conc/");
  ASSERT_TRUE(IsOk(scanned));
  std::set<int64_t> revisions;
  for (const auto& kv : *scanned) revisions.insert(kv.mod_revision);
  EXPECT_EQ(revisions.size(), static_cast<size_t>(kThreads * kPutsPerThread));
}

TEST_P(MetaKVConformanceTest, WatchDeliversChangesUnderPrefixInRevisionOrder) {
  EventLog log;
  const int64_t start = Revision();
  auto handle = kv_->Watch("w/", start, log.Callback());
  ASSERT_TRUE(IsOk(handle));

  ASSERT_TRUE(IsOk(kv_->Put("w/a", "1")));
  ASSERT_TRUE(IsOk(kv_->Put("other", "1")));
  ASSERT_TRUE(IsOk(kv_->Txn({}, {Op::Put("w/b", "2"), Op::Put("w/c", "3")})));
  ASSERT_TRUE(IsOk(kv_->Delete("w/a")));

  auto events = log.WaitFor(4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(events[0].kv.key, "w/a");
  EXPECT_EQ(events[0].kv.value, "1");
  EXPECT_EQ(events[0].kv.mod_revision, start + 1);
  EXPECT_EQ(events[1].kv.key, "w/b");
  EXPECT_EQ(events[1].kv.mod_revision, start + 3);
  EXPECT_EQ(events[2].kv.key, "w/c");
  EXPECT_EQ(events[2].kv.value, "3");
  EXPECT_EQ(events[2].kv.mod_revision, start + 3);
  EXPECT_EQ(events[3].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(events[3].kv.key, "w/a");
  EXPECT_EQ(events[3].kv.mod_revision, start + 4);
}

TEST_P(MetaKVConformanceTest, WatchReplaysHistoryAfterTheGivenRevision) {
  ASSERT_TRUE(IsOk(kv_->Put("h/1", "1")));
  const int64_t after = Revision();
  ASSERT_TRUE(IsOk(kv_->Put("h/2", "2")));
  ASSERT_TRUE(IsOk(kv_->Put("h/3", "3")));

  EventLog log;
  auto handle = kv_->Watch("h/", after, log.Callback());
  ASSERT_TRUE(IsOk(handle));
  ASSERT_TRUE(IsOk(kv_->Put("h/4", "4")));

  auto events = log.WaitFor(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kv.key, "h/2");
  EXPECT_EQ(events[1].kv.key, "h/3");
  EXPECT_EQ(events[2].kv.key, "h/4");
}

TEST_P(MetaKVConformanceTest, DestroyedWatchHandleStopsDelivery) {
  EventLog cancelled_log;
  EventLog live_log;
  const int64_t start = Revision();
  auto cancelled = kv_->Watch("c/", start, cancelled_log.Callback());
  auto live = kv_->Watch("c/", start, live_log.Callback());
  ASSERT_TRUE(IsOk(cancelled));
  ASSERT_TRUE(IsOk(live));

  ASSERT_TRUE(IsOk(kv_->Put("c/1", "1")));
  ASSERT_EQ(cancelled_log.WaitFor(1).size(), 1u);
  cancelled->reset();
  ASSERT_TRUE(IsOk(kv_->Put("c/2", "2")));

  EXPECT_EQ(live_log.WaitFor(2).size(), 2u);
  EXPECT_EQ(cancelled_log.WaitFor(1).size(), 1u);
}

TEST_P(MetaKVConformanceTest, DestroyingHandleWaitsForTheRunningCallback) {
  std::atomic<bool> callback_started = false;
  std::atomic<bool> callback_finished = false;
  auto handle = kv_->Watch("s/", Revision(), [&](const WatchEvent&) {
    callback_started = true;
    std::this_thread::sleep_for(200ms);
    callback_finished = true;
  });
  ASSERT_TRUE(IsOk(handle));

  ASSERT_TRUE(IsOk(kv_->Put("s/1", "1")));
  ASSERT_TRUE(Eventually([&] { return callback_started.load(); }));
  handle->reset();
  EXPECT_TRUE(callback_finished);
}

TEST_P(MetaKVConformanceTest, CallbackMayDestroyItsOwnHandle) {
  std::mutex handle_mu;
  std::unique_ptr<WatchHandle> self_cancelling;
  std::atomic<int> calls = 0;
  EventLog log;
  const int64_t start = Revision();
  {
    std::lock_guard lock(handle_mu);
    auto handle = kv_->Watch("self/", start, [&](const WatchEvent&) {
      ++calls;
      std::lock_guard inner(handle_mu);
      self_cancelling.reset();
    });
    ASSERT_TRUE(IsOk(handle));
    self_cancelling = std::move(*handle);
  }
  auto observer = kv_->Watch("self/", start, log.Callback());
  ASSERT_TRUE(IsOk(observer));

  ASSERT_TRUE(IsOk(kv_->Put("self/1", "1")));
  ASSERT_TRUE(IsOk(kv_->Put("self/2", "2")));

  // The observer still getting both events shows delivery did not deadlock. Watches may
  // deliver independently (etcd: a stream each), so the first call may come after that.
  EXPECT_EQ(log.WaitFor(2).size(), 2u);
  EXPECT_TRUE(Eventually([&] { return calls > 0; }));
  EXPECT_EQ(calls, 1);
}

TEST_P(MetaKVConformanceTest, WatchHandleMayOutliveTheStore) {
  auto handle = kv_->Watch("", Revision(), [](const WatchEvent&) {});
  ASSERT_TRUE(IsOk(handle));
  kv_.reset();
  handle->reset();
}

TEST_P(MetaKVConformanceTest, ExpiredLeaseDeletesItsKeysWithDeleteEvents) {
  auto lease = kv_->GrantLease(200ms);
  ASSERT_TRUE(IsOk(lease));
  ASSERT_TRUE(IsOk(kv_->Put("session/leased", "a", *lease)));
  const int64_t put_revision = Revision();
  ASSERT_TRUE(IsOk(kv_->Put("session/plain", "b")));

  EventLog log;
  auto handle = kv_->Watch("session/", put_revision, log.Callback());
  ASSERT_TRUE(IsOk(handle));

  auto events = log.WaitFor(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(events[1].kv.key, "session/leased");
  EXPECT_EQ(events[1].kv.mod_revision, put_revision + 2);
  EXPECT_EQ(Value("session/leased"), std::nullopt);
  EXPECT_EQ(Value("session/plain"), "b");

  EXPECT_EQ(kv_->KeepAlive(*lease).code(), Code::kIoKeyNotFound);
  EXPECT_FALSE(kv_->Put("session/late", "c", *lease).ok());
  EXPECT_EQ(Value("session/late"), std::nullopt);
}

TEST_P(MetaKVConformanceTest, KeepAliveKeepsLeasedKeysUntilItStops) {
  auto lease = kv_->GrantLease(500ms);
  ASSERT_TRUE(IsOk(lease));
  ASSERT_TRUE(IsOk(kv_->Put("alive", "1", *lease)));
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(IsOk(kv_->KeepAlive(*lease)));
  }
  EXPECT_EQ(Value("alive"), "1");
  EXPECT_TRUE(Eventually([&] { return !Value("alive").has_value(); }));
}

TEST_P(MetaKVConformanceTest, RevokeLeaseDeletesItsKeysAtOnce) {
  auto lease = kv_->GrantLease(60s);
  ASSERT_TRUE(IsOk(lease));
  ASSERT_TRUE(IsOk(kv_->Put("a", "1", *lease)));
  ASSERT_TRUE(IsOk(kv_->Put("b", "1", *lease)));
  ASSERT_TRUE(IsOk(kv_->Put("c", "1")));
  const int64_t before = Revision();

  ASSERT_TRUE(IsOk(kv_->RevokeLease(*lease)));
  EXPECT_EQ(Keys(""), std::vector<std::string>{"c"});
  EXPECT_EQ(Revision(), before + 1);
  EXPECT_EQ(kv_->RevokeLease(*lease).code(), Code::kIoKeyNotFound);
  EXPECT_EQ(kv_->KeepAlive(*lease).code(), Code::kIoKeyNotFound);
}

TEST_P(MetaKVConformanceTest, PutWithoutLeaseDetachesKeyFromItsLease) {
  auto lease = kv_->GrantLease(60s);
  ASSERT_TRUE(IsOk(lease));
  ASSERT_TRUE(IsOk(kv_->Put("k", "leased", *lease)));
  ASSERT_TRUE(IsOk(kv_->Put("k", "permanent")));
  ASSERT_TRUE(IsOk(kv_->RevokeLease(*lease)));
  EXPECT_EQ(Value("k"), "permanent");
}

TEST_P(MetaKVConformanceTest, WriteWithUnknownLeaseFailsAndChangesNothing) {
  constexpr LeaseId kUnknown = 987654321;
  const int64_t before = Revision();
  EXPECT_FALSE(kv_->Put("k", "v", kUnknown).ok());
  auto txn = kv_->Txn({}, {Op::Put("a", "1"), Op::Put("k", "v", kUnknown)});
  EXPECT_FALSE(txn.ok());
  EXPECT_TRUE(Keys("").empty());
  EXPECT_EQ(Revision(), before);
}

TEST_P(MetaKVConformanceTest, GrantLeaseReturnsDistinctPositiveIds) {
  auto first = kv_->GrantLease(60s);
  auto second = kv_->GrantLease(60s);
  ASSERT_TRUE(IsOk(first));
  ASSERT_TRUE(IsOk(second));
  EXPECT_GT(*first, 0);
  EXPECT_GT(*second, 0);
  EXPECT_NE(*first, *second);
  EXPECT_FALSE(kv_->GrantLease(0ms).ok());
}

TEST_P(MetaKVConformanceTest, KeysAndValuesAreBinarySafe) {
  const std::string zero_key("bin/\0a", 6);
  const std::string high_key = "bin/\xff\xff";
  const std::string value("v\0\xff\x01", 4);
  ASSERT_TRUE(IsOk(kv_->Put(zero_key, value)));
  ASSERT_TRUE(IsOk(kv_->Put(high_key, value)));
  ASSERT_TRUE(IsOk(kv_->Put("bin0", "outside")));
  EXPECT_EQ(Value(zero_key), value);
  EXPECT_EQ(Keys("bin/"), (std::vector<std::string>{zero_key, high_key}));
  EXPECT_EQ(Keys("bin/\xff"), std::vector<std::string>{high_key});  // a prefix ending in 0xff

  EventLog log;
  auto handle = kv_->Watch("bin/\xff", Revision(), log.Callback());
  ASSERT_TRUE(IsOk(handle));
  ASSERT_TRUE(IsOk(kv_->Put(zero_key, "not watched")));
  ASSERT_TRUE(IsOk(kv_->Put(high_key, value + value)));
  auto events = log.WaitFor(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.key, high_key);
  EXPECT_EQ(events[0].kv.value, value + value);

  ASSERT_TRUE(IsOk(kv_->DeletePrefix("bin/\xff")));
  EXPECT_EQ(Keys("bin"), (std::vector<std::string>{zero_key, "bin0"}));
}

TEST_P(MetaKVConformanceTest, TxnOpsApplyOneAfterAnother) {
  ASSERT_TRUE(IsOk(kv_->Put("t/old", "1")));
  ASSERT_TRUE(IsOk(kv_->Put("keep", "1")));
  const int64_t before = Revision();
  auto committed = kv_->Txn({{"keep", "1"}}, {Op::Put("t/a", "1"), Op::DeletePrefix("t/"), Op::Put("t/b", "2"),
                                              Op::Put("keep", "2"), Op::Delete("keep"), Op::Put("keep", "3"),
                                              Op::Put("gone", "x"), Op::Delete("gone")});
  ASSERT_TRUE(IsOk(committed));
  EXPECT_TRUE(*committed);
  EXPECT_EQ(Keys(""), (std::vector<std::string>{"keep", "t/b"}));
  EXPECT_EQ(Value("keep"), "3");
  EXPECT_EQ(Value("t/b"), "2");
  EXPECT_EQ(Revision(), before + 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, MetaKVConformanceTest, testing::ValuesIn(AllMetaBackends()), MetaBackendName);

// ---- RocksDB-specific: durability across processes and restarts ----

std::string CrashKey(int64_t i) { return "crash/" + std::to_string(i); }

// The forked child: puts keys until killed, reporting the count of acknowledged puts.
[[noreturn]] void PutUntilKilled(const std::string& dir, int ack_fd) {
  auto kv = OpenEmbeddedMetaKV(dir);
  if (!kv.ok()) _exit(2);
  for (int64_t acked = 0;;) {
    if (!(*kv)->Put(CrashKey(acked), "v").ok()) _exit(3);
    ++acked;
    if (write(ack_fd, &acked, sizeof acked) != sizeof acked) _exit(4);
  }
}

bool ReadAck(int fd, int64_t* acked) { return read(fd, acked, sizeof *acked) == sizeof *acked; }

TEST(RocksDbMetaKVTest, AcknowledgedPutsSurviveSigkill) {
  constexpr int64_t kAcksBeforeKill = 100;
  TempDir dir;
  int ack_pipe[2];
  ASSERT_EQ(pipe(ack_pipe), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ack_pipe[0]);
    PutUntilKilled(dir.path(), ack_pipe[1]);
  }
  close(ack_pipe[1]);

  int64_t acked = 0;
  while (acked < kAcksBeforeKill && ReadAck(ack_pipe[0], &acked)) {
  }
  kill(child, SIGKILL);
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(wait_status)) << "child exited on its own with status " << WEXITSTATUS(wait_status);
  while (ReadAck(ack_pipe[0], &acked)) {  // acks sent just before the kill count too
  }
  close(ack_pipe[0]);
  ASSERT_GE(acked, kAcksBeforeKill);

  auto kv = OpenEmbeddedMetaKV(dir.path());
  ASSERT_TRUE(IsOk(kv));
  int64_t missing = 0;
  for (int64_t i = 0; i < acked; ++i) {
    auto value = (*kv)->Get(CrashKey(i));
    ASSERT_TRUE(IsOk(value));
    if (*value != "v") ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << acked << " acknowledged puts";
  auto revision = (*kv)->CurrentRevision();
  ASSERT_TRUE(IsOk(revision));
  EXPECT_GE(*revision, acked);
}

TEST(RocksDbMetaKVTest, ReopenDeletesKeysAttachedToLeases) {
  TempDir dir;
  int64_t revision_before_restart = 0;
  {
    auto kv = OpenEmbeddedMetaKV(dir.path());
    ASSERT_TRUE(IsOk(kv));
    auto lease = (*kv)->GrantLease(60s);
    ASSERT_TRUE(IsOk(lease));
    ASSERT_TRUE(IsOk((*kv)->Put("session/1", "a", *lease)));
    ASSERT_TRUE(IsOk((*kv)->Put("collection/1", "b")));
    revision_before_restart = *(*kv)->CurrentRevision();
  }
  auto kv = OpenEmbeddedMetaKV(dir.path());
  ASSERT_TRUE(IsOk(kv));
  auto scanned = (*kv)->Scan("");
  ASSERT_TRUE(IsOk(scanned));
  ASSERT_EQ(scanned->size(), 1u);
  EXPECT_EQ(scanned->front().key, "collection/1");
  EXPECT_EQ(scanned->front().value, "b");
  EXPECT_EQ(*(*kv)->CurrentRevision(), revision_before_restart + 1);
}

TEST(RocksDbMetaKVTest, SecondProcessCannotOpenTheSameDirectory) {
  TempDir dir;
  int ready_pipe[2];
  ASSERT_EQ(pipe(ready_pipe), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready_pipe[0]);
    auto kv = OpenEmbeddedMetaKV(dir.path());
    char opened = kv.ok() ? 1 : 0;
    if (write(ready_pipe[1], &opened, 1) != 1) _exit(4);
    pause();
    _exit(0);
  }
  close(ready_pipe[1]);
  char child_opened = 0;
  bool child_reported = read(ready_pipe[0], &child_opened, 1) == 1;
  auto second = OpenEmbeddedMetaKV(dir.path());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(ready_pipe[0]);

  ASSERT_TRUE(child_reported);
  ASSERT_EQ(child_opened, 1);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kIoFailed);
  EXPECT_NE(second.status().reason().find("already in use: another process"), std::string::npos)
      << second.status().reason();

  EXPECT_TRUE(IsOk(OpenEmbeddedMetaKV(dir.path()))) << "the lock must go with the process holding it";
}

TEST(RocksDbMetaKVTest, WatchFromBeforeARestartReportsCompactedHistory) {
  TempDir dir;
  {
    auto kv = OpenEmbeddedMetaKV(dir.path());
    ASSERT_TRUE(IsOk(kv));
    ASSERT_TRUE(IsOk((*kv)->Put("a", "1")));
  }
  auto kv = OpenEmbeddedMetaKV(dir.path());
  ASSERT_TRUE(IsOk(kv));
  auto stale = (*kv)->Watch("", 0, [](const WatchEvent&) {});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), Code::kIoFailed);
  EXPECT_NE(stale.status().reason().find("compacted"), std::string::npos) << stale.status().reason();
  EXPECT_TRUE(IsOk((*kv)->Watch("", *(*kv)->CurrentRevision(), [](const WatchEvent&) {})));
}

TEST(RocksDbMetaKVTest, WatchHistoryKeepsOnlyRecentEvents) {
  TempDir dir;
  auto kv = OpenEmbeddedMetaKV(dir.path());
  ASSERT_TRUE(IsOk(kv));
  const int64_t start = *(*kv)->CurrentRevision();
  // One revision with more events than the history holds pushes itself out of it.
  std::vector<Op> puts;
  for (int i = 0; i < 10'001; ++i) puts.push_back(Op::Put("bulk/" + std::to_string(i), "v"));
  ASSERT_TRUE(IsOk((*kv)->Txn({}, puts)));
  ASSERT_TRUE(IsOk((*kv)->Put("recent", "v")));

  auto too_old = (*kv)->Watch("", start, [](const WatchEvent&) {});
  EXPECT_EQ(too_old.status().code(), Code::kIoFailed);

  EventLog log;
  auto recent = (*kv)->Watch("", start + 1, log.Callback());
  ASSERT_TRUE(IsOk(recent));
  auto events = log.WaitFor(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.key, "recent");
}

// ---- etcd-specific: endpoints, namespaces, compaction, lease cleanup ----

TEST(EtcdMetaKVOpenTest, FailsNamingEtcdWhenNoMemberAnswers) {
  EtcdOptions options;
  options.endpoints = {"127.0.0.1:1"};
  options.root_path = "unreachable";
  options.retry_timeout = 1s;
  auto kv = OpenEtcdMetaKV(options);
  ASSERT_FALSE(kv.ok());
  EXPECT_EQ(kv.status().code(), Code::kIoFailed);
  EXPECT_NE(kv.status().reason().find("etcd at 127.0.0.1:1 unavailable"), std::string::npos) << kv.status().reason();
}

TEST(EtcdMetaKVOpenTest, RejectsEndpointsItCannotUse) {
  for (const char* endpoint : {"https://127.0.0.1:2379", "127.0.0.1", "no-such-host.invalid:2379"}) {
    EtcdOptions options;
    options.endpoints = {endpoint};
    options.root_path = "x";
    options.retry_timeout = 1s;
    auto kv = OpenEtcdMetaKV(options);
    EXPECT_FALSE(kv.ok()) << endpoint;
  }
}

class EtcdMetaKVTest : public testing::Test {
 protected:
  void SetUp() override {
    auto options = quiver::test::TestEtcdOptions(dir_.path());
    if (!options) GTEST_SKIP() << "needs the test services";
    options_ = *options;
  }

  std::unique_ptr<MetaKV> Open(const EtcdOptions& options) {
    auto kv = OpenEtcdMetaKV(options);
    EXPECT_TRUE(IsOk(kv));
    return kv.ok() ? std::move(*kv) : nullptr;
  }

  TempDir dir_;
  EtcdOptions options_;
};

TEST_F(EtcdMetaKVTest, EndpointsMayBeHostNamesAndUrls) {
  EtcdOptions options = options_;
  for (auto& endpoint : options.endpoints) endpoint = "http://localhost:" + endpoint.substr(endpoint.rfind(':') + 1);
  auto kv = Open(options);
  ASSERT_NE(kv, nullptr);
  ASSERT_TRUE(IsOk(kv->Put("k", "v")));
  EXPECT_EQ(*kv->Get("k"), "v");
}

TEST_F(EtcdMetaKVTest, NamespacesDoNotSeeEachOther) {
  EtcdOptions other_options = options_;
  other_options.root_path += "-other";
  auto kv = Open(options_);
  auto other = Open(other_options);
  ASSERT_NE(kv, nullptr);
  ASSERT_NE(other, nullptr);

  EventLog other_log;
  auto watch = other->Watch("", *other->CurrentRevision(), other_log.Callback());
  ASSERT_TRUE(IsOk(watch));
  ASSERT_TRUE(IsOk(kv->Put("k", "mine")));
  ASSERT_TRUE(IsOk(kv->Txn({{"k", "mine"}}, {Op::Put("t", "mine")})));
  ASSERT_TRUE(IsOk(other->Put("k", "theirs")));
  ASSERT_TRUE(IsOk(kv->DeletePrefix("")));

  EXPECT_EQ(*other->Get("k"), "theirs");
  auto theirs = other->Scan("");
  ASSERT_TRUE(IsOk(theirs));
  ASSERT_EQ(theirs->size(), 1u);
  EXPECT_EQ(theirs->front().key, "k");
  auto events = other_log.WaitFor(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.value, "theirs");
}

TEST_F(EtcdMetaKVTest, WatchFromCompactedHistoryFails) {
  auto kv = Open(options_);
  ASSERT_NE(kv, nullptr);
  ASSERT_TRUE(IsOk(kv->Put("a", "1")));
  const int64_t first = *kv->CurrentRevision();
  ASSERT_TRUE(IsOk(kv->Put("a", "2")));
  const int64_t second = *kv->CurrentRevision();

  // Compacts the shared etcd only up to now: no test watches from older revisions.
  auto channel = grpc::CreateChannel(options_.endpoints[0], grpc::InsecureChannelCredentials());
  grpc::ClientContext context;
  etcdserverpb::CompactionRequest compaction;
  compaction.set_revision(second);
  etcdserverpb::CompactionResponse compacted;
  ASSERT_TRUE(etcdserverpb::KV::NewStub(channel)->Compact(&context, compaction, &compacted).ok());

  auto stale = kv->Watch("", first - 1, [](const WatchEvent&) {});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), Code::kIoFailed);
  EXPECT_NE(stale.status().reason().find("compacted"), std::string::npos) << stale.status().reason();

  EventLog log;
  auto recent = kv->Watch("", first, log.Callback());
  ASSERT_TRUE(IsOk(recent));
  auto events = log.WaitFor(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.value, "2");
}

TEST_F(EtcdMetaKVTest, ClosingTheStoreRevokesItsLeases) {
  auto kv = Open(options_);
  ASSERT_NE(kv, nullptr);
  auto lease = kv->GrantLease(60s);
  ASSERT_TRUE(IsOk(lease));
  ASSERT_TRUE(IsOk(kv->Put("session", "1", *lease)));
  ASSERT_TRUE(IsOk(kv->Put("plain", "1")));
  kv.reset();

  auto reopened = Open(options_);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(*reopened->Get("session"), std::nullopt);
  EXPECT_EQ(*reopened->Get("plain"), "1");
  EXPECT_EQ(reopened->KeepAlive(*lease).code(), Code::kIoKeyNotFound);
}

}  // namespace
}  // namespace quiver::meta
