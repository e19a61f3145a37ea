// The envelope around the binary and sparse indexes' serialized form:
//
//   "QVIX" | u32 format version | u32 index type | u32 metric | i64 dim | i64 rows
//   | u64 payload size | u64 payload FNV-1a checksum | payload
//
// The checksum is checked before the payload is parsed, so a damaged or foreign blob is
// refused cleanly instead of driving a parser (FAISS's among them) into huge allocations.
// Integers are stored in the machine's byte order, which must be little-endian.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "index/vector_index.h"

namespace quiver::index {

static_assert(std::endian::native == std::endian::little, "index blobs are little-endian");

inline constexpr char kIndexBlobMagic[4] = {'Q', 'V', 'I', 'X'};
inline constexpr uint32_t kIndexBlobVersion = 1;

struct IndexBlobHeader {
  IndexType type = IndexType::kFlat;
  MetricType metric = MetricType::kL2;
  int64_t dim = 0;
  int64_t rows = 0;
};

inline uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// Appends fixed-size values and arrays to a byte string.
class ByteWriter {
 public:
  template <typename T>
  void Put(T value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  template <typename T>
  void PutArray(const T* values, size_t count) {
    out_.append(reinterpret_cast<const char*>(values), sizeof(T) * count);
  }
  void PutBytes(std::string_view bytes) { out_.append(bytes); }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// Reads what ByteWriter wrote; every read says whether enough bytes remained.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Get(T* value) {
    return GetArray(value, 1);
  }
  template <typename T>
  bool GetArray(T* values, size_t count) {
    if (count > remaining() / sizeof(T)) return false;
    std::memcpy(values, in_.data() + pos_, sizeof(T) * count);
    pos_ += sizeof(T) * count;
    return true;
  }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

inline Status CorruptIndexBlob(const std::string& detail) { return Internal("invalid index blob: " + detail); }

inline std::string SealIndexBlob(const IndexBlobHeader& header, std::string_view payload) {
  ByteWriter writer;
  writer.PutArray(kIndexBlobMagic, sizeof(kIndexBlobMagic));
  writer.Put(kIndexBlobVersion);
  writer.Put(static_cast<uint32_t>(header.type));
  writer.Put(static_cast<uint32_t>(header.metric));
  writer.Put(header.dim);
  writer.Put(header.rows);
  writer.Put(static_cast<uint64_t>(payload.size()));
  writer.Put(Fnv1a64(payload));
  writer.PutBytes(payload);
  return std::move(writer.bytes());
}

// Checks the envelope against the spec the index was created with and returns the payload.
inline StatusOr<std::string_view> OpenIndexBlob(std::string_view blob, const IndexSpec& spec, IndexBlobHeader* header) {
  ByteReader reader(blob);
  char magic[sizeof(kIndexBlobMagic)];
  uint32_t version = 0, type = 0, metric = 0;
  uint64_t payload_size = 0, checksum = 0;
  if (!reader.GetArray(magic, sizeof(magic)) || std::memcmp(magic, kIndexBlobMagic, sizeof(magic)) != 0) {
    return CorruptIndexBlob("not a Quiver index blob");
  }
  if (!reader.Get(&version) || !reader.Get(&type) || !reader.Get(&metric) || !reader.Get(&header->dim) ||
      !reader.Get(&header->rows) || !reader.Get(&payload_size) || !reader.Get(&checksum)) {
    return CorruptIndexBlob("truncated header");
  }
  if (version != kIndexBlobVersion) return CorruptIndexBlob("unknown format version " + std::to_string(version));
  if (payload_size != reader.remaining()) return CorruptIndexBlob("payload size does not match the blob size");
  std::string_view payload = blob.substr(blob.size() - payload_size);
  if (Fnv1a64(payload) != checksum) return CorruptIndexBlob("checksum mismatch");
  header->type = static_cast<IndexType>(type);
  header->metric = static_cast<MetricType>(metric);
  if (header->type != spec.type || header->metric != spec.metric || header->dim != spec.dim) {
    return CorruptIndexBlob("blob was built for another index type, metric or dimension");
  }
  if (header->rows < 0) return CorruptIndexBlob("negative row count");
  return payload;
}

}  // namespace quiver::index
