#include "coord/querycoord/query_coord.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace quiver::querycoord {
namespace {

const std::string kLoadPrefix = "query/load/";
std::string LoadKey(int64_t collection_id) { return kLoadPrefix + std::to_string(collection_id); }

bool Contains(const google::protobuf::RepeatedField<int64_t>& ids, int64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

QueryCoord::QueryCoord(meta::MetaKV* kv, rootcoord::RootCoord* root_coord, querynode::QueryNode* query_node)
    : kv_(kv), root_coord_(root_coord), query_node_(query_node) {}

QueryCoord::~QueryCoord() {
  for (auto& loader : loaders_) {
    if (loader.joinable()) loader.join();
  }
}

Status QueryCoord::Start() {
  auto kvs = kv_->Scan(kLoadPrefix);
  if (!kvs.ok()) return kvs.status();
  for (const auto& kv : *kvs) {
    quiver::data::LoadRecord record;
    if (!record.ParseFromString(kv.value)) return Internal("corrupt load record at " + kv.key);
    {
      std::lock_guard lock(mu_);
      entries_[record.collection_id()] = {record, false, std::nullopt};
    }
    StartLoad(record.collection_id());
  }
  return Status::OK();
}

Status QueryCoord::Persist(const quiver::data::LoadRecord& record) {
  return kv_->Put(LoadKey(record.collection_id()), record.SerializeAsString());
}

Status QueryCoord::Load(int64_t collection_id, const std::vector<int64_t>& partition_ids, int32_t replicas) {
  quiver::data::LoadRecord record;
  bool start = false;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(collection_id);
    if (it != entries_.end()) {
      record = it->second.record;
    } else {
      record.set_collection_id(collection_id);
      record.set_replica_number(std::max(replicas, 1));
      start = true;
    }
    if (partition_ids.empty()) {
      record.set_whole_collection(true);
      record.clear_partition_ids();
    } else if (!record.whole_collection()) {
      for (int64_t id : partition_ids) {
        if (!Contains(record.partition_ids(), id)) record.add_partition_ids(id);
      }
    }
    QUIVER_RETURN_IF_ERROR(Persist(record));
    if (start) {
      entries_[collection_id] = {record, false, std::nullopt};
    } else {
      it->second.record = record;
    }
  }
  if (start) StartLoad(collection_id);
  return Status::OK();
}

Status QueryCoord::Release(int64_t collection_id, const std::vector<int64_t>& partition_ids) {
  bool release_all = partition_ids.empty();
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(collection_id);
    if (it == entries_.end()) return Status::OK();
    auto& record = it->second.record;
    if (!release_all) {
      if (record.whole_collection()) {
        return Status(Code::kParameterInvalid,
                      "releasing some partitions of a collection loaded as a whole is not supported: "
                      "release the collection, then load the partitions you need");
      }
      auto* ids = record.mutable_partition_ids();
      ids->erase(std::remove_if(ids->begin(), ids->end(),
                                [&](int64_t id) {
                                  return std::find(partition_ids.begin(), partition_ids.end(), id) !=
                                         partition_ids.end();
                                }),
                 ids->end());
      release_all = ids->empty();
      if (!release_all) return Persist(record);
    }
    QUIVER_RETURN_IF_ERROR(kv_->Delete(LoadKey(collection_id)));
    entries_.erase(it);
  }
  query_node_->ReleaseCollection(collection_id);
  return Status::OK();
}

void QueryCoord::DropCollection(int64_t collection_id) {
  Status status = Release(collection_id, {});
  if (!status.ok()) spdlog::warn("cannot release dropped collection {}: {}", collection_id, status.ToString());
}

LoadState QueryCoord::State(int64_t collection_id, const std::vector<int64_t>& partition_ids) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(collection_id);
  if (it == entries_.end()) return LoadState::kNotLoad;
  const auto& record = it->second.record;
  for (int64_t id : partition_ids) {
    if (!record.whole_collection() && !Contains(record.partition_ids(), id)) return LoadState::kNotLoad;
  }
  return it->second.ready ? LoadState::kLoaded : LoadState::kLoading;
}

int64_t QueryCoord::Progress(int64_t collection_id, const std::vector<int64_t>& partition_ids) const {
  switch (State(collection_id, partition_ids)) {
    case LoadState::kLoaded: return 100;
    case LoadState::kLoading: return 50;
    case LoadState::kNotLoad: return 0;
  }
  return 0;
}

std::optional<std::vector<int64_t>> QueryCoord::LoadedPartitions(int64_t collection_id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(collection_id);
  if (it == entries_.end() || !it->second.ready) return std::nullopt;
  const auto& record = it->second.record;
  if (record.whole_collection()) return std::vector<int64_t>{};
  return std::vector<int64_t>(record.partition_ids().begin(), record.partition_ids().end());
}

std::optional<std::string> QueryCoord::LoadError(int64_t collection_id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(collection_id);
  return it == entries_.end() ? std::nullopt : it->second.error;
}

void QueryCoord::StartLoad(int64_t collection_id) {
  std::lock_guard lock(mu_);
  loaders_.emplace_back([this, collection_id] { RunLoad(collection_id); });
}

void QueryCoord::RunLoad(int64_t collection_id) {
  milvus::proto::milvus::DescribeCollectionRequest describe;
  describe.set_collectionid(collection_id);
  auto collection = root_coord_->DescribeCollection(describe);
  Status status = collection.status();
  if (status.ok()) {
    querynode::LoadSpec spec;
    spec.collection_id = collection_id;
    spec.schema = collection->schema();
    spec.vchannels.assign(collection->virtual_channel_names().begin(), collection->virtual_channel_names().end());
    status = query_node_->LoadCollection(spec);
  }
  std::lock_guard lock(mu_);
  auto it = entries_.find(collection_id);
  if (it == entries_.end()) return;  // released meanwhile
  if (status.ok()) {
    it->second.ready = true;
    spdlog::info("collection {} loaded", collection_id);
  } else {
    it->second.error = status.reason();
    spdlog::error("cannot load collection {}: {}", collection_id, status.ToString());
  }
}

}  // namespace quiver::querycoord
