#include "wal/wal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "common/test_util.h"
#include "wal/local/local_wal.h"
#include "wal/local/segment_file.h"
#include "wal/wal_factory.h"

namespace quiver::wal {
namespace {

using quiver::test::IsOk;
using quiver::test::TempDir;

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The append's outcome, failing rather than hanging when its future is never completed.
Status WaitDurable(const AppendResult& result) {
  if (result.durable.wait_for(10s) != std::future_status::ready) {
    return Status(Code::kUnexpected, "durable future not completed within 10 s");
  }
  return result.durable.get();
}

AppendResult AppendDurably(Wal& wal, const std::string& channel, const std::vector<std::string>& payloads) {
  auto result = wal.Append(channel, payloads);
  EXPECT_TRUE(IsOk(result));
  if (!result.ok()) return {};
  EXPECT_TRUE(IsOk(WaitDurable(*result)));
  return *result;
}

Position LastPositionOf(Wal& wal, const std::string& channel) {
  auto last = wal.LastPosition(channel);
  EXPECT_TRUE(IsOk(last));
  return last.ok() ? *last : 0;
}

// Reads until `count` records arrived or `budget` has passed.
std::vector<Record> ReadRecords(WalReader& reader, size_t count, std::chrono::milliseconds budget = 5s) {
  std::vector<Record> records;
  for (auto deadline = Clock::now() + budget; records.size() < count && Clock::now() < deadline;) {
    auto batch = reader.Read(count - records.size(), 100ms);
    EXPECT_TRUE(IsOk(batch));
    if (!batch.ok()) break;
    std::move(batch->begin(), batch->end(), std::back_inserter(records));
  }
  return records;
}

// Every durable record of the channel after `after`.
std::vector<Record> ReadAll(Wal& wal, const std::string& channel, Position after = 0) {
  auto reader = wal.OpenReader(channel, after);
  EXPECT_TRUE(IsOk(reader));
  if (!reader.ok()) return {};
  const Position last = LastPositionOf(wal, channel);
  return last > after ? ReadRecords(**reader, last - after) : std::vector<Record>{};
}

std::vector<Position> PositionsOf(const std::vector<Record>& records) {
  std::vector<Position> positions;
  for (const Record& record : records) positions.push_back(record.position);
  return positions;
}

std::vector<std::string> PayloadsOf(const std::vector<Record>& records) {
  std::vector<std::string> payloads;
  for (const Record& record : records) payloads.push_back(record.payload);
  return payloads;
}

std::vector<Position> Sequence(Position first, Position last) {
  std::vector<Position> positions;
  for (Position p = first; p <= last; ++p) positions.push_back(p);
  return positions;
}

// Appenders spread over `channels` channels, each waiting for every append to be durable,
// while one reader per channel tails it: every acknowledged record must be read exactly
// once, in position order, with its payload, and each appender's positions must follow its
// call order.
void ExpectConcurrentAppendsAreReadExactlyOnce(Wal& wal, int channels, int appenders, int appends_each) {
  auto channel_of = [&](int appender, int i) { return fmt::format("conc_{}", (appender + i) % channels); };
  auto payloads_of = [](int appender, int i) {
    std::vector<std::string> payloads;
    for (int k = 0; k <= i % 3; ++k) payloads.push_back(fmt::format("a{}-i{}-k{}", appender, i, k));
    return payloads;
  };
  std::map<std::string, size_t> expected_count;
  for (int t = 0; t < appenders; ++t) {
    for (int i = 0; i < appends_each; ++i) expected_count[channel_of(t, i)] += payloads_of(t, i).size();
  }

  std::map<std::string, std::vector<Record>> read;
  for (const auto& [channel, count] : expected_count) read[channel];  // no insertions while readers run
  std::vector<std::thread> readers;
  for (const auto& [channel, count] : expected_count) {
    auto reader = wal.OpenReader(channel, 0);
    ASSERT_TRUE(IsOk(reader));
    readers.emplace_back([reader = std::shared_ptr<WalReader>(std::move(*reader)), &records = read[channel],
                          count = count] { records = ReadRecords(*reader, count, 20s); });
  }

  std::mutex acked_mu;
  std::map<std::string, std::map<Position, std::string>> acked;  // channel → position → payload
  std::vector<std::thread> writers;
  for (int t = 0; t < appenders; ++t) {
    writers.emplace_back([&, t] {
      std::map<std::string, Position> previous_last;
      for (int i = 0; i < appends_each; ++i) {
        const std::string channel = channel_of(t, i);
        const auto payloads = payloads_of(t, i);
        auto result = wal.Append(channel, payloads);
        ASSERT_TRUE(IsOk(result));
        ASSERT_TRUE(IsOk(WaitDurable(*result)));
        ASSERT_EQ(result->last - result->first + 1, payloads.size());
        ASSERT_GT(result->first, previous_last[channel]) << "positions must follow call order";
        previous_last[channel] = result->last;
        std::lock_guard lock(acked_mu);
        for (size_t k = 0; k < payloads.size(); ++k) acked[channel][result->first + k] = payloads[k];
      }
    });
  }
  for (auto& writer : writers) writer.join();
  for (auto& reader : readers) reader.join();

  for (const auto& [channel, count] : expected_count) {
    SCOPED_TRACE(channel);
    const auto& records = read[channel];
    ASSERT_EQ(records.size(), count);
    EXPECT_EQ(PositionsOf(records), Sequence(1, count));
    ASSERT_EQ(acked[channel].size(), count);
    size_t mismatched = 0;
    for (const auto& [position, payload] : acked[channel]) mismatched += records[position - 1].payload != payload;
    EXPECT_EQ(mismatched, 0u);
    EXPECT_EQ(LastPositionOf(wal, channel), count);
  }
}

// ---- the conformance suite every Wal backend must pass ----

// `open` gets a scratch directory that stays the same across reopens within a test.
struct Backend {
  std::string name;
  std::function<StatusOr<std::unique_ptr<Wal>>(const std::string& dir)> open;
  // Needs the services of scripts/backends.sh. Listed even when they are absent, so that
  // ctest (which lists the tests without them) knows the test, and skipped then.
  bool needs_services = false;
};

void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

class WalConformanceTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().needs_services && !quiver::test::BackendsConfig()) {
      GTEST_SKIP() << "QUIVER_BACKENDS_CONFIG is not set (run with ctest, or scripts/backends.sh up)";
    }
    Reopen();
  }

  void Reopen() {
    wal_.reset();
    auto opened = GetParam().open(dir_.path());
    ASSERT_TRUE(IsOk(opened));
    wal_ = std::move(*opened);
  }

  TempDir dir_;
  std::unique_ptr<Wal> wal_;
};

