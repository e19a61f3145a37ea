#include "common/test_util.h"
#include "storage/binlog.h"

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace quiver::storage {
namespace {

using quiver::test::IsOk;

using google::protobuf::util::MessageDifferencer;

// Fails unless `result` failed with kIoFailed and a reason mentioning `words`.
template <typename T>
testing::AssertionResult FailsWith(const StatusOr<T>& result, const std::string& words) {
  if (result.ok()) return testing::AssertionFailure() << "decoded fine";
  const Status& status = result.status();
  if (status.code() != Code::kIoFailed) return testing::AssertionFailure() << "wrong code: " << status.ToString();
  if (status.reason().find(words) == std::string::npos) {
    return testing::AssertionFailure() << "reason lacks '" << words << "': " << status.reason();
  }
  return testing::AssertionSuccess();
}

constexpr int64_t kFieldId = 101;

spb::FieldData Column(spb::DataType type) {
  spb::FieldData column;
  column.set_type(type);
  column.set_field_name("f");
  column.set_field_id(kFieldId);
  return column;
}

std::string Bytes(std::initializer_list<uint8_t> values) { return std::string(values.begin(), values.end()); }

// One sparse row: (uint32 index, float value) pairs, little-endian, as Milvus sends them.
std::string SparseRow(std::initializer_list<std::pair<uint32_t, float>> entries) {
  std::string row;
  for (auto [index, value] : entries) {
    row.append(reinterpret_cast<const char*>(&index), sizeof(index));
    row.append(reinterpret_cast<const char*>(&value), sizeof(value));
  }
  return row;
}

struct ColumnCase {
  std::string name;
  spb::FieldData column;
  int64_t rows;
};

std::vector<ColumnCase> EveryColumnType() {
  std::vector<ColumnCase> cases;
  auto add = [&](std::string name, spb::FieldData column, int64_t rows) {
    cases.push_back({std::move(name), std::move(column), rows});
  };
  {
    auto c = Column(spb::Bool);
    for (bool v : {true, false, true}) c.mutable_scalars()->mutable_bool_data()->add_data(v);
    add("Bool", c, 3);
  }
  for (auto [type, lo, hi] : {std::tuple{spb::Int8, -128, 127}, std::tuple{spb::Int16, -32768, 32767},
                              std::tuple{spb::Int32, std::numeric_limits<int32_t>::min(),
                                         std::numeric_limits<int32_t>::max()}}) {
    auto c = Column(type);
    for (int32_t v : {lo, 0, hi}) c.mutable_scalars()->mutable_int_data()->add_data(v);
    add(spb::DataType_Name(type), c, 3);
  }
  {
    auto c = Column(spb::Int64);
    for (int64_t v : {std::numeric_limits<int64_t>::min(), int64_t{0}, std::numeric_limits<int64_t>::max()}) {
      c.mutable_scalars()->mutable_long_data()->add_data(v);
    }
    add("Int64", c, 3);
  }
  {
    auto c = Column(spb::Float);
    for (float v : {-1.5f, 0.0f, std::numeric_limits<float>::infinity(), 3.25e-30f}) {
      c.mutable_scalars()->mutable_float_data()->add_data(v);
    }
    add("Float", c, 4);
  }
  {
    auto c = Column(spb::Double);
    for (double v : {-1e300, 0.0, M_PI}) c.mutable_scalars()->mutable_double_data()->add_data(v);
    add("Double", c, 3);
  }
  {
    auto c = Column(spb::VarChar);
    for (std::string v : {std::string(""), std::string("hello"), std::string("日本語"), std::string("nul\0in", 6)}) {
      c.mutable_scalars()->mutable_string_data()->add_data(v);
    }
    add("VarChar", c, 4);
  }
  {
    auto c = Column(spb::JSON);
    for (const char* v : {R"({"a":1,"b":[true,null]})", "[]", "\"s\""}) c.mutable_scalars()->mutable_json_data()->add_data(v);
    add("JSON", c, 3);
  }
  {
    auto c = Column(spb::Array);
    auto* arrays = c.mutable_scalars()->mutable_array_data();
    arrays->set_element_type(spb::Int32);
    for (auto row : {std::vector<int32_t>{1, 2, 3}, std::vector<int32_t>{}, std::vector<int32_t>{-7}}) {
      auto* data = arrays->add_data()->mutable_int_data();
      for (int32_t v : row) data->add_data(v);
    }
    add("Array", c, 3);
  }
  {
    auto c = Column(spb::FloatVector);
    c.mutable_vectors()->set_dim(4);
    for (int i = 0; i < 12; ++i) c.mutable_vectors()->mutable_float_vector()->add_data(0.25f * i - 1.0f);
    add("FloatVector", c, 3);
  }
  {
    auto c = Column(spb::Float16Vector);
    c.mutable_vectors()->set_dim(2);
    c.mutable_vectors()->set_float16_vector(Bytes({0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00}));
    add("Float16Vector", c, 2);
  }
  {
    auto c = Column(spb::BFloat16Vector);
    c.mutable_vectors()->set_dim(2);
    c.mutable_vectors()->set_bfloat16_vector(Bytes({0x80, 0x3f, 0x00, 0xc0, 0x7f, 0x7f, 0x00, 0x80}));
    add("BFloat16Vector", c, 2);
  }
  {
    auto c = Column(spb::BinaryVector);
    c.mutable_vectors()->set_dim(16);
    c.mutable_vectors()->set_binary_vector(Bytes({0xff, 0x00, 0xa5, 0x5a, 0x01, 0x80}));
    add("BinaryVector", c, 3);
  }
  {
    auto c = Column(spb::Int8Vector);
    c.mutable_vectors()->set_dim(3);
    c.mutable_vectors()->set_int8_vector(Bytes({0x80, 0x00, 0x7f, 0xff, 0x01, 0x02}));
    add("Int8Vector", c, 2);
  }
  {
    auto c = Column(spb::SparseFloatVector);
    auto* sparse = c.mutable_vectors()->mutable_sparse_float_vector();
    sparse->add_contents(SparseRow({{0, 0.5f}, {17, -2.0f}, {1000, 1e-3f}}));
    sparse->add_contents(SparseRow({}));
    sparse->add_contents(SparseRow({{4294967294u, 7.0f}}));
    sparse->set_dim(4294967295);
    c.mutable_vectors()->set_dim(4294967295);
    add("SparseFloatVector", c, 3);
  }
  {
    // Nullable columns carry one valid flag per row and values for the valid rows only.
    auto c = Column(spb::Int64);
    for (bool valid : {true, false, false, true}) c.add_valid_data(valid);
    for (int64_t v : {10, 40}) c.mutable_scalars()->mutable_long_data()->add_data(v);
    add("NullableInt64", c, 4);
  }
  {
    auto c = Column(spb::VarChar);
    for (bool valid : {false, true}) c.add_valid_data(valid);
    c.mutable_scalars()->mutable_string_data()->add_data("only");
    add("NullableVarChar", c, 2);
  }
  return cases;
}

class InsertBinlogRoundTrip : public testing::TestWithParam<ColumnCase> {};

TEST_P(InsertBinlogRoundTrip, DecodesToTheColumnThatWasEncoded) {
  const ColumnCase& c = GetParam();
  std::string blob = EncodeInsertBinlog(c.column, kFieldId, c.rows);

  auto decoded = DecodeInsertBinlog(blob);
  ASSERT_TRUE(IsOk(decoded));
  std::string differences;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differencer.Compare(c.column, *decoded)) << differences;

  auto header = ReadBinlogHeader(blob);
  ASSERT_TRUE(IsOk(header));
  EXPECT_EQ(header->kind, BinlogKind::kInsert);
  EXPECT_EQ(header->version, kBinlogFormatVersion);
  EXPECT_EQ(header->field_id, kFieldId);
  EXPECT_EQ(header->data_type, c.column.type());
  EXPECT_EQ(header->row_count, c.rows);
  EXPECT_EQ(header->uncompressed_size, c.column.ByteSizeLong());
  EXPECT_EQ(header->compressed_size + 56, blob.size());
}

INSTANTIATE_TEST_SUITE_P(EveryType, InsertBinlogRoundTrip, testing::ValuesIn(EveryColumnType()),
                         [](const testing::TestParamInfo<ColumnCase>& info) { return info.param.name; });

TEST(InsertBinlog, DecodedColumnCarriesTheBinlogsFieldId) {
  auto column = Column(spb::Int64);
  column.clear_field_id();
  column.mutable_scalars()->mutable_long_data()->add_data(5);
  auto decoded = DecodeInsertBinlog(EncodeInsertBinlog(column, 205, 1));
  ASSERT_TRUE(IsOk(decoded));
  EXPECT_EQ(decoded->field_id(), 205);
}

TEST(InsertBinlog, EmptyMessageRoundTrips) {
  auto decoded = DecodeInsertBinlog(EncodeInsertBinlog(spb::FieldData(), 0, 0));
  ASSERT_TRUE(IsOk(decoded));
  EXPECT_EQ(decoded->ByteSizeLong(), 0u);
}

TEST(InsertBinlog, LargeRepetitiveColumnIsCompressed) {
  auto column = Column(spb::FloatVector);
  column.mutable_vectors()->set_dim(128);
  for (int i = 0; i < 128 * 2000; ++i) column.mutable_vectors()->mutable_float_vector()->add_data(i % 7);
  std::string blob = EncodeInsertBinlog(column, kFieldId, 2000);
  EXPECT_LT(blob.size(), column.ByteSizeLong() / 10);
  auto decoded = DecodeInsertBinlog(blob);
  ASSERT_TRUE(IsOk(decoded));
  EXPECT_TRUE(MessageDifferencer::Equals(column, *decoded));
}

TEST(Timestamps, RoundTripThroughAnInsertBinlogBitForBit) {
  std::vector<uint64_t> timestamps = {0, 1, 449885714120900609ULL, uint64_t{1} << 63,
                                      std::numeric_limits<uint64_t>::max()};
  spb::FieldData column = TimestampColumn(timestamps);
  EXPECT_EQ(column.type(), spb::Int64);
  EXPECT_EQ(column.field_id(), kTimestampFieldId);

  std::string blob = EncodeInsertBinlog(column, kTimestampFieldId, static_cast<int64_t>(timestamps.size()));
  auto decoded = DecodeInsertBinlog(blob);
  ASSERT_TRUE(IsOk(decoded));
  auto back = TimestampsFromColumn(*decoded);
  ASSERT_TRUE(IsOk(back));
  EXPECT_EQ(*back, timestamps);
}

TEST(Timestamps, ColumnOfAnotherTypeIsRejected) {
  auto column = Column(spb::VarChar);
  column.mutable_scalars()->mutable_string_data()->add_data("1");
  EXPECT_EQ(TimestampsFromColumn(column).status().code(), Code::kParameterInvalid);
}

// ---- corruption ----

std::string SampleBinlog() {
  auto column = Column(spb::VarChar);
  for (int i = 0; i < 20; ++i) column.mutable_scalars()->mutable_string_data()->add_data("row-" + std::to_string(i));
  return EncodeInsertBinlog(column, kFieldId, 20);
}

uint32_t Crc32(std::string_view bytes) {
  return static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

void StoreU32(std::string* blob, size_t offset, uint32_t value) { std::memcpy(blob->data() + offset, &value, 4); }
void StoreU64(std::string* blob, size_t offset, uint64_t value) { std::memcpy(blob->data() + offset, &value, 8); }

// Rewrites both checksums so a deliberately altered blob passes them (x86 is little-endian).
void FixChecksums(std::string* blob) {
  StoreU64(blob, 40, blob->size() - 56);
  StoreU32(blob, 48, Crc32(std::string_view(*blob).substr(56)));
  StoreU32(blob, 52, Crc32(std::string_view(*blob).substr(0, 52)));
}

TEST(BinlogCorruption, EveryFlippedByteIsDetected) {
  const std::string blob = SampleBinlog();
  for (size_t i = 0; i < blob.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80}) {
      std::string damaged = blob;
      damaged[i] = static_cast<char>(damaged[i] ^ mask);
      auto decoded = DecodeInsertBinlog(damaged);
      ASSERT_FALSE(decoded.ok()) << "flip at byte " << i;
      EXPECT_EQ(decoded.status().code(), Code::kIoFailed);
    }
  }
  std::string payload_flip = blob;
  payload_flip.back() ^= 0x01;
  EXPECT_TRUE(FailsWith(DecodeInsertBinlog(payload_flip), "payload checksum mismatch"));
  std::string header_flip = blob;
  header_flip[30] ^= 0x01;  // row count
  EXPECT_TRUE(FailsWith(DecodeInsertBinlog(header_flip), "header checksum mismatch"));
}

