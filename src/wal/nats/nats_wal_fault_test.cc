// The NATS WAL while NATS servers die: SIGKILL one server of the 3-node test cluster (the
// leader of a channel's stream, or each server in turn) while appenders and tailing readers
// run on a few channels, and start it again later. Afterwards every append acknowledged OK
// must be in the log exactly once, at its positions, with no gaps and no duplicates; every
// append must have completed (OK once a new leader took over, or failed cleanly); and the
// readers that kept reading through it all must have seen exactly the log.
//
// Needs the test services (ctest starts them; BACKENDS SERIAL, since servers get killed).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/test_util.h"
#include "wal/nats/nats_names.h"
#include "wal/wal.h"
#include "wal/wal_factory.h"

namespace quiver::wal::nats {
namespace {

using quiver::test::IsOk;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kChannels = 3;
constexpr int kAppendersPerChannel = 2;
constexpr int kMembers = 3;

std::string ChannelName(int index) { return fmt::format("fault_{}", index); }

NatsWalOptions TestOptions(const quiver::Config& config, const std::string& prefix) {
  NatsWalOptions options;
  options.servers = config.natsmq.servers;
  options.replicas = config.natsmq.replicas;
  options.stream_prefix = prefix;
  return options;
}

// The member (scripts/backends/nats.sh names them quiver-nats-<i>) leading `stream`, asked
// over a connection of the test's own.
std::optional<int> LeaderOf(const NatsWalOptions& options, const std::string& stream) {
  std::vector<const char*> urls;
  for (const auto& server : options.servers) urls.push_back(server.c_str());
  natsOptions* nats_options = nullptr;
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  jsStreamInfo* info = nullptr;
  std::optional<int> leader;
  if (natsOptions_Create(&nats_options) == NATS_OK &&
      natsOptions_SetServers(nats_options, urls.data(), static_cast<int>(urls.size())) == NATS_OK &&
      natsConnection_Connect(&connection, nats_options) == NATS_OK &&
      natsConnection_JetStream(&js, connection, nullptr) == NATS_OK &&
      js_GetStreamInfo(&info, js, stream.c_str(), nullptr, nullptr) == NATS_OK && info->Cluster != nullptr &&
      info->Cluster->Leader != nullptr) {
    const std::string name = info->Cluster->Leader;
    if (!name.empty() && std::isdigit(static_cast<unsigned char>(name.back()))) leader = name.back() - '0';
  }
  jsStreamInfo_Destroy(info);
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
  natsOptions_Destroy(nats_options);
  return leader;
}

// Starts a killed member again when the test ends, however it ends: later tests need the
// whole cluster.
class KilledMember {
 public:
  explicit KilledMember(int member) : member_(member) {
    EXPECT_TRUE(quiver::test::RunBackendScript("nats", fmt::format("kill {}", member_)));
  }
  ~KilledMember() { Restart(); }
  void Restart() {
    if (member_ < 0) return;
    EXPECT_TRUE(quiver::test::RunBackendScript("nats", fmt::format("start {}", member_)));
    member_ = -1;
  }

 private:
  int member_;
};

struct AppendOutcome {
  int channel = 0;
  std::vector<std::string> payloads;
  Position first = 0;
  Status status;
  Clock::time_point called;
  Clock::duration took{};
};

// Appenders and one tailing reader per channel, running until Stop().
class Workload {
 public:
  explicit Workload(Wal& wal) : wal_(wal) {}

  void Start() {
    for (int channel = 0; channel < kChannels; ++channel) {
      auto reader = wal_.OpenReader(ChannelName(channel), 0);
      ASSERT_TRUE(IsOk(reader));
      readers_.emplace_back([this, channel, r = std::shared_ptr<WalReader>(std::move(*reader))] { Tail(channel, *r); });
      for (int t = 0; t < kAppendersPerChannel; ++t) {
        appenders_.emplace_back([this, channel, t] { Append(channel, t); });
      }
    }
  }

  // Stops the appenders, then lets the readers catch up with the end of the log.
  void Stop() {
    stop_appending_ = true;
    for (auto& appender : appenders_) appender.join();
    for (int channel = 0; channel < kChannels; ++channel) {
      auto last = wal_.LastPosition(ChannelName(channel));
      EXPECT_TRUE(IsOk(last));
      std::lock_guard lock(mu_);
      read_until_[channel] = last.ok() ? *last : 0;
    }
    stop_reading_ = true;
    for (auto& reader : readers_) reader.join();
  }

