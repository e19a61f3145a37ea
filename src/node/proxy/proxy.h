// Proxy: the Milvus client API. It resolves the caller's database, validates requests,
// and forwards them to the coordinators; it keeps no state of its own, so any number of
// proxies can serve the same cluster.
//
// Each handler fills its Milvus response message and returns the Status that the
// transport (MilvusGrpcService) writes into the response's `status`.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "coord/datacoord/data_coord.h"
#include "coord/querycoord/query_coord.h"
#include "coord/rootcoord/root_coord.h"
#include "milvus.pb.h"
#include "coord/indexcoord/index_coord.h"
#include "node/datanode/compactor.h"
#include "node/querynode/query_node.h"
#include "node/streamingnode/streaming_node.h"

namespace quiver::proxy {

namespace mpb = milvus::proto::milvus;
namespace cpb = milvus::proto::common;

// What the transport knows about a call besides its request message.
struct CallContext {
  std::string db_name;  // from the `dbname` metadata; empty means `default`
  // False on gRPC's own threads: a read that would wait (for a WAL tick, or for the query
  // node to catch up) returns Code::kWouldWait at once, before changing anything.
  bool may_wait = true;
};

struct AnnRequest;  // one parsed ANN request (proxy_search.cc)

// The roles a proxy talks to (in-process in standalone; clients of remote roles later).
struct ProxyDependencies {
  rootcoord::RootCoord* root_coord = nullptr;
  datacoord::DataCoord* data_coord = nullptr;
  querycoord::QueryCoord* query_coord = nullptr;
  querynode::QueryNode* query_node = nullptr;
  streaming::StreamingNode* streaming_node = nullptr;
  datanode::Compactor* compactor = nullptr;
  indexcoord::IndexCoord* index_coord = nullptr;
};

class Proxy {
 public:
  explicit Proxy(ProxyDependencies deps);

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

  Status Insert(const CallContext& ctx, const mpb::InsertRequest& req, mpb::MutationResult* resp);
  Status Upsert(const CallContext& ctx, const mpb::UpsertRequest& req, mpb::MutationResult* resp);
  Status Delete(const CallContext& ctx, const mpb::DeleteRequest& req, mpb::MutationResult* resp);
  Status Flush(const CallContext& ctx, const mpb::FlushRequest& req, mpb::FlushResponse* resp);
  Status GetFlushState(const CallContext& ctx, const mpb::GetFlushStateRequest& req, mpb::GetFlushStateResponse* resp);
  Status Query(const CallContext& ctx, const mpb::QueryRequest& req, mpb::QueryResults* resp);
  Status ManualCompaction(const CallContext& ctx, const mpb::ManualCompactionRequest& req,
                          mpb::ManualCompactionResponse* resp);
  Status GetCompactionState(const CallContext& ctx, const mpb::GetCompactionStateRequest& req,
                            mpb::GetCompactionStateResponse* resp);

  Status CreateIndex(const CallContext& ctx, const mpb::CreateIndexRequest& req, cpb::Status* resp);
  Status DescribeIndex(const CallContext& ctx, const mpb::DescribeIndexRequest& req, mpb::DescribeIndexResponse* resp);
  Status DropIndex(const CallContext& ctx, const mpb::DropIndexRequest& req, cpb::Status* resp);
  Status GetIndexState(const CallContext& ctx, const mpb::GetIndexStateRequest& req, mpb::GetIndexStateResponse* resp);
  Status GetIndexBuildProgress(const CallContext& ctx, const mpb::GetIndexBuildProgressRequest& req,
                               mpb::GetIndexBuildProgressResponse* resp);
  Status Search(const CallContext& ctx, const mpb::SearchRequest& req, mpb::SearchResults* resp);
  Status HybridSearch(const CallContext& ctx, const mpb::HybridSearchRequest& req, mpb::SearchResults* resp);

