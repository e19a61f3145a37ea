// Schema validation: Milvus 2.6's rules for names and CreateCollection schemas.
//
// Contract:
// - Every check, its order, its error code and its reason text follow what a Milvus 2.6
//   proxy + rootcoord return for the same request, because SDKs and user scripts branch on
//   them. Where Milvus fails with a plain Go error the code is 65535 (kUnexpected), exactly
//   as Milvus sends it; the typed cases use 1100 / 105 / 1701 / 802.
// - ValidateAndNormalizeSchema leaves the schema as Milvus stores it: user fields numbered
//   from 100 in order, numeric type params in canonical decimal, `$meta` appended for a
//   dynamic schema, shards/partitions defaults applied. On error the schema may be partly
//   normalized and must be discarded.
// - Quiver-specific refusals (types and features Quiver does not implement: Geometry, Text,
//   Timestamptz, struct arrays, functions, namespaces) are reported as such.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "schema.pb.h"

namespace quiver::proxy {

namespace spb = milvus::proto::schema;

// Milvus defaults (proxy.* / rootCoord.* in milvus.yaml) that bound a schema.
inline constexpr size_t kMaxNameLength = 255;
inline constexpr int64_t kMaxDimension = 32768;  // binary vectors: 8x this many bits
inline constexpr int64_t kMaxVarCharLength = 65535;
inline constexpr int64_t kMaxArrayCapacity = 4096;
inline constexpr int kMaxFieldNum = 64;
inline constexpr int kMaxVectorFieldNum = 4;
inline constexpr int32_t kMaxShardNum = 16;
inline constexpr int32_t kDefaultShardNum = 1;
inline constexpr int64_t kMaxPartitionNum = 1024;
inline constexpr int64_t kDefaultPartitionsWithPartitionKey = 16;
inline constexpr int64_t kStartOfUserFieldId = 100;

inline constexpr std::string_view kDynamicFieldName = "$meta";
inline constexpr std::string_view kDimKey = "dim";
inline constexpr std::string_view kMaxLengthKey = "max_length";
inline constexpr std::string_view kMaxCapacityKey = "max_capacity";

// Collection and alias names: [_A-Za-z][_A-Za-z0-9]*, at most 255 bytes, surrounding
// whitespace ignored. 1100 on failure.
Status ValidateCollectionName(const std::string& name);
Status ValidateAliasName(const std::string& alias);
// Partition names also allow a leading digit and '-' after the first character.
// Milvus reports these with a plain error, so the code is 65535.
Status ValidatePartitionName(const std::string& name);
// Database names: like collection names but not trimmed; 802 on failure.
Status ValidateDatabaseName(const std::string& name);
// Field names: like collection names, and not one of Milvus's expression keywords; 1701.
Status ValidateFieldName(const std::string& name);

struct CreateCollectionOptions {
  int32_t shards_num = 0;      // <= 0 becomes 1
  int64_t num_partitions = 0;  // 0 becomes 16 when the schema has a partition key
};

// Checks a CreateCollection schema and normalizes it (and `options`) in place; see the
// contract above. Does not compare the schema name with the request's collection_name:
// Milvus rejects a mismatch, and the caller holds the request.
Status ValidateAndNormalizeSchema(spb::CollectionSchema* schema, CreateCollectionOptions* options);

// The integer value of type param `key`, or nullopt when it is absent or not an integer.
std::optional<int64_t> TypeParamInt(const spb::FieldSchema& field, std::string_view key);

bool IsVectorType(spb::DataType type);
// Dense vectors carry `dim`; sparse vectors do not.
bool IsDenseVectorType(spb::DataType type);

// The field with the flag set, or nullptr.
const spb::FieldSchema* FindPrimaryField(const spb::CollectionSchema& schema);
const spb::FieldSchema* FindPartitionKeyField(const spb::CollectionSchema& schema);
const spb::FieldSchema* FindDynamicField(const spb::CollectionSchema& schema);

}  // namespace quiver::proxy
