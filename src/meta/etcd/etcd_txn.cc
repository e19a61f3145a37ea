#include "meta/etcd/etcd_txn.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <random>

namespace quiver::meta {
namespace {

void AddPut(const std::string& key, const Op& op, google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>* out) {
  auto* put = out->Add()->mutable_request_put();
  put->set_key(key);
  put->set_value(op.value);
  put->set_lease(op.lease);
}

void AddDeleteRange(const std::string& begin, const std::string& end,
                    google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>* out) {
  auto* del = out->Add()->mutable_request_delete_range();
  del->set_key(begin);
  del->set_range_end(end);
}

void AddDelete(const std::string& key, google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>* out) {
  out->Add()->mutable_request_delete_range()->set_key(key);
}

struct Range {
  std::string begin;
  std::string end;  // exclusive
  bool Contains(const std::string& key) const { return key >= begin && key < end; }
};

// Deletes [range.begin, range.end) except the keys `puts` writes.
void AddRangeAroundPuts(const Range& range, const std::map<std::string, const Op*>& puts,
                        google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>* out) {
  std::string from = range.begin;
  for (auto it = puts.lower_bound(range.begin); it != puts.end() && it->first < range.end; ++it) {
    if (from < it->first) AddDeleteRange(from, it->first, out);
    from = it->first + '\0';  // the smallest key after it
  }
  if (from < range.end) AddDeleteRange(from, range.end, out);
}

uint64_t RandomId() {
  std::random_device random;
  return (uint64_t{random()} << 32) | random();
}

}  // namespace

void AddCompare(const std::string& full_key, const std::optional<std::string>& expected,
                etcdserverpb::TxnRequest* txn) {
  auto* compare = txn->add_compare();
  compare->set_key(full_key);
  compare->set_result(etcdserverpb::Compare::EQUAL);
  if (expected) {
    compare->set_target(etcdserverpb::Compare::VALUE);
    compare->set_value(*expected);
  } else {
    compare->set_target(etcdserverpb::Compare::VERSION);  // version 0: the key does not exist
    compare->set_version(0);
  }
}

void ResolveOps(const KeySpace& keys, const std::vector<Op>& ops,
                google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>* out) {
  std::map<std::string, const Op*> last_write;  // nullptr: deleted
  std::vector<Range> deleted_ranges;
  for (const Op& op : ops) {
    const std::string key = keys.Full(op.key);
    switch (op.kind) {
      case Op::Kind::kPut:
        last_write[key] = &op;
        break;
      case Op::Kind::kDelete:
        last_write[key] = nullptr;
        break;
      case Op::Kind::kDeletePrefix: {
        Range range{key, PrefixEnd(key)};
        last_write.erase(last_write.lower_bound(range.begin), last_write.lower_bound(range.end));
        deleted_ranges.push_back(std::move(range));
        break;
      }
    }
  }
  std::map<std::string, const Op*> puts;
  for (const auto& [key, op] : last_write) {
    if (op != nullptr) puts.emplace(key, op);
  }
  for (const Range& range : deleted_ranges) AddRangeAroundPuts(range, puts, out);
  for (const auto& [key, op] : last_write) {
    if (op != nullptr) {
      AddPut(key, *op, out);
    } else if (std::none_of(deleted_ranges.begin(), deleted_ranges.end(),
                            [&](const Range& range) { return range.Contains(key); })) {
      AddDelete(key, out);
    }
  }
}

TxnSlots::TxnSlots(const std::string& root_path) : prefix_(fmt::format("{}\x01txn/{:016x}/", root_path, RandomId())) {}

TxnSlots::Slot::~Slot() { owner_->Release(index_, std::move(value_), abandoned_); }

TxnSlots::Slot TxnSlots::Acquire() {
  std::lock_guard lock(mu_);
  size_t index = 0;
  while (index < states_.size() && (states_[index].busy || states_[index].abandoned)) ++index;
  if (index == states_.size()) states_.emplace_back();
  states_[index].busy = true;
  return Slot(this, index, prefix_ + std::to_string(index), states_[index].value);
}

std::string TxnSlots::NextTxnId() {
  std::lock_guard lock(mu_);
  return prefix_ + "#" + std::to_string(next_txn_++);
}

bool TxnSlots::used() {
  std::lock_guard lock(mu_);
  return !states_.empty();
}

void TxnSlots::Release(size_t index, std::optional<std::string> value, bool abandoned) {
  std::lock_guard lock(mu_);
  states_[index] = State{std::move(value), false, abandoned};
}

}  // namespace quiver::meta
