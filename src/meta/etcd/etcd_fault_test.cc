// Fault tests of the etcd MetaKV: members of the test cluster are killed (kill -9) and
// started again while clients write, watch and lead elections.
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>

#include "common/test_util.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "meta/election.h"
#include "meta/meta_kv_factory.h"
#include "meta/meta_test_backends.h"

namespace quiver::meta {
namespace {

using quiver::test::IsOk;
using quiver::test::RunBackendScript;
using quiver::test::TempDir;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using EventLog = quiver::test::CallbackLog<WatchEvent>;

// Done once an event of `revision` or later has arrived.
std::function<bool(const std::vector<WatchEvent>&)> ReachedRevision(int64_t revision) {
  return [revision](const std::vector<WatchEvent>& events) {
    return !events.empty() && events.back().kv.mod_revision >= revision;
  };
}

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

class EtcdFaultTest : public testing::Test {
 protected:
  void SetUp() override {
    auto options = quiver::test::TestEtcdOptions(dir_.path());
    if (!options) GTEST_SKIP() << "needs the test services";
    options_ = *options;
  }

  void TearDown() override {
    if (killed_ >= 0) {
      EXPECT_TRUE(StartMember(killed_));
    }
  }

  bool KillMember(int member) {
    killed_ = member;
    return RunBackendScript("etcd", "kill " + std::to_string(member));
  }
  bool StartMember(int member) {
    killed_ = -1;
    return RunBackendScript("etcd", "start " + std::to_string(member));
  }

  // The index (in options_.endpoints, which is the member number) of the Raft leader.
  int LeaderMember() {
    for (size_t i = 0; i < options_.endpoints.size(); ++i) {
      auto channel = grpc::CreateChannel(options_.endpoints[i], grpc::InsecureChannelCredentials());
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + 2s);
      etcdserverpb::StatusResponse status;
      if (!etcdserverpb::Maintenance::NewStub(channel)->Status(&context, {}, &status).ok()) continue;
      if (status.leader() == status.header().member_id()) return static_cast<int>(i);
    }
    return -1;
  }

  // A client of member `member` only, which retries for `retry` while it is down.
  std::unique_ptr<MetaKV> OpenOnMember(int member, std::chrono::milliseconds retry) {
    EtcdOptions options = options_;
    options.endpoints = {options_.endpoints[member]};
    options.retry_timeout = retry;
    auto kv = OpenEtcdMetaKV(options);
    EXPECT_TRUE(IsOk(kv));
    return kv.ok() ? std::move(*kv) : nullptr;
  }

  std::unique_ptr<MetaKV> OpenOnAll() {
    auto kv = OpenEtcdMetaKV(options_);
    EXPECT_TRUE(IsOk(kv));
    return kv.ok() ? std::move(*kv) : nullptr;
  }

