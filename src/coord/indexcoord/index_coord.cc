#include "coord/indexcoord/index_coord.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <set>

namespace quiver::indexcoord {
namespace {

constexpr int kMaxBuildAttempts = 3;
const std::string kIndexPrefix = "index/def/";
const std::string kBuildPrefix = "index/build/";

std::string IndexKey(int64_t collection_id, int64_t index_id) {
  return kIndexPrefix + std::to_string(collection_id) + "/" + std::to_string(index_id);
}
std::string BuildKey(const SegmentIndexRecord& r) {
  return kBuildPrefix + std::to_string(r.collection_id()) + "/" + std::to_string(r.segment_id()) + "/" +
         std::to_string(r.index_id());
}

std::map<std::string, std::string> ParamMap(const IndexRecord& record) {
  std::map<std::string, std::string> out;
  for (const auto& kv : record.params()) out[kv.key()] = kv.value();
  return out;
}

template <typename Record>
Status LoadAll(meta::MetaKV* kv, const std::string& prefix, const std::function<void(Record)>& add) {
  auto kvs = kv->Scan(prefix);
  if (!kvs.ok()) return kvs.status();
  for (const auto& entry : *kvs) {
    Record record;
    if (!record.ParseFromString(entry.value)) return Internal("corrupt index record at " + entry.key);
    add(std::move(record));
  }
  return Status::OK();
}

}  // namespace

StatusOr<std::map<std::string, std::string>> FlattenIndexParams(
    const google::protobuf::RepeatedPtrField<milvus::proto::common::KeyValuePair>& params) {
  std::map<std::string, std::string> out;
  for (const auto& kv : params) {
    if (kv.key() != "params") {
      out[kv.key()] = kv.value();
      continue;
    }
    auto parsed = nlohmann::json::parse(kv.value(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return InvalidParameter("index params must be a JSON object, got " + kv.value());
    }
    for (const auto& [key, value] : parsed.items()) out[key] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  return out;
}

IndexCoord::IndexCoord(meta::MetaKV* kv, datacoord::DataCoord* data_coord, rootcoord::RootCoord* root_coord,
                       indexnode::IndexNode* index_node, storage::ObjectStore* store)
    : kv_(kv), data_coord_(data_coord), root_coord_(root_coord), index_node_(index_node), store_(store) {}

IndexCoord::~IndexCoord() { Stop(); }

Status IndexCoord::Start() {
  {
    std::lock_guard lock(mu_);
    QUIVER_RETURN_IF_ERROR(LoadAll<IndexRecord>(kv_, kIndexPrefix, [this](IndexRecord r) {
      indexes_[r.index_id()] = std::move(r);
    }));
    QUIVER_RETURN_IF_ERROR(LoadAll<SegmentIndexRecord>(kv_, kBuildPrefix, [this](SegmentIndexRecord r) {
      builds_[{r.collection_id(), r.segment_id(), r.index_id()}] = std::move(r);
    }));
  }
  auto watch = data_coord_->WatchSegments([this](const quiver::data::SegmentRecord& record) {
    if (record.state() != quiver::data::FLUSHED && record.state() != quiver::data::DROPPED) return;
    std::lock_guard lock(mu_);
    rescan_ = true;
    cv_.notify_all();
  });
  if (!watch.ok()) return watch.status();
  watch_ = std::move(*watch);
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

void IndexCoord::Stop() {
  watch_.reset();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<milvus::proto::schema::FieldSchema> IndexCoord::FieldOf(int64_t collection_id, int64_t field_id) const {
  milvus::proto::milvus::DescribeCollectionRequest describe;
  describe.set_collectionid(collection_id);
  auto collection = root_coord_->DescribeCollection(describe);
  if (!collection.ok()) return std::nullopt;
  for (const auto& field : collection->schema().fields()) {
    if (field.fieldid() == field_id) return field;
  }
  return std::nullopt;
}

StatusOr<index::IndexSpec> IndexCoord::Spec(const IndexRecord& record) const {
  auto field = FieldOf(record.collection_id(), record.field_id());
  if (!field) return Internal("the field of index " + record.index_name() + " is gone");
  return index::ParseIndexSpec(*field, ParamMap(record));
}

Status IndexCoord::CreateIndex(int64_t collection_id, const milvus::proto::schema::FieldSchema& field,
                               const std::string& index_name, const std::map<std::string, std::string>& params) {
  auto spec = index::ParseIndexSpec(field, params);
  if (!spec.ok()) return spec.status();
  const std::string name = index_name.empty() ? field.name() : index_name;
  std::lock_guard lock(mu_);
  for (const auto& [id, existing] : indexes_) {
    if (existing.collection_id() != collection_id) continue;
    bool same_field = existing.field_id() == field.fieldid();
    if (same_field && existing.index_name() == name && ParamMap(existing) == params) return Status::OK();
    if (same_field) {
      return Status(Code::kIndexDuplicate, "at most one distinct index is allowed per field[field=" + field.name() +
                                               "][existing index=" + existing.index_name() + "]");
    }
    if (existing.index_name() == name) {
      return Status(Code::kIndexDuplicate, "index name " + name + " is already used by another field");
    }
  }
  auto id = root_coord_->AllocID(1);
  if (!id.ok()) return id.status();
  auto ts = root_coord_->AllocTimestamp(1);
  if (!ts.ok()) return ts.status();
  IndexRecord record;
  record.set_index_id(*id);
  record.set_collection_id(collection_id);
  record.set_field_id(field.fieldid());
  record.set_index_name(name);
  for (const auto& [key, value] : params) {
    auto* kv = record.add_params();
    kv->set_key(key);
    kv->set_value(value);
  }
  record.set_created_timestamp(*ts);
  QUIVER_RETURN_IF_ERROR(kv_->Put(IndexKey(collection_id, *id), record.SerializeAsString()));
  indexes_[*id] = record;
  rescan_ = true;
  cv_.notify_all();
  return Status::OK();
}

Status IndexCoord::DropIndex(int64_t collection_id, int64_t index_id) {
  std::vector<SegmentIndexRecord> dropped;
  {
    std::lock_guard lock(mu_);
    std::vector<meta::Op> ops{meta::Op::Delete(IndexKey(collection_id, index_id))};
    for (auto it = builds_.begin(); it != builds_.end();) {
      if (std::get<0>(it->first) == collection_id && std::get<2>(it->first) == index_id) {
        ops.push_back(meta::Op::Delete(BuildKey(it->second)));
        dropped.push_back(it->second);
        it = builds_.erase(it);
      } else {
        ++it;
      }
    }
    auto applied = kv_->Txn({}, ops);
    if (!applied.ok()) return applied.status();
    indexes_.erase(index_id);
    specs_.erase(index_id);
  }
  for (const auto& build : dropped) {
    for (const auto& key : build.keys()) {
      Status status = store_->Delete(key);
      if (!status.ok()) spdlog::warn("cannot delete index file {}: {}", key, status.ToString());
    }
  }
  return Status::OK();
}

std::optional<index::IndexSpec> IndexCoord::SpecOfField(int64_t collection_id, int64_t field_id) const {
  IndexRecord record;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(indexes_.begin(), indexes_.end(), [&](const auto& entry) {
      return entry.second.collection_id() == collection_id && entry.second.field_id() == field_id;
    });
    if (it == indexes_.end()) return std::nullopt;
    auto cached = specs_.find(it->first);
    if (cached != specs_.end()) return cached->second;
    record = it->second;
  }
  auto spec = Spec(record);
  if (!spec.ok()) return std::nullopt;
  std::lock_guard lock(mu_);
  specs_[record.index_id()] = *spec;
  return *spec;
}

std::vector<IndexRecord> IndexCoord::ListIndexes(int64_t collection_id) const {
  std::lock_guard lock(mu_);
  std::vector<IndexRecord> out;
  for (const auto& [id, record] : indexes_) {
    if (record.collection_id() == collection_id) out.push_back(record);
  }
  return out;
}

IndexProgress IndexCoord::Progress(int64_t collection_id, int64_t index_id) const {
  IndexProgress progress;
  auto segments = data_coord_->ListSegments(collection_id);
  if (!segments.ok()) {
    progress.state = milvus::proto::common::Failed;
    progress.fail_reason = segments.status().reason();
    return progress;
  }
  std::lock_guard lock(mu_);
  for (const auto& segment : *segments) {
    if (segment.state() != quiver::data::FLUSHED || segment.level_zero()) continue;
    progress.total_rows += segment.num_rows();
    auto it = builds_.find({collection_id, segment.id(), index_id});
    if (it == builds_.end()) continue;
    if (it->second.state() == quiver::index::FINISHED) progress.indexed_rows += segment.num_rows();
    if (it->second.state() == quiver::index::FAILED) progress.fail_reason = it->second.fail_reason();
  }
  if (!progress.fail_reason.empty()) {
    progress.state = milvus::proto::common::Failed;
  } else if (progress.indexed_rows < progress.total_rows) {
    progress.state = milvus::proto::common::InProgress;
  }
  return progress;
}

std::vector<IndexFiles> IndexCoord::FinishedIndexes(int64_t collection_id, int64_t segment_id) const {
  std::vector<std::pair<IndexRecord, SegmentIndexRecord>> finished;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, record] : indexes_) {
      if (record.collection_id() != collection_id) continue;
      auto it = builds_.find({collection_id, segment_id, id});
      if (it != builds_.end() && it->second.state() == quiver::index::FINISHED) finished.emplace_back(record, it->second);
    }
  }
  std::vector<IndexFiles> out;
  for (const auto& [record, build] : finished) {
    auto spec = Spec(record);
    if (!spec.ok()) continue;
    out.push_back({record.field_id(), *spec, {build.keys().begin(), build.keys().end()}});
  }
  return out;
}

void IndexCoord::AddListener(Listener listener) {
  std::lock_guard lock(mu_);
  listeners_.push_back(std::move(listener));
}

void IndexCoord::DropCollection(int64_t collection_id) {
  std::vector<int64_t> ids;
  for (const auto& record : ListIndexes(collection_id)) ids.push_back(record.index_id());
  for (int64_t id : ids) {
    Status status = DropIndex(collection_id, id);
    if (!status.ok()) spdlog::warn("cannot drop index {}: {}", id, status.ToString());
  }
}

Status IndexCoord::Persist(const SegmentIndexRecord& record) {
  return kv_->Put(BuildKey(record), record.SerializeAsString());
}

// Finds segments that lack a build of some index, records them PENDING and queues them;
// forgets builds of segments that are gone.
void IndexCoord::Schedule() {
  std::map<int64_t, std::vector<IndexRecord>> by_collection;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, record] : indexes_) by_collection[record.collection_id()].push_back(record);
  }
  for (const auto& [collection_id, indexes] : by_collection) {
    auto segments = data_coord_->ListSegments(collection_id);
    if (!segments.ok()) continue;
    std::set<int64_t> live;
    std::lock_guard lock(mu_);
    for (const auto& segment : *segments) {
      if (segment.state() != quiver::data::FLUSHED || segment.level_zero() || segment.num_rows() == 0) continue;
      live.insert(segment.id());
      for (const auto& index : indexes) {
        SegmentKey key{collection_id, segment.id(), index.index_id()};
        auto it = builds_.find(key);
        if (it != builds_.end()) {
          if (it->second.state() == quiver::index::PENDING &&
              std::find(queue_.begin(), queue_.end(), key) == queue_.end()) {
            queue_.push_back(key);
          }
          continue;
        }
        SegmentIndexRecord build;
        build.set_collection_id(collection_id);
        build.set_segment_id(segment.id());
        build.set_index_id(index.index_id());
        build.set_field_id(index.field_id());
        build.set_num_rows(segment.num_rows());
        build.set_state(quiver::index::PENDING);
        if (!Persist(build).ok()) continue;
        builds_[key] = build;
        queue_.push_back(key);
      }
    }
    for (auto it = builds_.begin(); it != builds_.end();) {
      if (std::get<0>(it->first) == collection_id && !live.count(std::get<1>(it->first))) {
        for (const auto& file : it->second.keys()) (void)store_->Delete(file);
        (void)kv_->Delete(BuildKey(it->second));
        it = builds_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

void IndexCoord::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::seconds(2), [this] { return stopping_ || rescan_ || !queue_.empty(); });
    if (stopping_) return;
    if (rescan_) {
      rescan_ = false;
      lock.unlock();
      Schedule();
      lock.lock();
    }
    if (queue_.empty()) continue;
    SegmentKey key = queue_.front();
    queue_.pop_front();
    auto it = builds_.find(key);
    if (it == builds_.end() || it->second.state() != quiver::index::PENDING) continue;
    SegmentIndexRecord record = it->second;
    lock.unlock();
    BuildOne(std::move(record));
    lock.lock();
  }
}

