// RootCoord: owner of databases, collections, partitions and aliases, and of the cluster's
// clock (TSO) and ID allocation.
//
// Requests and replies are Milvus protocol messages, so the proxy can forward a client's
// request unchanged and a later gRPC transport needs no translation layer. The proxy
// validates names and schemas before calling; RootCoord enforces what needs the catalog
// (existence, uniqueness, limits) and makes every change durable in MetaKV before replying.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "milvus.pb.h"

namespace quiver::rootcoord {

namespace mpb = milvus::proto::milvus;

// Milvus's defaults for the catalog's limits (rootCoord.* in milvus.yaml).
inline constexpr int kMaxDatabases = 64;
inline constexpr int kMaxCollections = 65536;
inline constexpr int kMaxPartitionsPerCollection = 1024;
inline constexpr char kDefaultDatabase[] = "default";
inline constexpr char kDefaultPartition[] = "_default";

class RootCoord {
 public:
  virtual ~RootCoord() = default;

  virtual Status CreateDatabase(const mpb::CreateDatabaseRequest& req) = 0;
  virtual Status DropDatabase(const mpb::DropDatabaseRequest& req) = 0;
  virtual Status AlterDatabase(const mpb::AlterDatabaseRequest& req) = 0;
  virtual StatusOr<mpb::ListDatabasesResponse> ListDatabases(const mpb::ListDatabasesRequest& req) = 0;
  virtual StatusOr<mpb::DescribeDatabaseResponse> DescribeDatabase(const mpb::DescribeDatabaseRequest& req) = 0;

  // `req.schema` holds a serialized CollectionSchema that the proxy already validated and
  // normalized (field IDs, $meta); shards_num and num_partitions are final.
  virtual Status CreateCollection(const mpb::CreateCollectionRequest& req) = 0;
  virtual Status DropCollection(const mpb::DropCollectionRequest& req) = 0;
  // Resolves aliases; by name, or by collectionID when it is set.
  virtual StatusOr<mpb::DescribeCollectionResponse> DescribeCollection(const mpb::DescribeCollectionRequest& req) = 0;
  virtual StatusOr<mpb::ShowCollectionsResponse> ShowCollections(const mpb::ShowCollectionsRequest& req) = 0;
  virtual Status RenameCollection(const mpb::RenameCollectionRequest& req) = 0;
  virtual Status AlterCollection(const mpb::AlterCollectionRequest& req) = 0;

  virtual Status CreatePartition(const mpb::CreatePartitionRequest& req) = 0;
  virtual Status DropPartition(const mpb::DropPartitionRequest& req) = 0;
  virtual StatusOr<mpb::ShowPartitionsResponse> ShowPartitions(const mpb::ShowPartitionsRequest& req) = 0;

  virtual Status CreateAlias(const mpb::CreateAliasRequest& req) = 0;
  virtual Status DropAlias(const mpb::DropAliasRequest& req) = 0;
  virtual Status AlterAlias(const mpb::AlterAliasRequest& req) = 0;
  virtual StatusOr<mpb::DescribeAliasResponse> DescribeAlias(const mpb::DescribeAliasRequest& req) = 0;
  virtual StatusOr<mpb::ListAliasesResponse> ListAliases(const mpb::ListAliasesRequest& req) = 0;

  // `count` consecutive hybrid timestamps (physical ms << 18 | logical); returns the first.
  virtual StatusOr<uint64_t> AllocTimestamp(uint32_t count) = 0;
  // `count` consecutive unique IDs; returns the first.
  virtual StatusOr<int64_t> AllocID(uint32_t count) = 0;
};

}  // namespace quiver::rootcoord
