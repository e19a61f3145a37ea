#include "node/datanode/data_node.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <optional>

#include "quiver/data.pb.h"
#include "segment/field_data.h"

namespace quiver::datanode {

using quiver::data::ChannelCheckpoint;
using quiver::data::SegmentRecord;
using quiver::data::WalMessage;
using Clock = std::chrono::steady_clock;

// Consumes one physical channel.
class DataNode::ChannelConsumer {
 public:
  ChannelConsumer(DataNode* node, std::string pchannel) : node_(node), pchannel_(std::move(pchannel)) {}
  ~ChannelConsumer() { Stop(); }

  Status Start() {
    auto checkpoint = node_->data_coord_->GetCheckpoint(pchannel_);
    if (!checkpoint.ok()) return checkpoint.status();
    consumed_ = checkpoint->position();
    saved_pchannel_checkpoint_ = consumed_;
    auto reader = node_->wal_->OpenReader(pchannel_, consumed_);
    if (!reader.ok()) return reader.status();
    reader_ = std::move(*reader);
    thread_ = std::thread([this] { Run(); });
    return Status::OK();
  }

  void Stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct SegmentBuffer {
    SegmentRecord record;
    segment::Segment::Contents contents;
  };
  struct Shard {
    int64_t collection_id = 0;
    wal::Position checkpoint = 0;  // everything at or below is in object storage
    wal::Position saved_checkpoint = 0;
    segment::DeleteBatch deletes;
    wal::Position first_delete = 0;
    Clock::time_point first_delete_time;
    uint64_t last_timestamp = 0;
  };