  std::vector<AppendOutcome> appends() {
    std::lock_guard lock(mu_);
    return appends_;
  }
  std::vector<Record> tailed(int channel) {
    std::lock_guard lock(mu_);
    return tailed_[channel];
  }
  std::vector<Status> read_errors() {
    std::lock_guard lock(mu_);
    return read_errors_;
  }

 private:
  void Append(int channel, int appender) {
    for (uint64_t seq = 0; !stop_appending_; ++seq) {
      AppendOutcome outcome;
      outcome.channel = channel;
      for (uint64_t k = 0; k <= seq % 3; ++k) {
        outcome.payloads.push_back(fmt::format("c{}-a{}-s{}-k{}|{}", channel, appender, seq, k, std::string(200, 'x')));
      }
      outcome.called = Clock::now();
      auto result = wal_.Append(ChannelName(channel), outcome.payloads);
      if (!result.ok()) {
        outcome.status = result.status();
      } else if (result->durable.wait_for(90s) != std::future_status::ready) {
        outcome.status = Status(Code::kUnexpected, "the append's future did not complete within 90 s");
      } else {
        outcome.status = result->durable.get();
        outcome.first = result->first;
      }
      outcome.took = Clock::now() - outcome.called;
      std::lock_guard lock(mu_);
      appends_.push_back(std::move(outcome));
    }
  }

  void Tail(int channel, WalReader& reader) {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (stop_reading_ && (tailed_[channel].size() >= read_until_[channel] || Clock::now() > read_deadline()))
          return;
      }
      auto records = reader.Read(256, 200ms);
      std::lock_guard lock(mu_);
      if (!records.ok()) {
        read_errors_.push_back(records.status());
        continue;
      }
      for (auto& record : *records) tailed_[channel].push_back(std::move(record));
    }
  }

  Clock::time_point read_deadline() {
    if (!reading_deadline_) reading_deadline_ = Clock::now() + 60s;
    return *reading_deadline_;
  }

  Wal& wal_;
  std::atomic<bool> stop_appending_{false};
  std::vector<std::thread> appenders_;
  std::vector<std::thread> readers_;

  std::mutex mu_;  // guards everything below
  bool stop_reading_ = false;
  std::optional<Clock::time_point> reading_deadline_;
  std::map<int, Position> read_until_;
  std::vector<AppendOutcome> appends_;
  std::map<int, std::vector<Record>> tailed_;
  std::vector<Status> read_errors_;
};

std::vector<Record> ReadWholeChannel(Wal& wal, const std::string& channel) {
  auto last = wal.LastPosition(channel);
  EXPECT_TRUE(IsOk(last));
  auto reader = wal.OpenReader(channel, 0);
  EXPECT_TRUE(IsOk(reader));
  std::vector<Record> records;
  if (!last.ok() || !reader.ok()) return records;
  for (auto deadline = Clock::now() + 60s; records.size() < *last && Clock::now() < deadline;) {
    auto batch = (*reader)->Read(1024, 500ms);
    EXPECT_TRUE(IsOk(batch));
    if (!batch.ok()) break;
    std::move(batch->begin(), batch->end(), std::back_inserter(records));
  }
  return records;
}

double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

class NatsWalFaultTest : public testing::Test {
 protected:
  void SetUp() override {
    config_ = quiver::test::BackendsConfig();
    if (!config_) GTEST_SKIP() << "QUIVER_BACKENDS_CONFIG is not set (run with ctest, or scripts/backends.sh up)";
    options_ = TestOptions(*config_, fmt::format("qf_{}_{}", dir_.path().substr(dir_.path().rfind('-') + 1), getpid()));
    auto wal = OpenNatsWal(options_);
    ASSERT_TRUE(IsOk(wal));
    wal_ = std::move(*wal);
  }

