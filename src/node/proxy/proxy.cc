#include "node/proxy/proxy.h"

#include <chrono>
#include <random>

#include "common/version.h"
#include "node/proxy/schema_validation.h"

namespace quiver::proxy {
namespace {

// Requests name their database in a field or, more often, in the `dbname` call metadata;
// the field wins, and neither means `default` (pymilvus's MilvusClient sends it empty).
template <typename Req>
Req WithDatabase(const CallContext& ctx, const Req& req) {
  Req out = req;
  if (out.db_name().empty()) out.set_db_name(ctx.db_name.empty() ? rootcoord::kDefaultDatabase : ctx.db_name);
  return out;
}

// Copies a coordinator's reply into the client's response, keeping the response's status
// for the transport to fill.
template <typename Resp>
Status Reply(StatusOr<Resp> result, Resp* resp) {
  if (!result.ok()) return result.status();
  *resp = std::move(*result);
  return Status::OK();
}

Status RequireName(const std::string& value, const std::string& what) {
  if (value.empty()) return InvalidParameter(what + " should not be empty");
  return Status::OK();
}

// Milvus checks the one property it interprets (the TTL) on create and alter alike.
Status ValidateProperties(const google::protobuf::RepeatedPtrField<cpb::KeyValuePair>& properties) {
  constexpr int64_t kMaxTtlSeconds = 3155760000;  // 100 years, Milvus's bound
  for (const auto& kv : properties) {
    if (kv.key() != "collection.ttl.seconds") continue;
    int64_t ttl = 0;
    size_t parsed = 0;
    try {
      ttl = std::stoll(kv.value(), &parsed);
    } catch (const std::exception&) {
      parsed = 0;
    }
    if (parsed == 0 || parsed != kv.value().size()) {
      return InvalidParameter("collection TTL is not a valid positive integer");
    }
    if (ttl < -1 || ttl > kMaxTtlSeconds) {
      return InvalidParameter("collection TTL is out of range, expect [-1, " + std::to_string(kMaxTtlSeconds) +
                              "], got " + kv.value());
    }
  }
  return Status::OK();
}

// The dynamic-field column ($meta) is an implementation detail that Milvus hides.
void HideDynamicField(milvus::proto::schema::CollectionSchema* schema) {
  auto* fields = schema->mutable_fields();
  for (int i = fields->size() - 1; i >= 0; --i) {
    if (fields->Get(i).is_dynamic()) fields->DeleteSubrange(i, 1);
  }
}

}  // namespace

Proxy::Proxy(ProxyDependencies deps)
    : deps_(deps),
      root_coord_(deps.root_coord),
      // Identifiers only need to differ between connections; never 0 (the Node SDK reads
      // 0 as "old server" and stops sending it).
      next_connection_id_(static_cast<int64_t>(std::random_device{}() & 0x7fffffff) + 1) {}

Status Proxy::Connect(const CallContext&, const mpb::ConnectRequest&, mpb::ConnectResponse* resp) {
  resp->set_identifier(next_connection_id_.fetch_add(1));
  auto* info = resp->mutable_server_info();
  info->set_build_tags(std::string("quiver-") + kQuiverVersion);
  info->set_deploy_mode("STANDALONE");
  (*info->mutable_reserved())["server"] = "quiver";
  (*info->mutable_reserved())["milvus_api_version"] = kMilvusApiVersion;
  return Status::OK();
}

Status Proxy::GetVersion(const CallContext&, const mpb::GetVersionRequest&, mpb::GetVersionResponse* resp) {
  resp->set_version(kMilvusApiVersion);
  return Status::OK();
}

Status Proxy::CheckHealth(const CallContext&, const mpb::CheckHealthRequest&, mpb::CheckHealthResponse* resp) {
  resp->set_ishealthy(true);
  return Status::OK();
}

// ---- databases ----

Status Proxy::CreateDatabase(const CallContext&, const mpb::CreateDatabaseRequest& req, cpb::Status*) {
  QUIVER_RETURN_IF_ERROR(ValidateDatabaseName(req.db_name()));
  return root_coord_->CreateDatabase(req);
}

Status Proxy::DropDatabase(const CallContext&, const mpb::DropDatabaseRequest& req, cpb::Status*) {
  QUIVER_RETURN_IF_ERROR(ValidateDatabaseName(req.db_name()));
  return root_coord_->DropDatabase(req);
}

Status Proxy::AlterDatabase(const CallContext& ctx, const mpb::AlterDatabaseRequest& req, cpb::Status*) {
  return root_coord_->AlterDatabase(WithDatabase(ctx, req));
}

Status Proxy::ListDatabases(const CallContext&, const mpb::ListDatabasesRequest& req, mpb::ListDatabasesResponse* resp) {
  return Reply(root_coord_->ListDatabases(req), resp);
}

Status Proxy::DescribeDatabase(const CallContext& ctx, const mpb::DescribeDatabaseRequest& req,
                               mpb::DescribeDatabaseResponse* resp) {
  return Reply(root_coord_->DescribeDatabase(WithDatabase(ctx, req)), resp);
}

// ---- collections ----

Status Proxy::CreateCollection(const CallContext& ctx, const mpb::CreateCollectionRequest& req, cpb::Status*) {
  QUIVER_RETURN_IF_ERROR(ValidateCollectionName(req.collection_name()));
  QUIVER_RETURN_IF_ERROR(ValidateProperties(req.properties()));
  milvus::proto::schema::CollectionSchema schema;
  if (!schema.ParseFromString(req.schema())) return InvalidParameter("the schema is not a valid CollectionSchema message");
  if (schema.name() != req.collection_name()) {
    return InvalidParameter("collection name = " + req.collection_name() + ", schema.Name=" + schema.name() +
                            ": schema name must be the same as collection name");
  }
  CreateCollectionOptions options{req.shards_num(), req.num_partitions()};
  QUIVER_RETURN_IF_ERROR(ValidateAndNormalizeSchema(&schema, &options));
  auto normalized = WithDatabase(ctx, req);
  normalized.set_schema(schema.SerializeAsString());
  normalized.set_shards_num(options.shards_num);
  normalized.set_num_partitions(options.num_partitions);
  return root_coord_->CreateCollection(normalized);
}

Status Proxy::DropCollection(const CallContext& ctx, const mpb::DropCollectionRequest& req, cpb::Status*) {
  QUIVER_RETURN_IF_ERROR(ValidateCollectionName(req.collection_name()));
  mpb::DescribeCollectionRequest describe;
  describe.set_db_name(req.db_name());
  describe.set_collection_name(req.collection_name());
  auto coll = root_coord_->DescribeCollection(WithDatabase(ctx, describe));
  QUIVER_RETURN_IF_ERROR(root_coord_->DropCollection(WithDatabase(ctx, req)));
  if (!coll.ok() || coll->collection_name() != req.collection_name()) return Status::OK();  // gone, or an alias
  // The catalog no longer has it; now its data goes: readers release it, and the drop
  // record in its channels lets the DataNode delete its segments.
  deps_.query_coord->DropCollection(coll->collectionid());
  deps_.index_coord->DropCollection(coll->collectionid());
  std::vector<std::string> vchannels(coll->virtual_channel_names().begin(), coll->virtual_channel_names().end());
  return deps_.streaming_node->DropCollection(coll->collectionid(), vchannels);
}

Status Proxy::HasCollection(const CallContext& ctx, const mpb::HasCollectionRequest& req, mpb::BoolResponse* resp) {
  mpb::DescribeCollectionRequest describe;
  describe.set_db_name(req.db_name());
  describe.set_collection_name(req.collection_name());
  auto result = root_coord_->DescribeCollection(WithDatabase(ctx, describe));
  if (!result.ok() && result.status().code() != Code::kCollectionNotFound) return result.status();
  resp->set_value(result.ok());
  return Status::OK();
}

Status Proxy::DescribeCollection(const CallContext& ctx, const mpb::DescribeCollectionRequest& req,
                                 mpb::DescribeCollectionResponse* resp) {
  if (req.collection_name().empty() && req.collectionid() == 0) {
    return InvalidParameter("collection name should not be empty");
  }
  if (!req.collection_name().empty()) QUIVER_RETURN_IF_ERROR(ValidateCollectionName(req.collection_name()));
  QUIVER_RETURN_IF_ERROR(Reply(root_coord_->DescribeCollection(WithDatabase(ctx, req)), resp));
  HideDynamicField(resp->mutable_schema());
  return Status::OK();
}

Status Proxy::ShowCollections(const CallContext& ctx, const mpb::ShowCollectionsRequest& req,
                              mpb::ShowCollectionsResponse* resp) {
  QUIVER_RETURN_IF_ERROR(Reply(root_coord_->ShowCollections(WithDatabase(ctx, req)), resp));
  // Nothing can be loaded before the query path exists: "in memory" lists none of them.
  if (req.type() == mpb::InMemory) {
    mpb::ShowCollectionsResponse none;
    *resp = none;
    return Status::OK();
  }
  for (int i = 0; i < resp->collection_names_size(); ++i) {
    resp->add_inmemory_percentages(0);
    resp->add_query_service_available(false);
  }
  return Status::OK();
}

Status Proxy::RenameCollection(const CallContext& ctx, const mpb::RenameCollectionRequest& req, cpb::Status*) {
  QUIVER_RETURN_IF_ERROR(ValidateCollectionName(req.oldname()));
  QUIVER_RETURN_IF_ERROR(ValidateCollectionName(req.newname()));
  if (!req.newdbname().empty()) QUIVER_RETURN_IF_ERROR(ValidateDatabaseName(req.newdbname()));
  return root_coord_->RenameCollection(WithDatabase(ctx, req));
}

Status Proxy::AlterCollection(const CallContext& ctx, const mpb::AlterCollectionRequest& req, cpb::Status*) {
  QUIVER_RETURN_IF_ERROR(RequireName(req.collection_name(), "collection name"));
  QUIVER_RETURN_IF_ERROR(ValidateProperties(req.properties()));
  return root_coord_->AlterCollection(WithDatabase(ctx, req));
}

Status Proxy::GetCollectionStatistics(const CallContext& ctx, const mpb::GetCollectionStatisticsRequest& req,
                                      mpb::GetCollectionStatisticsResponse* resp) {
  mpb::DescribeCollectionRequest describe;
  describe.set_db_name(req.db_name());
  describe.set_collection_name(req.collection_name());
  auto coll = root_coord_->DescribeCollection(WithDatabase(ctx, describe));
  if (!coll.ok()) return coll.status();
  auto rows = RowCount(*coll);
  if (!rows.ok()) return rows.status();
  auto* stat = resp->add_stats();
  stat->set_key("row_count");
  stat->set_value(std::to_string(*rows));
  return Status::OK();
}

// ---- partitions ----

Status Proxy::CreatePartition(const CallContext& ctx, const mpb::CreatePartitionRequest& req, cpb::Status*) {
  QUIVER_RETURN_IF_ERROR(ValidatePartitionName(req.partition_name()));
  return root_coord_->CreatePartition(WithDatabase(ctx, req));
}

Status Proxy::DropPartition(const CallContext& ctx, const mpb::DropPartitionRequest& req, cpb::Status*) {
  QUIVER_RETURN_IF_ERROR(ValidatePartitionName(req.partition_name()));
  mpb::ShowPartitionsRequest show;
  show.set_db_name(req.db_name());
  show.set_collection_name(req.collection_name());
  show.add_partition_names(req.partition_name());
  auto partition = root_coord_->ShowPartitions(WithDatabase(ctx, show));
  if (partition.ok()) {
    mpb::DescribeCollectionRequest describe;
    describe.set_db_name(req.db_name());
    describe.set_collection_name(req.collection_name());
    auto coll = root_coord_->DescribeCollection(WithDatabase(ctx, describe));
    if (coll.ok() && deps_.query_coord->State(coll->collectionid(), {partition->partitionids(0)}) !=
                         querycoord::LoadState::kNotLoad) {
      return InvalidParameter("partition cannot be dropped, partition is loaded, please release it first");
    }
  }
  return root_coord_->DropPartition(WithDatabase(ctx, req));
}

Status Proxy::HasPartition(const CallContext& ctx, const mpb::HasPartitionRequest& req, mpb::BoolResponse* resp) {
  QUIVER_RETURN_IF_ERROR(ValidatePartitionName(req.partition_name()));
  mpb::ShowPartitionsRequest show;
  show.set_db_name(req.db_name());
  show.set_collection_name(req.collection_name());
  show.add_partition_names(req.partition_name());
  auto result = root_coord_->ShowPartitions(WithDatabase(ctx, show));
  if (!result.ok() && result.status().code() != Code::kPartitionNotFound) return result.status();
  resp->set_value(result.ok());
  return Status::OK();
}

Status Proxy::ShowPartitions(const CallContext& ctx, const mpb::ShowPartitionsRequest& req,
                             mpb::ShowPartitionsResponse* resp) {
  QUIVER_RETURN_IF_ERROR(Reply(root_coord_->ShowPartitions(WithDatabase(ctx, req)), resp));
  for (int i = 0; i < resp->partition_names_size(); ++i) resp->add_inmemory_percentages(0);
  return Status::OK();
}

Status Proxy::GetPartitionStatistics(const CallContext& ctx, const mpb::GetPartitionStatisticsRequest& req,
                                     mpb::GetPartitionStatisticsResponse* resp) {
  mpb::ShowPartitionsRequest show;
  show.set_db_name(req.db_name());
  show.set_collection_name(req.collection_name());
  show.add_partition_names(req.partition_name());
  auto result = root_coord_->ShowPartitions(WithDatabase(ctx, show));
  if (!result.ok()) return result.status();
  mpb::DescribeCollectionRequest describe;
  describe.set_db_name(req.db_name());
  describe.set_collection_name(req.collection_name());
  auto coll = root_coord_->DescribeCollection(WithDatabase(ctx, describe));
  if (!coll.ok()) return coll.status();
  auto rows = RowCount(*coll, result->partitionids(0));
  if (!rows.ok()) return rows.status();
  auto* stat = resp->add_stats();
  stat->set_key("row_count");
  stat->set_value(std::to_string(*rows));
  return Status::OK();
}

// ---- aliases ----

Status Proxy::CreateAlias(const CallContext& ctx, const mpb::CreateAliasRequest& req, cpb::Status*) {
  QUIVER_RETURN_IF_ERROR(ValidateAliasName(req.alias()));
  QUIVER_RETURN_IF_ERROR(ValidateCollectionName(req.collection_name()));
  return root_coord_->CreateAlias(WithDatabase(ctx, req));
}

Status Proxy::DropAlias(const CallContext& ctx, const mpb::DropAliasRequest& req, cpb::Status*) {
  QUIVER_RETURN_IF_ERROR(ValidateAliasName(req.alias()));
  return root_coord_->DropAlias(WithDatabase(ctx, req));
}

Status Proxy::AlterAlias(const CallContext& ctx, const mpb::AlterAliasRequest& req, cpb::Status*) {
  QUIVER_RETURN_IF_ERROR(ValidateAliasName(req.alias()));
  QUIVER_RETURN_IF_ERROR(ValidateCollectionName(req.collection_name()));
  return root_coord_->AlterAlias(WithDatabase(ctx, req));
}

Status Proxy::DescribeAlias(const CallContext& ctx, const mpb::DescribeAliasRequest& req,
                            mpb::DescribeAliasResponse* resp) {
  QUIVER_RETURN_IF_ERROR(RequireName(req.alias(), "alias"));
  return Reply(root_coord_->DescribeAlias(WithDatabase(ctx, req)), resp);
}

Status Proxy::ListAliases(const CallContext& ctx, const mpb::ListAliasesRequest& req, mpb::ListAliasesResponse* resp) {
  return Reply(root_coord_->ListAliases(WithDatabase(ctx, req)), resp);
}

}  // namespace quiver::proxy
