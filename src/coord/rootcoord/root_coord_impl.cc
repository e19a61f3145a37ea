#include "coord/rootcoord/root_coord_impl.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>

namespace quiver::rootcoord {
namespace {

using google::protobuf::RepeatedPtrField;
using milvus::proto::common::KeyValuePair;
using quiver::meta::PartitionRecord;

constexpr int64_t kDefaultDatabaseId = 1;  // as in Milvus, so IDs look familiar

const std::string& DbOrDefault(const std::string& db_name) {
  static const std::string kDefault = kDefaultDatabase;
  return db_name.empty() ? kDefault : db_name;
}

// Properties are a list of pairs on the wire; updates replace by key, deletions remove.
void MergeProperties(RepeatedPtrField<KeyValuePair>* props, const RepeatedPtrField<KeyValuePair>& updates,
                     const RepeatedPtrField<std::string>& delete_keys) {
  for (const auto& update : updates) {
    auto it = std::find_if(props->begin(), props->end(), [&](const auto& kv) { return kv.key() == update.key(); });
    if (it != props->end()) {
      it->set_value(update.value());
    } else {
      *props->Add() = update;
    }
  }
  for (const auto& key : delete_keys) {
    auto it = std::find_if(props->begin(), props->end(), [&](const auto& kv) { return kv.key() == key; });
    if (it != props->end()) props->erase(it);
  }
}

Status ParameterInvalid(const std::string& msg) { return {Code::kParameterInvalid, msg}; }

}  // namespace

RootCoordImpl::RootCoordImpl(MetaKV* kv, RootCoordOptions options)
    : options_(std::move(options)), kv_(kv), tso_(kv, "root/tso"), ids_(kv, "root/id"), catalog_(kv) {}

Status RootCoordImpl::Init() {
  QUIVER_RETURN_IF_ERROR(tso_.Init());
  auto first_ts = tso_.Alloc(1);
  if (!first_ts.ok()) return first_ts.status();
  // IDs start at a timestamp-sized value, as Milvus's do, so they never collide with the
  // small fixed ones (default database 1, field IDs 100+).
  QUIVER_RETURN_IF_ERROR(ids_.Init(static_cast<int64_t>(*first_ts)));
  std::lock_guard lock(mu_);
  QUIVER_RETURN_IF_ERROR(catalog_.Load());
  if (catalog_.FindDatabase(kDefaultDatabase)) return Status::OK();
  DatabaseRecord db;
  db.set_id(kDefaultDatabaseId);
  db.set_name(kDefaultDatabase);
  db.set_created_timestamp(*first_ts);
  return catalog_.SaveDatabase(db);
}

StatusOr<uint64_t> RootCoordImpl::AllocTimestamp(uint32_t count) { return tso_.Alloc(count); }
StatusOr<int64_t> RootCoordImpl::AllocID(uint32_t count) { return ids_.Alloc(count); }

StatusOr<const DatabaseRecord*> RootCoordImpl::Database(const std::string& name) const {
  const auto* db = catalog_.FindDatabase(DbOrDefault(name));
  if (!db) return DatabaseNotFound(DbOrDefault(name));
  return db;
}

StatusOr<const CollectionRecord*> RootCoordImpl::Collection(const std::string& db_name,
                                                            const std::string& name) const {
  auto db = Database(db_name);
  if (!db.ok()) return db.status();
  const auto* coll = catalog_.FindCollection((*db)->id(), name);
  if (!coll) {
    if (const auto* alias = catalog_.FindAlias((*db)->id(), name)) coll = catalog_.FindCollectionById(alias->collection_id());
  }
  if (!coll) return CollectionNotFound(name);
  return coll;
}

// Collections and aliases share one namespace per database.
Status RootCoordImpl::CheckNameFree(int64_t db_id, const std::string& name, bool as_alias) const {
  if (as_alias && catalog_.FindCollection(db_id, name)) {
    return {Code::kAliasCollectionNameConflict,
            "alias and collection name conflict[alias " + name + " is the name of an existing collection]"};
  }
  if (!as_alias && catalog_.FindAlias(db_id, name)) {
    return {Code::kAliasCollectionNameConflict,
            "collection name [" + name + "] conflicts with an existing alias, please choose a unique name"};
  }
  return Status::OK();
}

// ---- databases ----

Status RootCoordImpl::CreateDatabase(const mpb::CreateDatabaseRequest& req) {
  std::lock_guard lock(mu_);
  if (catalog_.FindDatabase(req.db_name())) return ParameterInvalid("database already exist: " + req.db_name());
  if (catalog_.Databases().size() >= kMaxDatabases) {
    return {Code::kDatabaseNumLimitExceeded,
            "exceeded the limit number of database[limit=" + std::to_string(kMaxDatabases) + "]"};
  }
  auto id = ids_.Alloc(1);
  if (!id.ok()) return id.status();
  auto ts = tso_.Alloc(1);
  if (!ts.ok()) return ts.status();
  DatabaseRecord db;
  db.set_id(*id);
  db.set_name(req.db_name());
  db.set_created_timestamp(*ts);
  *db.mutable_properties() = req.properties();
  return catalog_.SaveDatabase(db);
}

Status RootCoordImpl::DropDatabase(const mpb::DropDatabaseRequest& req) {
  std::lock_guard lock(mu_);
  if (req.db_name() == kDefaultDatabase) return ParameterInvalid("can not drop default database");
  const auto* db = catalog_.FindDatabase(req.db_name());
  if (!db) return Status::OK();  // dropping is idempotent, as in Milvus
  if (!catalog_.Collections(db->id()).empty()) {
    return ParameterInvalid("database:" + req.db_name() + " not empty, must drop all collections before drop database");
  }
  for (const auto* alias : catalog_.Aliases(db->id())) QUIVER_RETURN_IF_ERROR(catalog_.RemoveAlias(db->id(), alias->name()));
  return catalog_.RemoveDatabase(db->id());
}

Status RootCoordImpl::AlterDatabase(const mpb::AlterDatabaseRequest& req) {
  std::lock_guard lock(mu_);
  auto db = Database(req.db_name());
  if (!db.ok()) return db.status();
  DatabaseRecord updated = **db;
  MergeProperties(updated.mutable_properties(), req.properties(), req.delete_keys());
  return catalog_.SaveDatabase(updated);
}

StatusOr<mpb::ListDatabasesResponse> RootCoordImpl::ListDatabases(const mpb::ListDatabasesRequest&) {
  std::lock_guard lock(mu_);
  mpb::ListDatabasesResponse resp;
  for (const auto* db : catalog_.Databases()) {
    resp.add_db_names(db->name());
    resp.add_created_timestamp(db->created_timestamp());
    resp.add_db_ids(db->id());
  }
  return resp;
}

StatusOr<mpb::DescribeDatabaseResponse> RootCoordImpl::DescribeDatabase(const mpb::DescribeDatabaseRequest& req) {
  std::lock_guard lock(mu_);
  auto db = Database(req.db_name());
  if (!db.ok()) return db.status();
  mpb::DescribeDatabaseResponse resp;
  resp.set_db_name((*db)->name());
  resp.set_dbid((*db)->id());
  resp.set_created_timestamp((*db)->created_timestamp());
  *resp.mutable_properties() = (*db)->properties();
  return resp;
}

// ---- collections ----

Status RootCoordImpl::AddPartition(CollectionRecord* coll, const std::string& name, uint64_t ts) {
  auto id = ids_.Alloc(1);
  if (!id.ok()) return id.status();
  PartitionRecord* part = coll->add_partitions();
  part->set_id(*id);
  part->set_name(name);
  part->set_created_timestamp(ts);
  return Status::OK();
}

StatusOr<CollectionRecord> RootCoordImpl::NewCollectionRecord(const DatabaseRecord& db,
                                                              const mpb::CreateCollectionRequest& req) {
  CollectionRecord coll;
  if (!coll.mutable_schema()->ParseFromString(req.schema())) return InvalidParameter("schema is not a valid CollectionSchema");
  coll.mutable_schema()->set_name(req.collection_name());
  auto id = ids_.Alloc(1);
  if (!id.ok()) return id.status();
  auto ts = tso_.Alloc(1);
  if (!ts.ok()) return ts.status();
  coll.set_id(*id);
  coll.set_db_id(db.id());
  coll.set_shards_num(req.shards_num());
  coll.set_consistency_level(req.consistency_level());
  *coll.mutable_properties() = req.properties();
  coll.set_created_timestamp(*ts);
  coll.set_num_partitions(req.num_partitions());
  for (int shard = 0; shard < req.shards_num(); ++shard) {
    // Shards of one collection spread over distinct physical channels when possible.
    std::string pchannel = options_.channel_prefix + "_" + std::to_string((*id + shard) % options_.dml_channels);
    coll.add_physical_channels(pchannel);
    coll.add_virtual_channels(pchannel + "_" + std::to_string(*id) + "v" + std::to_string(shard));
  }
  if (req.num_partitions() > 0) {
    for (int64_t i = 0; i < req.num_partitions(); ++i) {
      QUIVER_RETURN_IF_ERROR(AddPartition(&coll, std::string(kDefaultPartition) + "_" + std::to_string(i), *ts));
    }
  } else {
    QUIVER_RETURN_IF_ERROR(AddPartition(&coll, kDefaultPartition, *ts));
  }
  return coll;
}

Status RootCoordImpl::CreateCollection(const mpb::CreateCollectionRequest& req) {
  std::lock_guard lock(mu_);
  auto db = Database(req.db_name());
  if (!db.ok()) return db.status();
  QUIVER_RETURN_IF_ERROR(CheckNameFree((*db)->id(), req.collection_name(), /*as_alias=*/false));
  if (const auto* existing = catalog_.FindCollection((*db)->id(), req.collection_name())) {
    // Creating the same collection twice succeeds, as in Milvus; a different one is an error.
    milvus::proto::schema::CollectionSchema schema;
    schema.ParseFromString(req.schema());
    schema.set_name(req.collection_name());
    bool same = google::protobuf::util::MessageDifferencer::Equals(schema, existing->schema()) &&
                existing->shards_num() == req.shards_num() && existing->num_partitions() == req.num_partitions() &&
                existing->consistency_level() == req.consistency_level();
    if (same) return Status::OK();
    return ParameterInvalid("create duplicate collection with different parameters, collection: " + req.collection_name());
  }
  if (catalog_.CollectionCount() >= kMaxCollections) {
    return {Code::kCollectionNumLimitExceeded,
            "exceeded the limit number of collections[limit=" + std::to_string(kMaxCollections) + "]"};
  }
  auto coll = NewCollectionRecord(**db, req);
  if (!coll.ok()) return coll.status();
  return catalog_.SaveCollection(*coll);
}

Status RootCoordImpl::DropCollection(const mpb::DropCollectionRequest& req) {
  std::lock_guard lock(mu_);
  auto db = Database(req.db_name());
  if (!db.ok()) return db.status();
  if (catalog_.FindAlias((*db)->id(), req.collection_name())) {
    return ParameterInvalid("cannot drop the collection via alias = " + req.collection_name());
  }
  const auto* coll = catalog_.FindCollection((*db)->id(), req.collection_name());
  if (!coll) return Status::OK();  // dropping is idempotent, as in Milvus
  auto aliases = catalog_.AliasesOf(coll->id());
  if (!aliases.empty()) {
    std::string names;
    for (const auto* a : aliases) names += (names.empty() ? "" : ", ") + a->name();
    return ParameterInvalid("unable to drop the collection [" + req.collection_name() +
                            "] because it has associated aliases [" + names +
                            "], please remove all aliases before dropping the collection");
  }
  return catalog_.RemoveCollection(coll->id());
}

mpb::DescribeCollectionResponse RootCoordImpl::Describe(const CollectionRecord& coll) const {
  mpb::DescribeCollectionResponse resp;
  *resp.mutable_schema() = coll.schema();
  for (const auto& field : coll.schema().fields()) {
    if (field.is_primary_key()) resp.mutable_schema()->set_autoid(field.autoid());
  }
  resp.set_collectionid(coll.id());
  *resp.mutable_virtual_channel_names() = coll.virtual_channels();
  *resp.mutable_physical_channel_names() = coll.physical_channels();
  resp.set_created_timestamp(coll.created_timestamp());
  resp.set_created_utc_timestamp(static_cast<uint64_t>(PhysicalMs(coll.created_timestamp())));
  resp.set_shards_num(coll.shards_num());
  for (const auto* alias : catalog_.AliasesOf(coll.id())) resp.add_aliases(alias->name());
  resp.set_consistency_level(coll.consistency_level());
  resp.set_collection_name(coll.schema().name());
  *resp.mutable_properties() = coll.properties();
  if (const auto* db = catalog_.FindDatabaseById(coll.db_id())) resp.set_db_name(db->name());
  resp.mutable_schema()->set_dbname(resp.db_name());
  resp.set_num_partitions(coll.num_partitions());
  resp.set_db_id(coll.db_id());
  return resp;
}

StatusOr<mpb::DescribeCollectionResponse> RootCoordImpl::DescribeCollection(const mpb::DescribeCollectionRequest& req) {
  std::lock_guard lock(mu_);
  if (req.collectionid() != 0 && req.collection_name().empty()) {
    const auto* coll = catalog_.FindCollectionById(req.collectionid());
    if (!coll) return CollectionNotFound(std::to_string(req.collectionid()));
    return Describe(*coll);
  }
  auto coll = Collection(req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  return Describe(**coll);
}

StatusOr<mpb::ShowCollectionsResponse> RootCoordImpl::ShowCollections(const mpb::ShowCollectionsRequest& req) {
  std::lock_guard lock(mu_);
  auto db = Database(req.db_name());
  if (!db.ok()) return db.status();
  mpb::ShowCollectionsResponse resp;
  for (const auto* coll : catalog_.Collections((*db)->id())) {
    resp.add_collection_names(coll->schema().name());
    resp.add_collection_ids(coll->id());
    resp.add_created_timestamps(coll->created_timestamp());
    resp.add_created_utc_timestamps(static_cast<uint64_t>(PhysicalMs(coll->created_timestamp())));
    resp.add_shards_num(coll->shards_num());
  }
  return resp;
}

Status RootCoordImpl::RenameCollection(const mpb::RenameCollectionRequest& req) {
  std::lock_guard lock(mu_);
  auto db = Database(req.db_name());
  if (!db.ok()) return db.status();
  if (catalog_.FindAlias((*db)->id(), req.oldname())) {
    return ParameterInvalid("unsupported use an alias to rename collection, alias:" + req.oldname());
  }
  const auto* coll = catalog_.FindCollection((*db)->id(), req.oldname());
  if (!coll) return CollectionNotFound(req.oldname());
  auto target_db = Database(req.newdbname().empty() ? (*db)->name() : req.newdbname());
  if (!target_db.ok()) return target_db.status();
  if (catalog_.FindCollection((*target_db)->id(), req.newname())) {
    return ParameterInvalid("duplicated new collection name " + req.newname() + " in database " + (*target_db)->name() +
                            " with other collection name or alias");
  }
  QUIVER_RETURN_IF_ERROR(CheckNameFree((*target_db)->id(), req.newname(), /*as_alias=*/false));
  if ((*target_db)->id() != (*db)->id() && !catalog_.AliasesOf(coll->id()).empty()) {
    return ParameterInvalid("fail to rename collection to different database, must drop all aliases of collection " +
                            req.oldname() + " before rename");
  }
  CollectionRecord renamed = *coll;
  renamed.mutable_schema()->set_name(req.newname());
  renamed.set_db_id((*target_db)->id());
  return catalog_.SaveCollection(renamed);
}

Status RootCoordImpl::AlterCollection(const mpb::AlterCollectionRequest& req) {
  std::lock_guard lock(mu_);
  auto coll = Collection(req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  CollectionRecord updated = **coll;
  MergeProperties(updated.mutable_properties(), req.properties(), req.delete_keys());
  return catalog_.SaveCollection(updated);
}

// ---- partitions ----

Status RootCoordImpl::CreatePartition(const mpb::CreatePartitionRequest& req) {
  std::lock_guard lock(mu_);
  auto coll = Collection(req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  if ((*coll)->num_partitions() > 0) {
    return ParameterInvalid("disable create partition if partition key mode is used");
  }
  for (const auto& part : (*coll)->partitions()) {
    if (part.name() == req.partition_name()) return Status::OK();  // idempotent, as in Milvus
  }
  if ((*coll)->partitions_size() >= kMaxPartitionsPerCollection) {
    return ParameterInvalid("partition number (" + std::to_string((*coll)->partitions_size()) +
                            ") exceeds max configuration (" + std::to_string(kMaxPartitionsPerCollection) +
                            "), collection: " + req.collection_name());
  }
  auto ts = tso_.Alloc(1);
  if (!ts.ok()) return ts.status();
  CollectionRecord updated = **coll;
  QUIVER_RETURN_IF_ERROR(AddPartition(&updated, req.partition_name(), *ts));
  return catalog_.SaveCollection(updated);
}

Status RootCoordImpl::DropPartition(const mpb::DropPartitionRequest& req) {
  std::lock_guard lock(mu_);
  auto coll = Collection(req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  if ((*coll)->num_partitions() > 0) return ParameterInvalid("disable drop partition if partition key mode is used");
  if (req.partition_name() == kDefaultPartition) return ParameterInvalid("default partition cannot be deleted");
  CollectionRecord updated = **coll;
  auto* parts = updated.mutable_partitions();
  auto it = std::find_if(parts->begin(), parts->end(), [&](const auto& p) { return p.name() == req.partition_name(); });
  if (it == parts->end()) return Status::OK();  // idempotent, as in Milvus
  parts->erase(it);
  return catalog_.SaveCollection(updated);
}

StatusOr<mpb::ShowPartitionsResponse> RootCoordImpl::ShowPartitions(const mpb::ShowPartitionsRequest& req) {
  std::lock_guard lock(mu_);
  const CollectionRecord* coll = nullptr;
  if (req.collectionid() != 0 && req.collection_name().empty()) {
    coll = catalog_.FindCollectionById(req.collectionid());
    if (!coll) return CollectionNotFound(std::to_string(req.collectionid()));
  } else {
    auto found = Collection(req.db_name(), req.collection_name());
    if (!found.ok()) return found.status();
    coll = *found;
  }
  mpb::ShowPartitionsResponse resp;
  for (const auto& part : coll->partitions()) {
    bool wanted = req.partition_names().empty() ||
                  std::find(req.partition_names().begin(), req.partition_names().end(), part.name()) !=
                      req.partition_names().end();
    if (!wanted) continue;
    resp.add_partition_names(part.name());
    resp.add_partitionids(part.id());
    resp.add_created_timestamps(part.created_timestamp());
    resp.add_created_utc_timestamps(static_cast<uint64_t>(PhysicalMs(part.created_timestamp())));
  }
  for (const auto& name : req.partition_names()) {
    if (std::find(resp.partition_names().begin(), resp.partition_names().end(), name) == resp.partition_names().end()) {
      return PartitionNotFound(name);
    }
  }
  return resp;
}

// ---- aliases ----

Status RootCoordImpl::PutAlias(const std::string& db_name, const std::string& alias, const std::string& collection,
                               bool create) {
  auto db = Database(db_name);
  if (!db.ok()) return db.status();
  QUIVER_RETURN_IF_ERROR(CheckNameFree((*db)->id(), alias, /*as_alias=*/true));
  if (catalog_.FindAlias((*db)->id(), collection)) {
    return ParameterInvalid("cannot alter alias, collection " + collection + " is an alias of another collection");
  }
  const auto* coll = catalog_.FindCollection((*db)->id(), collection);
  if (!coll) return CollectionNotFound(collection);
  const auto* existing = catalog_.FindAlias((*db)->id(), alias);
  if (create && existing) {
    if (existing->collection_id() == coll->id()) return Status::OK();  // idempotent
    return {Code::kAliasAlreadyExist, "alias already exist[database=" + (*db)->name() + "][alias=" + alias +
                                          "]: alias exists and already allocated to another collection"};
  }
  if (!create && !existing) return AliasNotFound(alias);
  auto ts = tso_.Alloc(1);
  if (!ts.ok()) return ts.status();
  AliasRecord record;
  record.set_name(alias);
  record.set_db_id((*db)->id());
  record.set_collection_id(coll->id());
  record.set_created_timestamp(*ts);
  return catalog_.SaveAlias(record);
}

Status RootCoordImpl::CreateAlias(const mpb::CreateAliasRequest& req) {
  std::lock_guard lock(mu_);
  return PutAlias(req.db_name(), req.alias(), req.collection_name(), /*create=*/true);
}

Status RootCoordImpl::AlterAlias(const mpb::AlterAliasRequest& req) {
  std::lock_guard lock(mu_);
  return PutAlias(req.db_name(), req.alias(), req.collection_name(), /*create=*/false);
}

Status RootCoordImpl::DropAlias(const mpb::DropAliasRequest& req) {
  std::lock_guard lock(mu_);
  auto db = Database(req.db_name());
  if (!db.ok()) return db.status();
  if (!catalog_.FindAlias((*db)->id(), req.alias())) return Status::OK();  // idempotent, as in Milvus
  return catalog_.RemoveAlias((*db)->id(), req.alias());
}

StatusOr<mpb::DescribeAliasResponse> RootCoordImpl::DescribeAlias(const mpb::DescribeAliasRequest& req) {
  std::lock_guard lock(mu_);
  auto db = Database(req.db_name());
  if (!db.ok()) return db.status();
  const auto* alias = catalog_.FindAlias((*db)->id(), req.alias());
  if (!alias) return AliasNotFound(req.alias());
  const auto* coll = catalog_.FindCollectionById(alias->collection_id());
  if (!coll) return Internal("alias " + req.alias() + " points to a missing collection");
  mpb::DescribeAliasResponse resp;
  resp.set_db_name((*db)->name());
  resp.set_alias(alias->name());
  resp.set_collection(coll->schema().name());
  return resp;
}

StatusOr<mpb::ListAliasesResponse> RootCoordImpl::ListAliases(const mpb::ListAliasesRequest& req) {
  std::lock_guard lock(mu_);
  auto db = Database(req.db_name());
  if (!db.ok()) return db.status();
  mpb::ListAliasesResponse resp;
  resp.set_db_name((*db)->name());
  resp.set_collection_name(req.collection_name());
  if (req.collection_name().empty()) {
    for (const auto* alias : catalog_.Aliases((*db)->id())) resp.add_aliases(alias->name());
    return resp;
  }
  const auto* coll = catalog_.FindCollection((*db)->id(), req.collection_name());
  if (!coll) return CollectionNotFound(req.collection_name());
  for (const auto* alias : catalog_.AliasesOf(coll->id())) resp.add_aliases(alias->name());
  return resp;
}

}  // namespace quiver::rootcoord
