#include "segment/segment.h"

#include "segment/field_data.h"

#include <algorithm>

namespace quiver::segment {

Segment::Segment(SegmentInfo info, const spb::CollectionSchema& schema) : info_(std::move(info)) {
  for (const auto& field : schema.fields()) {
    columns_.emplace(field.fieldid(), EmptyColumn(field));
    if (field.is_primary_key()) primary_field_ = field;
  }
}

Status Segment::Append(const std::vector<spb::FieldData>& columns, const std::vector<uint64_t>& timestamps) {
  std::unique_lock lock(mu_);
  const int64_t first_row = static_cast<int64_t>(insert_ts_.size());
  const int64_t rows = static_cast<int64_t>(timestamps.size());
  for (const auto& column : columns) {
    if (RowCount(column) != rows) {
      return Internal("segment append: column " + column.field_name() + " has " + std::to_string(RowCount(column)) +
                      " rows, expected " + std::to_string(rows));
    }
  }
  for (const auto& column : columns) {
    auto it = columns_.find(column.field_id());
    if (it == columns_.end()) return Internal("segment append: unknown field id " + std::to_string(column.field_id()));
    QUIVER_RETURN_IF_ERROR(AppendRows(column, &it->second));
  }
  insert_ts_.insert(insert_ts_.end(), timestamps.begin(), timestamps.end());
  for (uint64_t ts : timestamps) max_insert_ts_ = std::max(max_insert_ts_, ts);
  delete_ts_.resize(insert_ts_.size(), 0);
  IndexPrimaryKeys(first_row);
  num_rows_.store(static_cast<int64_t>(insert_ts_.size()), std::memory_order_release);
  return Status::OK();
}

void Segment::IndexPrimaryKeys(int64_t first_row) {
  const spb::FieldData& pk = columns_.at(primary_field_.fieldid());
  const int64_t rows = static_cast<int64_t>(insert_ts_.size());
  for (int64_t row = first_row; row < rows; ++row) {
    if (primary_field_.data_type() == spb::VarChar) {
      str_pk_rows_[std::string(StringAt(pk, row))].push_back(row);
    } else {
      int_pk_rows_[IntAt(pk, row)].push_back(row);
    }
  }
}

int64_t Segment::Delete(const spb::IDs& keys, const std::vector<uint64_t>& timestamps) {
  std::unique_lock lock(mu_);
  int64_t hidden = 0;
  auto apply = [&](const std::vector<int64_t>* rows, uint64_t ts) {
    if (!rows) return;
    for (int64_t row : *rows) {
      if (insert_ts_[row] >= ts) continue;  // inserted after (or with) the delete
      if (delete_ts_[row] == 0) {
        ++hidden;
        ++deleted_rows_;
      }
      if (delete_ts_[row] == 0 || delete_ts_[row] > ts) delete_ts_[row] = ts;
    }
  };
  if (keys.has_int_id()) {
    for (int i = 0; i < keys.int_id().data_size() && i < static_cast<int>(timestamps.size()); ++i) {
      auto it = int_pk_rows_.find(keys.int_id().data(i));
      apply(it == int_pk_rows_.end() ? nullptr : &it->second, timestamps[i]);
    }
  } else if (keys.has_str_id()) {
    for (int i = 0; i < keys.str_id().data_size() && i < static_cast<int>(timestamps.size()); ++i) {
      auto it = str_pk_rows_.find(keys.str_id().data(i));
      apply(it == str_pk_rows_.end() ? nullptr : &it->second, timestamps[i]);
    }
  }
  return hidden;
}

void Segment::AttachIndex(int64_t field_id, std::shared_ptr<const index::VectorIndex> index) {
  std::lock_guard lock(index_mu_);
  indexes_[field_id] = std::move(index);
}

std::shared_ptr<const index::VectorIndex> Segment::IndexOf(int64_t field_id) const {
  std::lock_guard lock(index_mu_);
  auto it = indexes_.find(field_id);
  return it == indexes_.end() ? nullptr : it->second;
}

Segment::Contents Segment::Copy() const {
  std::shared_lock lock(mu_);
  return {columns_, insert_ts_};
}

Segment::Reader::Reader(const Segment& segment)
    : segment_(segment), lock_(segment.mu_), num_rows_(segment.num_rows()) {}

const spb::FieldData* Segment::Reader::Column(int64_t field_id) const {
  auto it = segment_.columns_.find(field_id);
  return it == segment_.columns_.end() ? nullptr : &it->second;
}

bool Segment::Reader::Visible(int64_t row, uint64_t ts) const {
  uint64_t deleted = segment_.delete_ts_[row];
  return segment_.insert_ts_[row] <= ts && (deleted == 0 || deleted > ts);
}

std::vector<int64_t> Segment::Reader::RowsWithKeys(const spb::IDs& keys, uint64_t ts) const {
  std::vector<int64_t> rows;
  auto add = [&](const std::vector<int64_t>* found) {
    if (!found) return;
    for (int64_t row : *found) {
      if (row < num_rows_ && Visible(row, ts)) rows.push_back(row);
    }
  };
  for (int64_t key : keys.int_id().data()) {
    auto it = segment_.int_pk_rows_.find(key);
    add(it == segment_.int_pk_rows_.end() ? nullptr : &it->second);
  }
  for (const auto& key : keys.str_id().data()) {
    auto it = segment_.str_pk_rows_.find(key);
    add(it == segment_.str_pk_rows_.end() ? nullptr : &it->second);
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
  if (!filter && segment_.deleted_rows_ == 0 && segment_.max_insert_ts_ <= ts) {
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
