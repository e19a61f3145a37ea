#include "segment/segment.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "segment/field_data.h"

namespace quiver::segment {
namespace {

std::vector<int64_t> RowRange(int64_t begin, int64_t end) {
  std::vector<int64_t> rows(static_cast<size_t>(end - begin));
  std::iota(rows.begin(), rows.end(), begin);
  return rows;
}

// Whether `index` gives back exactly the rows of `column`, compared a chunk at a time: an
// index built from other rows (or in another order) must never stand in for the column.
bool IndexHoldsColumn(const index::VectorIndex& index, const spb::FieldData& column, int64_t rows) {
  constexpr int64_t kChunk = 4096;
  const int64_t dim = column.vectors().dim();
  std::vector<float> rebuilt(static_cast<size_t>(kChunk * dim));
  for (int64_t begin = 0; begin < rows; begin += kChunk) {
    const int64_t end = std::min(rows, begin + kChunk);
    if (!index.ReconstructRows(RowRange(begin, end), rebuilt.data()).ok()) return false;
    if (std::memcmp(rebuilt.data(), FloatVectorAt(column, begin), static_cast<size_t>((end - begin) * dim) * sizeof(float))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Segment::Segment(SegmentInfo info, const spb::CollectionSchema& schema) : info_(std::move(info)) {
  for (const auto& field : schema.fields()) {
    columns_.emplace(field.fieldid(), EmptyColumn(field));
    if (field.is_primary_key()) primary_field_ = field;
  }
}

Status Segment::Append(const std::vector<spb::FieldData>& columns, const std::vector<uint64_t>& timestamps) {
  std::unique_lock lock(mu_);
  const int64_t first_row = stored_rows();
  const int64_t rows = static_cast<int64_t>(timestamps.size());
  for (const auto& column : columns) {
    if (RowCount(column) != rows) {
      return Internal("segment append: column " + column.field_name() + " has " + std::to_string(RowCount(column)) +
                      " rows, expected " + std::to_string(rows));
    }
    // Its column holds no rows any more: new ones would land at the wrong offsets.
    if (served_by_.count(column.field_id())) return Internal("segment append: segment " + std::to_string(info_.id) + " is sealed");
  }
  for (const auto& column : columns) {
    auto it = columns_.find(column.field_id());
    if (it == columns_.end()) return Internal("segment append: unknown field id " + std::to_string(column.field_id()));
    QUIVER_RETURN_IF_ERROR(AppendRows(column, &it->second));
  }
  insert_ts_.insert(insert_ts_.end(), timestamps.begin(), timestamps.end());
  for (uint64_t ts : timestamps) max_insert_ts_ = std::max(max_insert_ts_, ts);
  deletes_.Resize(stored_rows());
  pk_index_.Add(columns_.at(primary_field_.fieldid()), first_row, stored_rows());
  num_rows_.store(stored_rows(), std::memory_order_release);
  return Status::OK();
}

void Segment::Freeze() {
  std::unique_lock lock(mu_);
  if (frozen_) return;
  frozen_ = true;
  MarkSealed();
  pk_index_.Freeze(columns_.at(primary_field_.fieldid()));
  insert_ts_.shrink_to_fit();
  std::map<int64_t, std::shared_ptr<const index::VectorIndex>> indexes;
  {
    std::lock_guard index_lock(index_mu_);
    indexes = indexes_;
  }
  for (const auto& [field_id, index] : indexes) {
    if (index && HoldsColumn(field_id, *index)) DropColumn(field_id, index);
  }
}

int64_t Segment::Delete(const spb::IDs& keys, const std::vector<uint64_t>& timestamps) {
  std::unique_lock lock(mu_);
  const spb::FieldData& pk = columns_.at(primary_field_.fieldid());
  int64_t hidden = 0;
  std::vector<int64_t> rows;
  auto apply = [&](uint64_t ts) {
    for (int64_t row : rows) {
      if (insert_ts_[row] >= ts) continue;  // inserted after (or with) the delete
      hidden += deletes_.Mark(row, ts);
    }
    rows.clear();
  };
  if (keys.has_int_id()) {
    for (int i = 0; i < keys.int_id().data_size() && i < static_cast<int>(timestamps.size()); ++i) {
      pk_index_.Find(pk, keys.int_id().data(i), &rows);
      apply(timestamps[i]);
    }
  } else if (keys.has_str_id()) {
    for (int i = 0; i < keys.str_id().data_size() && i < static_cast<int>(timestamps.size()); ++i) {
      pk_index_.Find(pk, std::string_view(keys.str_id().data(i)), &rows);
      apply(timestamps[i]);
    }
  }
  return hidden;
}

void Segment::AttachIndex(int64_t field_id, std::shared_ptr<const index::VectorIndex> index) {
  // Compared under the shared lock, so searches go on meanwhile (~0.3 s per 1M rows): the
  // rows compared cannot change, and the writer lock below re-checks everything else.
  bool holds = false;
  if (index) {
    std::shared_lock lock(mu_);
    holds = HoldsColumn(field_id, *index);
  }
  // The writer lock: readers may hold pointers into the column this drops.
  std::unique_lock lock(mu_);
  if (served_by_.count(field_id)) {
    // The new index may not hold the rows (or hold others): start again from the column.
    Status restored = RestoreColumn(field_id);
    if (!restored.ok()) spdlog::error("segment {}: cannot restore field {}: {}", info_.id, field_id, restored.ToString());
    holds = index && HoldsColumn(field_id, *index);
  }
  {
    std::lock_guard index_lock(index_mu_);
    indexes_[field_id] = index;
  }
  if (holds && CanServe(field_id, *index)) DropColumn(field_id, std::move(index));
}

std::shared_ptr<const index::VectorIndex> Segment::IndexOf(int64_t field_id) const {
  std::lock_guard lock(index_mu_);
  auto it = indexes_.find(field_id);
  return it == indexes_.end() ? nullptr : it->second;
}

bool Segment::ServedByIndex(int64_t field_id) const {
  std::shared_lock lock(mu_);
  return served_by_.count(field_id) > 0;
}

// Only FloatVector: the index keeps float32, which half-precision columns are not.
bool Segment::CanServe(int64_t field_id, const index::VectorIndex& index) const {
  auto it = columns_.find(field_id);
  if (!frozen_ || it == columns_.end() || served_by_.count(field_id)) return false;
  const spb::FieldData& column = it->second;
  return column.type() == spb::FloatVector && column.vectors().has_float_vector() && column.valid_data_size() == 0 &&
         stored_rows() > 0 && RowCount(column) == stored_rows() && index.HoldsRawVectors() &&
         index.rows() == stored_rows() && index.spec().dim == column.vectors().dim();
}

bool Segment::HoldsColumn(int64_t field_id, const index::VectorIndex& index) const {
  if (!CanServe(field_id, index)) return false;
  if (IndexHoldsColumn(index, columns_.at(field_id), stored_rows())) return true;
  spdlog::warn("segment {}: the index of field {} does not hold the column's vectors; keeping the column", info_.id,
               field_id);
  return false;
}

void Segment::DropColumn(int64_t field_id, std::shared_ptr<const index::VectorIndex> index) {
  spb::FieldData empty;
  spb::FieldData& column = columns_.at(field_id);
  segment::GatherRows(column, {}, &empty);  // no rows, same type and dim
  column.Swap(&empty);                      // the rows are freed with `empty`
  served_by_[field_id] = std::move(index);
}

Status Segment::RestoreColumn(int64_t field_id) {
  auto served = served_by_.find(field_id);
  spb::FieldData column;
  QUIVER_RETURN_IF_ERROR(GatherFromIndex(field_id, *served->second, RowRange(0, stored_rows()), &column));
  columns_.at(field_id).Swap(&column);
  served_by_.erase(served);
  return Status::OK();
}

Status Segment::GatherFromIndex(int64_t field_id, const index::VectorIndex& index, std::span<const int64_t> rows,
                                spb::FieldData* dst) const {
  const spb::FieldData& empty = columns_.at(field_id);
  segment::GatherRows(empty, {}, dst);  // gives an uninitialised dst the column's type and dim
  const int64_t dim = empty.vectors().dim();
  auto* values = dst->mutable_vectors()->mutable_float_vector()->mutable_data();
  const int64_t before = values->size();
  values->Resize(static_cast<int>(before + static_cast<int64_t>(rows.size()) * dim), 0.0f);
  QUIVER_RETURN_IF_ERROR(index.ReconstructRows(rows, values->mutable_data() + before));
  if (dst->valid_data_size() > 0) {
    for (size_t i = 0; i < rows.size(); ++i) dst->add_valid_data(true);
  }
  return Status::OK();
}

Segment::Contents Segment::Copy() const {
  std::shared_lock lock(mu_);
  Contents contents{columns_, insert_ts_};
  for (const auto& [field_id, index] : served_by_) {
    spb::FieldData column;
    Status status = GatherFromIndex(field_id, *index, RowRange(0, stored_rows()), &column);
    // HoldsRawVectors indexes were checked against every row when the column was dropped.
    if (!status.ok()) spdlog::error("segment {}: cannot rebuild field {}: {}", info_.id, field_id, status.ToString());
    contents.columns[field_id] = std::move(column);
  }
  return contents;
}

Segment::Reader::Reader(const Segment& segment)
    : segment_(segment), lock_(segment.mu_), num_rows_(segment.num_rows()) {}

const spb::FieldData* Segment::Reader::Column(int64_t field_id) const {
  if (segment_.served_by_.count(field_id)) return nullptr;
  auto it = segment_.columns_.find(field_id);
  return it == segment_.columns_.end() ? nullptr : &it->second;
}

Status Segment::Reader::GatherRows(int64_t field_id, std::span<const int64_t> rows, spb::FieldData* dst) const {
  auto served = segment_.served_by_.find(field_id);
  if (served != segment_.served_by_.end()) return segment_.GatherFromIndex(field_id, *served->second, rows, dst);
  const spb::FieldData* column = Column(field_id);
  if (!column) return Internal("segment lacks field " + std::to_string(field_id));
  segment::GatherRows(*column, rows, dst);
  return Status::OK();
}

bool Segment::Reader::Visible(int64_t row, uint64_t ts) const {
  if (segment_.insert_ts_[row] > ts) return false;
  const uint64_t deleted = segment_.deletes_.At(row);
  return deleted == 0 || deleted > ts;
}

std::vector<int64_t> Segment::Reader::RowsWithKeys(const spb::IDs& keys, uint64_t ts) const {
  const spb::FieldData& pk = segment_.columns_.at(segment_.primary_field_.fieldid());
  std::vector<int64_t> found;
  for (int64_t key : keys.int_id().data()) segment_.pk_index_.Find(pk, key, &found);
  for (const auto& key : keys.str_id().data()) segment_.pk_index_.Find(pk, std::string_view(key), &found);
  std::vector<int64_t> rows;
  for (int64_t row : found) {
    if (row < num_rows_ && Visible(row, ts)) rows.push_back(row);
  }
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  return rows;
}

std::vector<int64_t> Segment::Reader::MatchingRows(const expr::Filter* filter, uint64_t ts) const {
  if (filter) {
    if (auto keys = expr::PrimaryKeyTerms(*filter)) return RowsWithKeys(*keys, ts);
  }
  std::vector<int64_t> rows;
  constexpr int64_t kBatch = 8192;  // bounds the match buffer on big segments
  std::vector<uint8_t> matches;
  for (int64_t begin = 0; begin < num_rows_; begin += kBatch) {
    int64_t end = std::min(num_rows_, begin + kBatch);
    if (filter) {
      filter->Evaluate(*this, begin, end, &matches);
    } else {
      matches.assign(end - begin, 1);
    }
    for (int64_t row = begin; row < end; ++row) {
      if (matches[row - begin] && Visible(row, ts)) rows.push_back(row);
    }
  }
  return rows;
}

std::optional<std::vector<uint8_t>> Segment::Reader::AllowedRows(const expr::Filter* filter, uint64_t ts,
                                                                int64_t* count) const {
  if (!filter && segment_.deletes_.count() == 0 && segment_.max_insert_ts_ <= ts) {
    *count = num_rows_;
    return std::nullopt;
  }
  std::vector<uint8_t> allowed(static_cast<size_t>(num_rows_), 0);
  *count = 0;
  for (int64_t row : MatchingRows(filter, ts)) {
    allowed[static_cast<size_t>(row)] = 1;
    ++*count;
  }
  return allowed;
}

int64_t Segment::Reader::CountVisible(const expr::Filter* filter, uint64_t ts) const {
  if (filter) return static_cast<int64_t>(MatchingRows(filter, ts).size());
  int64_t count = 0;
  for (int64_t row = 0; row < num_rows_; ++row) count += Visible(row, ts);
  return count;
}

}  // namespace quiver::segment