TEST(BinlogCorruption, EveryTruncationIsDetected) {
  const std::string blob = SampleBinlog();
  for (size_t size = 0; size < blob.size(); ++size) {
    auto decoded = DecodeInsertBinlog(std::string_view(blob).substr(0, size));
    EXPECT_TRUE(FailsWith(decoded, size < 56 ? "shorter than the 56-byte header" : "(truncated)")) << size;
  }
  EXPECT_TRUE(FailsWith(DecodeInsertBinlog(blob + "x"), "payload is"));
}

TEST(BinlogCorruption, WrongMagicVersionOrKindIsNamed) {
  std::string parquet = SampleBinlog();
  parquet.replace(0, 4, "PAR1");
  EXPECT_TRUE(FailsWith(DecodeInsertBinlog(parquet), "not a binlog: magic"));

  std::string future = SampleBinlog();
  future[4] = 2;
  EXPECT_TRUE(FailsWith(DecodeInsertBinlog(future), "format version 2 is not supported"));

  EXPECT_TRUE(FailsWith(DecodeDeltaLog(SampleBinlog()), "expected a delta log, got an insert binlog"));
  EXPECT_TRUE(FailsWith(PkStats::Decode(SampleBinlog()), "expected a stats log"));
}

TEST(BinlogCorruption, ImplausibleSizeInAValidHeaderIsRejectedBeforeAllocating) {
  std::string blob = SampleBinlog();
  StoreU64(&blob, 32, uint64_t{1} << 40);
  FixChecksums(&blob);
  EXPECT_TRUE(FailsWith(DecodeInsertBinlog(blob), "more than a protobuf message can hold"));
}

