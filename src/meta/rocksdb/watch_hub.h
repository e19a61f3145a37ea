// WatchHub: in-process watch delivery for the embedded MetaKV.
//
// Writers Publish() each revision's events in revision order; one dispatcher thread hands
// them to every matching watcher, outside all locks, so callbacks may call back into the
// store. A bounded history of recent events lets a watch start in the recent past.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "meta/meta_kv.h"

namespace quiver::meta {

class WatchHub : public std::enable_shared_from_this<WatchHub> {
 public:
  // Events up to `start_revision` are not available; the history keeps about
  // `history_limit` events (more while a watcher still has to receive older ones).
  static std::shared_ptr<WatchHub> Start(int64_t start_revision, size_t history_limit);
  ~WatchHub();

  // Stops the dispatcher; pending events are dropped. Idempotent.
  void Stop();

  // `events` all carry the same revision, greater than every earlier one.
  void Publish(std::vector<WatchEvent> events);

  StatusOr<std::unique_ptr<WatchHandle>> Watch(const std::string& prefix, int64_t after_revision,
                                               std::function<void(const WatchEvent&)> on_event);

 private:
  struct Watcher;
  class Handle;

  WatchHub(int64_t start_revision, size_t history_limit);
  void Cancel(uint64_t watcher_id);
  void DispatchLoop();
  bool AnyWatcherBehindLocked() const;
  std::vector<WatchEvent> EventsForLocked(const Watcher& watcher) const;
  void TrimHistoryLocked();
  void Deliver(Watcher& watcher, const std::vector<WatchEvent>& events);

  const size_t history_limit_;
  std::mutex mu_;
  std::condition_variable wake_dispatcher_;
  bool stopping_ = false;
  std::deque<WatchEvent> history_;
  int64_t compacted_revision_;  // events at or below it are gone from history_
  int64_t latest_revision_;
  uint64_t next_watcher_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Watcher>> watchers_;
  std::thread dispatcher_;
  std::thread::id dispatcher_id_;
};

}  // namespace quiver::meta
