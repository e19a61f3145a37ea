#include "node/datanode/compactor.h"

#include <spdlog/spdlog.h>

#include <set>

#include "coord/rootcoord/timestamp_oracle.h"
#include "segment/field_data.h"

namespace quiver::datanode {

using quiver::data::SegmentRecord;

namespace {

bool IsFlushedData(const SegmentRecord& record) {
  return record.state() == quiver::data::FLUSHED && !record.level_zero();
}

// Deletes of a level-zero segment can only touch rows written before them.
bool CanTouch(const SegmentRecord& level_zero, const SegmentRecord& segment) {
  return level_zero.end_position() > segment.start_position() &&
         level_zero.end_position() > segment.deletes_applied_position();
}

}  // namespace

Compactor::Compactor(storage::ObjectStore* store, datacoord::DataCoord* data_coord, rootcoord::RootCoord* root_coord,
                     CompactorOptions options)
    : storage_(store, options.storage_root),
      store_(store),
      data_coord_(data_coord),
      root_coord_(root_coord),
      options_(std::move(options)) {}

Compactor::~Compactor() { Stop(); }

void Compactor::Start() { thread_ = std::thread([this] { Run(); }); }

void Compactor::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

StatusOr<int64_t> Compactor::Request(int64_t collection_id) {
  auto id = root_coord_->AllocID(1);
  if (!id.ok()) return id.status();
  {
    std::lock_guard lock(mu_);
    pending_[*id] = collection_id;
    finished_[*id] = false;
  }
  cv_.notify_all();
  return *id;
}

StatusOr<bool> Compactor::Finished(int64_t id) const {
  std::lock_guard lock(mu_);
  auto it = finished_.find(id);
  if (it == finished_.end()) return InvalidParameter("unknown compaction id " + std::to_string(id));
  return it->second;
}

void Compactor::Run() {
  auto next_round = std::chrono::steady_clock::now() + options_.interval;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_until(lock, next_round, [this] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;
    std::map<int64_t, int64_t> requests;
    requests.swap(pending_);
    bool periodic = std::chrono::steady_clock::now() >= next_round;
    lock.unlock();
    std::set<int64_t> collections;
    for (const auto& [id, collection] : requests) collections.insert(collection);
    if (periodic) {
      auto all = data_coord_->ListAllSegments();
      if (all.ok()) {
        for (const auto& record : *all) collections.insert(record.collection_id());
      }
    }
    for (int64_t collection : collections) {
      Status status = CompactCollection(collection);
      if (!status.ok()) spdlog::warn("compaction of collection {} failed: {}", collection, status.ToString());
    }
    Status gc = CollectGarbage();
    if (!gc.ok()) spdlog::warn("segment garbage collection failed: {}", gc.ToString());
    lock.lock();
    for (const auto& [id, collection] : requests) finished_[id] = true;
    if (periodic) next_round = std::chrono::steady_clock::now() + options_.interval;
  }
}

Status Compactor::CompactCollection(int64_t collection_id) {
  milvus::proto::milvus::DescribeCollectionRequest describe;
  describe.set_collectionid(collection_id);
  auto collection = root_coord_->DescribeCollection(describe);
  if (!collection.ok()) return Status::OK();  // dropped meanwhile: its data goes with it
  int64_t pk_field_id = 0;
  for (const auto& field : collection->schema().fields()) {
    if (field.is_primary_key()) pk_field_id = field.fieldid();
  }
  auto segments = data_coord_->ListSegments(collection_id);
  if (!segments.ok()) return segments.status();
  std::map<std::string, std::vector<SegmentRecord>> by_shard;
  for (const auto& record : *segments) {
    if (record.state() == quiver::data::FLUSHED) by_shard[record.vchannel()].push_back(record);
  }
  for (const auto& [vchannel, shard_segments] : by_shard) {
    QUIVER_RETURN_IF_ERROR(CompactShard(collection_id, collection->schema(), pk_field_id, shard_segments));
  }
  return Status::OK();
}

Status Compactor::CompactShard(int64_t collection_id, const spb::CollectionSchema& schema, int64_t pk_field_id,
                               const std::vector<SegmentRecord>& segments) {
  std::vector<SegmentRecord> level_zero;
  std::map<int64_t, std::vector<SegmentRecord>> by_partition;
  for (const auto& record : segments) {
    if (record.level_zero()) {
      level_zero.push_back(record);
    } else {
      by_partition[record.partition_id()].push_back(record);
    }
  }
  segment::DeleteBatch deletes;
  uint64_t deletes_position = 0;
  for (const auto& record : level_zero) {
    auto batch = storage_.LoadDeltaLogs(record);
    if (!batch.ok()) return batch.status();
    deletes.Append(batch->keys, batch->timestamps);
    deletes_position = std::max(deletes_position, record.end_position());
  }
  for (const auto& [partition, records] : by_partition) {
    std::vector<SegmentRecord> sources;
    for (const auto& record : records) {
      bool small = record.num_rows() < options_.small_segment_rows;
      bool touched = std::any_of(level_zero.begin(), level_zero.end(),
                                 [&](const SegmentRecord& l0) { return CanTouch(l0, record); });
      if (small || touched) sources.push_back(record);
    }
    bool touched = std::any_of(sources.begin(), sources.end(), [&](const SegmentRecord& record) {
      return std::any_of(level_zero.begin(), level_zero.end(), [&](const SegmentRecord& l0) { return CanTouch(l0, record); });
    });
    if (sources.size() >= 2 || touched) {
      QUIVER_RETURN_IF_ERROR(Merge(schema, pk_field_id, sources, deletes, deletes_position));
    }
  }
  // A level-zero segment has done its job once every segment it could touch has it applied.
  auto now = root_coord_->AllocTimestamp(1);
  if (!now.ok()) return now.status();
  auto current = data_coord_->ListSegments(collection_id);
  if (!current.ok()) return current.status();
  for (auto l0 : level_zero) {
    bool needed = std::any_of(current->begin(), current->end(), [&](const SegmentRecord& record) {
      return IsFlushedData(record) && record.vchannel() == l0.vchannel() && CanTouch(l0, record);
    });
    if (needed) continue;
    l0.set_state(quiver::data::DROPPED);
    l0.set_flushed_timestamp(*now);
    QUIVER_RETURN_IF_ERROR(data_coord_->UpdateSegment(l0));
  }
  return Status::OK();
}

Status Compactor::Merge(const spb::CollectionSchema& schema, int64_t pk_field_id,
                        const std::vector<SegmentRecord>& sources, const segment::DeleteBatch& deletes,
                        uint64_t deletes_position) {
  segment::Segment::Contents merged;
  std::vector<int64_t> source_ids;
  SegmentRecord result;
  result.set_start_position(UINT64_MAX);
  int64_t rows_in = 0;
  for (const auto& source : sources) {
    auto loaded = storage_.LoadSegment(source, schema);
    if (!loaded.ok()) return loaded.status();
    (*loaded)->Delete(deletes.keys, deletes.timestamps);
    std::vector<int64_t> live = (*loaded)->Read().MatchingRows(nullptr, UINT64_MAX);
    auto contents = (*loaded)->Copy();
    for (const auto& field : schema.fields()) {
      auto& target = merged.columns[field.fieldid()];
      if (target.type() == spb::None) target = segment::EmptyColumn(field);
      segment::GatherRows(contents.columns.at(field.fieldid()), live, &target);
    }
    for (int64_t row : live) merged.timestamps.push_back(contents.timestamps[row]);
    rows_in += static_cast<int64_t>(contents.timestamps.size());
    source_ids.push_back(source.id());
    result.set_start_position(std::min(result.start_position(), source.start_position()));
    result.set_end_position(std::max(result.end_position(), source.end_position()));
  }
  auto id = root_coord_->AllocID(1);
  if (!id.ok()) return id.status();
  auto ts = root_coord_->AllocTimestamp(1);
  if (!ts.ok()) return ts.status();
  const auto& first = sources.front();
  result.set_id(*id);
  result.set_collection_id(first.collection_id());
  result.set_partition_id(first.partition_id());
  result.set_vchannel(first.vchannel());
  result.set_deletes_applied_position(std::max(deletes_position, first.deletes_applied_position()));
  result.set_flushed_timestamp(*ts);
  for (int64_t source : source_ids) result.add_compacted_from(source);
  if (merged.timestamps.empty()) {
    result.set_state(quiver::data::DROPPED);  // every row was deleted
  } else {
    QUIVER_RETURN_IF_ERROR(storage_.WriteInsertLogs(merged, pk_field_id, &result));
    result.set_state(quiver::data::FLUSHED);
  }
  QUIVER_RETURN_IF_ERROR(data_coord_->ReplaceSegments(source_ids, result));
  spdlog::info("compacted {} segments ({} rows) of collection {} into segment {} ({} rows)", source_ids.size(),
               rows_in, result.collection_id(), result.id(), merged.timestamps.size());
  return Status::OK();
}

// Objects of dropped segments go after a grace period: a query node may still be
// loading them when they are replaced.
Status Compactor::CollectGarbage() {
  auto dropped = data_coord_->ListDroppedSegments();
  if (!dropped.ok()) return dropped.status();
  auto now = root_coord_->AllocTimestamp(1);
  if (!now.ok()) return now.status();
  const int64_t cutoff_ms = rootcoord::PhysicalMs(*now) - options_.gc_delay.count();
  for (const auto& record : *dropped) {
    if (rootcoord::PhysicalMs(record.flushed_timestamp()) > cutoff_ms) continue;
    std::vector<std::string> keys(record.delta_keys().begin(), record.delta_keys().end());
    for (const auto& binlog : record.binlogs()) keys.insert(keys.end(), binlog.keys().begin(), binlog.keys().end());
    if (!record.timestamps_key().empty()) keys.push_back(record.timestamps_key());
    if (!record.pk_stats_key().empty()) keys.push_back(record.pk_stats_key());
    for (const auto& key : keys) QUIVER_RETURN_IF_ERROR(store_->Delete(key));
    QUIVER_RETURN_IF_ERROR(data_coord_->RemoveSegment(record.collection_id(), record.id()));
  }
  return Status::OK();
}

}  // namespace quiver::datanode