TEST(BinlogCorruption, GarbageBehindValidChecksumsIsReportedNotCrashedOn) {
  google::protobuf::LogSilencer quiet;  // protobuf logs each invalid UTF-8 string it meets
  const std::string blob = SampleBinlog();
  std::mt19937_64 random(7);
  // Damaged zstd frames.
  for (int i = 0; i < 300; ++i) {
    std::string damaged = blob;
    size_t at = 56 + random() % (blob.size() - 56);
    damaged[at] = static_cast<char>(random());
    if (damaged == blob) continue;
    FixChecksums(&damaged);
    auto decoded = DecodeInsertBinlog(damaged);
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), Code::kIoFailed);
    }
  }
  // Well-formed zstd frames around bytes that are not a FieldData.
  std::string not_protobuf(64, '\xff');
  std::string compressed(ZSTD_compressBound(not_protobuf.size()), '\0');
  compressed.resize(ZSTD_compress(compressed.data(), compressed.size(), not_protobuf.data(), not_protobuf.size(), 1));
  std::string framed = blob.substr(0, 56) + compressed;
  StoreU64(&framed, 32, not_protobuf.size());
  FixChecksums(&framed);
  EXPECT_TRUE(FailsWith(DecodeInsertBinlog(framed), "not a valid milvus.proto.schema.FieldData"));
}

