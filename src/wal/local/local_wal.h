// LocalWal: the embedded WAL used by standalone Quiver.
//
// Layout: `<dir>/LOCK` (flock'ed while open) and one directory per channel holding its
// segment files (see segment_file.h) and, once truncated, a TRUNCATED_BEFORE file.
//
// Write path: Append assigns positions under the channel's lock and queues the records for
// one writer thread shared by all channels. The writer takes everything queued, writes it,
// fdatasync's each touched segment once (group commit: one sync for many appends across
// calls; the segments of different channels are synced concurrently, so the filesystem can
// flush them together), then marks the records durable, wakes the channel's readers and
// completes the appends' futures.
//
// Failure: when writing or syncing a channel's segment fails, that append and every later
// one queued for the channel fail, and so do new appends, until the WAL is reopened: after
// a failed fsync the kernel may have dropped the pages, so nothing later could be trusted
// to be durable. Records of a failed append may or may not exist after reopening. A reader
// that has caught up with a failed channel gets its error instead of waiting forever.
//
// Readers take records from a per-channel in-memory cache of the latest durable records
// when it still holds them, otherwise from the segment files, never reading past the end
// of the last durable record. Once the WAL is destroyed, its readers fail (kServiceNotReady).
//
// Recovery (Open): the last segment of each channel is scanned and cut after its last intact
// record (a crash can only tear the tail, which nobody was told was durable). Earlier
// segments were synced whole before the next one began, so damage in them is reported as
// an error to whoever reads it, never skipped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/directory_lock.h"
#include "wal/local/segment_file.h"
#include "wal/wal.h"
#include "wal/wal_factory.h"

namespace quiver::wal {

class ParallelRunner;

class LocalWal final : public Wal {
 public:
  static StatusOr<std::unique_ptr<LocalWal>> Open(const std::string& dir, LocalWalOptions options);
  // Writes and syncs everything already appended, completing every future, then closes.
  ~LocalWal() override;

  StatusOr<AppendResult> Append(const std::string& channel, const std::vector<std::string>& payloads) override;
  StatusOr<std::unique_ptr<WalReader>> OpenReader(const std::string& channel, Position after) override;
  StatusOr<Position> LastPosition(const std::string& channel) override;
  // Deletes the segment files whose records are all below `before` (at most up to the last
  // durable record) and remembers `before` on disk; reads below it then fail.
  Status Truncate(const std::string& channel, Position before) override;
  StatusOr<std::vector<std::string>> Channels() override;

  // fdatasync calls made for records so far; shows group commit at work.
  uint64_t SyncCount() const { return sync_count_.load(); }

 private:
  struct Channel;
  struct PendingAppend;
  struct ChannelBatch;
  class Reader;

  LocalWal(std::string dir, LocalWalOptions options, std::unique_ptr<DirectoryLock> lock);

  Status RecoverChannels();
  StatusOr<std::shared_ptr<Channel>> RecoverChannel(const std::string& name);
  Status RecoverLastSegment(Channel& channel);
  std::shared_ptr<Channel> FindChannel(const std::string& name);
  std::shared_ptr<Channel> FindOrAddChannel(const std::string& name);
  Status CreateChannelDirectory(Channel& channel);

  void WriterLoop();
  void CommitBatch(std::vector<PendingAppend> batch);
  Status WriteBatch(ChannelBatch& batch);
  Status StartSegment(Channel& channel, Position first);
  Status SyncActiveSegment(Channel& channel);
  void Publish(ChannelBatch& batch);

  const std::string dir_;
  const LocalWalOptions options_;
  std::unique_ptr<DirectoryLock> lock_;  // held while open

  std::mutex channels_mu_;
  std::map<std::string, std::shared_ptr<Channel>> channels_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<PendingAppend> queue_;  // in append order per channel
  bool stopping_ = false;

  std::atomic<uint64_t> sync_count_{0};
  std::unique_ptr<ParallelRunner> sync_runner_;  // the writer's helpers for concurrent syncs
  std::thread writer_;
};

}  // namespace quiver::wal
