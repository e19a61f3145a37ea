// What the NATS WAL adds to the WAL contract (the contract itself is checked by the
// conformance suite in wal_test.cc): its names on the cluster, refusing what the servers
// cannot take, and a second writer on a channel.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "wal/nats/nats_names.h"
#include "wal/wal.h"
#include "wal/wal_factory.h"

namespace quiver::wal::nats {
namespace {

using quiver::test::IsOk;
using namespace std::chrono_literals;

TEST(NatsNamesTest, ChannelsMapToStreamsAndSubjectsAndBack) {
  EXPECT_EQ(StreamName("quiver", "quiver-dml_3"), "quiver_wal_quiver-dml_3");
  EXPECT_EQ(SubjectName("quiver", "quiver-dml_3"), "quiver.wal.quiver-dml_3");
  // Dots cannot be in stream names nor inside one subject token.
  EXPECT_EQ(StreamName("quiver", "a.b"), "quiver_wal_a~b");
  EXPECT_EQ(SubjectName("quiver", "a.b"), "quiver.wal.a~b");
  for (const std::string channel : {"quiver-dml_3", "a.b", "x_wal_y", "a.b.c-d_e"}) {
    EXPECT_EQ(ChannelOfStream("quiver", StreamName("quiver", channel)), channel);
    EXPECT_EQ(ChannelOfSubject("quiver", SubjectName("quiver", channel)), channel);
  }
  EXPECT_EQ(ChannelOfStream("quiver", "other_wal_ch"), std::nullopt);
  EXPECT_EQ(ChannelOfStream("quiver", "quiver_wal_"), std::nullopt);
  EXPECT_EQ(ChannelOfSubject("quiver", "quiver.wal.~x"), std::nullopt) << "not a channel name";
}

TEST(NatsNamesTest, MessageIdsNameWriterEpochAndPosition) {
  const std::string writer = NewWriterId();
  EXPECT_NE(writer, NewWriterId());
  auto id = ParseMessageId(writer, FormatMessageId(writer, 7, 12345));
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->epoch, 7u);
  EXPECT_EQ(id->position, 12345u);
  EXPECT_EQ(ParseMessageId(NewWriterId(), FormatMessageId(writer, 7, 1)), std::nullopt) << "another writer's";
  EXPECT_EQ(ParseMessageId(writer, writer + "-7"), std::nullopt);
}

TEST(NatsWalOptionsTest, BadOptionsAreRefused) {
  NatsWalOptions options;
  EXPECT_EQ(OpenNatsWal(options).status().code(), Code::kParameterInvalid) << "no server";
  options.servers = {"nats://127.0.0.1:4222"};
  options.stream_prefix = "a.b";
  EXPECT_EQ(OpenNatsWal(options).status().code(), Code::kParameterInvalid) << "a dot in the prefix";
  options.stream_prefix = "quiver";
  options.replicas = 0;
  EXPECT_EQ(OpenNatsWal(options).status().code(), Code::kParameterInvalid);
}

TEST(NatsWalOptionsTest, OpeningFailsWhenNoServerAnswers) {
  NatsWalOptions options;
  options.servers = {"nats://127.0.0.1:1"};
  options.connect_timeout = 500ms;
  auto wal = OpenNatsWal(options);
  ASSERT_FALSE(wal.ok());
  EXPECT_EQ(wal.status().code(), Code::kIoFailed);
  EXPECT_NE(wal.status().reason().find("nats://127.0.0.1:1"), std::string::npos) << wal.status().reason();
}

class NatsWalTest : public testing::Test {
 protected:
  void SetUp() override {
    auto config = quiver::test::BackendsConfig();
    if (!config) GTEST_SKIP() << "QUIVER_BACKENDS_CONFIG is not set (run with ctest, or scripts/backends.sh up)";
    options_.servers = config->natsmq.servers;
    options_.replicas = config->natsmq.replicas;
    options_.stream_prefix = fmt::format("qn_{}_{}", dir_.path().substr(dir_.path().rfind('-') + 1), getpid());
  }