  void Run() {
    auto last_checkpoint_save = Clock::now();
    while (!stopping_) {
      auto records = reader_->Read(256, std::chrono::milliseconds(200));
      if (!records.ok()) {
        spdlog::error("data node cannot read {}: {}; retrying", pchannel_, records.status().ToString());
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      for (const auto& record : *records) {
        Status status = Apply(record);
        while (!status.ok() && !stopping_) {
          // Stopping here keeps the checkpoint behind this record, so it is retried —
          // after a restart at the latest — and never skipped.
          spdlog::error("data node cannot apply {}@{}: {}; retrying", pchannel_, record.position, status.ToString());
          std::this_thread::sleep_for(std::chrono::seconds(1));
          status = Apply(record);
        }
        if (stopping_) return;
        consumed_ = record.position;
      }
      FlushStaleDeletes();
      if (Clock::now() - last_checkpoint_save >= node_->options_.checkpoint_interval) {
        SaveCheckpoints();
        last_checkpoint_save = Clock::now();
      }
    }
  }

  Status Apply(const wal::Record& record) {
    WalMessage message;
    if (!message.ParseFromString(record.payload)) {
      spdlog::error("corrupt WAL record {}@{} skipped", pchannel_, record.position);
      return Status::OK();
    }
    if (message.vchannel().empty()) return Status::OK();  // a tick
    auto shard = ShardFor(message.vchannel(), message.collection_id());
    if (!shard.ok()) return shard.status();
    if (record.position <= (*shard)->checkpoint) return Status::OK();  // stored before a restart
    (*shard)->last_timestamp = message.timestamp();
    if (message.has_insert()) return BufferInsert(message, record.position);
    if (message.has_delete_()) {
      Shard& s = **shard;
      if (s.deletes.size() == 0) {
        s.first_delete = record.position;
        s.first_delete_time = Clock::now();
      }
      const auto& del = message.delete_();
      s.deletes.Append(del.primary_keys(), std::vector<uint64_t>(del.timestamps().begin(), del.timestamps().end()));
      return Status::OK();
    }
    if (message.has_seal()) return FlushSegment(message, record.position);
    if (message.has_drop_collection()) return DropCollection(message);
    return Status::OK();
  }

  StatusOr<Shard*> ShardFor(const std::string& vchannel, int64_t collection_id) {
    auto it = shards_.find(vchannel);
    if (it != shards_.end()) return &it->second;
    auto checkpoint = node_->data_coord_->GetCheckpoint(vchannel);
    if (!checkpoint.ok()) return checkpoint.status();
    Shard& shard = shards_[vchannel];
    shard.collection_id = collection_id;
    shard.checkpoint = checkpoint->position();
    shard.saved_checkpoint = shard.checkpoint;
    return &shard;
  }

  Status BufferInsert(const WalMessage& message, wal::Position position) {
    const auto& insert = message.insert();
    auto it = buffers_.find(insert.segmentid());
    if (it == buffers_.end()) {
      auto record = node_->data_coord_->GetSegment(insert.collectionid(), insert.segmentid());
      if (!record.ok()) return record.status();
      // Already stored (a replay after restart) or its collection is gone: nothing to do.
      if (!record->has_value() || (*record)->state() == quiver::data::FLUSHED ||
          (*record)->state() == quiver::data::DROPPED) {
        return Status::OK();
      }
      it = buffers_.emplace(insert.segmentid(), SegmentBuffer{**record, {}}).first;
      it->second.record.set_start_position(position);
    }
    auto& contents = it->second.contents;
    for (const auto& column : insert.fields_data()) {
      auto& target = contents.columns[column.field_id()];
      QUIVER_RETURN_IF_ERROR(segment::AppendRows(column, &target));
    }
    contents.timestamps.insert(contents.timestamps.end(), insert.timestamps().begin(), insert.timestamps().end());
    return Status::OK();
  }

  StatusOr<int64_t> PrimaryFieldOf(int64_t collection_id) {
    auto cached = primary_fields_.find(collection_id);
    if (cached != primary_fields_.end()) return cached->second;
    milvus::proto::milvus::DescribeCollectionRequest req;
    req.set_collectionid(collection_id);
    auto described = node_->root_coord_->DescribeCollection(req);
    if (!described.ok()) return described.status();
    for (const auto& field : described->schema().fields()) {
      if (field.is_primary_key()) return primary_fields_[collection_id] = field.fieldid();
    }
    return Internal("collection " + std::to_string(collection_id) + " has no primary key");
  }

  Status FlushSegment(const WalMessage& message, wal::Position position) {
    const int64_t segment_id = message.seal().segment_id();
    if (message.seal().level_zero()) return FlushRequestedDeletes(message, position);
    auto it = buffers_.find(segment_id);
    if (it == buffers_.end()) {
      // Sealed without rows we still hold: either stored already or never given any.
      auto record = node_->data_coord_->GetSegment(message.collection_id(), segment_id);
      if (!record.ok()) return record.status();
      if (record->has_value() && (*record)->state() != quiver::data::FLUSHED) {
        SegmentRecord empty = **record;
        empty.set_state(quiver::data::DROPPED);
        QUIVER_RETURN_IF_ERROR(node_->data_coord_->UpdateSegment(empty));
      }
      return FlushDeletes(message.vchannel(), position);
    }
    SegmentRecord record = it->second.record;
    auto pk_field = PrimaryFieldOf(record.collection_id());
    if (!pk_field.ok()) return pk_field.status();
    QUIVER_RETURN_IF_ERROR(node_->storage_.WriteInsertLogs(it->second.contents, *pk_field, &record));
    record.set_end_position(position);
    record.set_state(quiver::data::FLUSHED);
    record.set_flushed_timestamp(message.timestamp());
    QUIVER_RETURN_IF_ERROR(node_->data_coord_->UpdateSegment(record));
    spdlog::info("flushed segment {} of collection {}: {} rows", record.id(), record.collection_id(),
                 record.num_rows());
    buffers_.erase(it);
    return FlushDeletes(message.vchannel(), position);
  }

  // A Flush asked for the shard's deletes as the level-zero segment it recorded.
  Status FlushRequestedDeletes(const WalMessage& message, wal::Position position) {
    auto record = node_->data_coord_->GetSegment(message.collection_id(), message.seal().segment_id());
    if (!record.ok()) return record.status();
    if (!record->has_value() || (*record)->state() != quiver::data::GROWING) return Status::OK();  // done before a restart
    auto it = shards_.find(message.vchannel());
    if (it == shards_.end() || it->second.deletes.size() == 0) {
      SegmentRecord empty = **record;
      empty.set_state(quiver::data::DROPPED);
      return node_->data_coord_->UpdateSegment(empty);
    }
    return FlushDeletes(message.vchannel(), position, **record);
  }

  // Writes a shard's buffered deletes as a level-zero segment (`record`, or a new one).
  Status FlushDeletes(const std::string& vchannel, wal::Position position,
                      std::optional<SegmentRecord> requested = std::nullopt) {
    auto it = shards_.find(vchannel);
    if (it == shards_.end() || it->second.deletes.size() == 0) return Status::OK();
    Shard& shard = it->second;
    SegmentRecord record;
    if (requested) {
      record = *requested;
    } else {
      auto id = node_->root_coord_->AllocID(1);
      if (!id.ok()) return id.status();
      record.set_id(*id);
      record.set_collection_id(shard.collection_id);
      record.set_partition_id(-1);  // deletes apply across partitions
      record.set_vchannel(vchannel);
      record.set_level_zero(true);
    }
    record.set_start_position(shard.first_delete);
    record.set_end_position(position);
    QUIVER_RETURN_IF_ERROR(node_->storage_.WriteDeltaLog(shard.deletes, &record));
    record.set_state(quiver::data::FLUSHED);
    QUIVER_RETURN_IF_ERROR(node_->data_coord_->UpdateSegment(record));
    shard.deletes = {};
    shard.first_delete = 0;
    return Status::OK();
  }

  void FlushStaleDeletes() {
    for (auto& [vchannel, shard] : shards_) {
      if (shard.deletes.size() == 0 || Clock::now() - shard.first_delete_time < node_->options_.delete_flush_interval) {
        continue;
      }
      Status status = FlushDeletes(vchannel, consumed_);
      if (!status.ok()) spdlog::warn("cannot flush deletes of {}: {}", vchannel, status.ToString());
    }
  }

  Status DropCollection(const WalMessage& message) {
    for (auto it = buffers_.begin(); it != buffers_.end();) {
      it = it->second.record.vchannel() == message.vchannel() ? buffers_.erase(it) : std::next(it);
    }
    shards_.erase(message.vchannel());
    QUIVER_RETURN_IF_ERROR(node_->storage_.DropCollection(message.collection_id()));
    return node_->data_coord_->DropCollection(message.collection_id(), {message.vchannel()});
  }

  // A shard's data below its oldest buffered record is stored; the channel may restart
  // from the lowest shard checkpoint.
  void SaveCheckpoints() {
    std::map<std::string, wal::Position> oldest;  // per vchannel: first buffered position
    for (const auto& [id, buffer] : buffers_) {
      auto& slot = oldest[buffer.record.vchannel()];
      wal::Position start = buffer.record.start_position();
      if (slot == 0 || start < slot) slot = start;
    }
    wal::Position channel_checkpoint = consumed_;
    for (auto& [vchannel, shard] : shards_) {
      wal::Position first = oldest.count(vchannel) ? oldest[vchannel] : 0;
      if (shard.first_delete != 0 && (first == 0 || shard.first_delete < first)) first = shard.first_delete;
      shard.checkpoint = first == 0 ? consumed_ : first - 1;
      channel_checkpoint = std::min(channel_checkpoint, shard.checkpoint);
      if (shard.checkpoint == shard.saved_checkpoint) continue;
      ChannelCheckpoint checkpoint;
      checkpoint.set_vchannel(vchannel);
      checkpoint.set_position(shard.checkpoint);
      checkpoint.set_timestamp(shard.last_timestamp);
      if (node_->data_coord_->SaveCheckpoint(checkpoint).ok()) shard.saved_checkpoint = shard.checkpoint;
    }
    if (channel_checkpoint == saved_pchannel_checkpoint_) return;
    ChannelCheckpoint checkpoint;
    checkpoint.set_vchannel(pchannel_);
    checkpoint.set_position(channel_checkpoint);
    if (node_->data_coord_->SaveCheckpoint(checkpoint).ok()) saved_pchannel_checkpoint_ = channel_checkpoint;
  }

  DataNode* node_;
  const std::string pchannel_;
  std::unique_ptr<wal::WalReader> reader_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  wal::Position consumed_ = 0;
  wal::Position saved_pchannel_checkpoint_ = 0;
  std::map<std::string, Shard> shards_;
  std::map<int64_t, SegmentBuffer> buffers_;
  std::map<int64_t, int64_t> primary_fields_;
};

DataNode::DataNode(wal::Wal* wal, storage::ObjectStore* store, datacoord::DataCoord* data_coord,
                   rootcoord::RootCoord* root_coord, DataNodeOptions options)
    : wal_(wal),
      storage_(store, options.storage_root),
      data_coord_(data_coord),
      root_coord_(root_coord),
      options_(std::move(options)) {}

DataNode::~DataNode() { Stop(); }

Status DataNode::Start() {
  for (const auto& pchannel : options_.pchannels) {
    auto consumer = std::make_unique<ChannelConsumer>(this, pchannel);
    QUIVER_RETURN_IF_ERROR(consumer->Start());
    consumers_.push_back(std::move(consumer));
  }
  return Status::OK();
}

void DataNode::Stop() { consumers_.clear(); }

}  // namespace quiver::datanode
