// The in-process RootCoord: the catalog, the TSO and the ID allocator over one MetaKV.
#pragma once

#include <memory>
#include <mutex>

#include "coord/rootcoord/catalog.h"
#include "coord/rootcoord/root_coord.h"
#include "coord/rootcoord/timestamp_oracle.h"
#include "meta/meta_kv.h"

namespace quiver::rootcoord {

struct RootCoordOptions {
  int dml_channels = 16;  // physical WAL channels shards map onto (rootCoord.dmlChannelNum)
  std::string channel_prefix = "quiver-dml";
};

class RootCoordImpl final : public RootCoord {
 public:
  RootCoordImpl(MetaKV* kv, RootCoordOptions options = {});
  // Loads the catalog and clocks; creates the `default` database on a new store.
  Status Init();

  Status CreateDatabase(const mpb::CreateDatabaseRequest& req) override;
  Status DropDatabase(const mpb::DropDatabaseRequest& req) override;
  Status AlterDatabase(const mpb::AlterDatabaseRequest& req) override;
  StatusOr<mpb::ListDatabasesResponse> ListDatabases(const mpb::ListDatabasesRequest& req) override;
  StatusOr<mpb::DescribeDatabaseResponse> DescribeDatabase(const mpb::DescribeDatabaseRequest& req) override;

  Status CreateCollection(const mpb::CreateCollectionRequest& req) override;
  Status DropCollection(const mpb::DropCollectionRequest& req) override;
  StatusOr<mpb::DescribeCollectionResponse> DescribeCollection(const mpb::DescribeCollectionRequest& req) override;
  StatusOr<mpb::ShowCollectionsResponse> ShowCollections(const mpb::ShowCollectionsRequest& req) override;
  Status RenameCollection(const mpb::RenameCollectionRequest& req) override;
  Status AlterCollection(const mpb::AlterCollectionRequest& req) override;

  Status CreatePartition(const mpb::CreatePartitionRequest& req) override;
  Status DropPartition(const mpb::DropPartitionRequest& req) override;
  StatusOr<mpb::ShowPartitionsResponse> ShowPartitions(const mpb::ShowPartitionsRequest& req) override;

  Status CreateAlias(const mpb::CreateAliasRequest& req) override;
  Status DropAlias(const mpb::DropAliasRequest& req) override;
  Status AlterAlias(const mpb::AlterAliasRequest& req) override;
  StatusOr<mpb::DescribeAliasResponse> DescribeAlias(const mpb::DescribeAliasRequest& req) override;
  StatusOr<mpb::ListAliasesResponse> ListAliases(const mpb::ListAliasesRequest& req) override;

  StatusOr<uint64_t> AllocTimestamp(uint32_t count) override;
  StatusOr<int64_t> AllocID(uint32_t count) override;

 private:
  StatusOr<const DatabaseRecord*> Database(const std::string& name) const;
  // A collection by name or alias within a database.
  StatusOr<const CollectionRecord*> Collection(const std::string& db_name, const std::string& name) const;
  Status CheckNameFree(int64_t db_id, const std::string& name, bool as_alias) const;
  StatusOr<CollectionRecord> NewCollectionRecord(const DatabaseRecord& db, const mpb::CreateCollectionRequest& req);
  Status AddPartition(CollectionRecord* coll, const std::string& name, uint64_t ts);
  mpb::DescribeCollectionResponse Describe(const CollectionRecord& coll) const;
  Status PutAlias(const std::string& db_name, const std::string& alias, const std::string& collection, bool create);

  RootCoordOptions options_;
  MetaKV* kv_;
  TimestampOracle tso_;
  IdAllocator ids_;
  mutable std::mutex mu_;  // serializes catalog reads and writes
  Catalog catalog_;
};

}  // namespace quiver::rootcoord
