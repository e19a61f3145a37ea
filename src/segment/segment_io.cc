#include "segment/segment_io.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "segment/field_data.h"
#include "storage/binlog.h"

namespace quiver::segment {
namespace {

constexpr int64_t kTimestampFieldId = 1;  // Milvus's system field for row timestamps
constexpr int64_t kLogId = 1;             // segments are immutable: one log per field

storage::SegmentLocation LocationOf(const SegmentRecord& record) {
  return {record.collection_id(), record.partition_id(), record.id()};
}

void AppendKeys(const spb::IDs& from, spb::IDs* to) {
  if (from.has_int_id()) {
    to->mutable_int_id()->mutable_data()->Add(from.int_id().data().begin(), from.int_id().data().end());
  } else if (from.has_str_id()) {
    for (const auto& key : from.str_id().data()) to->mutable_str_id()->add_data(key);
  }
}

}  // namespace

void DeleteBatch::Append(const spb::IDs& more_keys, const std::vector<uint64_t>& more_timestamps) {
  AppendKeys(more_keys, &keys);
  timestamps.insert(timestamps.end(), more_timestamps.begin(), more_timestamps.end());
}

Status SegmentStorage::PutWithRetry(const std::string& key, const std::string& data) {
  auto delay = std::chrono::milliseconds(100);
  for (int attempt = 1;; ++attempt) {
    Status status = store_->Put(key, data);
    if (status.ok() || attempt >= 10) return status;
    spdlog::warn("object store put {} failed (attempt {}): {}; retrying", key, attempt, status.ToString());
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(5000));
  }
}

Status SegmentStorage::WriteInsertLogs(const Segment::Contents& contents, int64_t pk_field_id,
                                       SegmentRecord* record) {
  const auto location = LocationOf(*record);
  const int64_t rows = static_cast<int64_t>(contents.timestamps.size());
  record->clear_binlogs();
  for (const auto& [field_id, column] : contents.columns) {
    std::string key = storage::InsertLogKey(root_, location, field_id, kLogId);
    QUIVER_RETURN_IF_ERROR(PutWithRetry(key, storage::EncodeInsertBinlog(column, field_id, rows)));
    auto* binlog = record->add_binlogs();
    binlog->set_field_id(field_id);
    binlog->add_keys(key);
  }
  std::string ts_key = storage::InsertLogKey(root_, location, kTimestampFieldId, kLogId);
  QUIVER_RETURN_IF_ERROR(
      PutWithRetry(ts_key, storage::EncodeInsertBinlog(storage::TimestampColumn(contents.timestamps),
                                                       kTimestampFieldId, rows)));
  record->set_timestamps_key(ts_key);
  auto pk = contents.columns.find(pk_field_id);
  if (pk != contents.columns.end()) {
    auto stats = storage::PkStats::FromColumn(pk->second, pk_field_id);
    if (!stats.ok()) return stats.status();
    std::string stats_key = storage::StatsLogKey(root_, location, pk_field_id, kLogId);
    QUIVER_RETURN_IF_ERROR(PutWithRetry(stats_key, stats->Encode()));
    record->set_pk_stats_key(stats_key);
  }
  record->set_num_rows(rows);
  if (rows > 0) {
    auto [min_ts, max_ts] = std::minmax_element(contents.timestamps.begin(), contents.timestamps.end());
    record->set_min_timestamp(*min_ts);
    record->set_max_timestamp(*max_ts);
  }
  return Status::OK();
}

Status SegmentStorage::WriteDeltaLog(const DeleteBatch& deletes, SegmentRecord* record) {
  storage::DeltaLog log;
  *log.mutable_primary_keys() = deletes.keys;
  log.mutable_timestamps()->Add(deletes.timestamps.begin(), deletes.timestamps.end());
  auto encoded = storage::EncodeDeltaLog(log);
  if (!encoded.ok()) return encoded.status();
  std::string key = storage::DeltaLogKey(root_, LocationOf(*record), kLogId);
  QUIVER_RETURN_IF_ERROR(PutWithRetry(key, *encoded));
  record->clear_delta_keys();
  record->add_delta_keys(key);
  record->set_num_rows(deletes.size());
  return Status::OK();
}

StatusOr<std::shared_ptr<Segment>> SegmentStorage::LoadSegment(const SegmentRecord& record,
                                                                const spb::CollectionSchema& schema) {
  std::vector<spb::FieldData> columns;
  for (const auto& binlog : record.binlogs()) {
    for (const auto& key : binlog.keys()) {
      auto blob = store_->Get(key);
      if (!blob.ok()) return blob.status();
      auto column = storage::DecodeInsertBinlog(*blob);
      if (!column.ok()) return Status(column.status().code(), key + ": " + column.status().reason());
      columns.push_back(std::move(*column));
    }
  }
  auto ts_blob = store_->Get(record.timestamps_key());
  if (!ts_blob.ok()) return ts_blob.status();
  auto ts_column = storage::DecodeInsertBinlog(*ts_blob);
  if (!ts_column.ok()) return ts_column.status();
  auto timestamps = storage::TimestampsFromColumn(*ts_column);
  if (!timestamps.ok()) return timestamps.status();
  auto seg = std::make_shared<Segment>(
      SegmentInfo{record.id(), record.collection_id(), record.partition_id(), record.vchannel()}, schema);
  QUIVER_RETURN_IF_ERROR(seg->Append(columns, *timestamps));
  return seg;
}

StatusOr<DeleteBatch> SegmentStorage::LoadDeltaLogs(const SegmentRecord& record) {
  DeleteBatch batch;
  for (const auto& key : record.delta_keys()) {
    auto blob = store_->Get(key);
    if (!blob.ok()) return blob.status();
    auto log = storage::DecodeDeltaLog(*blob);
    if (!log.ok()) return Status(log.status().code(), key + ": " + log.status().reason());
    batch.Append(log->primary_keys(), std::vector<uint64_t>(log->timestamps().begin(), log->timestamps().end()));
  }
  return batch;
}

StatusOr<std::shared_ptr<const index::VectorIndex>> SegmentStorage::LoadIndex(const IndexFiles& files) {
  if (files.keys.size() != 1) return Internal("an index build must have exactly one file");
  auto blob = store_->Get(files.keys.front());
  if (!blob.ok()) return blob.status();
  auto index = index::CreateVectorIndex(files.spec);
  if (!index.ok()) return index.status();
  QUIVER_RETURN_IF_ERROR((*index)->Deserialize(*blob));
  return std::shared_ptr<const index::VectorIndex>(std::move(*index));
}

Status SegmentStorage::DropCollection(int64_t collection_id) {
  for (const char* kind : {"insert_log/", "delta_log/", "stats_log/", "index_files/"}) {
    std::string prefix = (root_.empty() ? "" : root_ + "/") + kind + std::to_string(collection_id) + "/";
    auto objects = store_->List(prefix);
    if (!objects.ok()) return objects.status();
    for (const auto& object : *objects) QUIVER_RETURN_IF_ERROR(store_->Delete(object.key));
  }
  return Status::OK();
}

}  // namespace quiver::segment
