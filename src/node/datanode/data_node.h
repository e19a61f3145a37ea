// DataNode: turns the WAL into segments in object storage.
//
// One consumer per physical channel buffers the rows of each growing segment and the
// deletes of each shard. When a segment's seal record arrives it writes the segment's
// binlogs and records it FLUSHED at DataCoord; deletes go out as level-zero segments
// with each flush (and when they have waited long enough). A shard's checkpoint — the
// WAL position below which everything is in object storage — then advances, and a
// restarted node resumes from it, skipping segments already flushed, so nothing is lost
// and nothing is written twice.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "coord/datacoord/data_coord.h"
#include "coord/rootcoord/root_coord.h"
#include "segment/segment_io.h"
#include "storage/object_store.h"
#include "wal/wal.h"

namespace quiver::datanode {

struct DataNodeOptions {
  std::vector<std::string> pchannels;  // the channels this node consumes
  std::string storage_root = "files";
  std::chrono::milliseconds delete_flush_interval{5000};
  std::chrono::milliseconds checkpoint_interval{1000};
};

class DataNode {
 public:
  DataNode(wal::Wal* wal, storage::ObjectStore* store, datacoord::DataCoord* data_coord,
           rootcoord::RootCoord* root_coord, DataNodeOptions options);
  ~DataNode();

  Status Start();
  void Stop();

 private:
  class ChannelConsumer;

  wal::Wal* wal_;
  segment::SegmentStorage storage_;
  datacoord::DataCoord* data_coord_;
  rootcoord::RootCoord* root_coord_;
  const DataNodeOptions options_;
  std::vector<std::unique_ptr<ChannelConsumer>> consumers_;
};

}  // namespace quiver::datanode