TEST_P(WalConformanceTest, AppendAssignsConsecutivePositionsInCallOrder) {
  const std::string binary("\0b\xff", 3);
  auto first = AppendDurably(*wal_, "quiver-dml_0", {"a"});
  auto second = AppendDurably(*wal_, "quiver-dml_0", {binary, "", "d"});
  EXPECT_EQ(first.first, 1u);
  EXPECT_EQ(first.last, 1u);
  EXPECT_EQ(second.first, 2u);
  EXPECT_EQ(second.last, 4u);
  EXPECT_EQ(LastPositionOf(*wal_, "quiver-dml_0"), 4u);

  auto records = ReadAll(*wal_, "quiver-dml_0");
  EXPECT_EQ(PositionsOf(records), Sequence(1, 4));
  EXPECT_EQ(PayloadsOf(records), (std::vector<std::string>{"a", binary, "", "d"}));
}

TEST_P(WalConformanceTest, ReaderStartsAfterTheGivenPositionAndHonoursMaxRecords) {
  AppendDurably(*wal_, "ch", {"1", "2", "3", "4", "5"});
  auto reader = wal_->OpenReader("ch", 2);
  ASSERT_TRUE(IsOk(reader));
  auto batch = (*reader)->Read(2, 0ms);
  ASSERT_TRUE(IsOk(batch));
  EXPECT_EQ(PayloadsOf(*batch), (std::vector<std::string>{"3", "4"}));
  batch = (*reader)->Read(10, 0ms);
  ASSERT_TRUE(IsOk(batch));
  EXPECT_EQ(PositionsOf(*batch), (std::vector<Position>{5}));
  batch = (*reader)->Read(10, 20ms);
  ASSERT_TRUE(IsOk(batch));
  EXPECT_TRUE(batch->empty());
}

TEST_P(WalConformanceTest, ChannelsAreIndependent) {
  AppendDurably(*wal_, "alpha", {"a1", "a2"});
  AppendDurably(*wal_, "beta", {"b1"});
  EXPECT_EQ(LastPositionOf(*wal_, "alpha"), 2u);
  EXPECT_EQ(LastPositionOf(*wal_, "beta"), 1u);
  EXPECT_EQ(LastPositionOf(*wal_, "never_written"), 0u);

  auto beta = ReadAll(*wal_, "beta");
  EXPECT_EQ(PositionsOf(beta), (std::vector<Position>{1}));
  EXPECT_EQ(PayloadsOf(beta), (std::vector<std::string>{"b1"}));

  auto channels = wal_->Channels();
  ASSERT_TRUE(IsOk(channels));
  std::sort(channels->begin(), channels->end());
  EXPECT_EQ(*channels, (std::vector<std::string>{"alpha", "beta"}));
}

TEST_P(WalConformanceTest, ReadWaitsForADurableRecordOrTheTimeout) {
  auto reader = wal_->OpenReader("ch", 0);
  ASSERT_TRUE(IsOk(reader));
  auto start = Clock::now();
  auto batch = (*reader)->Read(10, 100ms);
  ASSERT_TRUE(IsOk(batch));
  EXPECT_TRUE(batch->empty());
  EXPECT_GE(Clock::now() - start, 90ms);

  std::thread appender([&] {
    std::this_thread::sleep_for(100ms);
    AppendDurably(*wal_, "ch", {"late"});
  });
  start = Clock::now();
  batch = (*reader)->Read(10, 5s);
  const auto waited = Clock::now() - start;
  appender.join();
  ASSERT_TRUE(IsOk(batch));
  EXPECT_EQ(PayloadsOf(*batch), (std::vector<std::string>{"late"}));
  EXPECT_LT(waited, 4s) << "the reader must wake up when the record becomes durable";
}