  Status LoadCollection(const CallContext& ctx, const mpb::LoadCollectionRequest& req, cpb::Status* resp);
  Status ReleaseCollection(const CallContext& ctx, const mpb::ReleaseCollectionRequest& req, cpb::Status* resp);
  Status LoadPartitions(const CallContext& ctx, const mpb::LoadPartitionsRequest& req, cpb::Status* resp);
  Status ReleasePartitions(const CallContext& ctx, const mpb::ReleasePartitionsRequest& req, cpb::Status* resp);
  Status GetLoadState(const CallContext& ctx, const mpb::GetLoadStateRequest& req, mpb::GetLoadStateResponse* resp);
  Status GetLoadingProgress(const CallContext& ctx, const mpb::GetLoadingProgressRequest& req,
                            mpb::GetLoadingProgressResponse* resp);

 private:
  StatusOr<mpb::DescribeCollectionResponse> Describe(const CallContext& ctx, const std::string& db_name,
                                                     const std::string& collection_name);
  StatusOr<std::vector<int64_t>> PartitionIds(const mpb::DescribeCollectionResponse& coll,
                                              const google::protobuf::RepeatedPtrField<std::string>& names);
  // Rows written (deleted ones included, as in Milvus), of one partition if given.
  StatusOr<int64_t> RowCount(const mpb::DescribeCollectionResponse& coll, std::optional<int64_t> partition_id = {});
  // Writes one batch (insert, or upsert when `upsert`): returns the commit timestamp.
  StatusOr<uint64_t> WriteRows(const mpb::DescribeCollectionResponse& coll, const std::string& partition_name,
                               const google::protobuf::RepeatedPtrField<milvus::proto::schema::FieldData>& fields,
                               uint32_t num_rows, bool upsert, mpb::MutationResult* resp);
  // The timestamps a read waits for and reads at, per its consistency level.
  struct ReadTimes {
    uint64_t guarantee = 0;
    uint64_t mvcc = 0;
    bool may_wait = true;  // the call's CallContext::may_wait

    // The query node's view of a read of `partitions` with `filter` at these times.
    querynode::ReadSpec Spec(int64_t collection_id, std::vector<int64_t> partitions,
                             const expr::Filter* filter) const {
      querynode::ReadSpec read{collection_id, std::move(partitions), filter, guarantee, mvcc};
      read.may_wait = may_wait;
      return read;
    }
  };
  StatusOr<ReadTimes> ReadTimesFor(const CallContext& ctx, const mpb::DescribeCollectionResponse& coll,
                                   cpb::ConsistencyLevel level, uint64_t requested_guarantee);
  // Which partitions a read covers; fails when they are not loaded.
  StatusOr<std::vector<int64_t>> ReadablePartitions(const mpb::DescribeCollectionResponse& coll,
                                                    const google::protobuf::RepeatedPtrField<std::string>& names);
  StatusOr<milvus::proto::schema::IDs> MatchingKeys(const mpb::DescribeCollectionResponse& coll,
                                                    const std::string& expr,
                                                    const google::protobuf::Map<std::string, milvus::proto::schema::TemplateValue>& params,
                                                    const std::vector<int64_t>& partitions);
  void NoteWrite(int64_t collection_id, uint64_t ts);
  // The indexes a request names: by index name, else by field name, else all of them.
  StatusOr<std::vector<indexcoord::IndexRecord>> FindIndexes(const mpb::DescribeCollectionResponse& coll,
                                                             const std::string& field_name,
                                                             const std::string& index_name);
  // Loading needs an index on every vector field, as in Milvus.
  Status CheckIndexedForLoad(const mpb::DescribeCollectionResponse& coll);
  // One ANN request (a Search, or one request of a HybridSearch) against a loaded collection.
  // Resolves ann.metric (the index's when the request names none).
  StatusOr<querynode::SearchHits> RunAnn(const mpb::DescribeCollectionResponse& coll, AnnRequest& ann,
                                         const std::vector<int64_t>& partitions, const ReadTimes& times,
                                         const std::vector<int64_t>& output_field_ids);

  ProxyDependencies deps_;
  rootcoord::RootCoord* root_coord_;
  std::atomic<int64_t> next_connection_id_;
  std::mutex session_mu_;
  std::map<int64_t, uint64_t> last_write_ts_;  // per collection, for Session consistency
};

}  // namespace quiver::proxy
