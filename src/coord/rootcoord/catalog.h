// Catalog: RootCoord's records (databases, collections with their partitions, aliases),
// kept in memory for lookups and persisted in MetaKV before any change becomes visible.
// Not thread-safe: RootCoordImpl serializes all access.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "meta/meta_kv.h"
#include "quiver/meta.pb.h"

namespace quiver::rootcoord {

using meta::MetaKV;
using quiver::meta::AliasRecord;
using quiver::meta::CollectionRecord;
using quiver::meta::DatabaseRecord;

class Catalog {
 public:
  explicit Catalog(MetaKV* kv) : kv_(kv) {}

  // Reads every record from MetaKV; call once before anything else.
  Status Load();

  const DatabaseRecord* FindDatabase(const std::string& name) const;
  const DatabaseRecord* FindDatabaseById(int64_t id) const;
  std::vector<const DatabaseRecord*> Databases() const;  // in creation (id) order

  const CollectionRecord* FindCollection(int64_t db_id, const std::string& name) const;
  const CollectionRecord* FindCollectionById(int64_t id) const;
  std::vector<const CollectionRecord*> Collections(int64_t db_id) const;  // in id order
  size_t CollectionCount() const { return collections_.size(); }

  const AliasRecord* FindAlias(int64_t db_id, const std::string& name) const;
  std::vector<const AliasRecord*> Aliases(int64_t db_id) const;  // by name
  std::vector<const AliasRecord*> AliasesOf(int64_t collection_id) const;

  Status SaveDatabase(const DatabaseRecord& db);
  Status RemoveDatabase(int64_t id);
  Status SaveCollection(const CollectionRecord& coll);  // insert or replace (renames too)
  Status RemoveCollection(int64_t id);
  Status SaveAlias(const AliasRecord& alias);
  Status RemoveAlias(int64_t db_id, const std::string& name);

 private:
  template <typename Record>
  Status LoadPrefix(const std::string& prefix, void (Catalog::*index)(const Record&));
  void IndexDatabase(const DatabaseRecord& db);
  void IndexCollection(const CollectionRecord& coll);
  void IndexAlias(const AliasRecord& alias);
  void UnindexCollection(int64_t id);

  MetaKV* kv_;
  std::map<int64_t, DatabaseRecord> databases_;
  std::map<std::string, int64_t> database_by_name_;
  std::map<int64_t, CollectionRecord> collections_;
  std::map<std::pair<int64_t, std::string>, int64_t> collection_by_name_;
  std::map<std::pair<int64_t, std::string>, AliasRecord> aliases_;
};

}  // namespace quiver::rootcoord