TEST_P(WalConformanceTest, ConcurrentAppendersOnOneChannel) {
  ExpectConcurrentAppendsAreReadExactlyOnce(*wal_, 1, 8, 60);
}

TEST_P(WalConformanceTest, ConcurrentAppendersOnSeveralChannels) {
  ExpectConcurrentAppendsAreReadExactlyOnce(*wal_, 4, 8, 60);
}

TEST_P(WalConformanceTest, EveryReaderSeesEveryRecord) {
  std::vector<std::unique_ptr<WalReader>> readers;
  for (int i = 0; i < 3; ++i) {
    auto reader = wal_->OpenReader("ch", 0);
    ASSERT_TRUE(IsOk(reader));
    readers.push_back(std::move(*reader));
  }
  std::vector<std::string> payloads;
  for (int call = 0; call < 5; ++call) {
    std::vector<std::string> batch;
    for (int i = 0; i < 10; ++i) batch.push_back(fmt::format("c{}-{}", call, i));
    AppendDurably(*wal_, "ch", batch);
    payloads.insert(payloads.end(), batch.begin(), batch.end());
  }
  for (auto& reader : readers) EXPECT_EQ(PayloadsOf(ReadRecords(*reader, payloads.size())), payloads);
}

TEST_P(WalConformanceTest, ReopenKeepsRecordsAndContinuesPositions) {
  AppendDurably(*wal_, "ch", {"a", "b"});
  AppendDurably(*wal_, "ch", {"c"});
  Reopen();
  EXPECT_EQ(LastPositionOf(*wal_, "ch"), 3u);
  EXPECT_EQ(AppendDurably(*wal_, "ch", {"d"}).first, 4u);
  auto records = ReadAll(*wal_, "ch");
  EXPECT_EQ(PositionsOf(records), Sequence(1, 4));
  EXPECT_EQ(PayloadsOf(records), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST_P(WalConformanceTest, TruncatedPositionsCannotBeRead) {
  for (int i = 1; i <= 10; ++i) AppendDurably(*wal_, "ch", {fmt::format("r{}", i)});
  auto early_reader = wal_->OpenReader("ch", 1);
  ASSERT_TRUE(IsOk(early_reader));
  ASSERT_TRUE(IsOk(wal_->Truncate("ch", 6)));

  auto failed = (*early_reader)->Read(10, 0ms);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kIoFailed);
  EXPECT_NE(failed.status().reason().find("truncated"), std::string::npos) << failed.status().reason();

  auto kept = ReadAll(*wal_, "ch", 5);
  EXPECT_EQ(PositionsOf(kept), Sequence(6, 10));
  EXPECT_EQ(kept.front().payload, "r6");
  EXPECT_EQ(LastPositionOf(*wal_, "ch"), 10u);
  EXPECT_EQ(AppendDurably(*wal_, "ch", {"r11"}).first, 11u);
}

TEST_P(WalConformanceTest, DestroyingTheWalCompletesEveryPendingAppend) {
  std::vector<AppendResult> results;
  for (int i = 0; i < 200; ++i) {
    auto result = wal_->Append("ch", {std::string(100, static_cast<char>('a' + i % 26))});
    ASSERT_TRUE(IsOk(result));
    results.push_back(*result);
  }
  wal_.reset();
  Position last_acknowledged = 0;
  for (const auto& result : results) {
    ASSERT_EQ(result.durable.wait_for(0s), std::future_status::ready) << "position " << result.first;
    if (result.durable.get().ok()) last_acknowledged = result.last;
  }
  Reopen();
  EXPECT_GE(LastPositionOf(*wal_, "ch"), last_acknowledged);
  auto records = ReadAll(*wal_, "ch");
  ASSERT_GE(records.size(), last_acknowledged);
  for (Position p = 1; p <= last_acknowledged; ++p) {
    EXPECT_EQ(records[p - 1].payload, std::string(100, static_cast<char>('a' + (p - 1) % 26)));
  }
}

TEST_P(WalConformanceTest, ReaderOutlivingTheWalFailsInsteadOfWaiting) {
  auto reader = wal_->OpenReader("ch", 0);
  ASSERT_TRUE(IsOk(reader));
  std::thread closer([&] {
    std::this_thread::sleep_for(50ms);
    wal_.reset();
  });
  const auto start = Clock::now();
  auto blocked = (*reader)->Read(10, 10s);
  closer.join();
  EXPECT_FALSE(blocked.ok());
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_FALSE((*reader)->Read(10, 0ms).ok());
}

LocalWalOptions SmallUncachedSegments() {
  LocalWalOptions options;
  options.max_segment_bytes = 4096;
  options.tail_cache_bytes = 0;  // every read goes to the files
  return options;
}

// The test NATS cluster, with streams of this test's own: tests run in parallel against the
// same cluster, which is not wiped between them. The prefix stays the same across reopens.
StatusOr<std::unique_ptr<Wal>> OpenTestNatsWal(const std::string& dir) {
  auto config = quiver::test::BackendsConfig();
  if (!config) return Status(Code::kServiceNotReady, "the test services are not running (QUIVER_BACKENDS_CONFIG)");
  NatsWalOptions options;
  options.servers = config->natsmq.servers;
  options.replicas = config->natsmq.replicas;
  const std::string name = fs::path(dir).filename().string();  // quiver-test-XXXXXX
  options.stream_prefix = fmt::format("qt_{}_{}", name.substr(name.rfind('-') + 1), getpid());
  return OpenNatsWal(options);
}

INSTANTIATE_TEST_SUITE_P(Backends, WalConformanceTest,
                         testing::Values(Backend{"local", [](const std::string& dir) { return OpenLocalWal(dir); }},
                                         Backend{"local_small_uncached_segments",
                                                 [](const std::string& dir) {
                                                   return OpenLocalWal(dir, SmallUncachedSegments());
                                                 }},
                                         Backend{"nats", OpenTestNatsWal, true}),
                         [](const testing::TestParamInfo<Backend>& info) { return info.param.name; });

// ---- LocalWal: files, recovery, group commit, crashes ----

std::unique_ptr<Wal> MustOpen(const std::string& dir, LocalWalOptions options = {}) {
  auto wal = OpenLocalWal(dir, options);
  if (!wal.ok()) throw std::runtime_error(wal.status().ToString());
  return std::move(*wal);
}

std::unique_ptr<LocalWal> MustOpenLocal(const std::string& dir, LocalWalOptions options = {}) {
  auto wal = LocalWal::Open(dir, options);
  if (!wal.ok()) throw std::runtime_error(wal.status().ToString());
  return std::move(*wal);
}

// The channel's segment files, ordered by first position.
std::vector<fs::path> SegmentFiles(const std::string& dir, const std::string& channel) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir + "/" + channel)) {
    if (ParseSegmentFileName(entry.path().filename().string())) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

constexpr size_t kRecordOverhead = kRecordHeaderBytes;

TEST(SegmentCursorTest, ReadsNothingPastItsLimit) {
  TempDir dir;
  const std::string path = dir.path() + "/" + SegmentFileName(7);
  std::string bytes = EncodeSegmentHeader(7);
  AppendEncodedRecord(7, "first", &bytes);
  const uint64_t first_end = bytes.size();
  AppendEncodedRecord(8, "second", &bytes);
  WriteFile(path, bytes);

  auto fd = OpenFile(path, O_RDONLY);
  ASSERT_TRUE(IsOk(fd));
  SegmentCursor cursor(std::move(*fd), path, 7);
  cursor.LimitReadsTo(first_end);
  ASSERT_EQ(*cursor.ReadHeader(), SegmentCursor::Outcome::kOk);
  Record record;
  ASSERT_EQ(*cursor.Next(&record), SegmentCursor::Outcome::kOk);
  EXPECT_EQ(record.position, 7u);
  EXPECT_EQ(record.payload, "first");
  EXPECT_EQ(*cursor.Next(&record), SegmentCursor::Outcome::kEnd) << "the second record lies past the limit";
  cursor.LimitReadsTo(bytes.size());
  ASSERT_EQ(*cursor.Next(&record), SegmentCursor::Outcome::kOk);
  EXPECT_EQ(record.position, 8u);
  EXPECT_EQ(record.payload, "second");
  EXPECT_EQ(*cursor.Next(&record), SegmentCursor::Outcome::kEnd);
}

TEST(LocalWalTest, RejectsUnsafeChannelNamesAndEmptyAppends) {
  TempDir dir;
  auto wal = MustOpen(dir.path());
  for (const std::string& name :
       std::vector<std::string>{"", "a/b", "..", "../x", "a..b", ".hidden", "sp ace", std::string(201, 'x')}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(wal->Append(name, {"x"}).status().code(), Code::kParameterInvalid);
    EXPECT_EQ(wal->OpenReader(name, 0).status().code(), Code::kParameterInvalid);
    EXPECT_EQ(wal->LastPosition(name).status().code(), Code::kParameterInvalid);
    EXPECT_EQ(wal->Truncate(name, 1).code(), Code::kParameterInvalid);
  }
  EXPECT_EQ(wal->Append("ch", {}).status().code(), Code::kParameterInvalid);
  EXPECT_TRUE(IsOk(wal->Append("by-dev-rootcoord-dml_3_449v0", {"x"})));
  auto channels = wal->Channels();
  ASSERT_TRUE(IsOk(channels));
  EXPECT_EQ(*channels, (std::vector<std::string>{"by-dev-rootcoord-dml_3_449v0"}));
}

TEST(LocalWalTest, SecondOpenOfTheSameDirectoryFails) {
  TempDir dir;
  auto wal = MustOpen(dir.path());
  auto second = OpenLocalWal(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kIoFailed);
  EXPECT_NE(second.status().reason().find("already in use"), std::string::npos) << second.status().reason();
  wal.reset();
  EXPECT_TRUE(IsOk(OpenLocalWal(dir.path())));
}

TEST(LocalWalTest, SegmentsRollOverAtTheSizeLimitAndAreNamedByFirstPosition) {
  TempDir dir;
  LocalWalOptions options = SmallUncachedSegments();
  const std::string payload(300, 'p');
  {
    auto wal = MustOpen(dir.path(), options);
    for (int i = 0; i < 100; ++i) AppendDurably(*wal, "ch", {payload});
  }
  auto files = SegmentFiles(dir.path(), "ch");
  ASSERT_GE(files.size(), 5u);
  EXPECT_EQ(files.front().filename(), "00000000000000000001.log");
  for (const auto& file : files) {
    EXPECT_LE(fs::file_size(file), options.max_segment_bytes + kRecordOverhead + payload.size()) << file;
  }

  auto wal = MustOpen(dir.path(), options);
  EXPECT_EQ(AppendDurably(*wal, "ch", {payload}).first, 101u);
  for (Position after : {Position{0}, Position{50}}) {
    auto records = ReadAll(*wal, "ch", after);
    EXPECT_EQ(PositionsOf(records), Sequence(after + 1, 101));
  }
  // Each file is named by the position of its first record.
  for (const auto& file : files) {
    const Position first = *ParseSegmentFileName(file.filename().string());
    auto records = ReadAll(*wal, "ch", first - 1);
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.front().position, first);
  }
}

