// Hybrid timestamps and unique IDs that never go backwards, even across restarts.
//
// Both persist an upper bound ahead of what they hand out ("save ahead"), so allocation
// costs a MetaKV write only once per window, and a restarted process starts above
// anything the previous one could have returned.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "common/status.h"
#include "meta/meta_kv.h"

namespace quiver::rootcoord {

inline constexpr int kLogicalBits = 18;

inline uint64_t ComposeTs(int64_t physical_ms, int64_t logical) {
  return (static_cast<uint64_t>(physical_ms) << kLogicalBits) | static_cast<uint64_t>(logical);
}
inline int64_t PhysicalMs(uint64_t ts) { return static_cast<int64_t>(ts >> kLogicalBits); }

class TimestampOracle {
 public:
  // `window_ms`: how far ahead of the wall clock the persisted bound is kept.
  TimestampOracle(meta::MetaKV* kv, std::string key, int64_t window_ms = 3000);
  Status Init();
  StatusOr<uint64_t> Alloc(uint32_t count);

 private:
  Status PersistBound(int64_t bound_ms);

  meta::MetaKV* kv_;
  const std::string key_;
  const int64_t window_ms_;
  std::mutex mu_;
  int64_t physical_ms_ = 0;
  int64_t logical_ = 0;
  int64_t persisted_bound_ms_ = 0;
};

class IdAllocator {
 public:
  IdAllocator(meta::MetaKV* kv, std::string key, int64_t batch = 10000);
  // `first_id` is used only for a brand-new store.
  Status Init(int64_t first_id);
  StatusOr<int64_t> Alloc(uint32_t count);

 private:
  meta::MetaKV* kv_;
  const std::string key_;
  const int64_t batch_;
  std::mutex mu_;
  int64_t next_ = 0;
  int64_t persisted_bound_ = 0;
};

}  // namespace quiver::rootcoord