  std::unique_ptr<Wal> Open(const std::string& prefix) {
    NatsWalOptions options = options_;
    options.stream_prefix = prefix;
    auto wal = OpenNatsWal(options);
    EXPECT_TRUE(IsOk(wal));
    return wal.ok() ? std::move(*wal) : nullptr;
  }

  static Status AppendAndWait(Wal& wal, const std::string& channel, const std::string& payload,
                              Position* position = nullptr) {
    auto result = wal.Append(channel, {payload});
    if (!result.ok()) return result.status();
    if (result->durable.wait_for(60s) != std::future_status::ready) return Status(Code::kUnexpected, "hangs");
    if (position != nullptr) *position = result->first;
    return result->durable.get();
  }

  static std::vector<std::string> PayloadsOf(Wal& wal, const std::string& channel) {
    auto last = wal.LastPosition(channel);
    auto reader = wal.OpenReader(channel, 0);
    std::vector<std::string> payloads;
    if (!last.ok() || !reader.ok()) return payloads;
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         payloads.size() < *last && std::chrono::steady_clock::now() < deadline;) {
      auto records = (*reader)->Read(100, 200ms);
      if (!records.ok()) break;
      for (const Record& record : *records) payloads.push_back(record.payload);
    }
    return payloads;
  }

  quiver::test::TempDir dir_;
  NatsWalOptions options_;
};

TEST_F(NatsWalTest, ChannelsListsOnlyTheChannelsOfItsPrefix) {
  // The second prefix starts like the first one's stream names do.
  auto wal = Open(options_.stream_prefix);
  auto other = Open(options_.stream_prefix + "_wal_x");
  ASSERT_TRUE(wal && other);
  ASSERT_TRUE(IsOk(AppendAndWait(*wal, "mine", "1")));
  ASSERT_TRUE(IsOk(AppendAndWait(*other, "theirs", "1")));
  auto channels = wal->Channels();
  ASSERT_TRUE(IsOk(channels));
  EXPECT_EQ(*channels, (std::vector<std::string>{"mine"}));
  channels = other->Channels();
  ASSERT_TRUE(IsOk(channels));
  EXPECT_EQ(*channels, (std::vector<std::string>{"theirs"}));
  auto last = wal->LastPosition("theirs");
  ASSERT_TRUE(IsOk(last));
  EXPECT_EQ(*last, 0u);
}

TEST_F(NatsWalTest, RecordsLargerThanTheServersTakeAreRefused) {
  auto wal = Open(options_.stream_prefix);
  ASSERT_TRUE(wal);
  auto refused = wal->Append("ch", {"fine", std::string(64 << 20, 'x')});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kParameterTooLarge) << refused.status().ToString();
  Position position = 0;
  ASSERT_TRUE(IsOk(AppendAndWait(*wal, "ch", std::string(4 << 20, 'y'), &position)));
  EXPECT_EQ(position, 1u) << "nothing of the refused append may be logged";
}

TEST_F(NatsWalTest, ASecondWriterMakesAppendsFailInsteadOfInterleaving) {
  auto first = Open(options_.stream_prefix);
  auto second = Open(options_.stream_prefix);
  ASSERT_TRUE(first && second);
  Position position = 0;
  ASSERT_TRUE(IsOk(AppendAndWait(*first, "ch", "first-1", &position)));
  EXPECT_EQ(position, 1u);
  ASSERT_TRUE(IsOk(AppendAndWait(*second, "ch", "second-1", &position)));
  EXPECT_EQ(position, 2u);

  // `first` still believes position 2 is next: the stream refuses it, and the record there
  // is not this writer's, so the append fails.
  Status stale = AppendAndWait(*first, "ch", "first-2", &position);
  EXPECT_EQ(stale.code(), Code::kIoFailed) << stale.ToString();
  // Then it starts over from where the stream ends.
  ASSERT_TRUE(IsOk(AppendAndWait(*first, "ch", "first-3", &position)));
  EXPECT_EQ(position, 3u);
  EXPECT_EQ(PayloadsOf(*first, "ch"), (std::vector<std::string>{"first-1", "second-1", "first-3"}));
}

}  // namespace
}  // namespace quiver::wal::nats