// One kind of damage a crash (or a stray write) leaves at the end of the last segment.
struct TailDamage {
  std::string name;
  std::function<void(std::string* segment)> apply;
  Position last_intact;  // of the five 100-byte records written
};

class TornTailTest : public testing::TestWithParam<TailDamage> {};

TEST_P(TornTailTest, IsCutOffAndPositionsContinue) {
  TempDir dir;
  const size_t record_bytes = kRecordOverhead + 100;
  {
    auto wal = MustOpen(dir.path());
    for (int i = 1; i <= 5; ++i) AppendDurably(*wal, "ch", {std::string(100, static_cast<char>('0' + i))});
  }
  const fs::path segment = SegmentFiles(dir.path(), "ch").back();
  std::string bytes = ReadFile(segment);
  ASSERT_EQ(bytes.size(), kSegmentHeaderBytes + 5 * record_bytes);
  GetParam().apply(&bytes);
  WriteFile(segment, bytes);

  const Position last = GetParam().last_intact;
  auto wal = MustOpen(dir.path());
  EXPECT_EQ(LastPositionOf(*wal, "ch"), last);
  EXPECT_EQ(fs::file_size(segment), kSegmentHeaderBytes + last * record_bytes) << "the damage must be cut off";
  EXPECT_EQ(AppendDurably(*wal, "ch", {"after"}).first, last + 1);
  auto records = ReadAll(*wal, "ch");
  ASSERT_EQ(PositionsOf(records), Sequence(1, last + 1));
  EXPECT_EQ(records[last - 1].payload, std::string(100, static_cast<char>('0' + last)));
  EXPECT_EQ(records.back().payload, "after");
}

