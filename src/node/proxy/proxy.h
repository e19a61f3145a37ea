// Proxy: the Milvus client API. It resolves the caller's database, validates requests,
// and forwards them to the coordinators; it keeps no state of its own, so any number of
// proxies can serve the same cluster.
//
// Each handler fills its Milvus response message and returns the Status that the
// transport (MilvusGrpcService) writes into the response's `status`.
#pragma once

#include <atomic>
#include <string>

#include "common/status.h"
#include "coord/rootcoord/root_coord.h"
#include "milvus.pb.h"

namespace quiver::proxy {

namespace mpb = milvus::proto::milvus;
namespace cpb = milvus::proto::common;

// What the transport knows about a call besides its request message.
struct CallContext {
  std::string db_name;  // from the `dbname` metadata; empty means `default`
};

class Proxy {
 public:
  explicit Proxy(rootcoord::RootCoord* root_coord);

  Status Connect(const CallContext& ctx, const mpb::ConnectRequest& req, mpb::ConnectResponse* resp);
  Status GetVersion(const CallContext& ctx, const mpb::GetVersionRequest& req, mpb::GetVersionResponse* resp);
  Status CheckHealth(const CallContext& ctx, const mpb::CheckHealthRequest& req, mpb::CheckHealthResponse* resp);

  Status CreateDatabase(const CallContext& ctx, const mpb::CreateDatabaseRequest& req, cpb::Status* resp);
  Status DropDatabase(const CallContext& ctx, const mpb::DropDatabaseRequest& req, cpb::Status* resp);
  Status AlterDatabase(const CallContext& ctx, const mpb::AlterDatabaseRequest& req, cpb::Status* resp);
  Status ListDatabases(const CallContext& ctx, const mpb::ListDatabasesRequest& req, mpb::ListDatabasesResponse* resp);
  Status DescribeDatabase(const CallContext& ctx, const mpb::DescribeDatabaseRequest& req,
                          mpb::DescribeDatabaseResponse* resp);

  Status CreateCollection(const CallContext& ctx, const mpb::CreateCollectionRequest& req, cpb::Status* resp);
  Status DropCollection(const CallContext& ctx, const mpb::DropCollectionRequest& req, cpb::Status* resp);
  Status HasCollection(const CallContext& ctx, const mpb::HasCollectionRequest& req, mpb::BoolResponse* resp);
  Status DescribeCollection(const CallContext& ctx, const mpb::DescribeCollectionRequest& req,
                            mpb::DescribeCollectionResponse* resp);
  Status ShowCollections(const CallContext& ctx, const mpb::ShowCollectionsRequest& req,
                         mpb::ShowCollectionsResponse* resp);
  Status RenameCollection(const CallContext& ctx, const mpb::RenameCollectionRequest& req, cpb::Status* resp);
  Status AlterCollection(const CallContext& ctx, const mpb::AlterCollectionRequest& req, cpb::Status* resp);
  Status GetCollectionStatistics(const CallContext& ctx, const mpb::GetCollectionStatisticsRequest& req,
                                 mpb::GetCollectionStatisticsResponse* resp);

  Status CreatePartition(const CallContext& ctx, const mpb::CreatePartitionRequest& req, cpb::Status* resp);
  Status DropPartition(const CallContext& ctx, const mpb::DropPartitionRequest& req, cpb::Status* resp);
  Status HasPartition(const CallContext& ctx, const mpb::HasPartitionRequest& req, mpb::BoolResponse* resp);
  Status ShowPartitions(const CallContext& ctx, const mpb::ShowPartitionsRequest& req,
                        mpb::ShowPartitionsResponse* resp);
  Status GetPartitionStatistics(const CallContext& ctx, const mpb::GetPartitionStatisticsRequest& req,
                                mpb::GetPartitionStatisticsResponse* resp);

  Status CreateAlias(const CallContext& ctx, const mpb::CreateAliasRequest& req, cpb::Status* resp);
  Status DropAlias(const CallContext& ctx, const mpb::DropAliasRequest& req, cpb::Status* resp);
  Status AlterAlias(const CallContext& ctx, const mpb::AlterAliasRequest& req, cpb::Status* resp);
  Status DescribeAlias(const CallContext& ctx, const mpb::DescribeAliasRequest& req, mpb::DescribeAliasResponse* resp);
  Status ListAliases(const CallContext& ctx, const mpb::ListAliasesRequest& req, mpb::ListAliasesResponse* resp);

 private:
  rootcoord::RootCoord* root_coord_;
  std::atomic<int64_t> next_connection_id_;
};

}  // namespace quiver::proxy
