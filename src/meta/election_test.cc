#include "meta/election.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "common/test_util.h"
#include "meta/meta_test_backends.h"

namespace quiver::meta {
namespace {

using quiver::test::IsOk;
using quiver::test::MetaBackend;
using namespace std::chrono_literals;

// etcd's shortest lease with the test cluster's election timeout.
constexpr auto kTtl = 2s;
constexpr auto kPatience = 30s;

using LeaderLog = quiver::test::CallbackLog<std::optional<std::string>>;

// A future that is set with the reason the first time leadership is lost.
struct LossSignal {
  std::promise<Status> promise;
  std::future<Status> future = promise.get_future();
  LeaderElection::LostCallback Callback() {
    return [this](const Status& why) { promise.set_value(why); };
  }
  bool Fired(std::chrono::milliseconds within) { return future.wait_for(within) == std::future_status::ready; }
};

class ElectionTest : public quiver::test::MetaBackendTest {
 protected:
  std::unique_ptr<LeaderElection> Candidate(const std::string& id) {
    return std::make_unique<LeaderElection>(kv_.get(), "coord", id, kTtl);
  }

  std::optional<std::string> Leader() {
    auto leader = CurrentLeader(kv_.get(), "coord");
    EXPECT_TRUE(IsOk(leader));
    return leader.ok() ? *leader : std::nullopt;
  }
};

TEST_P(ElectionTest, CandidatesLeadOneAtATime) {
  constexpr int kCandidates = 3;
  std::vector<std::unique_ptr<LeaderElection>> candidates;
  for (int i = 0; i < kCandidates; ++i) candidates.push_back(Candidate("c" + std::to_string(i)));
  std::atomic<int> leading = 0;
  std::mutex order_mu;
  std::vector<std::string> order;

  std::vector<std::thread> threads;
  for (auto& candidate : candidates) {
    threads.emplace_back([&, election = candidate.get()] {
      Status won = election->Campaign(kPatience, nullptr);
      EXPECT_TRUE(IsOk(won));
      if (!won.ok()) return;
      EXPECT_EQ(++leading, 1) << "two candidates lead at once";
      EXPECT_TRUE(election->IsLeader());
      EXPECT_EQ(Leader(), election->candidate_id());
      std::this_thread::sleep_for(100ms);  // lead for a while: nobody else may win meanwhile
      {
        std::lock_guard lock(order_mu);
        order.push_back(election->candidate_id());
      }
      --leading;
      EXPECT_TRUE(IsOk(election->Resign()));
      EXPECT_FALSE(election->IsLeader());
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(order.size(), static_cast<size_t>(kCandidates));
  EXPECT_EQ(Leader(), std::nullopt);
}

TEST_P(ElectionTest, ObserversSeeEveryChangeOfLeader) {
  LeaderLog log;
  auto observer = ObserveLeader(kv_.get(), "coord", log.Callback());
  ASSERT_TRUE(IsOk(observer));
  auto a = Candidate("a");
  auto b = Candidate("b");
  ASSERT_TRUE(IsOk(a->Campaign(kPatience, nullptr)));
  auto b_won = std::async(std::launch::async, [&] { return b->Campaign(kPatience, nullptr); });
  ASSERT_EQ(log.WaitFor(2).size(), 2u);
  ASSERT_TRUE(IsOk(a->Resign()));
  ASSERT_TRUE(IsOk(b_won.get()));

  using Reports = std::vector<std::optional<std::string>>;
  EXPECT_EQ(log.WaitFor(4), (Reports{std::nullopt, "a", std::nullopt, "b"}));
  EXPECT_EQ(Leader(), "b");

  // A late observer starts from the current leader.
  LeaderLog late;
  auto late_observer = ObserveLeader(kv_.get(), "coord", late.Callback());
  ASSERT_TRUE(IsOk(late_observer));
  EXPECT_EQ(late.WaitFor(1), Reports{"b"});
}

TEST_P(ElectionTest, RevokedLeaseEndsLeadershipAndAnotherCandidateTakesOver) {
  auto a = Candidate("a");
  auto b = Candidate("b");
  LossSignal a_lost;
  ASSERT_TRUE(IsOk(a->Campaign(kPatience, a_lost.Callback())));
  auto b_won = std::async(std::launch::async, [&] { return b->Campaign(kPatience, nullptr); });

  ASSERT_TRUE(IsOk(kv_->RevokeLease(a->lease())));
  ASSERT_TRUE(a_lost.Fired(kPatience));
  EXPECT_FALSE(a->IsLeader());
  ASSERT_TRUE(IsOk(b_won.get()));
  EXPECT_TRUE(b->IsLeader());
  EXPECT_EQ(Leader(), "b");

  // The deposed candidate may run again, and waits for its turn.
  auto a_again = std::async(std::launch::async, [&] { return a->Campaign(kPatience, nullptr); });
  ASSERT_TRUE(IsOk(b->Resign()));
  ASSERT_TRUE(IsOk(a_again.get()));
  EXPECT_EQ(Leader(), "a");
}

TEST_P(ElectionTest, ExpiredLeaseOfACrashedLeaderLetsAnotherCandidateWin) {
  // A leader that died: its key stays until its lease expires, as nobody renews it.
  auto crashed_lease = kv_->GrantLease(kTtl);
  ASSERT_TRUE(IsOk(crashed_lease));
  auto claimed = kv_->Txn({{"election/coord", std::nullopt}}, {Op::Put("election/coord", "crashed", *crashed_lease)});
  ASSERT_TRUE(IsOk(claimed));
  ASSERT_TRUE(*claimed);
  EXPECT_EQ(Leader(), "crashed");

  auto b = Candidate("b");
  ASSERT_TRUE(IsOk(b->Campaign(kPatience, nullptr)));
  EXPECT_EQ(Leader(), "b");
  EXPECT_EQ(kv_->KeepAlive(*crashed_lease).code(), Code::kIoKeyNotFound);
}

TEST_P(ElectionTest, RemovedLeaderKeyEndsLeadership) {
  auto a = Candidate("a");
  LossSignal a_lost;
  ASSERT_TRUE(IsOk(a->Campaign(kPatience, a_lost.Callback())));
  ASSERT_TRUE(IsOk(kv_->Delete("election/coord")));
  ASSERT_TRUE(a_lost.Fired(kPatience));
  EXPECT_EQ(a_lost.future.get().code(), Code::kIoFailed);
  EXPECT_FALSE(a->IsLeader());
}

TEST_P(ElectionTest, LeaderKeepsLeadingWhileItRenewsItsLease) {
  auto a = Candidate("a");
  LossSignal a_lost;
  ASSERT_TRUE(IsOk(a->Campaign(kPatience, a_lost.Callback())));
  EXPECT_FALSE(a_lost.Fired(3 * kTtl / 2 + 1s));  // longer than the lease: renewals keep it
  EXPECT_TRUE(a->IsLeader());
  EXPECT_EQ(Leader(), "a");
}

TEST_P(ElectionTest, CampaignGivesUpAtItsTimeoutOrWhenStopped) {
  auto a = Candidate("a");
  auto b = Candidate("b");
  ASSERT_TRUE(IsOk(a->Campaign(kPatience, nullptr)));

  Status timed_out = b->Campaign(300ms, nullptr);
  EXPECT_EQ(timed_out.code(), Code::kServiceUnavailable) << timed_out.ToString();
  EXPECT_FALSE(b->IsLeader());

  auto stopped = std::async(std::launch::async, [&] { return b->Campaign(kPatience, nullptr); });
  b->Stop();
  EXPECT_EQ(stopped.get().code(), Code::kServiceNotReady);
  EXPECT_EQ(Leader(), "a");
}

TEST_P(ElectionTest, ResignFromTheLossCallbackIsAllowed) {
  auto a = Candidate("a");
  std::promise<Status> resigned;
  ASSERT_TRUE(IsOk(a->Campaign(kPatience, [&](const Status&) { resigned.set_value(a->Resign()); })));
  ASSERT_TRUE(IsOk(kv_->RevokeLease(a->lease())));
  auto future = resigned.get_future();
  ASSERT_EQ(future.wait_for(kPatience), std::future_status::ready);
  EXPECT_TRUE(IsOk(future.get()));
  EXPECT_EQ(a->lease(), kNoLease);
}

INSTANTIATE_TEST_SUITE_P(Backends, ElectionTest, testing::ValuesIn(quiver::test::AllMetaBackends()),
                         quiver::test::MetaBackendName);

}  // namespace
}  // namespace quiver::meta