INSTANTIATE_TEST_SUITE_P(
    Damages, TornTailTest,
    testing::Values(TailDamage{"RecordCutMidway", [](std::string* s) { s->resize(s->size() - 50); }, 4},
                    TailDamage{"RecordHeaderCutMidway", [](std::string* s) { s->resize(s->size() - 110); }, 4},
                    TailDamage{"GarbageAppended", [](std::string* s) { *s += "\x13garbage that is no record"; }, 5},
                    TailDamage{"ZeroesAppended", [](std::string* s) { s->append(4096, '\0'); }, 5},
                    TailDamage{"LastRecordChecksumWrong", [](std::string* s) { (*s)[s->size() - 10] ^= 0x5a; }, 4},
                    TailDamage{"FourthRecordChecksumWrong", [](std::string* s) { (*s)[s->size() - 116 - 10] ^= 0x5a; },
                               3}),
    [](const testing::TestParamInfo<TailDamage>& info) { return info.param.name; });

TEST(LocalWalTest, SegmentLeftWithoutAHeaderByACrashIsRewritten) {
  TempDir dir;
  {
    auto wal = MustOpen(dir.path());
    AppendDurably(*wal, "ch", {"a", "b"});
  }
  // A crash between creating the next segment and writing its header.
  WriteFile(fs::path(dir.path()) / "ch" / SegmentFileName(3), "QW");
  {
    auto wal = MustOpen(dir.path());
    EXPECT_EQ(LastPositionOf(*wal, "ch"), 2u);
    EXPECT_EQ(AppendDurably(*wal, "ch", {"c"}).first, 3u);
  }
  auto wal = MustOpen(dir.path());
  EXPECT_EQ(PayloadsOf(ReadAll(*wal, "ch")), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(LocalWalTest, DamagedHeaderInFrontOfRecordsFailsOpen) {
  TempDir dir;
  {
    auto wal = MustOpen(dir.path());
    AppendDurably(*wal, "ch", {"a", "b"});
  }
  const fs::path segment = SegmentFiles(dir.path(), "ch").back();
  std::string bytes = ReadFile(segment);
  bytes[0] ^= 0x01;
  WriteFile(segment, bytes);

  auto wal = OpenLocalWal(dir.path());
  ASSERT_FALSE(wal.ok());
  EXPECT_EQ(wal.status().code(), Code::kIoFailed);
  EXPECT_NE(wal.status().reason().find("damaged header"), std::string::npos) << wal.status().reason();
  EXPECT_EQ(fs::file_size(segment), bytes.size()) << "acknowledged records must not be cut";
}

TEST(LocalWalTest, CorruptRecordInAnEarlierSegmentIsReportedNotSkipped) {
  TempDir dir;
  LocalWalOptions options = SmallUncachedSegments();
  options.max_segment_bytes = 1024;
  const size_t record_bytes = kRecordOverhead + 100;
  {
    auto wal = MustOpen(dir.path(), options);
    for (int i = 1; i <= 40; ++i) AppendDurably(*wal, "ch", {std::string(100, 'r')});
  }
  auto files = SegmentFiles(dir.path(), "ch");
  ASSERT_GE(files.size(), 3u);
  std::string bytes = ReadFile(files.front());
  bytes[kSegmentHeaderBytes + 2 * record_bytes + kRecordOverhead + 7] ^= 0x20;  // payload of record 3
  WriteFile(files.front(), bytes);

  auto wal = MustOpen(dir.path(), options);
  EXPECT_EQ(LastPositionOf(*wal, "ch"), 40u) << "only the last segment is cut on recovery";
  EXPECT_EQ(fs::file_size(files.front()), bytes.size());

  auto reader = wal->OpenReader("ch", 0);
  ASSERT_TRUE(IsOk(reader));
  auto before_damage = (*reader)->Read(100, 0ms);
  ASSERT_TRUE(IsOk(before_damage));
  EXPECT_EQ(PositionsOf(*before_damage), Sequence(1, 2));
  auto damaged = (*reader)->Read(100, 0ms);
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), Code::kIoFailed);
  EXPECT_NE(damaged.status().reason().find("checksum mismatch"), std::string::npos) << damaged.status().reason();
  EXPECT_NE(damaged.status().reason().find(files.front().filename().string()), std::string::npos);
  EXPECT_FALSE((*reader)->Read(100, 0ms).ok()) << "the reader must not skip the damaged record";

  // Later segments stay readable, and appends go on.
  const Position second_first = *ParseSegmentFileName(files[1].filename().string());
  EXPECT_EQ(PositionsOf(ReadAll(*wal, "ch", second_first - 1)), Sequence(second_first, 40));
  EXPECT_EQ(AppendDurably(*wal, "ch", {"x"}).first, 41u);
}

