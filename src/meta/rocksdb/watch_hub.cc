#include "meta/rocksdb/watch_hub.h"

#include <algorithm>
#include <atomic>
#include <limits>

namespace quiver::meta {

struct WatchHub::Watcher {
  std::string prefix;
  std::function<void(const WatchEvent&)> on_event;
  int64_t position;  // every event at or below this revision was handed to the dispatcher
  std::atomic<bool> cancelled{false};
  // Held by the dispatcher while it runs on_event, so a cancel can wait for it to return.
  std::mutex delivering;
};

// Holds the hub, not the store: a handle may outlive the store that created it.
class WatchHub::Handle : public WatchHandle {
 public:
  Handle(std::shared_ptr<WatchHub> hub, uint64_t watcher_id) : hub_(std::move(hub)), watcher_id_(watcher_id) {}
  ~Handle() override { hub_->Cancel(watcher_id_); }

 private:
  std::shared_ptr<WatchHub> hub_;
  uint64_t watcher_id_;
};

std::shared_ptr<WatchHub> WatchHub::Start(int64_t start_revision, size_t history_limit) {
  std::shared_ptr<WatchHub> hub(new WatchHub(start_revision, history_limit));
  hub->dispatcher_ = std::thread([raw = hub.get()] { raw->DispatchLoop(); });
  hub->dispatcher_id_ = hub->dispatcher_.get_id();
  return hub;
}

WatchHub::WatchHub(int64_t start_revision, size_t history_limit)
    : history_limit_(history_limit), compacted_revision_(start_revision), latest_revision_(start_revision) {}

WatchHub::~WatchHub() { Stop(); }

void WatchHub::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_dispatcher_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
}

void WatchHub::Publish(std::vector<WatchEvent> events) {
  if (events.empty()) return;
  {
    std::lock_guard lock(mu_);
    latest_revision_ = events.front().kv.mod_revision;
    for (auto& event : events) history_.push_back(std::move(event));
    TrimHistoryLocked();
  }
  wake_dispatcher_.notify_all();
}

StatusOr<std::unique_ptr<WatchHandle>> WatchHub::Watch(const std::string& prefix, int64_t after_revision,
                                                       std::function<void(const WatchEvent&)> on_event) {
  uint64_t id;
  {
    std::lock_guard lock(mu_);
    if (after_revision < compacted_revision_) {
      return Status(Code::kIoFailed, "watch from revision " + std::to_string(after_revision) +
                                         " is not possible: history up to revision " +
                                         std::to_string(compacted_revision_) + " has been compacted");
    }
    auto watcher = std::make_shared<Watcher>();
    watcher->prefix = prefix;
    watcher->on_event = std::move(on_event);
    watcher->position = after_revision;
    id = next_watcher_id_++;
    watchers_.emplace(id, std::move(watcher));
  }
  wake_dispatcher_.notify_all();
  return std::unique_ptr<WatchHandle>(std::make_unique<Handle>(shared_from_this(), id));
}

void WatchHub::Cancel(uint64_t watcher_id) {
  std::shared_ptr<Watcher> watcher;
  {
    std::lock_guard lock(mu_);
    auto it = watchers_.find(watcher_id);
    watcher = std::move(it->second);
    watchers_.erase(it);
    watcher->cancelled = true;
    TrimHistoryLocked();
  }
  // Inside a callback the dispatcher already holds `delivering`; it sees `cancelled` next.
  if (std::this_thread::get_id() != dispatcher_id_) {
    std::lock_guard wait_for_callback(watcher->delivering);
  }
}

void WatchHub::DispatchLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_dispatcher_.wait(lock, [this] { return stopping_ || AnyWatcherBehindLocked(); });
    if (stopping_) return;
    std::vector<std::pair<std::shared_ptr<Watcher>, std::vector<WatchEvent>>> batches;
    for (auto& [id, watcher] : watchers_) {
      if (watcher->position >= latest_revision_) continue;
      auto events = EventsForLocked(*watcher);
      watcher->position = latest_revision_;
      if (!events.empty()) batches.emplace_back(watcher, std::move(events));
    }
    TrimHistoryLocked();
    lock.unlock();
    for (auto& [watcher, events] : batches) Deliver(*watcher, events);
    lock.lock();
  }
}

bool WatchHub::AnyWatcherBehindLocked() const {
  return std::any_of(watchers_.begin(), watchers_.end(),
                     [this](const auto& entry) { return entry.second->position < latest_revision_; });
}

std::vector<WatchEvent> WatchHub::EventsForLocked(const Watcher& watcher) const {
  auto first = std::upper_bound(history_.begin(), history_.end(), watcher.position,
                                [](int64_t revision, const WatchEvent& e) { return revision < e.kv.mod_revision; });
  std::vector<WatchEvent> events;
  for (auto it = first; it != history_.end(); ++it) {
    if (it->kv.key.starts_with(watcher.prefix)) events.push_back(*it);
  }
  return events;
}

// Drops whole revisions from the front while the history is over its limit, but never
// one that a watcher has yet to receive: a slow callback must not lose events.
void WatchHub::TrimHistoryLocked() {
  int64_t slowest = std::numeric_limits<int64_t>::max();
  for (const auto& [id, watcher] : watchers_) slowest = std::min(slowest, watcher->position);
  while (history_.size() > history_limit_ && history_.front().kv.mod_revision <= slowest) {
    int64_t dropped = history_.front().kv.mod_revision;
    while (!history_.empty() && history_.front().kv.mod_revision == dropped) history_.pop_front();
    compacted_revision_ = dropped;
  }
}

void WatchHub::Deliver(Watcher& watcher, const std::vector<WatchEvent>& events) {
  std::lock_guard delivering(watcher.delivering);
  for (const auto& event : events) {
    if (watcher.cancelled) return;
    watcher.on_event(event);
  }
}

}  // namespace quiver::meta
