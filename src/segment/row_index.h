// Per-row bookkeeping of a segment kept compact: which rows hold a primary key, and which
// rows were deleted when.
//
// A sealed segment of 1M rows kept these as a hash map node (plus a one-element vector) per
// key and a delete timestamp per row: ~100 bytes per row, a fifth of a 128-dim vector. Here
// a sealed segment's keys cost 4 bytes per row and its deletes a bit per row plus a map
// entry per deleted row. Neither class locks: the segment's lock guards them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "schema.pb.h"

namespace quiver::segment {

namespace spb = milvus::proto::schema;

// Rows by primary key (Int64 or VarChar), looked up in the segment's own primary-key column.
// Rows added since the last Freeze are found through a hash map (growing segments gain rows
// a batch at a time); Freeze folds every row into one array of row numbers ordered by key,
// searched by bisection.
class PrimaryKeyIndex {
 public:
  // Indexes rows [first_row, end_row) of `keys`, the segment's primary-key column.
  void Add(const spb::FieldData& keys, int64_t first_row, int64_t end_row);
  // Moves every row added so far into the sorted array; `keys` holds them all.
  void Freeze(const spb::FieldData& keys);
  // Appends the rows whose key is `key` to `rows`.
  void Find(const spb::FieldData& keys, int64_t key, std::vector<int64_t>* rows) const;
  void Find(const spb::FieldData& keys, std::string_view key, std::vector<int64_t>* rows) const;

 private:
  int64_t rows_ = 0;               // rows added
  std::vector<uint32_t> sorted_;  // rows [0, sorted_.size()), by (key, row)
  std::unordered_map<int64_t, std::vector<int64_t>> int_added_;
  std::unordered_map<std::string, std::vector<int64_t>> str_added_;
};

// Delete timestamps of the rows that have one; a bit per row says which do.
class DeleteMarks {
 public:
  void Resize(int64_t rows) { bits_.resize(static_cast<size_t>((rows + 63) / 64), 0); }
  // The row's delete timestamp; 0 while it is alive.
  uint64_t At(int64_t row) const {
    if (!((bits_[static_cast<size_t>(row >> 6)] >> (row & 63)) & 1)) return 0;
    return timestamps_.at(row);
  }
  // Deletes the row at `ts` unless it already is at an earlier time; true when it was alive.
  bool Mark(int64_t row, uint64_t ts);
  int64_t count() const { return static_cast<int64_t>(timestamps_.size()); }

 private:
  std::vector<uint64_t> bits_;
  std::unordered_map<int64_t, uint64_t> timestamps_;
};

}  // namespace quiver::segment