TEST(LocalWalTest, ConcurrentAppendersShareSyncs) {
  TempDir dir;
  auto wal = MustOpenLocal(dir.path());
  constexpr int kAppenders = 16;
  constexpr int kAppendsEach = 40;
  std::vector<std::thread> appenders;
  for (int t = 0; t < kAppenders; ++t) {
    appenders.emplace_back([&] {
      for (int i = 0; i < kAppendsEach; ++i) AppendDurably(*wal, "ch", {std::string(1024, 'x')});
    });
  }
  for (auto& appender : appenders) appender.join();
  const uint64_t appends = kAppenders * kAppendsEach;
  EXPECT_LE(wal->SyncCount(), appends / 4) << "appends: " << appends;
  EXPECT_GT(wal->SyncCount(), 0u);
}

TEST(LocalWalTest, AppendsQueuedDuringASyncShareTheNextOne) {
  TempDir dir;
  auto wal = MustOpenLocal(dir.path());
  std::vector<AppendResult> results;
  for (int i = 0; i < 1000; ++i) {
    auto result = wal->Append("ch", {std::string(100, 'x')});
    ASSERT_TRUE(IsOk(result));
    results.push_back(*result);
  }
  for (const auto& result : results) ASSERT_TRUE(IsOk(WaitDurable(result)));
  EXPECT_LE(wal->SyncCount(), 100u);
}

TEST(LocalWalTest, GroupCommitDelayGathersAppendsIntoOneSync) {
  TempDir dir;
  LocalWalOptions options;
  options.group_commit_delay = 300ms;
  auto wal = MustOpenLocal(dir.path(), options);
  constexpr int kAppenders = 8;
  std::latch start(kAppenders);
  std::vector<std::thread> appenders;
  for (int t = 0; t < kAppenders; ++t) {
    appenders.emplace_back([&, t] {
      start.arrive_and_wait();
      AppendDurably(*wal, fmt::format("ch_{}", t % 3), {"x"});
    });
  }
  for (auto& appender : appenders) appender.join();
  EXPECT_LE(wal->SyncCount(), 3u * 2) << "at most one sync per channel per gathered batch";
}

