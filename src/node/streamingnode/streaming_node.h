// StreamingNode: the only writer of the WAL's data channels (Milvus 2.6's streaming node).
//
// Appending through one writer per physical channel is what gives a channel increasing
// timestamps: the timestamp is taken from the TSO and the record enqueued under the
// channel's lock, so consumers can treat any record's timestamp as a time tick. The writer
// also assigns rows to growing segments and seals them (by size, or on Flush) with a
// record in the same channel, so every consumer agrees on segment boundaries.
// Calls return once the WAL holds the records durably: that is the client's ack.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/channel_names.h"
#include "common/status.h"
#include "coord/datacoord/data_coord.h"
#include "coord/rootcoord/root_coord.h"
#include "msg.pb.h"
#include "quiver/data.pb.h"
#include "wal/wal.h"

namespace quiver::streaming {

namespace msgpb = milvus::proto::msg;

struct StreamingNodeOptions {
  // A growing segment is sealed at whichever comes first (Milvus seals at 1 GiB).
  int64_t max_segment_rows = 10'000'000;
  int64_t max_segment_bytes = int64_t{1} << 30;
  std::chrono::milliseconds idle_tick_interval{500};  // tick channels without writes this long
  // Physical channels ticked even before their first write, so reads on them can tell
  // how current they are.
  std::vector<std::string> pchannels;
  // The highest position of a channel every consumer is done with (0: keep everything);
  // records at or below it are dropped from the WAL every `retention_interval`.
  std::function<wal::Position(const std::string& pchannel)> retention_floor;
  std::chrono::milliseconds retention_interval{30000};
};

class StreamingNode {
 public:
  StreamingNode(wal::Wal* wal, rootcoord::RootCoord* root_coord, datacoord::DataCoord* data_coord,
                StreamingNodeOptions options = {});
  ~StreamingNode();

  // Seals the segments a previous run left growing, then starts the idle ticker.
  Status Start();
  void Stop();

  // Appends one shard's rows (complete columns in req.fields_data, num_rows set) to a
  // growing segment of req.partitionID; returns the rows' timestamp once durable.
  StatusOr<uint64_t> Insert(const std::string& vchannel, msgpb::InsertRequest req);
  // Appends deletes of one shard (req.primary_keys); returns their timestamp once durable.
  StatusOr<uint64_t> Delete(const std::string& vchannel, msgpb::DeleteRequest req);
  // Replaces rows by primary key: the delete and the insert share one timestamp, so a
  // reader sees either the old rows or the new ones, never neither.
  StatusOr<uint64_t> Upsert(const std::string& vchannel, msgpb::DeleteRequest deletes, msgpb::InsertRequest rows);
  // Seals every growing segment of the collection's shards; returns their IDs.
  StatusOr<std::vector<int64_t>> Flush(int64_t collection_id, const std::vector<std::string>& vchannels);
  // A durable tick on the shards' channels; returns a timestamp every later record exceeds.
  StatusOr<uint64_t> Tick(const std::vector<std::string>& vchannels);
  // Rows written in this run per segment of the collection, for statistics of segments
  // not yet flushed.
  std::map<int64_t, int64_t> RowsWritten(int64_t collection_id) const;
  // Tells the collection's consumers that it is gone.
  Status DropCollection(int64_t collection_id, const std::vector<std::string>& vchannels);

 private:
  struct GrowingSegment {
    int64_t id = 0;
    int64_t rows = 0;
    int64_t bytes = 0;
  };
  struct Channel {
    std::mutex mu;
    // (vchannel, partition) → its growing segment
    std::map<std::pair<std::string, int64_t>, GrowingSegment> growing;
    std::chrono::steady_clock::time_point last_append;
  };

  Channel& ChannelFor(const std::string& pchannel);
  // Stamps the messages with one new timestamp (rows included) and enqueues them; the
  // caller holds the channel lock, so timestamps follow append order.
  StatusOr<wal::AppendResult> AppendLocked(Channel& channel, const std::string& pchannel,
                                           std::vector<quiver::data::WalMessage> messages, uint64_t* ts);
  StatusOr<wal::AppendResult> TickLocked(Channel& channel, const std::string& pchannel, uint64_t* ts);
  // Appends rows to the (vchannel, partition) growing segment, sealing it when full;
  // `deletes`, when given, go first with the same timestamp.
  StatusOr<uint64_t> WriteRows(const std::string& vchannel, std::optional<msgpb::DeleteRequest> deletes,
                               msgpb::InsertRequest rows);
  StatusOr<GrowingSegment*> GrowingLocked(Channel& channel, const std::string& vchannel, int64_t collection_id,
                                          int64_t partition_id);
  Status SealLocked(Channel& channel, const std::string& pchannel, const std::string& vchannel,
                    int64_t collection_id, int64_t partition_id, std::vector<wal::AppendResult>* pending,
                    std::vector<int64_t>* sealed);
  Status SealDeletesLocked(Channel& channel, const std::string& pchannel, const quiver::data::SegmentRecord& record,
                           std::vector<wal::AppendResult>* pending);
  static Status WaitDurable(const std::vector<wal::AppendResult>& pending);
  void TickIdleChannels();
  void TruncateConsumed();

  wal::Wal* wal_;
  rootcoord::RootCoord* root_coord_;
  datacoord::DataCoord* data_coord_;
  const StreamingNodeOptions options_;
  std::mutex channels_mu_;
  std::map<std::string, std::unique_ptr<Channel>> channels_;  // by pchannel
  mutable std::mutex rows_mu_;
  std::map<int64_t, std::map<int64_t, int64_t>> rows_written_;  // collection → segment → rows
  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool stopping_ = false;
  std::thread ticker_;
};

}  // namespace quiver::streaming