  TempDir dir_;
  EtcdOptions options_;
  int killed_ = -1;
};

struct Write {
  std::string key;
  bool txn = false;
  Clock::time_point start;
  Clock::time_point end;
};

// Writes w/<n> keys one after another (every fourth one by a Txn that requires the key to be
// new) until `stop`, recording the acknowledged writes and any failure.
void WriteUntil(MetaKV* kv, const std::atomic<bool>& stop, std::vector<Write>* acked,
                std::vector<std::string>* failures, std::mutex* mu) {
  for (int i = 0; !stop; ++i) {
    Write write{fmt::format("w/{:08d}", i), i % 4 == 3, Clock::now(), {}};
    Status status;
    if (write.txn) {
      auto committed = kv->Txn({{write.key, std::nullopt}}, {Op::Put(write.key, "v" + write.key)});
      status = !committed.ok() ? committed.status()
               : !*committed   ? Status(Code::kUnexpected, "compare reported failed")
                               : Status::OK();
    } else {
      status = kv->Put(write.key, "v" + write.key);
    }
    write.end = Clock::now();
    std::lock_guard lock(*mu);
    if (status.ok()) {
      acked->push_back(write);
    } else {
      failures->push_back(write.key + ": " + status.ToString());
    }
  }
}

TEST_F(EtcdFaultTest, KillingTheLeaderLosesNoAcknowledgedWriteAndNoWatchEvent) {
  const int leader = LeaderMember();
  ASSERT_GE(leader, 0);
  auto kv = OpenOnAll();
  ASSERT_NE(kv, nullptr);
  const int64_t start = *kv->CurrentRevision();
  // One watch through the whole cluster, one through the member that is killed: that one
  // must resume from where it stopped once the member is back.
  EventLog cluster_log;
  EventLog member_log;
  auto cluster_watch = kv->Watch("w/", start, cluster_log.Callback());
  ASSERT_TRUE(IsOk(cluster_watch));
  auto member_kv = OpenOnMember(leader, 5s);
  ASSERT_NE(member_kv, nullptr);
  auto member_watch = member_kv->Watch("w/", start, member_log.Callback());
  ASSERT_TRUE(IsOk(member_watch));

  std::atomic<bool> stop = false;
  std::mutex mu;
  std::vector<Write> acked;
  std::vector<std::string> failures;
  std::thread writer(WriteUntil, kv.get(), std::cref(stop), &acked, &failures, &mu);
  std::this_thread::sleep_for(1500ms);
  const auto kill_time = Clock::now();
  ASSERT_TRUE(KillMember(leader));
  std::this_thread::sleep_for(5s);
  stop = true;
  writer.join();
  ASSERT_TRUE(StartMember(leader));

  EXPECT_TRUE(failures.empty()) << failures.size() << " writes failed, first: " << failures.front();
  ASSERT_FALSE(acked.empty());
  EXPECT_GT(acked.back().start, kill_time) << "no write succeeded after the kill";

  // Every acknowledged write is there, and nothing else.
  auto stored = kv->Scan("w/");
  ASSERT_TRUE(IsOk(stored));
  ASSERT_EQ(stored->size(), acked.size());
  for (size_t i = 0; i < acked.size(); ++i) {
    ASSERT_EQ((*stored)[i].key, acked[i].key);
    ASSERT_EQ((*stored)[i].value, "v" + acked[i].key);
  }
  // A write retried after a lost reply may have been applied twice (two revisions), so the
  // truth is etcd's history: a watch replaying it afterwards, without any break.
  const int64_t last_revision = stored->back().mod_revision;
  EventLog replay_log;
  auto replay = kv->Watch("w/", start, replay_log.Callback());
  ASSERT_TRUE(IsOk(replay));
  const auto history = replay_log.WaitUntil(ReachedRevision(last_revision), 30s);
  std::vector<std::string> written;
  for (const auto& event : history) {
    if (written.empty() || written.back() != event.kv.key) written.push_back(event.kv.key);
  }
  ASSERT_EQ(written.size(), acked.size());
  for (size_t i = 0; i < acked.size(); ++i) ASSERT_EQ(written[i], acked[i].key) << i;
  // Both watches that lived through the kill delivered that history exactly: every event
  // once, in order.
  for (EventLog* log : {&cluster_log, &member_log}) {
    const char* which = log == &member_log ? "watch on the killed member" : "cluster watch";
    auto events = log->WaitUntil(ReachedRevision(last_revision), 30s);
    ASSERT_EQ(events.size(), history.size()) << which;
    for (size_t i = 0; i < history.size(); ++i) {
      ASSERT_EQ(events[i].kv.key, history[i].kv.key) << which << " " << i;
      ASSERT_EQ(events[i].kv.mod_revision, history[i].kv.mod_revision) << which << " " << i;
    }
  }

  // Figures: latency before the kill, and the longest a single write waited across it.
  std::vector<double> puts;
  std::vector<double> txns;
  double longest = 0;
  for (const auto& write : acked) {
    const double took = Millis(write.end - write.start);
    if (write.end < kill_time) (write.txn ? txns : puts).push_back(took);
    longest = std::max(longest, took);
  }
  auto p50 = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  std::cout << fmt::format(
      "etcd fault: {} writes acknowledged ({} Puts applied twice after a lost reply); before killing leader m{}: "
      "Put p50 {:.2f} ms, Txn p50 {:.2f} ms; longest single write across the kill {:.0f} ms\n",
      acked.size(), history.size() - acked.size(), leader, p50(puts), p50(txns), longest);
  RecordProperty("put_p50_ms", fmt::format("{:.2f}", p50(puts)));
  RecordProperty("longest_stall_ms", fmt::format("{:.0f}", longest));
}

TEST_F(EtcdFaultTest, WatchThatCannotResumeAfterCompactionReportsIt) {
  const int leader = LeaderMember();
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % static_cast<int>(options_.endpoints.size());
  auto kv = OpenOnAll();
  auto member_kv = OpenOnMember(follower, 5s);
  ASSERT_NE(kv, nullptr);
  ASSERT_NE(member_kv, nullptr);

  EventLog log;
  std::promise<Status> broken;
  auto watch =
      member_kv->Watch("c/", *kv->CurrentRevision(), log.Callback(), [&](const Status& why) { broken.set_value(why); });
  ASSERT_TRUE(IsOk(watch));
  ASSERT_TRUE(IsOk(kv->Put("c/1", "1")));
  ASSERT_EQ(log.WaitFor(1, 10s).size(), 1u);

  ASSERT_TRUE(KillMember(follower));
  ASSERT_TRUE(IsOk(kv->Put("c/2", "2")));
  ASSERT_TRUE(IsOk(kv->Put("unwatched", "x")));
  auto channel = grpc::CreateChannel(options_.endpoints[leader], grpc::InsecureChannelCredentials());
  grpc::ClientContext context;
  etcdserverpb::CompactionRequest compaction;
  compaction.set_revision(*kv->CurrentRevision());
  etcdserverpb::CompactionResponse compacted;
  ASSERT_TRUE(etcdserverpb::KV::NewStub(channel)->Compact(&context, compaction, &compacted).ok());
  ASSERT_TRUE(StartMember(follower));

  auto reported = broken.get_future();
  ASSERT_EQ(reported.wait_for(30s), std::future_status::ready);
  Status why = reported.get();
  EXPECT_EQ(why.code(), Code::kIoFailed);
  EXPECT_NE(why.reason().find("compacted"), std::string::npos) << why.reason();
  EXPECT_EQ(log.WaitFor(1, 0s).size(), 1u) << "c/2 cannot be delivered after its history is gone";
}

TEST_F(EtcdFaultTest, LeaderCutOffFromEtcdStepsDownBeforeAnotherCandidateWins) {
  const int leader = LeaderMember();
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % static_cast<int>(options_.endpoints.size());
  auto cut_off_kv = OpenOnMember(follower, 5s);
  auto kv = OpenOnAll();
  ASSERT_NE(cut_off_kv, nullptr);
  ASSERT_NE(kv, nullptr);

  LeaderElection a(cut_off_kv.get(), "cutoff", "a", 2s);
  LeaderElection b(kv.get(), "cutoff", "b", 2s);
  std::promise<Status> a_lost;
  ASSERT_TRUE(IsOk(a.Campaign(30s, [&](const Status& why) { a_lost.set_value(why); })));
  auto b_won = std::async(std::launch::async, [&] {
    Status won = b.Campaign(30s, nullptr);
    return std::make_pair(won, a.IsLeader());  // at the moment b won
  });

  ASSERT_TRUE(KillMember(follower));  // a can no longer renew its lease
  auto [won, a_still_leading] = b_won.get();
  ASSERT_TRUE(IsOk(won));
  EXPECT_FALSE(a_still_leading) << "two leaders at once";
  auto lost = a_lost.get_future();
  ASSERT_EQ(lost.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(lost.get().code(), Code::kIoFailed);
  auto current = CurrentLeader(kv.get(), "cutoff");
  ASSERT_TRUE(IsOk(current));
  EXPECT_EQ(*current, "b");
  ASSERT_TRUE(StartMember(follower));
}

}  // namespace
}  // namespace quiver::meta