TEST(BinlogCorruption, RandomBytesNeverDecode) {
  google::protobuf::LogSilencer quiet;
  std::mt19937_64 random(42);
  for (int i = 0; i < 2000; ++i) {
    std::string garbage(random() % 300, '\0');
    for (char& c : garbage) c = static_cast<char>(random());
    if (i % 2 == 0 && garbage.size() >= 4) garbage.replace(0, 4, "QVBL");  // get past the magic check
    EXPECT_EQ(DecodeInsertBinlog(garbage).status().code(), Code::kIoFailed);
    EXPECT_EQ(DecodeDeltaLog(garbage).status().code(), Code::kIoFailed);
    EXPECT_EQ(PkStats::Decode(garbage).status().code(), Code::kIoFailed);
  }
}

// ---- keys ----

TEST(BinlogKeys, FollowMilvusLayoutUnderTheRoot) {
  SegmentLocation segment{.collection_id = 449, .partition_id = 450, .segment_id = 451};
  EXPECT_EQ(InsertLogKey("files", segment, 100, 7), "files/insert_log/449/450/451/100/7");
  EXPECT_EQ(DeltaLogKey("files", segment, 8), "files/delta_log/449/450/451/8");
  EXPECT_EQ(StatsLogKey("files", segment, 100, 9), "files/stats_log/449/450/451/100/9");
  EXPECT_EQ(InsertLogKey("", segment, 1, 2), "insert_log/449/450/451/1/2");
  EXPECT_EQ(DeltaLogKey("a/b/", segment, 3), "a/b/delta_log/449/450/451/3");
}

