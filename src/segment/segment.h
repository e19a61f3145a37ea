// Segment: the rows of one shard and partition, with per-row timestamps for MVCC.
//
// A growing segment accepts appends from the WAL; a sealed one was loaded whole from
// object storage. Both accept deletes at any time. A row is visible at timestamp T when
// it was inserted at or before T and not deleted at or before T; a delete with timestamp
// D removes the rows with its primary key inserted strictly before D (so an upsert's
// delete and insert may share one timestamp).
//
// Thread-safety: appends, deletes, freezing and attaching indexes take a writer lock;
// readers hold a Reader (the shared lock), which pins the row count they see (appends only
// add rows past it) and keeps every column it hands out in place.
//
// Memory: once frozen, a FloatVector column whose attached index keeps the exact rows
// (VectorIndex::HoldsRawVectors) is dropped and its rows are read back from the index; the
// primary-key index becomes a sorted array (row_index.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <span>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "expr/filter.h"
#include "index/vector_index.h"
#include "schema.pb.h"
#include "segment/row_index.h"

namespace quiver::segment {

namespace spb = milvus::proto::schema;

struct SegmentInfo {
  int64_t id = 0;
  int64_t collection_id = 0;
  int64_t partition_id = 0;
  std::string vchannel;
};

class Segment {
 public:
  Segment(SegmentInfo info, const spb::CollectionSchema& schema);

  const SegmentInfo& info() const { return info_; }
  int64_t num_rows() const { return num_rows_.load(std::memory_order_acquire); }
  bool sealed() const { return sealed_.load(std::memory_order_acquire); }
  void MarkSealed() { sealed_.store(true, std::memory_order_release); }
  // Marks the segment sealed for good (loaded whole from storage; no rows will come):
  // compacts its bookkeeping, and from now on lets each attached index that holds its
  // field's exact vectors stand in for the column.
  void Freeze();
  const spb::FieldSchema& primary_field() const { return primary_field_; }

  // Appends rows: one column per schema field (matched by field id), and one insert
  // timestamp per row.
  Status Append(const std::vector<spb::FieldData>& columns, const std::vector<uint64_t>& timestamps);

  // Marks rows with the given keys inserted before `ts` as deleted at `ts`; returns how
  // many rows it newly hid. `keys` holds int_id or str_id per the primary key type.
  int64_t Delete(const spb::IDs& keys, const std::vector<uint64_t>& timestamps);

  // Column data and timestamps are only ever appended, so a reader that holds the shared
  // lock and stays below num_rows() sees stable data.
  class Reader : public expr::ColumnSource {
   public:
    explicit Reader(const Segment& segment);
    int64_t num_rows() const { return num_rows_; }
    // Null for a vector column served by its index (see the header); GatherRows reads both.
    const spb::FieldData* Column(int64_t field_id) const override;
    // Appends the values of `rows` of the field to `dst` (initialised from the column's type
    // if empty), the same bytes whether the column is kept or served by its index.
    Status GatherRows(int64_t field_id, std::span<const int64_t> rows, spb::FieldData* dst) const;
    bool Visible(int64_t row, uint64_t ts) const;
    // Rows visible at `ts` that pass `filter` (nullptr: all), ascending. A filter that only
    // names primary keys is answered from the key index instead of a scan.
    std::vector<int64_t> MatchingRows(const expr::Filter* filter, uint64_t ts) const;
    int64_t CountVisible(const expr::Filter* filter, uint64_t ts) const;
    // Rows a search may return, as a bitmap (1 = allowed) with their count; nullopt when
    // every row is allowed, so an index can search unrestricted.
    std::optional<std::vector<uint8_t>> AllowedRows(const expr::Filter* filter, uint64_t ts, int64_t* count) const;

   private:
    std::vector<int64_t> RowsWithKeys(const spb::IDs& keys, uint64_t ts) const;

    const Segment& segment_;
    std::shared_lock<std::shared_mutex> lock_;
    int64_t num_rows_;
  };
  Reader Read() const { return Reader(*this); }

  // A vector index over all of this (sealed) segment's rows of `field_id`. Waits for
  // readers to finish when it drops or restores the field's column.
  void AttachIndex(int64_t field_id, std::shared_ptr<const index::VectorIndex> index);
  std::shared_ptr<const index::VectorIndex> IndexOf(int64_t field_id) const;
  // Whether the field's rows are read from its index rather than a column of its own.
  bool ServedByIndex(int64_t field_id) const;

  // Everything a flush needs, copied under the lock (columns served by an index rebuilt).
  struct Contents {
    std::map<int64_t, spb::FieldData> columns;
    std::vector<uint64_t> timestamps;
  };
  Contents Copy() const;

 private:
  int64_t stored_rows() const { return static_cast<int64_t>(insert_ts_.size()); }
  // Whether `index` may stand in for the field's column: frozen, FloatVector, same rows…
  bool CanServe(int64_t field_id, const index::VectorIndex& index) const;
  // …and it gives back exactly the column's rows (compared row by row).
  bool HoldsColumn(int64_t field_id, const index::VectorIndex& index) const;
  void DropColumn(int64_t field_id, std::shared_ptr<const index::VectorIndex> index);
  Status RestoreColumn(int64_t field_id);
  Status GatherFromIndex(int64_t field_id, const index::VectorIndex& index, std::span<const int64_t> rows,
                         spb::FieldData* dst) const;

  const SegmentInfo info_;
  spb::FieldSchema primary_field_;
  mutable std::shared_mutex mu_;
  // By field id. A column served by an index stays as an empty column of its type and dim.
  std::map<int64_t, spb::FieldData> columns_;
  std::vector<uint64_t> insert_ts_;
  DeleteMarks deletes_;
  uint64_t max_insert_ts_ = 0;
  PrimaryKeyIndex pk_index_;
  bool frozen_ = false;
  // Vector fields whose rows live only in this index (HoldsRawVectors), by field id.
  std::map<int64_t, std::shared_ptr<const index::VectorIndex>> served_by_;
  mutable std::mutex index_mu_;  // indexes_ alone: searches look indexes up without a Reader
  std::map<int64_t, std::shared_ptr<const index::VectorIndex>> indexes_;
  std::atomic<int64_t> num_rows_{0};
  std::atomic<bool> sealed_{false};
};

}  // namespace quiver::segment
