#include "coord/rootcoord/catalog.h"

namespace quiver::rootcoord {
namespace {

// MetaKV layout. Collections are keyed by ID alone so a rename or a move to another
// database rewrites one record and never leaves a stale key behind.
const std::string kDatabasePrefix = "root/database/";
const std::string kCollectionPrefix = "root/collection/";
const std::string kAliasPrefix = "root/alias/";

std::string DatabaseKey(int64_t id) { return kDatabasePrefix + std::to_string(id); }
std::string CollectionKey(int64_t id) { return kCollectionPrefix + std::to_string(id); }
std::string AliasKey(int64_t db_id, const std::string& name) {
  return kAliasPrefix + std::to_string(db_id) + "/" + name;
}

template <typename Map, typename Key>
auto FindIn(const Map& map, const Key& key) -> const typename Map::mapped_type* {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace

template <typename Record>
Status Catalog::LoadPrefix(const std::string& prefix, void (Catalog::*index)(const Record&)) {
  auto kvs = kv_->Scan(prefix);
  if (!kvs.ok()) return kvs.status();
  for (const auto& kv : *kvs) {
    Record record;
    if (!record.ParseFromString(kv.value)) return Internal("corrupt catalog record at " + kv.key);
    (this->*index)(record);
  }
  return Status::OK();
}

Status Catalog::Load() {
  QUIVER_RETURN_IF_ERROR(LoadPrefix<DatabaseRecord>(kDatabasePrefix, &Catalog::IndexDatabase));
  QUIVER_RETURN_IF_ERROR(LoadPrefix<CollectionRecord>(kCollectionPrefix, &Catalog::IndexCollection));
  return LoadPrefix<AliasRecord>(kAliasPrefix, &Catalog::IndexAlias);
}

const DatabaseRecord* Catalog::FindDatabase(const std::string& name) const {
  auto id = FindIn(database_by_name_, name);
  return id ? FindDatabaseById(*id) : nullptr;
}

const DatabaseRecord* Catalog::FindDatabaseById(int64_t id) const { return FindIn(databases_, id); }

std::vector<const DatabaseRecord*> Catalog::Databases() const {
  std::vector<const DatabaseRecord*> out;
  for (const auto& [id, db] : databases_) out.push_back(&db);
  return out;
}

const CollectionRecord* Catalog::FindCollection(int64_t db_id, const std::string& name) const {
  auto id = FindIn(collection_by_name_, std::make_pair(db_id, name));
  return id ? FindCollectionById(*id) : nullptr;
}

const CollectionRecord* Catalog::FindCollectionById(int64_t id) const { return FindIn(collections_, id); }

std::vector<const CollectionRecord*> Catalog::Collections(int64_t db_id) const {
  std::vector<const CollectionRecord*> out;
  for (const auto& [id, coll] : collections_) {
    if (coll.db_id() == db_id) out.push_back(&coll);
  }
  return out;
}

const AliasRecord* Catalog::FindAlias(int64_t db_id, const std::string& name) const {
  return FindIn(aliases_, std::make_pair(db_id, name));
}

std::vector<const AliasRecord*> Catalog::Aliases(int64_t db_id) const {
  std::vector<const AliasRecord*> out;
  for (auto it = aliases_.lower_bound({db_id, ""}); it != aliases_.end() && it->first.first == db_id; ++it) {
    out.push_back(&it->second);
  }
  return out;
}

std::vector<const AliasRecord*> Catalog::AliasesOf(int64_t collection_id) const {
  std::vector<const AliasRecord*> out;
  for (const auto& [key, alias] : aliases_) {
    if (alias.collection_id() == collection_id) out.push_back(&alias);
  }
  return out;
}

Status Catalog::SaveDatabase(const DatabaseRecord& db) {
  QUIVER_RETURN_IF_ERROR(kv_->Put(DatabaseKey(db.id()), db.SerializeAsString()));
  IndexDatabase(db);
  return Status::OK();
}

Status Catalog::RemoveDatabase(int64_t id) {
  QUIVER_RETURN_IF_ERROR(kv_->Delete(DatabaseKey(id)));
  if (auto* db = FindDatabaseById(id)) database_by_name_.erase(db->name());
  databases_.erase(id);
  return Status::OK();
}

Status Catalog::SaveCollection(const CollectionRecord& coll) {
  QUIVER_RETURN_IF_ERROR(kv_->Put(CollectionKey(coll.id()), coll.SerializeAsString()));
  UnindexCollection(coll.id());
  IndexCollection(coll);
  return Status::OK();
}

Status Catalog::RemoveCollection(int64_t id) {
  QUIVER_RETURN_IF_ERROR(kv_->Delete(CollectionKey(id)));
  UnindexCollection(id);
  return Status::OK();
}

Status Catalog::SaveAlias(const AliasRecord& alias) {
  QUIVER_RETURN_IF_ERROR(kv_->Put(AliasKey(alias.db_id(), alias.name()), alias.SerializeAsString()));
  IndexAlias(alias);
  return Status::OK();
}

Status Catalog::RemoveAlias(int64_t db_id, const std::string& name) {
  QUIVER_RETURN_IF_ERROR(kv_->Delete(AliasKey(db_id, name)));
  aliases_.erase({db_id, name});
  return Status::OK();
}

void Catalog::IndexDatabase(const DatabaseRecord& db) {
  databases_[db.id()] = db;
  database_by_name_[db.name()] = db.id();
}

void Catalog::IndexCollection(const CollectionRecord& coll) {
  collections_[coll.id()] = coll;
  collection_by_name_[{coll.db_id(), coll.schema().name()}] = coll.id();
}

void Catalog::IndexAlias(const AliasRecord& alias) { aliases_[{alias.db_id(), alias.name()}] = alias; }

void Catalog::UnindexCollection(int64_t id) {
  auto it = collections_.find(id);
  if (it == collections_.end()) return;
  collection_by_name_.erase({it->second.db_id(), it->second.schema().name()});
  collections_.erase(it);
}

}  // namespace quiver::rootcoord
