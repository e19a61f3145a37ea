#include "coord/rootcoord/timestamp_oracle.h"

#include <algorithm>
#include <chrono>

namespace quiver::rootcoord {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StatusOr<int64_t> LoadInt(meta::MetaKV* kv, const std::string& key) {
  auto value = kv->Get(key);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return int64_t{0};
  try {
    return static_cast<int64_t>(std::stoll(**value));
  } catch (const std::exception&) {
    return Internal("corrupt counter at " + key + ": " + **value);
  }
}

}  // namespace

TimestampOracle::TimestampOracle(meta::MetaKV* kv, std::string key, int64_t window_ms)
    : kv_(kv), key_(std::move(key)), window_ms_(window_ms) {}

Status TimestampOracle::Init() {
  auto saved = LoadInt(kv_, key_);
  if (!saved.ok()) return saved.status();
  std::lock_guard lock(mu_);
  // Everything below the saved bound may have been handed out before a crash.
  physical_ms_ = std::max(NowMs(), *saved + 1);
  logical_ = 0;
  return PersistBound(physical_ms_ + window_ms_);
}

Status TimestampOracle::PersistBound(int64_t bound_ms) {
  QUIVER_RETURN_IF_ERROR(kv_->Put(key_, std::to_string(bound_ms)));
  persisted_bound_ms_ = bound_ms;
  return Status::OK();
}

StatusOr<uint64_t> TimestampOracle::Alloc(uint32_t count) {
  if (count == 0 || count >= (1u << kLogicalBits)) return InvalidParameter("timestamp count out of range");
  std::lock_guard lock(mu_);
  int64_t now = NowMs();
  if (now > physical_ms_) {
    physical_ms_ = now;
    logical_ = 0;
  }
  if (logical_ + count >= (1 << kLogicalBits)) {  // logical space of this ms exhausted
    ++physical_ms_;
    logical_ = 0;
  }
  if (physical_ms_ >= persisted_bound_ms_) QUIVER_RETURN_IF_ERROR(PersistBound(physical_ms_ + window_ms_));
  uint64_t first = ComposeTs(physical_ms_, logical_);
  logical_ += count;
  return first;
}

IdAllocator::IdAllocator(meta::MetaKV* kv, std::string key, int64_t batch)
    : kv_(kv), key_(std::move(key)), batch_(batch) {}

Status IdAllocator::Init(int64_t first_id) {
  auto saved = LoadInt(kv_, key_);
  if (!saved.ok()) return saved.status();
  std::lock_guard lock(mu_);
  next_ = *saved > 0 ? *saved : first_id;
  persisted_bound_ = next_;
  return Status::OK();
}

StatusOr<int64_t> IdAllocator::Alloc(uint32_t count) {
  if (count == 0) return InvalidParameter("id count must be positive");
  std::lock_guard lock(mu_);
  if (next_ + count > persisted_bound_) {
    int64_t bound = next_ + count + batch_;
    QUIVER_RETURN_IF_ERROR(kv_->Put(key_, std::to_string(bound)));
    persisted_bound_ = bound;
  }
  int64_t first = next_;
  next_ += count;
  return first;
}

}  // namespace quiver::rootcoord
