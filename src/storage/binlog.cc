#include "storage/binlog.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>

namespace quiver::storage {
namespace {

constexpr char kMagic[4] = {'Q', 'V', 'B', 'L'};
constexpr uint32_t kCodecZstd = 1;
constexpr size_t kHeaderSize = 56;
constexpr size_t kHeaderCrcOffset = 52;
// Protobuf cannot parse a larger message, so a header claiming more is corrupt; checking it
// first keeps a bad header from making us allocate that much.
constexpr uint64_t kMaxUncompressedSize = std::numeric_limits<int32_t>::max();

// ---- little-endian encoding ----

template <typename T>
void AppendLittleEndian(std::string* out, T value) {
  auto bits = static_cast<std::make_unsigned_t<T>>(value);
  for (size_t i = 0; i < sizeof(T); ++i) out->push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

template <typename T>
T LoadLittleEndian(const char* p) {
  std::make_unsigned_t<T> bits = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    bits |= static_cast<std::make_unsigned_t<T>>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return static_cast<T>(bits);
}

uint32_t Crc32(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32_z(crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

Status Corrupt(const std::string& detail) { return {Code::kIoFailed, "corrupt binlog: " + detail}; }

std::string Hex32(uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

const char* KindName(BinlogKind kind) {
  switch (kind) {
    case BinlogKind::kInsert: return "an insert binlog";
    case BinlogKind::kDelta: return "a delta log";
    case BinlogKind::kStats: return "a stats log";
  }
  return "unknown binlog kind";
}

// ---- framing ----

std::string Frame(const BinlogHeader& header_fields, const google::protobuf::MessageLite& message, int zstd_level) {
  std::string serialized = message.SerializeAsString();
  std::string compressed(ZSTD_compressBound(serialized.size()), '\0');
  size_t compressed_size =
      ZSTD_compress(compressed.data(), compressed.size(), serialized.data(), serialized.size(), zstd_level);
  // With a ZSTD_compressBound-sized output the only possible failure is running out of memory.
  if (ZSTD_isError(compressed_size)) throw std::bad_alloc();
  compressed.resize(compressed_size);

  std::string blob(kMagic, sizeof(kMagic));
  blob.reserve(kHeaderSize + compressed.size());
  AppendLittleEndian(&blob, kBinlogFormatVersion);
  AppendLittleEndian(&blob, static_cast<uint16_t>(header_fields.kind));
  AppendLittleEndian(&blob, header_fields.field_id);
  AppendLittleEndian(&blob, static_cast<int32_t>(header_fields.data_type));
  AppendLittleEndian(&blob, kCodecZstd);
  AppendLittleEndian(&blob, header_fields.row_count);
  AppendLittleEndian(&blob, static_cast<uint64_t>(serialized.size()));
  AppendLittleEndian(&blob, static_cast<uint64_t>(compressed.size()));
  AppendLittleEndian(&blob, Crc32(compressed));
  AppendLittleEndian(&blob, Crc32(blob));
  blob += compressed;
  return blob;
}

// Checks, in order, what can be wrong with a blob so the message names the first problem.
StatusOr<BinlogHeader> ParseHeader(std::string_view blob) {
  if (blob.size() < kHeaderSize) {
    return Corrupt("blob is " + std::to_string(blob.size()) + " bytes, shorter than the " +
                   std::to_string(kHeaderSize) + "-byte header");
  }
  if (std::memcmp(blob.data(), kMagic, sizeof(kMagic)) != 0) {
    return Corrupt("not a binlog: magic is " + Hex32(LoadLittleEndian<uint32_t>(blob.data())) + ", expected \"QVBL\"");
  }
  BinlogHeader header;
  header.version = LoadLittleEndian<uint16_t>(blob.data() + 4);
  if (header.version != kBinlogFormatVersion) {
    return Corrupt("format version " + std::to_string(header.version) + " is not supported (this build reads " +
                   std::to_string(kBinlogFormatVersion) + ")");
  }
  uint32_t stored_header_crc = LoadLittleEndian<uint32_t>(blob.data() + kHeaderCrcOffset);
  uint32_t header_crc = Crc32(blob.substr(0, kHeaderCrcOffset));
  if (stored_header_crc != header_crc) {
    return Corrupt("header checksum mismatch (stored " + Hex32(stored_header_crc) + ", computed " +
                   Hex32(header_crc) + ")");
  }
  uint16_t kind = LoadLittleEndian<uint16_t>(blob.data() + 6);
  if (kind < static_cast<uint16_t>(BinlogKind::kInsert) || kind > static_cast<uint16_t>(BinlogKind::kStats)) {
    return Corrupt("unknown binlog kind " + std::to_string(kind));
  }
  header.kind = static_cast<BinlogKind>(kind);
  header.field_id = LoadLittleEndian<int64_t>(blob.data() + 8);
  header.data_type = static_cast<spb::DataType>(LoadLittleEndian<int32_t>(blob.data() + 16));
  uint32_t codec = LoadLittleEndian<uint32_t>(blob.data() + 20);
  if (codec != kCodecZstd) return Corrupt("unknown compression codec " + std::to_string(codec));
  header.row_count = LoadLittleEndian<int64_t>(blob.data() + 24);
  header.uncompressed_size = LoadLittleEndian<uint64_t>(blob.data() + 32);
  header.compressed_size = LoadLittleEndian<uint64_t>(blob.data() + 40);
  return header;
}

StatusOr<BinlogHeader> VerifyFrame(std::string_view blob) {
  auto header = ParseHeader(blob);
  if (!header.ok()) return header;
  uint64_t payload_size = blob.size() - kHeaderSize;
  if (payload_size != header->compressed_size) {
    return Corrupt("payload is " + std::to_string(payload_size) + " bytes, header says " +
                   std::to_string(header->compressed_size) + (payload_size < header->compressed_size ? " (truncated)" : ""));
  }
  uint32_t stored_crc = LoadLittleEndian<uint32_t>(blob.data() + 48);
  uint32_t crc = Crc32(blob.substr(kHeaderSize));
  if (stored_crc != crc) {
    return Corrupt("payload checksum mismatch (stored " + Hex32(stored_crc) + ", computed " + Hex32(crc) + ")");
  }
  if (header->uncompressed_size > kMaxUncompressedSize) {
    return Corrupt("header says the payload is " + std::to_string(header->uncompressed_size) +
                   " bytes uncompressed, more than a protobuf message can hold");
  }
  return header;
}

// Verifies the frame is a `kind` binlog and parses its payload into `message`.
StatusOr<BinlogHeader> Unframe(std::string_view blob, BinlogKind kind, google::protobuf::MessageLite* message) {
  auto header = VerifyFrame(blob);
  if (!header.ok()) return header;
  if (header->kind != kind) {
    return Corrupt(std::string("expected ") + KindName(kind) + ", got " + KindName(header->kind));
  }
  std::string_view payload = blob.substr(kHeaderSize);
  unsigned long long frame_size = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (frame_size != header->uncompressed_size) {
    return Corrupt("zstd frame content size does not match the header's " + std::to_string(header->uncompressed_size) +
                   " bytes");
  }
  std::string serialized(header->uncompressed_size, '\0');
  size_t size = ZSTD_decompress(serialized.data(), serialized.size(), payload.data(), payload.size());
  if (ZSTD_isError(size)) return Corrupt(std::string("zstd decompression failed: ") + ZSTD_getErrorName(size));
  if (size != serialized.size()) {
    return Corrupt("decompressed " + std::to_string(size) + " bytes, header says " + std::to_string(serialized.size()));
  }
  if (!message->ParseFromString(serialized)) {
    return Corrupt("payload is not a valid " + message->GetTypeName() + " message");
  }
  return header;
}

// ---- keys ----

std::string KeyRoot(std::string_view root) {
  while (!root.empty() && root.back() == '/') root.remove_suffix(1);
  return root.empty() ? std::string() : std::string(root) + "/";
}

std::string SegmentPath(const SegmentLocation& segment) {
  return std::to_string(segment.collection_id) + "/" + std::to_string(segment.partition_id) + "/" +
         std::to_string(segment.segment_id);
}

// ---- bloom filter hashing (part of the stored format) ----

uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t HashBytes(std::string_view bytes, uint64_t seed) {
  uint64_t hash = seed ^ (bytes.size() * 0x9e3779b97f4a7c15ULL);
  while (bytes.size() >= 8) {
    hash = Mix64(hash ^ LoadLittleEndian<uint64_t>(bytes.data())) * 0x9e3779b97f4a7c15ULL;
    bytes.remove_prefix(8);
  }
  uint64_t tail = 0;
  for (size_t i = 0; i < bytes.size(); ++i) tail |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  return Mix64(hash ^ tail);
}

constexpr uint64_t kBloomSeed1 = 0x51ed270b27d3c8a1ULL;
constexpr uint64_t kBloomSeed2 = 0x2b7e151628aed2a7ULL;
constexpr uint32_t kMaxHashCount = 64;
constexpr uint64_t kMinBloomBits = 64;

std::string Int64Bytes(int64_t key) {
  std::string bytes;
  AppendLittleEndian(&bytes, key);
  return bytes;
}

bool IsPkType(spb::DataType type) { return type == spb::Int64 || type == spb::VarChar; }

}  // namespace

// ---- keys ----

std::string InsertLogKey(std::string_view root, const SegmentLocation& segment, int64_t field_id, int64_t log_id) {
  return KeyRoot(root) + "insert_log/" + SegmentPath(segment) + "/" + std::to_string(field_id) + "/" +
         std::to_string(log_id);
}

std::string DeltaLogKey(std::string_view root, const SegmentLocation& segment, int64_t log_id) {
  return KeyRoot(root) + "delta_log/" + SegmentPath(segment) + "/" + std::to_string(log_id);
}

std::string StatsLogKey(std::string_view root, const SegmentLocation& segment, int64_t field_id, int64_t log_id) {
  return KeyRoot(root) + "stats_log/" + SegmentPath(segment) + "/" + std::to_string(field_id) + "/" +
         std::to_string(log_id);
}

StatusOr<BinlogHeader> ReadBinlogHeader(std::string_view blob) { return VerifyFrame(blob); }

// ---- insert binlogs ----

std::string EncodeInsertBinlog(const spb::FieldData& column, int64_t field_id, int64_t row_count, int zstd_level) {
  BinlogHeader header;
  header.kind = BinlogKind::kInsert;
  header.field_id = field_id;
  header.data_type = column.type();
  header.row_count = row_count;
  return Frame(header, column, zstd_level);
}

StatusOr<spb::FieldData> DecodeInsertBinlog(std::string_view blob) {
  spb::FieldData column;
  auto header = Unframe(blob, BinlogKind::kInsert, &column);
  if (!header.ok()) return header.status();
  if (column.type() != header->data_type) {
    return Corrupt("column type " + spb::DataType_Name(column.type()) + " differs from the header's " +
                   spb::DataType_Name(header->data_type));
  }
  column.set_field_id(header->field_id);
  return column;
}

spb::FieldData TimestampColumn(std::span<const uint64_t> timestamps) {
  spb::FieldData column;
  column.set_type(spb::Int64);
  column.set_field_id(kTimestampFieldId);
  column.set_field_name("Timestamp");
  auto* data = column.mutable_scalars()->mutable_long_data()->mutable_data();
  data->Reserve(static_cast<int>(timestamps.size()));
  for (uint64_t ts : timestamps) data->AddAlreadyReserved(static_cast<int64_t>(ts));
  return column;
}

StatusOr<std::vector<uint64_t>> TimestampsFromColumn(const spb::FieldData& column) {
  if (column.type() != spb::Int64 || column.scalars().data_case() != spb::ScalarField::kLongData) {
    return InvalidParameter("timestamp column must be Int64 with long_data, got " + spb::DataType_Name(column.type()));
  }
  const auto& data = column.scalars().long_data().data();
  std::vector<uint64_t> timestamps(data.begin(), data.end());
  return timestamps;
}

// ---- delta logs ----

namespace {

int64_t DeleteCount(const DeltaLog& deletes) {
  const auto& ids = deletes.primary_keys();
  return ids.has_int_id() ? ids.int_id().data_size() : ids.str_id().data_size();
}

spb::DataType DeltaPkType(const DeltaLog& deletes) {
  switch (deletes.primary_keys().id_field_case()) {
    case spb::IDs::kIntId: return spb::Int64;
    case spb::IDs::kStrId: return spb::VarChar;
    default: return spb::None;
  }
}

}  // namespace

StatusOr<std::string> EncodeDeltaLog(const DeltaLog& deletes, int zstd_level) {
  if (DeltaPkType(deletes) == spb::None) return InvalidParameter("delta log has no primary keys set (int_id or str_id)");
  if (DeleteCount(deletes) != deletes.timestamps_size()) {
    return InvalidParameter("delta log has " + std::to_string(DeleteCount(deletes)) + " primary keys but " +
                            std::to_string(deletes.timestamps_size()) + " timestamps");
  }
  BinlogHeader header;
  header.kind = BinlogKind::kDelta;
  header.data_type = DeltaPkType(deletes);
  header.row_count = DeleteCount(deletes);
  return Frame(header, deletes, zstd_level);
}

StatusOr<DeltaLog> DecodeDeltaLog(std::string_view blob) {
  DeltaLog deletes;
  auto header = Unframe(blob, BinlogKind::kDelta, &deletes);
  if (!header.ok()) return header.status();
  if (DeltaPkType(deletes) != header->data_type) {
    return Corrupt("delta log keys are " + spb::DataType_Name(DeltaPkType(deletes)) + ", header says " +
                   spb::DataType_Name(header->data_type));
  }
  if (DeleteCount(deletes) != header->row_count || deletes.timestamps_size() != header->row_count) {
    return Corrupt("delta log holds " + std::to_string(DeleteCount(deletes)) + " keys and " +
                   std::to_string(deletes.timestamps_size()) + " timestamps, header says " +
                   std::to_string(header->row_count));
  }
  return deletes;
}

// ---- bloom filter ----

BloomFilter BloomFilter::ForKeys(uint64_t expected_keys, double false_positive_rate) {
  double p = std::clamp(false_positive_rate, 1e-12, 0.5);
  double n = static_cast<double>(std::max<uint64_t>(expected_keys, 1));
  auto bit_count = static_cast<uint64_t>(std::ceil(-n * std::log(p) / (std::log(2.0) * std::log(2.0))));
  bit_count = std::max(bit_count, kMinBloomBits);
  // The optimal k for the target p; it does not depend on how m was rounded.
  auto hash_count = static_cast<uint32_t>(std::clamp(std::lround(-std::log2(p)), 1L, long{kMaxHashCount}));
  return BloomFilter(std::string((bit_count + 7) / 8, '\0'), hash_count);
}

StatusOr<BloomFilter> BloomFilter::FromBits(std::string bits, uint32_t hash_count) {
  if (bits.empty()) return InvalidParameter("bloom filter has no bits");
  if (hash_count < 1 || hash_count > kMaxHashCount) {
    return InvalidParameter("bloom filter hash count " + std::to_string(hash_count) + " is outside [1, 64]");
  }
  return BloomFilter(std::move(bits), hash_count);
}

void BloomFilter::Add(int64_t key) { AddBytes(Int64Bytes(key)); }
void BloomFilter::Add(std::string_view key) { AddBytes(key); }
bool BloomFilter::MayContain(int64_t key) const { return MayContainBytes(Int64Bytes(key)); }
bool BloomFilter::MayContain(std::string_view key) const { return MayContainBytes(key); }

void BloomFilter::AddBytes(std::string_view bytes) {
  uint64_t h1 = HashBytes(bytes, kBloomSeed1);
  uint64_t h2 = HashBytes(bytes, kBloomSeed2);
  uint64_t bit_count = bits_.size() * 8;
  for (uint32_t i = 0; i < hash_count_; ++i) {
    uint64_t bit = (h1 + i * h2) % bit_count;
    bits_[bit / 8] = static_cast<char>(static_cast<unsigned char>(bits_[bit / 8]) | (1u << (bit % 8)));
  }
}

bool BloomFilter::MayContainBytes(std::string_view bytes) const {
  uint64_t h1 = HashBytes(bytes, kBloomSeed1);
  uint64_t h2 = HashBytes(bytes, kBloomSeed2);
  uint64_t bit_count = bits_.size() * 8;
  for (uint32_t i = 0; i < hash_count_; ++i) {
    uint64_t bit = (h1 + i * h2) % bit_count;
    if ((static_cast<unsigned char>(bits_[bit / 8]) & (1u << (bit % 8))) == 0) return false;
  }
  return true;
}

// ---- primary-key stats ----

StatusOr<PkStats> PkStats::Create(int64_t field_id, spb::DataType pk_type, uint64_t expected_keys) {
  if (!IsPkType(pk_type)) {
    return InvalidParameter("primary key stats need an Int64 or VarChar key, got " + spb::DataType_Name(pk_type));
  }
  return PkStats(field_id, pk_type, BloomFilter::ForKeys(expected_keys));
}

StatusOr<PkStats> PkStats::FromColumn(const spb::FieldData& pk_column, int64_t field_id) {
  const auto& scalars = pk_column.scalars();
  if (pk_column.type() == spb::Int64) {
    auto stats = Create(field_id, spb::Int64, scalars.long_data().data_size());
    for (int64_t key : scalars.long_data().data()) stats->Add(key);
    return stats;
  }
  auto stats = Create(field_id, pk_column.type(), scalars.string_data().data_size());
  if (!stats.ok()) return stats;
  for (const std::string& key : scalars.string_data().data()) stats->Add(std::string_view(key));
  return stats;
}

void PkStats::Add(int64_t key) {
  if (pk_type_ != spb::Int64) return;
  min_int64_ = key_count_ == 0 ? key : std::min(min_int64_, key);
  max_int64_ = key_count_ == 0 ? key : std::max(max_int64_, key);
  ++key_count_;
  bloom_.Add(key);
}

void PkStats::Add(std::string_view key) {
  if (pk_type_ != spb::VarChar) return;
  if (key_count_ == 0 || key < min_varchar_) min_varchar_ = key;
  if (key_count_ == 0 || key > max_varchar_) max_varchar_ = key;
  ++key_count_;
  bloom_.Add(key);
}

bool PkStats::MayContain(int64_t key) const {
  return pk_type_ == spb::Int64 && key_count_ > 0 && key >= min_int64_ && key <= max_int64_ && bloom_.MayContain(key);
}

bool PkStats::MayContain(std::string_view key) const {
  return pk_type_ == spb::VarChar && key_count_ > 0 && key >= min_varchar_ && key <= max_varchar_ &&
         bloom_.MayContain(key);
}

std::string PkStats::Encode(int zstd_level) const {
  PkStatsLog message;
  message.set_field_id(field_id_);
  message.set_pk_type(pk_type_);
  message.set_key_count(key_count_);
  message.set_min_int64(min_int64_);
  message.set_max_int64(max_int64_);
  message.set_min_varchar(min_varchar_);
  message.set_max_varchar(max_varchar_);
  message.set_bloom_hash_count(bloom_.hash_count());
  message.set_bloom_bits(bloom_.bits());
  BinlogHeader header;
  header.kind = BinlogKind::kStats;
  header.field_id = field_id_;
  header.data_type = pk_type_;
  header.row_count = key_count_;
  return Frame(header, message, zstd_level);
}

StatusOr<PkStats> PkStats::Decode(std::string_view blob) {
  PkStatsLog message;
  auto header = Unframe(blob, BinlogKind::kStats, &message);
  if (!header.ok()) return header.status();
  if (!IsPkType(message.pk_type()) || message.pk_type() != header->data_type) {
    return Corrupt("stats key type " + spb::DataType_Name(message.pk_type()) + " does not match the header's " +
                   spb::DataType_Name(header->data_type));
  }
  if (message.key_count() != header->row_count || message.field_id() != header->field_id) {
    return Corrupt("stats message (field " + std::to_string(message.field_id()) + ", " +
                   std::to_string(message.key_count()) + " keys) does not match its header (field " +
                   std::to_string(header->field_id) + ", " + std::to_string(header->row_count) + " keys)");
  }
  auto bloom = BloomFilter::FromBits(std::move(*message.mutable_bloom_bits()), message.bloom_hash_count());
  if (!bloom.ok()) return Corrupt(bloom.status().reason());
  PkStats stats(message.field_id(), message.pk_type(), std::move(*bloom));
  stats.key_count_ = message.key_count();
  stats.min_int64_ = message.min_int64();
  stats.max_int64_ = message.max_int64();
  stats.min_varchar_ = std::move(*message.mutable_min_varchar());
  stats.max_varchar_ = std::move(*message.mutable_max_varchar());
  return stats;
}

}  // namespace quiver::storage