// ---- delta logs ----

TEST(DeltaLog, RoundTripsInt64AndVarCharKeys) {
  DeltaLog int_keys;
  for (int64_t pk : {int64_t{5}, int64_t{-3}, int64_t{1} << 40}) int_keys.mutable_primary_keys()->mutable_int_id()->add_data(pk);
  for (uint64_t ts : {uint64_t{100}, uint64_t{101}, std::numeric_limits<uint64_t>::max()}) int_keys.add_timestamps(ts);
  DeltaLog str_keys;
  for (const char* pk : {"a", "", "long key"}) str_keys.mutable_primary_keys()->mutable_str_id()->add_data(pk);
  for (uint64_t ts : {7, 8, 9}) str_keys.add_timestamps(ts);

  for (const DeltaLog& deletes : {int_keys, str_keys}) {
    auto blob = EncodeDeltaLog(deletes);
    ASSERT_TRUE(IsOk(blob));
    auto header = ReadBinlogHeader(*blob);
    ASSERT_TRUE(IsOk(header));
    EXPECT_EQ(header->kind, BinlogKind::kDelta);
    EXPECT_EQ(header->row_count, 3);
    auto decoded = DecodeDeltaLog(*blob);
    ASSERT_TRUE(IsOk(decoded));
    EXPECT_TRUE(MessageDifferencer::Equals(deletes, *decoded));
  }
}

TEST(DeltaLog, MismatchedOrMissingKeysAreRefused) {
  DeltaLog mismatched;
  mismatched.mutable_primary_keys()->mutable_int_id()->add_data(1);
  EXPECT_EQ(EncodeDeltaLog(mismatched).status().code(), Code::kParameterInvalid);
  DeltaLog no_keys;
  no_keys.add_timestamps(1);
  EXPECT_EQ(EncodeDeltaLog(no_keys).status().code(), Code::kParameterInvalid);
}

// ---- bloom filter and PK stats ----

TEST(BloomFilter, HasNoFalseNegativesAndFewFalsePositivesAt100kKeys) {
  constexpr int kKeys = 100'000;
  BloomFilter ints = BloomFilter::ForKeys(kKeys);
  BloomFilter strings = BloomFilter::ForKeys(kKeys);
  std::mt19937_64 random(1);
  std::vector<int64_t> keys(kKeys);
  for (auto& key : keys) {
    key = static_cast<int64_t>(random());
    ints.Add(key);
    strings.Add(std::string_view("pk-" + std::to_string(key)));
  }
  for (int64_t key : keys) {
    ASSERT_TRUE(ints.MayContain(key)) << key;
    ASSERT_TRUE(strings.MayContain(std::string_view("pk-" + std::to_string(key)))) << key;
  }
  // Dense sequential keys, as auto-ID produces, are the other common shape.
  BloomFilter sequential = BloomFilter::ForKeys(kKeys);
  for (int64_t key = 0; key < kKeys; ++key) sequential.Add(key);

  int int_hits = 0, string_hits = 0, sequential_hits = 0;
  for (int i = 0; i < kKeys; ++i) {
    int64_t other = static_cast<int64_t>(random());  // 2^-64 chance of being a real key
    int_hits += ints.MayContain(other);
    string_hits += strings.MayContain(std::string_view("pk-" + std::to_string(other)));
    sequential_hits += sequential.MayContain(int64_t{kKeys} + i);
  }
  EXPECT_LE(int_hits, kKeys * 0.005);
  EXPECT_LE(string_hits, kKeys * 0.005);
  EXPECT_LE(sequential_hits, kKeys * 0.005);
  EXPECT_LE(ints.bits().size(), kKeys * 15 / 8) << "sized for ~0.1%, not far beyond";
}