  // The log of every channel holds each append acknowledged OK exactly once, at its
  // positions; positions run 1..last without gaps; no record appears twice; the tailing
  // readers read exactly the log.
  void ExpectLogHoldsAcknowledgedAppends(Workload& workload) {
    const auto appends = workload.appends();
    for (int channel = 0; channel < kChannels; ++channel) {
      SCOPED_TRACE(ChannelName(channel));
      const auto log = ReadWholeChannel(*wal_, ChannelName(channel));
      std::vector<Position> positions;
      std::set<std::string> distinct;
      for (const Record& record : log) {
        positions.push_back(record.position);
        distinct.insert(record.payload);
      }
      std::vector<Position> expected(log.size());
      for (size_t i = 0; i < expected.size(); ++i) expected[i] = i + 1;
      ASSERT_EQ(positions, expected) << "positions must run 1..last without gaps";
      EXPECT_EQ(distinct.size(), log.size()) << "a record was logged twice";

      size_t acknowledged = 0, missing = 0;
      for (const AppendOutcome& append : appends) {
        if (append.channel != channel || !append.status.ok()) continue;
        ++acknowledged;
        for (size_t k = 0; k < append.payloads.size(); ++k) {
          const Position position = append.first + k;
          missing += position > log.size() || log[position - 1].payload != append.payloads[k];
        }
      }
      EXPECT_GT(acknowledged, 0u);
      EXPECT_EQ(missing, 0u) << "acknowledged records missing or misplaced, of " << acknowledged << " appends";

      const auto tailed = workload.tailed(channel);
      EXPECT_EQ(tailed.size(), log.size()) << "the tailing reader must read the whole log, each record once";
      size_t differing = 0;
      for (size_t i = 0; i < std::min(tailed.size(), log.size()); ++i) {
        differing += tailed[i].position != log[i].position || tailed[i].payload != log[i].payload;
      }
      EXPECT_EQ(differing, 0u) << "the tailing reader must read the log in order";
    }
    for (const Status& error : workload.read_errors()) ADD_FAILURE() << "a tailing read failed: " << error.ToString();
  }

  // Prints what the appenders went through and checks that they made progress after
  // `since` on every channel.
  void Report(Workload& workload, Clock::time_point since) {
    size_t ok = 0, failed = 0;
    Clock::duration longest{};
    std::map<int, size_t> ok_after;
    for (const AppendOutcome& append : workload.appends()) {
      if (append.status.ok()) {
        ++ok;
        longest = std::max(longest, append.took);
        if (append.called > since) ++ok_after[append.channel];
      } else {
        ++failed;
        EXPECT_NE(append.status.code(), Code::kUnexpected) << append.status.ToString();
        if (failed <= 3) std::printf("failed append: %s\n", append.status.ToString().c_str());
      }
    }
    std::printf("appends OK: %zu, failed: %zu, longest wait for an OK append: %.2f s\n", ok, failed, Seconds(longest));
    RecordProperty("appends_ok", static_cast<int>(ok));
    RecordProperty("appends_failed", static_cast<int>(failed));
    RecordProperty("longest_append_ms", static_cast<int>(Seconds(longest) * 1000));
    for (int channel = 0; channel < kChannels; ++channel) {
      EXPECT_GT(ok_after[channel], 0u) << ChannelName(channel) << " took no append after the kill";
    }
  }

  quiver::test::TempDir dir_;
  std::optional<quiver::Config> config_;
  NatsWalOptions options_;
  std::unique_ptr<Wal> wal_;
};

TEST_F(NatsWalFaultTest, KillingAStreamLeaderLosesNoAcknowledgedAppend) {
  Workload workload(*wal_);
  ASSERT_NO_FATAL_FAILURE(workload.Start());
  std::this_thread::sleep_for(3s);
  auto leader = LeaderOf(options_, StreamName(options_.stream_prefix, ChannelName(0)));
  ASSERT_TRUE(leader.has_value()) << "cannot tell which server leads " << ChannelName(0);
  std::printf("killing member %d, the leader of %s\n", *leader, ChannelName(0).c_str());
  const auto killed_at = Clock::now();
  {
    KilledMember killed(*leader);
    std::this_thread::sleep_for(12s);
    killed.Restart();
  }
  std::this_thread::sleep_for(3s);
  workload.Stop();
  Report(workload, killed_at);
  ExpectLogHoldsAcknowledgedAppends(workload);
}

TEST_F(NatsWalFaultTest, KillingEachServerInTurnLosesNoAcknowledgedAppend) {
  Workload workload(*wal_);
  ASSERT_NO_FATAL_FAILURE(workload.Start());
  std::this_thread::sleep_for(2s);
  const auto first_kill = Clock::now();
  for (int member = 0; member < kMembers; ++member) {
    std::printf("killing member %d\n", member);
    KilledMember killed(member);
    std::this_thread::sleep_for(8s);
  }
  std::this_thread::sleep_for(2s);
  workload.Stop();
  Report(workload, first_kill);
  ExpectLogHoldsAcknowledgedAppends(workload);
}

}  // namespace
}  // namespace quiver::wal::nats
