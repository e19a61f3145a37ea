#include "node/streamingnode/streaming_node.h"

#include <spdlog/spdlog.h>

namespace quiver::streaming {

using quiver::data::WalMessage;

StreamingNode::StreamingNode(wal::Wal* wal, rootcoord::RootCoord* root_coord, datacoord::DataCoord* data_coord,
                             StreamingNodeOptions options)
    : wal_(wal), root_coord_(root_coord), data_coord_(data_coord), options_(std::move(options)) {}

StreamingNode::~StreamingNode() { Stop(); }

Status StreamingNode::Start() {
  for (const auto& pchannel : options_.pchannels) ChannelFor(pchannel);
  // Rows of segments a previous run left growing are in the WAL; sealing them lets the
  // DataNode flush them once it has replayed that far.
  auto segments = data_coord_->ListAllSegments();
  if (!segments.ok()) return segments.status();
  std::vector<wal::AppendResult> pending;
  for (const auto& record : *segments) {
    if (record.state() != quiver::data::GROWING) continue;
    std::string pchannel = PhysicalChannelOf(record.vchannel());
    Channel& channel = ChannelFor(pchannel);
    std::lock_guard lock(channel.mu);
    if (record.level_zero()) {
      QUIVER_RETURN_IF_ERROR(SealDeletesLocked(channel, pchannel, record, &pending));
      continue;
    }
    channel.growing[{record.vchannel(), record.partition_id()}] = {record.id(), 0, 0};
    std::vector<int64_t> sealed;
    QUIVER_RETURN_IF_ERROR(SealLocked(channel, pchannel, record.vchannel(), record.collection_id(),
                                      record.partition_id(), &pending, &sealed));
  }
  QUIVER_RETURN_IF_ERROR(WaitDurable(pending));
  ticker_ = std::thread([this] { TickIdleChannels(); });
  return Status::OK();
}

void StreamingNode::Stop() {
  {
    std::lock_guard lock(ticker_mu_);
    stopping_ = true;
  }
  ticker_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

StreamingNode::Channel& StreamingNode::ChannelFor(const std::string& pchannel) {
  std::lock_guard lock(channels_mu_);
  auto& channel = channels_[pchannel];
  if (!channel) channel = std::make_unique<Channel>();
  return *channel;
}

StatusOr<wal::AppendResult> StreamingNode::AppendLocked(Channel& channel, const std::string& pchannel,
                                                        std::vector<WalMessage> messages, uint64_t* ts) {
  auto allocated = root_coord_->AllocTimestamp(1);
  if (!allocated.ok()) return allocated.status();
  *ts = *allocated;
  std::vector<std::string> payloads;
  for (auto& message : messages) {
    message.set_timestamp(*ts);
    if (message.has_insert()) {
      auto* timestamps = message.mutable_insert()->mutable_timestamps();
      timestamps->Clear();
      timestamps->Resize(static_cast<int>(message.insert().num_rows()), *ts);
    } else if (message.has_delete_()) {
      auto* timestamps = message.mutable_delete_()->mutable_timestamps();
      timestamps->Clear();
      timestamps->Resize(static_cast<int>(message.delete_().num_rows()), *ts);
    }
    payloads.push_back(message.SerializeAsString());
  }
  channel.last_append = std::chrono::steady_clock::now();
  return wal_->Append(pchannel, payloads);
}

StatusOr<wal::AppendResult> StreamingNode::TickLocked(Channel& channel, const std::string& pchannel, uint64_t* ts) {
  WalMessage message;
  message.mutable_tick();
  return AppendLocked(channel, pchannel, {std::move(message)}, ts);
}

Status StreamingNode::WaitDurable(const std::vector<wal::AppendResult>& pending) {
  for (const auto& result : pending) QUIVER_RETURN_IF_ERROR(result.durable.get());
  return Status::OK();
}

StatusOr<StreamingNode::GrowingSegment*> StreamingNode::GrowingLocked(Channel& channel, const std::string& vchannel,
                                                                      int64_t collection_id, int64_t partition_id) {
  auto& segment = channel.growing[{vchannel, partition_id}];
  if (segment.id != 0) return &segment;
  auto id = root_coord_->AllocID(1);
  if (!id.ok()) return id.status();
  quiver::data::SegmentRecord record;
  record.set_id(*id);
  record.set_collection_id(collection_id);
  record.set_partition_id(partition_id);
  record.set_vchannel(vchannel);
  record.set_state(quiver::data::GROWING);
  auto created = root_coord_->AllocTimestamp(1);
  if (!created.ok()) return created.status();
  record.set_min_timestamp(*created);  // every row of the segment is younger
  // Recorded before any row is appended, so a crash can never leave rows of a segment
  // that no record knows about.
  QUIVER_RETURN_IF_ERROR(data_coord_->AddSegment(record));
  segment = {*id, 0};
  return &segment;
}

Status StreamingNode::SealLocked(Channel& channel, const std::string& pchannel, const std::string& vchannel,
                                 int64_t collection_id, int64_t partition_id,
                                 std::vector<wal::AppendResult>* pending, std::vector<int64_t>* sealed) {
  auto it = channel.growing.find({vchannel, partition_id});
  if (it == channel.growing.end()) return Status::OK();
  WalMessage message;
  message.set_vchannel(vchannel);
  message.set_collection_id(collection_id);
  message.mutable_seal()->set_segment_id(it->second.id);
  message.mutable_seal()->set_partition_id(partition_id);
  uint64_t ts = 0;
  auto appended = AppendLocked(channel, pchannel, {std::move(message)}, &ts);
  if (!appended.ok()) return appended.status();
  pending->push_back(*appended);
  sealed->push_back(it->second.id);
  channel.growing.erase(it);
  return Status::OK();
}

StatusOr<uint64_t> StreamingNode::Insert(const std::string& vchannel, msgpb::InsertRequest req) {
  return WriteRows(vchannel, std::nullopt, std::move(req));
}

StatusOr<uint64_t> StreamingNode::Upsert(const std::string& vchannel, msgpb::DeleteRequest deletes,
                                         msgpb::InsertRequest rows) {
  return WriteRows(vchannel, std::move(deletes), std::move(rows));
}

StatusOr<uint64_t> StreamingNode::WriteRows(const std::string& vchannel, std::optional<msgpb::DeleteRequest> deletes,
                                            msgpb::InsertRequest rows) {
  std::string pchannel = PhysicalChannelOf(vchannel);
  Channel& channel = ChannelFor(pchannel);
  const int64_t collection_id = rows.collectionid(), partition_id = rows.partitionid();
  const int64_t num_rows = static_cast<int64_t>(rows.num_rows());
  const int64_t num_bytes = static_cast<int64_t>(rows.ByteSizeLong());
  std::vector<wal::AppendResult> pending;
  uint64_t ts = 0;
  {
    std::lock_guard lock(channel.mu);
    auto segment = GrowingLocked(channel, vchannel, collection_id, partition_id);
    if (!segment.ok()) return segment.status();
    rows.set_segmentid((*segment)->id);
    rows.set_shardname(vchannel);
    std::vector<WalMessage> messages;
    if (deletes) {
      deletes->set_shardname(vchannel);
      WalMessage& message = messages.emplace_back();
      message.set_vchannel(vchannel);
      message.set_collection_id(collection_id);
      *message.mutable_delete_() = std::move(*deletes);
    }
    WalMessage& message = messages.emplace_back();
    message.set_vchannel(vchannel);
    message.set_collection_id(collection_id);
    *message.mutable_insert() = std::move(rows);
    auto appended = AppendLocked(channel, pchannel, std::move(messages), &ts);
    if (!appended.ok()) return appended.status();
    pending.push_back(*appended);
    (*segment)->rows += num_rows;
    (*segment)->bytes += num_bytes;
    {
      std::lock_guard rows_lock(rows_mu_);
      rows_written_[collection_id][(*segment)->id] += num_rows;
    }
    if ((*segment)->rows >= options_.max_segment_rows || (*segment)->bytes >= options_.max_segment_bytes) {
      std::vector<int64_t> sealed;
      QUIVER_RETURN_IF_ERROR(SealLocked(channel, pchannel, vchannel, collection_id, partition_id, &pending, &sealed));
    }
  }
  QUIVER_RETURN_IF_ERROR(WaitDurable(pending));
  return ts;
}

StatusOr<uint64_t> StreamingNode::Delete(const std::string& vchannel, msgpb::DeleteRequest req) {
  std::string pchannel = PhysicalChannelOf(vchannel);
  Channel& channel = ChannelFor(pchannel);
  uint64_t ts = 0;
  StatusOr<wal::AppendResult> appended = Status::OK();
  {
    std::lock_guard lock(channel.mu);
    req.set_shardname(vchannel);
    WalMessage message;
    message.set_vchannel(vchannel);
    message.set_collection_id(req.collectionid());
    *message.mutable_delete_() = std::move(req);
    appended = AppendLocked(channel, pchannel, {std::move(message)}, &ts);
  }
  if (!appended.ok()) return appended.status();
  QUIVER_RETURN_IF_ERROR(appended->durable.get());
  return ts;
}

Status StreamingNode::SealDeletesLocked(Channel& channel, const std::string& pchannel,
                                        const quiver::data::SegmentRecord& record,
                                        std::vector<wal::AppendResult>* pending) {
  WalMessage message;
  message.set_vchannel(record.vchannel());
  message.set_collection_id(record.collection_id());
  message.mutable_seal()->set_segment_id(record.id());
  message.mutable_seal()->set_level_zero(true);
  uint64_t ts = 0;
  auto appended = AppendLocked(channel, pchannel, {std::move(message)}, &ts);
  if (!appended.ok()) return appended.status();
  pending->push_back(*appended);
  return Status::OK();
}

StatusOr<std::vector<int64_t>> StreamingNode::Flush(int64_t collection_id, const std::vector<std::string>& vchannels) {
  std::vector<wal::AppendResult> pending;
  std::vector<int64_t> sealed;
  for (const auto& vchannel : vchannels) {
    std::string pchannel = PhysicalChannelOf(vchannel);
    Channel& channel = ChannelFor(pchannel);
    std::lock_guard lock(channel.mu);
    // The shard's deletes are flushed too, into a level-zero segment recorded up front so
    // a flush can wait for it like for any other segment.
    auto id = root_coord_->AllocID(1);
    if (!id.ok()) return id.status();
    quiver::data::SegmentRecord deletes;
    deletes.set_id(*id);
    deletes.set_collection_id(collection_id);
    deletes.set_partition_id(-1);
    deletes.set_vchannel(vchannel);
    deletes.set_level_zero(true);
    deletes.set_state(quiver::data::GROWING);
    QUIVER_RETURN_IF_ERROR(data_coord_->AddSegment(deletes));
    QUIVER_RETURN_IF_ERROR(SealDeletesLocked(channel, pchannel, deletes, &pending));
    sealed.push_back(*id);
    std::vector<int64_t> partitions;
    for (const auto& [key, segment] : channel.growing) {
      if (key.first == vchannel) partitions.push_back(key.second);
    }
    for (int64_t partition : partitions) {
      QUIVER_RETURN_IF_ERROR(SealLocked(channel, pchannel, vchannel, collection_id, partition, &pending, &sealed));
    }
  }
  QUIVER_RETURN_IF_ERROR(WaitDurable(pending));
  return sealed;
}

StatusOr<uint64_t> StreamingNode::Tick(const std::vector<std::string>& vchannels) {
  std::vector<wal::AppendResult> pending;
  uint64_t max_ts = 0;
  std::vector<std::string> done;
  for (const auto& vchannel : vchannels) {
    std::string pchannel = PhysicalChannelOf(vchannel);
    if (std::find(done.begin(), done.end(), pchannel) != done.end()) continue;
    done.push_back(pchannel);
    Channel& channel = ChannelFor(pchannel);
    std::lock_guard lock(channel.mu);
    uint64_t ts = 0;
    auto appended = TickLocked(channel, pchannel, &ts);
    if (!appended.ok()) return appended.status();
    pending.push_back(*appended);
    max_ts = std::max(max_ts, ts);
  }
  QUIVER_RETURN_IF_ERROR(WaitDurable(pending));
  return max_ts;
}

std::map<int64_t, int64_t> StreamingNode::RowsWritten(int64_t collection_id) const {
  std::lock_guard lock(rows_mu_);
  auto it = rows_written_.find(collection_id);
  return it == rows_written_.end() ? std::map<int64_t, int64_t>{} : it->second;
}

Status StreamingNode::DropCollection(int64_t collection_id, const std::vector<std::string>& vchannels) {
  {
    std::lock_guard lock(rows_mu_);
    rows_written_.erase(collection_id);
  }
  std::vector<wal::AppendResult> pending;
  for (const auto& vchannel : vchannels) {
    std::string pchannel = PhysicalChannelOf(vchannel);
    Channel& channel = ChannelFor(pchannel);
    std::lock_guard lock(channel.mu);
    for (auto it = channel.growing.begin(); it != channel.growing.end();) {
      it = it->first.first == vchannel ? channel.growing.erase(it) : std::next(it);
    }
    WalMessage message;
    message.set_vchannel(vchannel);
    message.set_collection_id(collection_id);
    message.mutable_drop_collection();
    uint64_t ts = 0;
    auto appended = AppendLocked(channel, pchannel, {std::move(message)}, &ts);
    if (!appended.ok()) return appended.status();
    pending.push_back(*appended);
  }
  return WaitDurable(pending);
}

// Consumers derive "how current am I" from record timestamps; a channel nobody writes to
// would look stale forever without these ticks.
void StreamingNode::TickIdleChannels() {
  auto next_truncation = std::chrono::steady_clock::now() + options_.retention_interval;
  std::unique_lock lock(ticker_mu_);
  while (!ticker_cv_.wait_for(lock, options_.idle_tick_interval / 2, [this] { return stopping_; })) {
    if (std::chrono::steady_clock::now() >= next_truncation) {
      TruncateConsumed();
      next_truncation = std::chrono::steady_clock::now() + options_.retention_interval;
    }
    std::vector<std::string> idle;
    {
      std::lock_guard channels_lock(channels_mu_);
      auto now = std::chrono::steady_clock::now();
      for (auto& [name, channel] : channels_) {
        std::lock_guard channel_lock(channel->mu);
        if (now - channel->last_append >= options_.idle_tick_interval) idle.push_back(name);
      }
    }
    for (const auto& pchannel : idle) {
      Channel& channel = ChannelFor(pchannel);
      std::lock_guard channel_lock(channel.mu);
      uint64_t ts = 0;
      auto appended = TickLocked(channel, pchannel, &ts);
      if (!appended.ok()) spdlog::warn("cannot tick {}: {}", pchannel, appended.status().ToString());
    }
  }
}

// The WAL only needs what some consumer may still read: everything at or below every
// consumer's floor is already in object storage.
void StreamingNode::TruncateConsumed() {
  if (!options_.retention_floor) return;
  for (const auto& pchannel : options_.pchannels) {
    wal::Position floor = options_.retention_floor(pchannel);
    if (floor == 0) continue;
    Status status = wal_->Truncate(pchannel, floor + 1);
    if (!status.ok()) spdlog::warn("cannot truncate {} below {}: {}", pchannel, floor + 1, status.ToString());
  }
}

}  // namespace quiver::streaming