// Bloom filters are stored; if this changes, filters written earlier give false negatives.
TEST(BloomFilter, HashingIsPinned) {
  BloomFilter filter = BloomFilter::ForKeys(100);
  for (int64_t key = 0; key < 100; ++key) filter.Add(key);
  filter.Add(std::string_view("varchar key"));
  EXPECT_EQ(filter.hash_count(), 10u);
  EXPECT_EQ(filter.bits().size(), 180u);
  EXPECT_EQ(Crc32(filter.bits()), 2806135905u);
}

TEST(PkStats, Int64StatsAnswerFromRangeAndFilterAndSurviveEncoding) {
  auto column = Column(spb::Int64);
  for (int64_t pk = 1000; pk < 3000; pk += 2) column.mutable_scalars()->mutable_long_data()->add_data(pk);
  auto stats = PkStats::FromColumn(column, 100);
  ASSERT_TRUE(IsOk(stats));
  EXPECT_EQ(stats->key_count(), 1000);
  EXPECT_EQ(stats->min_int64(), 1000);
  EXPECT_EQ(stats->max_int64(), 2998);
  EXPECT_FALSE(stats->MayContain(int64_t{999}));
  EXPECT_FALSE(stats->MayContain(int64_t{3000}));
  EXPECT_FALSE(stats->MayContain(std::string_view("1000")));

  std::string blob = stats->Encode();
  auto header = ReadBinlogHeader(blob);
  ASSERT_TRUE(IsOk(header));
  EXPECT_EQ(header->kind, BinlogKind::kStats);
  EXPECT_EQ(header->field_id, 100);
  auto decoded = PkStats::Decode(blob);
  ASSERT_TRUE(IsOk(decoded));
  EXPECT_EQ(decoded->field_id(), 100);
  EXPECT_EQ(decoded->pk_type(), spb::Int64);
  EXPECT_EQ(decoded->key_count(), 1000);
  EXPECT_EQ(decoded->min_int64(), 1000);
  EXPECT_EQ(decoded->max_int64(), 2998);
  EXPECT_EQ(decoded->bloom().bits(), stats->bloom().bits());
  for (int64_t pk = 900; pk < 3100; ++pk) {
    ASSERT_EQ(decoded->MayContain(pk), stats->MayContain(pk)) << pk;
    if (pk >= 1000 && pk < 3000 && pk % 2 == 0) {
      ASSERT_TRUE(decoded->MayContain(pk)) << pk;
    }
  }
}

TEST(PkStats, VarCharStatsTrackRangeAndSurviveEncoding) {
  auto stats = PkStats::Create(100, spb::VarChar, 3);
  ASSERT_TRUE(IsOk(stats));
  EXPECT_FALSE(stats->MayContain(std::string_view("anything")));
  for (const char* pk : {"m", "b", "x"}) stats->Add(std::string_view(pk));
  stats->Add(int64_t{5});  // wrong key type: ignored
  EXPECT_EQ(stats->key_count(), 3);
  EXPECT_EQ(stats->min_varchar(), "b");
  EXPECT_EQ(stats->max_varchar(), "x");

  auto decoded = PkStats::Decode(stats->Encode());
  ASSERT_TRUE(IsOk(decoded));
  EXPECT_EQ(decoded->min_varchar(), "b");
  EXPECT_EQ(decoded->max_varchar(), "x");
  for (const char* pk : {"m", "b", "x"}) EXPECT_TRUE(decoded->MayContain(std::string_view(pk))) << pk;
  EXPECT_FALSE(decoded->MayContain(std::string_view("a")));  // below the range
  EXPECT_FALSE(decoded->MayContain(std::string_view("y")));  // above it
  EXPECT_FALSE(decoded->MayContain(int64_t{5}));
}

TEST(PkStats, OnlyInt64AndVarCharKeysAreAccepted) {
  EXPECT_EQ(PkStats::Create(100, spb::Float, 10).status().code(), Code::kParameterInvalid);
  EXPECT_EQ(PkStats::FromColumn(Column(spb::Double), 100).status().code(), Code::kParameterInvalid);
}

}  // namespace
}  // namespace quiver::storage