TEST(LocalWalTest, TruncateDeletesWholeSegmentsAndIsRemembered) {
  TempDir dir;
  LocalWalOptions options = SmallUncachedSegments();
  options.max_segment_bytes = 1024;
  auto wal = MustOpen(dir.path(), options);
  for (int i = 1; i <= 40; ++i) AppendDurably(*wal, "ch", {fmt::format("{:0100d}", i)});
  auto files = SegmentFiles(dir.path(), "ch");
  ASSERT_GE(files.size(), 4u);
  const Position second_first = *ParseSegmentFileName(files[1].filename().string());
  const Position third_first = *ParseSegmentFileName(files[2].filename().string());
  const Position before = second_first + 1;  // inside the second segment

  ASSERT_TRUE(IsOk(wal->Truncate("ch", before)));
  auto remaining = SegmentFiles(dir.path(), "ch");
  ASSERT_EQ(remaining.size(), files.size() - 1);
  EXPECT_EQ(remaining.front(), files[1]) << "the segment holding `before` must stay";

  auto expect_truncated = [&](Wal& log, Position after) {
    auto reader = log.OpenReader("ch", after);
    ASSERT_TRUE(IsOk(reader));
    auto read = (*reader)->Read(10, 0ms);
    ASSERT_FALSE(read.ok()) << "after " << after;
    EXPECT_EQ(read.status().code(), Code::kIoFailed);
    EXPECT_NE(read.status().reason().find("truncated"), std::string::npos) << read.status().reason();
  };
  expect_truncated(*wal, 0);
  expect_truncated(*wal, second_first - 1);  // its file still exists, but it is truncated
  EXPECT_EQ(PositionsOf(ReadAll(*wal, "ch", before - 1)), Sequence(before, 40));

  wal.reset();
  wal = MustOpen(dir.path(), options);
  expect_truncated(*wal, 0);
  auto kept = ReadAll(*wal, "ch", before - 1);
  ASSERT_EQ(PositionsOf(kept), Sequence(before, 40));
  EXPECT_EQ(kept.front().payload, fmt::format("{:0100d}", before));

  // Truncating below the point changes nothing; past the end stops at the last record.
  ASSERT_TRUE(IsOk(wal->Truncate("ch", 2)));
  EXPECT_EQ(PositionsOf(ReadAll(*wal, "ch", before - 1)), Sequence(before, 40));
  ASSERT_TRUE(IsOk(wal->Truncate("ch", 1000)));
  EXPECT_EQ(SegmentFiles(dir.path(), "ch").size(), 1u);
  expect_truncated(*wal, third_first);
  EXPECT_EQ(AppendDurably(*wal, "ch", {"next"}).first, 41u);
  EXPECT_EQ(PayloadsOf(ReadAll(*wal, "ch", 40)), (std::vector<std::string>{"next"}));
}

// Runs in a forked child, since a file size limit applies to the whole process: makes the
// kernel refuse a write midway through a record.
void ExpectFailedWriteFailsTheChannel(const std::string& dir) {
  auto wal = MustOpen(dir);
  AppendDurably(*wal, "doomed", {"r1", "r2", "r3"});
  auto reader = wal->OpenReader("doomed", 3);
  ASSERT_TRUE(IsOk(reader));

  signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
  rlimit original{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &original), 0);
  const auto size = fs::file_size(SegmentFiles(dir, "doomed").back());
  rlimit limited{static_cast<rlim_t>(size + 100), original.rlim_max};
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);

  auto failed = wal->Append("doomed", {std::string(1000, 'x')});
  ASSERT_TRUE(IsOk(failed));
  Status outcome = WaitDurable(*failed);
  EXPECT_EQ(outcome.code(), Code::kIoFailed) << outcome.ToString();
  EXPECT_NE(outcome.reason().find("until the WAL is reopened"), std::string::npos) << outcome.reason();
  EXPECT_FALSE(wal->Append("doomed", {"y"}).ok()) << "a failed channel must refuse appends";
  EXPECT_EQ(LastPositionOf(*wal, "doomed"), 3u);
  EXPECT_FALSE((*reader)->Read(10, 5s).ok()) << "a reader must learn that the channel failed";
  EXPECT_EQ(AppendDurably(*wal, "healthy", {"fine"}).first, 1u) << "other channels go on";

  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &original), 0);
}

TEST(LocalWalTest, FailedWriteFailsTheChannelUntilReopen) {
  TempDir dir;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ExpectFailedWriteFailsTheChannel(dir.path());
    fflush(stdout);
    _exit(testing::Test::HasFailure() ? 1 : 0);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) << "the child's failures are printed above";

  // The half-written record is cut off on reopen, and the channel takes appends again.
  auto wal = MustOpen(dir.path());
  EXPECT_EQ(LastPositionOf(*wal, "doomed"), 3u);
  EXPECT_EQ(AppendDurably(*wal, "doomed", {"r4"}).first, 4u);
  EXPECT_EQ(PayloadsOf(ReadAll(*wal, "doomed")), (std::vector<std::string>{"r1", "r2", "r3", "r4"}));
  EXPECT_EQ(PayloadsOf(ReadAll(*wal, "healthy")), (std::vector<std::string>{"fine"}));
}

