// Binlogs: how a sealed segment is laid out in object storage.
//
// Keys follow Milvus's layout under a root prefix (config minio.rootPath, default "files"):
//   <root>/insert_log/<collection>/<partition>/<segment>/<field>/<log_id>   one column
//   <root>/delta_log/<collection>/<partition>/<segment>/<log_id>            deletes
//   <root>/stats_log/<collection>/<partition>/<segment>/<field>/<log_id>    primary-key stats
//
// Every binlog is one framed blob: a fixed little-endian header, then a zstd frame holding a
// serialized protobuf message (FieldData, quiver.storage.DeltaLog or quiver.storage.PkStatsLog).
//   offset size  field
//        0    4  magic "QVBL"
//        4    2  format version (kBinlogFormatVersion)
//        6    2  kind (BinlogKind)
//        8    8  field id (0 for delta logs)
//       16    4  data type (milvus.proto.schema.DataType; the primary key's for delta/stats)
//       20    4  codec (1 = zstd)
//       24    8  row count (rows; deletes for delta logs; keys for stats)
//       32    8  uncompressed payload size
//       40    8  compressed payload size
//       48    4  CRC-32 (zlib) of the compressed payload
//       52    4  CRC-32 of header bytes [0, 52)
//       56       compressed payload
// Decoders check all of it and fail with Code::kIoFailed, saying what is wrong.
//
// Per-row timestamps are an ordinary insert binlog of field kTimestampFieldId, an Int64
// column (long_data) holding the uint64 hybrid timestamps bit for bit, as Milvus stores
// its TimeStampField; TimestampColumn / TimestampsFromColumn convert.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "quiver/storage.pb.h"
#include "schema.pb.h"

namespace quiver::storage {

namespace spb = milvus::proto::schema;

// Milvus's system field IDs; user fields start at 100.
inline constexpr int64_t kRowIdFieldId = 0;
inline constexpr int64_t kTimestampFieldId = 1;

inline constexpr uint16_t kBinlogFormatVersion = 1;
inline constexpr int kDefaultZstdLevel = 3;

enum class BinlogKind : uint16_t { kInsert = 1, kDelta = 2, kStats = 3 };

// ---- Keys --------------------------------------------------------------------------------

struct SegmentLocation {
  int64_t collection_id = 0;
  int64_t partition_id = 0;
  int64_t segment_id = 0;
};

// `root` may be empty (keys then start at "insert_log/…"); a trailing '/' is ignored.
std::string InsertLogKey(std::string_view root, const SegmentLocation& segment, int64_t field_id, int64_t log_id);
std::string DeltaLogKey(std::string_view root, const SegmentLocation& segment, int64_t log_id);
std::string StatsLogKey(std::string_view root, const SegmentLocation& segment, int64_t field_id, int64_t log_id);

// ---- Framing -----------------------------------------------------------------------------

struct BinlogHeader {
  BinlogKind kind = BinlogKind::kInsert;
  uint16_t version = kBinlogFormatVersion;
  int64_t field_id = 0;
  spb::DataType data_type = spb::None;
  int64_t row_count = 0;
  uint64_t uncompressed_size = 0;
  uint64_t compressed_size = 0;
};

// The verified header of any binlog, without decompressing its payload (whose size and
// checksum are verified too).
StatusOr<BinlogHeader> ReadBinlogHeader(std::string_view blob);

// ---- Insert binlogs: one column of one segment -------------------------------------------

std::string EncodeInsertBinlog(const spb::FieldData& column, int64_t field_id, int64_t row_count,
                               int zstd_level = kDefaultZstdLevel);
// The column as written, with field_id set to the binlog's (the encoder's `field_id`).
StatusOr<spb::FieldData> DecodeInsertBinlog(std::string_view blob);

spb::FieldData TimestampColumn(std::span<const uint64_t> timestamps);
StatusOr<std::vector<uint64_t>> TimestampsFromColumn(const spb::FieldData& column);

// ---- Delta logs --------------------------------------------------------------------------

// Fails with kParameterInvalid when keys and timestamps differ in number or no key type is set.
StatusOr<std::string> EncodeDeltaLog(const DeltaLog& deletes, int zstd_level = kDefaultZstdLevel);
StatusOr<DeltaLog> DecodeDeltaLog(std::string_view blob);

// ---- Primary-key statistics --------------------------------------------------------------

// A bloom filter with double hashing: probe i of a key is bit (h1 + i*h2) mod m, where h1 and
// h2 are two seeded 64-bit hashes of the key's bytes (an Int64 key hashes as its 8
// little-endian bytes). The hash is part of the stored format: do not change it.
class BloomFilter {
 public:
  // Sized for `expected_keys` at `false_positive_rate`, clamped to [1e-12, 0.5]:
  // m = -n ln p / ln²2 bits (at least 64), k = round(-log2 p) hashes.
  static BloomFilter ForKeys(uint64_t expected_keys, double false_positive_rate = 0.001);
  // A filter read back from storage; fails unless bits is non-empty and 1 <= hash_count <= 64.
  static StatusOr<BloomFilter> FromBits(std::string bits, uint32_t hash_count);

