// Building etcd transactions from MetaKV's compares and ops, and the markers that make a
// transaction's outcome knowable when its reply was lost.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "meta/etcd/etcd_keys.h"
#include "meta/meta_kv.h"

namespace quiver::meta {

// MetaKV's compare as etcd's: a value must equal `expected`, or the key must not exist.
void AddCompare(const std::string& full_key, const std::optional<std::string>& expected, etcdserverpb::TxnRequest* txn);

// Appends `ops` to `out` as etcd request ops with the same end state. MetaKV applies ops one
// after another, while etcd refuses a transaction that writes one key twice or puts a key
// inside a range it deletes; so ops are first resolved into one final write per key, and a
// deleted prefix is split around the keys put inside it.
void ResolveOps(const KeySpace& keys, const std::vector<Op>& ops,
                google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>* out);

// Transaction markers. A guarded transaction also puts a marker key, owned by this client,
// to a value unique to the transaction, and requires the marker to still hold the value
// this client last wrote to it. So at most one attempt of a transaction can ever apply, and
// the marker tells whether one did. Markers live beside the namespace (root_path + "\x01txn/"),
// where no Scan, Watch or DeletePrefix of callers reaches. One marker ("slot") per
// transaction in flight; a slot whose value became unknown is never used again.
class TxnSlots {
 public:
  explicit TxnSlots(const std::string& root_path);

  class Slot {
   public:
    Slot(TxnSlots* owner, size_t index, std::string key, std::optional<std::string> value)
        : owner_(owner), index_(index), key_(std::move(key)), value_(std::move(value)) {}
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    const std::string& key() const { return key_; }
    // The marker's value as this client last wrote it (nullopt: never written).
    const std::optional<std::string>& value() const { return value_; }
    void Set(std::string value) { value_ = std::move(value); }
    // The marker's value is unknown: never use this slot again.
    void Abandon() { abandoned_ = true; }

   private:
    TxnSlots* owner_;
    size_t index_;
    std::string key_;
    std::optional<std::string> value_;
    bool abandoned_ = false;
  };

  Slot Acquire();
  // A value no other transaction of any client writes.
  std::string NextTxnId();
  // Every marker key of this client starts with it.
  const std::string& prefix() const { return prefix_; }
  // Whether any marker may have been written.
  bool used();

 private:
  struct State {
    std::optional<std::string> value;
    bool busy = false;
    bool abandoned = false;
  };
  void Release(size_t index, std::optional<std::string> value, bool abandoned);

  const std::string prefix_;
  std::mutex mu_;
  std::vector<State> states_;
  uint64_t next_txn_ = 1;
};

}  // namespace quiver::meta