void IndexCoord::BuildOne(SegmentIndexRecord record) {
  IndexRecord index;
  {
    std::lock_guard lock(mu_);
    auto it = indexes_.find(record.index_id());
    if (it == indexes_.end()) return;  // dropped meanwhile
    index = it->second;
  }
  Status status = Status::OK();
  indexnode::BuildOutput output;
  auto segment = data_coord_->GetSegment(record.collection_id(), record.segment_id());
  auto spec = Spec(index);
  if (!segment.ok() || !segment->has_value()) {
    status = segment.ok() ? Status(Code::kIoKeyNotFound, "segment is gone") : segment.status();
  } else if (!spec.ok()) {
    status = spec.status();
  } else {
    auto built = index_node_->Build({**segment, index.index_id(), index.field_id(), *spec});
    if (built.ok()) output = std::move(*built);
    status = built.status();
  }
  std::vector<Listener> listeners;
  IndexFiles loadable;
  {
    std::lock_guard lock(mu_);
    auto it = builds_.find({record.collection_id(), record.segment_id(), record.index_id()});
    if (it == builds_.end()) return;  // index or segment dropped meanwhile
    SegmentIndexRecord& current = it->second;
    current.set_attempts(current.attempts() + 1);
    if (status.ok()) {
      current.set_state(quiver::index::FINISHED);
      current.clear_keys();
      for (const auto& key : output.keys) current.add_keys(key);
      current.set_memory_bytes(output.memory_bytes);
      listeners = listeners_;
      loadable = {index.field_id(), *spec, output.keys};
    } else if (current.attempts() >= kMaxBuildAttempts) {
      current.set_state(quiver::index::FAILED);
      current.set_fail_reason(status.reason());
      spdlog::error("index build of segment {} failed for good: {}", record.segment_id(), status.ToString());
    } else {
      spdlog::warn("index build of segment {} failed (attempt {}), will retry: {}", record.segment_id(),
                   current.attempts(), status.ToString());
      queue_.push_back({record.collection_id(), record.segment_id(), record.index_id()});
    }
    Status persisted = Persist(current);
    if (!persisted.ok()) spdlog::error("cannot record index build: {}", persisted.ToString());
  }
  for (const auto& listener : listeners) listener(record.collection_id(), record.segment_id(), loadable);
}

}  // namespace quiver::indexcoord