  void Add(int64_t key);
  void Add(std::string_view key);
  bool MayContain(int64_t key) const;
  bool MayContain(std::string_view key) const;

  const std::string& bits() const { return bits_; }
  uint32_t hash_count() const { return hash_count_; }

 private:
  friend class quiver::StatusOr<BloomFilter>;  // holds a default one beside an error
  BloomFilter() : hash_count_(0) {}
  BloomFilter(std::string bits, uint32_t hash_count) : bits_(std::move(bits)), hash_count_(hash_count) {}
  void AddBytes(std::string_view bytes);
  bool MayContainBytes(std::string_view bytes) const;

  std::string bits_;
  uint32_t hash_count_;
};

// The stats of one segment's primary-key column: its key range and a bloom filter.
class PkStats {
 public:
  // Empty stats for a column of `pk_type` (Int64 or VarChar) expected to hold about
  // `expected_keys` keys; the filter keeps ~0.1% false positives up to that many.
  static StatusOr<PkStats> Create(int64_t field_id, spb::DataType pk_type, uint64_t expected_keys);
  // Stats of a whole Int64 or VarChar column.
  static StatusOr<PkStats> FromColumn(const spb::FieldData& pk_column, int64_t field_id);

  // The key must match the stats' pk_type; keys of the other type are ignored.
  void Add(int64_t key);
  void Add(std::string_view key);
  // False only if the key was certainly never added (always false for the other key type).
  bool MayContain(int64_t key) const;
  bool MayContain(std::string_view key) const;

  int64_t field_id() const { return field_id_; }
  spb::DataType pk_type() const { return pk_type_; }
  int64_t key_count() const { return key_count_; }
  // Meaningful when key_count() > 0, for the matching pk_type.
  int64_t min_int64() const { return min_int64_; }
  int64_t max_int64() const { return max_int64_; }
  const std::string& min_varchar() const { return min_varchar_; }
  const std::string& max_varchar() const { return max_varchar_; }
  const BloomFilter& bloom() const { return bloom_; }

  std::string Encode(int zstd_level = kDefaultZstdLevel) const;
  static StatusOr<PkStats> Decode(std::string_view blob);

 private:
  friend class quiver::StatusOr<PkStats>;  // holds a default one beside an error
  PkStats() : PkStats(0, spb::None, BloomFilter::ForKeys(0)) {}
  PkStats(int64_t field_id, spb::DataType pk_type, BloomFilter bloom)
      : field_id_(field_id), pk_type_(pk_type), bloom_(std::move(bloom)) {}

  int64_t field_id_;
  spb::DataType pk_type_;
  int64_t key_count_ = 0;
  int64_t min_int64_ = 0;
  int64_t max_int64_ = 0;
  std::string min_varchar_;
  std::string max_varchar_;
  BloomFilter bloom_;
};

}  // namespace quiver::storage