// ---- crash safety: SIGKILL at random moments ----

// What the crash child reports for each acknowledged append; small enough for an atomic
// pipe write from any of its threads.
struct Ack {
  uint32_t round;
  uint32_t appender;
  uint32_t channel;
  uint32_t count;
  uint64_t seq;
  Position first;
};

std::string CrashChannel(uint32_t index) { return fmt::format("crash_{}", index); }

// Unique per record, of varied length so records straddle pages and segment boundaries.
std::string CrashPayload(const Ack& ack, uint32_t k) {
  const size_t filler = (ack.seq * 7919 + ack.appender * 104729 + k * 31) % 3000;
  return fmt::format("r{}-a{}-s{}-k{}|", ack.round, ack.appender, ack.seq, k) +
         std::string(filler, static_cast<char>('a' + (ack.seq + k) % 26));
}

[[noreturn]] void AppendUntilKilled(const std::string& dir, uint32_t round, int ack_fd) {
  LocalWalOptions options;
  options.max_segment_bytes = 32 << 10;
  auto wal = OpenLocalWal(dir, options);
  if (!wal.ok()) _exit(2);
  std::vector<std::thread> appenders;
  for (uint32_t appender = 0; appender < 4; ++appender) {
    appenders.emplace_back([&, appender] {
      for (uint64_t seq = 0;; ++seq) {
        Ack ack{round, appender, appender % 2, static_cast<uint32_t>(1 + seq % 3), seq, 0};
        std::vector<std::string> payloads;
        for (uint32_t k = 0; k < ack.count; ++k) payloads.push_back(CrashPayload(ack, k));
        auto result = (*wal)->Append(CrashChannel(ack.channel), payloads);
        if (!result.ok()) _exit(3);
        if (!result->durable.get().ok()) _exit(4);
        ack.first = result->first;
        if (write(ack_fd, &ack, sizeof ack) != sizeof ack) _exit(5);
      }
    });
  }
  for (auto& appender : appenders) appender.join();
  _exit(6);
}

bool ReadAck(int fd, Ack* ack) {
  auto* bytes = reinterpret_cast<char*>(ack);
  for (size_t got = 0; got < sizeof *ack;) {
    ssize_t n = read(fd, bytes + got, sizeof *ack - got);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

using AckedRecords = std::map<std::string, std::map<Position, std::string>>;  // channel → position → payload

// Every acknowledged record is present with its payload; positions run 1..last without
// gaps, and no record appears twice.
void ExpectLogHoldsAcknowledgedRecords(const std::string& dir, const AckedRecords& acked) {
  auto wal = MustOpen(dir);
  for (const auto& [channel, records] : acked) {
    SCOPED_TRACE(channel);
    const Position last = LastPositionOf(*wal, channel);
    ASSERT_GE(last, records.rbegin()->first);
    auto log = ReadAll(*wal, channel);
    ASSERT_EQ(PositionsOf(log), Sequence(1, last));
    size_t mismatched = 0;
    for (const auto& [position, payload] : records) mismatched += log[position - 1].payload != payload;
    EXPECT_EQ(mismatched, 0u) << "of " << records.size() << " acknowledged records";
    std::set<std::string> distinct;
    for (const Record& record : log) distinct.insert(record.payload);
    EXPECT_EQ(distinct.size(), log.size()) << "a record was logged twice";
  }
}

TEST(LocalWalTest, AcknowledgedRecordsSurviveSigkill) {
  TempDir dir;
  AckedRecords acked;
  std::mt19937 random(std::random_device{}());
  for (uint32_t round = 0; round < 5; ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    int ack_pipe[2];
    ASSERT_EQ(pipe(ack_pipe), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(ack_pipe[0]);
      AppendUntilKilled(dir.path(), round, ack_pipe[1]);
    }
    close(ack_pipe[1]);

    size_t acks = 0;
    Ack ack{};
    auto remember = [&] {
      ++acks;
      for (uint32_t k = 0; k < ack.count; ++k) acked[CrashChannel(ack.channel)][ack.first + k] = CrashPayload(ack, k);
    };
    const size_t kill_after = std::uniform_int_distribution<size_t>(1, 500)(random);
    while (acks < kill_after && ReadAck(ack_pipe[0], &ack)) remember();
    kill(child, SIGKILL);
    int wait_status = 0;
    ASSERT_EQ(waitpid(child, &wait_status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(wait_status)) << "child exited on its own with status " << WEXITSTATUS(wait_status);
    while (ReadAck(ack_pipe[0], &ack)) remember();  // acks sent just before the kill count too
    close(ack_pipe[0]);
    ASSERT_GE(acks, kill_after);

    ExpectLogHoldsAcknowledgedRecords(dir.path(), acked);
  }
}

}  // namespace
}  // namespace quiver::wal
