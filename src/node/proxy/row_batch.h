// RowBatch: the rows of one Insert or Upsert, checked against the collection schema and
// completed so that every field has exactly one value per row.
//
// Completing means: nullable columns in the canonical one-entry-per-row form, missing
// nullable / defaulted fields filled, auto IDs allocated, undeclared keys of a dynamic
// schema carried in `$meta`. Bad input is reported with the field and row at fault and
// nothing is written.
#pragma once

#include <google/protobuf/repeated_field.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "schema.pb.h"

namespace quiver::proxy {

namespace spb = milvus::proto::schema;

struct RowBatch {
  std::vector<spb::FieldData> columns;  // one per schema field, in schema order
  spb::IDs primary_keys;                // the primary key column again, as IDs
  int64_t num_rows = 0;
};

// Allocates `count` consecutive IDs and returns the first.
using IdAllocator = std::function<StatusOr<int64_t>(uint32_t count)>;

// An upsert names the rows it replaces even when the schema generates IDs for inserts;
// `allow_insert_auto_id` (the collection property) lets inserts name them too.
StatusOr<RowBatch> PrepareRows(const spb::CollectionSchema& schema,
                               const google::protobuf::RepeatedPtrField<spb::FieldData>& fields, uint32_t num_rows,
                               bool upsert, bool allow_insert_auto_id, const IdAllocator& allocate_ids);

// Stable hashes: rows and deletes of one primary key must reach the same shard forever.
uint32_t HashKey(int64_t key);
uint32_t HashKey(std::string_view key);

// Row indexes of `batch` grouped by (shard, partition index); partition index is the
// partition-key bucket when the schema has a partition key, else 0.
struct RowGroup {
  int shard = 0;
  int partition_bucket = 0;
  std::vector<int64_t> rows;
};
std::vector<RowGroup> GroupRows(const spb::CollectionSchema& schema, const RowBatch& batch, int shards,
                                int partition_buckets);

// Groups primary keys (for deletes) by shard.
std::vector<std::pair<int, spb::IDs>> GroupKeys(const spb::IDs& keys, int shards);

}  // namespace quiver::proxy
