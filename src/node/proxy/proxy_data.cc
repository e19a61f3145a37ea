// Proxy: the data API — writes, loads and reads.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "coord/rootcoord/timestamp_oracle.h"
#include "expr/filter.h"
#include "node/proxy/proxy.h"
#include "node/proxy/output_plan.h"
#include "node/proxy/row_batch.h"
#include "node/proxy/schema_validation.h"
#include "segment/field_data.h"

namespace quiver::proxy {
namespace {

namespace spb = milvus::proto::schema;

constexpr int64_t kBoundedStalenessMs = 5000;  // Milvus's default for Bounded reads
constexpr int64_t kMaxQueryWindow = 16384;      // offset + limit, as Milvus's default quota
constexpr char kCountStar[] = "count(*)";

Status NotLoaded(const std::string& name) {
  return {Code::kCollectionNotLoaded, "collection not loaded[collection=" + name + "]"};
}

// query_params arrive as strings: limit, offset, …
std::optional<int64_t> QueryParam(const google::protobuf::RepeatedPtrField<cpb::KeyValuePair>& params,
                                  const std::string& key) {
  for (const auto& kv : params) {
    if (kv.key() != key) continue;
    try {
      return std::stoll(kv.value());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

cpb::ConsistencyLevel EffectiveLevel(const mpb::DescribeCollectionResponse& coll, cpb::ConsistencyLevel requested,
                                     bool use_default) {
  return use_default ? coll.consistency_level() : requested;
}

}  // namespace

StatusOr<mpb::DescribeCollectionResponse> Proxy::Describe(const CallContext& ctx, const std::string& db_name,
                                                          const std::string& collection_name) {
  QUIVER_RETURN_IF_ERROR(ValidateCollectionName(collection_name));
  mpb::DescribeCollectionRequest req;
  req.set_db_name(!db_name.empty() ? db_name : (ctx.db_name.empty() ? rootcoord::kDefaultDatabase : ctx.db_name));
  req.set_collection_name(collection_name);
  return root_coord_->DescribeCollection(req);
}

StatusOr<std::vector<int64_t>> Proxy::PartitionIds(const mpb::DescribeCollectionResponse& coll,
                                                   const google::protobuf::RepeatedPtrField<std::string>& names) {
  mpb::ShowPartitionsRequest req;
  req.set_collectionid(coll.collectionid());
  auto parts = root_coord_->ShowPartitions(req);
  if (!parts.ok()) return parts.status();
  std::vector<int64_t> ids;
  for (const auto& name : names) {
    auto it = std::find(parts->partition_names().begin(), parts->partition_names().end(), name);
    if (it == parts->partition_names().end()) return PartitionNotFound(name);
    ids.push_back(parts->partitionids(static_cast<int>(it - parts->partition_names().begin())));
  }
  return ids;
}

void Proxy::NoteWrite(int64_t collection_id, uint64_t ts) {
  std::lock_guard lock(session_mu_);
  auto& last = last_write_ts_[collection_id];
  last = std::max(last, ts);
}

// ---- writes ----

StatusOr<uint64_t> Proxy::WriteRows(const mpb::DescribeCollectionResponse& coll, const std::string& partition_name,
                                    const google::protobuf::RepeatedPtrField<spb::FieldData>& fields,
                                    uint32_t num_rows, bool upsert, mpb::MutationResult* resp) {
  const bool partition_key = coll.num_partitions() > 0;
  if (partition_key && !partition_name.empty()) {
    return InvalidParameter("not support manually specifying the partition names if partition key mode is used");
  }
  google::protobuf::RepeatedPtrField<std::string> partition_names;
  if (partition_key) {
    for (int64_t i = 0; i < coll.num_partitions(); ++i) *partition_names.Add() = "_default_" + std::to_string(i);
  } else {
    *partition_names.Add() = partition_name.empty() ? rootcoord::kDefaultPartition : partition_name;
  }
  auto partitions = PartitionIds(coll, partition_names);
  if (!partitions.ok()) return partitions.status();

  bool allow_insert_auto_id = false;
  for (const auto& kv : coll.properties()) {
    if (kv.key() == "allow_insert_auto_id") allow_insert_auto_id = kv.value() == "true" || kv.value() == "True";
  }
  auto batch = PrepareRows(coll.schema(), fields, num_rows, upsert, allow_insert_auto_id,
                           [this](uint32_t count) { return root_coord_->AllocID(count); });
  if (!batch.ok()) return batch.status();

  uint64_t commit_ts = 0;
  const int shards = coll.virtual_channel_names_size();
  const auto& fields_schema = coll.schema().fields();
  const int pk_index = static_cast<int>(
      std::find_if(fields_schema.begin(), fields_schema.end(), [](const auto& f) { return f.is_primary_key(); }) -
      fields_schema.begin());
  for (const auto& group : GroupRows(coll.schema(), *batch, shards, partition_key ? coll.num_partitions() : 0)) {
    milvus::proto::msg::InsertRequest insert;
    insert.set_collectionid(coll.collectionid());
    insert.set_collection_name(coll.collection_name());
    insert.set_db_name(coll.db_name());
    insert.set_partitionid((*partitions)[group.partition_bucket]);
    insert.set_num_rows(group.rows.size());
    insert.set_version(milvus::proto::msg::ColumnBased);
    for (const auto& column : batch->columns) segment::GatherRows(column, group.rows, insert.add_fields_data());
    const std::string& vchannel = coll.virtual_channel_names(group.shard);
    StatusOr<uint64_t> ts = Status::OK();
    if (upsert) {
      milvus::proto::msg::DeleteRequest del;
      del.set_collectionid(coll.collectionid());
      del.set_collection_name(coll.collection_name());
      del.set_num_rows(static_cast<int64_t>(group.rows.size()));
      const auto& pk = insert.fields_data(pk_index);
      if (pk.type() == spb::VarChar) {
        *del.mutable_primary_keys()->mutable_str_id()->mutable_data() = pk.scalars().string_data().data();
      } else {
        *del.mutable_primary_keys()->mutable_int_id()->mutable_data() = pk.scalars().long_data().data();
      }
      ts = deps_.streaming_node->Upsert(vchannel, std::move(del), std::move(insert));
    } else {
      ts = deps_.streaming_node->Insert(vchannel, std::move(insert));
    }
    if (!ts.ok()) return ts.status();
    commit_ts = std::max(commit_ts, *ts);
  }
  NoteWrite(coll.collectionid(), commit_ts);
  *resp->mutable_ids() = batch->primary_keys;
  for (int64_t i = 0; i < batch->num_rows; ++i) resp->add_succ_index(static_cast<uint32_t>(i));
  resp->set_timestamp(commit_ts);
  return commit_ts;
}

Status Proxy::Insert(const CallContext& ctx, const mpb::InsertRequest& req, mpb::MutationResult* resp) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  auto ts = WriteRows(*coll, req.partition_name(), req.fields_data(), req.num_rows(), /*upsert=*/false, resp);
  if (!ts.ok()) return ts.status();
  resp->set_insert_cnt(resp->succ_index_size());
  return Status::OK();
}

Status Proxy::Upsert(const CallContext& ctx, const mpb::UpsertRequest& req, mpb::MutationResult* resp) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  if (req.partial_update()) return NotImplemented("partial update in Upsert");
  auto ts = WriteRows(*coll, req.partition_name(), req.fields_data(), req.num_rows(), /*upsert=*/true, resp);
  if (!ts.ok()) return ts.status();
  resp->set_upsert_cnt(resp->succ_index_size());
  return Status::OK();
}

StatusOr<spb::IDs> Proxy::MatchingKeys(const mpb::DescribeCollectionResponse& coll, const std::string& expr,
                                       const google::protobuf::Map<std::string, spb::TemplateValue>& params,
                                       const std::vector<int64_t>& partitions) {
  auto filter = expr::CompileFilter(expr, coll.schema(), params);
  if (!filter.ok()) return filter.status();
  if (*filter) {
    if (auto keys = expr::PrimaryKeyTerms(**filter)) return *keys;  // no read needed
  }
  if (deps_.query_coord->State(coll.collectionid(), {}) != querycoord::LoadState::kLoaded) {
    return NotLoaded(coll.collection_name());
  }
  auto times = ReadTimesFor(CallContext{}, coll, cpb::Strong, 0);
  if (!times.ok()) return times.status();
  querynode::ReadSpec read = times->Spec(coll.collectionid(), partitions, filter->get());
  int64_t pk_id = 0;
  for (const auto& field : coll.schema().fields()) {
    if (field.is_primary_key()) pk_id = field.fieldid();
  }
  auto result = deps_.query_node->Query(read, {pk_id}, 0, -1);
  if (!result.ok()) return result.status();
  spb::IDs keys;
  const auto& pk = result->columns.front();
  if (pk.type() == spb::VarChar) {
    *keys.mutable_str_id()->mutable_data() = pk.scalars().string_data().data();
  } else {
    *keys.mutable_int_id()->mutable_data() = pk.scalars().long_data().data();
  }
  return keys;
}

Status Proxy::Delete(const CallContext& ctx, const mpb::DeleteRequest& req, mpb::MutationResult* resp) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  if (req.expr().find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidParameter("expr cannot be empty in a delete request");
  }
  std::vector<int64_t> partitions;
  if (!req.partition_name().empty()) {
    google::protobuf::RepeatedPtrField<std::string> names;
    *names.Add() = req.partition_name();
    auto ids = PartitionIds(*coll, names);
    if (!ids.ok()) return ids.status();
    partitions = *ids;
  }
  auto keys = MatchingKeys(*coll, req.expr(), req.expr_template_values(), partitions);
  if (!keys.ok()) return keys.status();
  uint64_t commit_ts = 0;
  int64_t count = 0;
  for (auto& [shard, shard_keys] : GroupKeys(*keys, coll->virtual_channel_names_size())) {
    milvus::proto::msg::DeleteRequest del;
    del.set_collectionid(coll->collectionid());
    del.set_collection_name(coll->collection_name());
    del.set_partition_name(req.partition_name());
    int64_t rows = shard_keys.has_int_id() ? shard_keys.int_id().data_size() : shard_keys.str_id().data_size();
    del.set_num_rows(rows);
    *del.mutable_primary_keys() = std::move(shard_keys);
    auto ts = deps_.streaming_node->Delete(coll->virtual_channel_names(shard), std::move(del));
    if (!ts.ok()) return ts.status();
    commit_ts = std::max(commit_ts, *ts);
    count += rows;
  }
  NoteWrite(coll->collectionid(), commit_ts);
  *resp->mutable_ids() = *keys;
  resp->set_delete_cnt(count);
  resp->set_timestamp(commit_ts);
  return Status::OK();
}

Status Proxy::Flush(const CallContext& ctx, const mpb::FlushRequest& req, mpb::FlushResponse* resp) {
  resp->set_db_name(req.db_name().empty() ? (ctx.db_name.empty() ? rootcoord::kDefaultDatabase : ctx.db_name)
                                          : req.db_name());
  for (const auto& name : req.collection_names()) {
    auto coll = Describe(ctx, req.db_name(), name);
    if (!coll.ok()) return coll.status();
    std::vector<std::string> vchannels(coll->virtual_channel_names().begin(), coll->virtual_channel_names().end());
    auto sealed = deps_.streaming_node->Flush(coll->collectionid(), vchannels);
    if (!sealed.ok()) return sealed.status();
    auto flush_ts = root_coord_->AllocTimestamp(1);
    if (!flush_ts.ok()) return flush_ts.status();
    auto segments = deps_.data_coord->ListSegments(coll->collectionid());
    if (!segments.ok()) return segments.status();
    // Every segment not yet in object storage: the ones just sealed and the ones sealed
    // earlier (by size) that the DataNode has not written yet. GetFlushState waits for them.
    std::set<int64_t> pending(sealed->begin(), sealed->end());
    auto& flushed_ids = (*resp->mutable_flush_coll_segids())[name];
    for (const auto& record : *segments) {
      if (record.state() == quiver::data::FLUSHED) {
        if (!record.level_zero()) flushed_ids.add_data(record.id());
      } else {
        pending.insert(record.id());
      }
    }
    auto& sealed_ids = (*resp->mutable_coll_segids())[name];
    for (int64_t id : pending) sealed_ids.add_data(id);
    (*resp->mutable_coll_seal_times())[name] = rootcoord::PhysicalMs(*flush_ts) / 1000;
    (*resp->mutable_coll_flush_ts())[name] = *flush_ts;
  }
  return Status::OK();
}

Status Proxy::GetFlushState(const CallContext& ctx, const mpb::GetFlushStateRequest& req,
                            mpb::GetFlushStateResponse* resp) {
  std::optional<int64_t> collection_id;
  if (!req.collection_name().empty()) {
    auto coll = Describe(ctx, req.db_name(), req.collection_name());
    if (!coll.ok()) return coll.status();
    collection_id = coll->collectionid();
  }
  bool flushed = true;
  if (collection_id) {
    auto segments = deps_.data_coord->ListSegments(*collection_id);
    if (!segments.ok()) return segments.status();
    for (const auto& record : *segments) {
      bool asked = std::find(req.segmentids().begin(), req.segmentids().end(), record.id()) != req.segmentids().end();
      // Segments named in the request, and any segment that held rows older than flush_ts.
      bool covered = asked || (req.flush_ts() != 0 && record.min_timestamp() < req.flush_ts());
      if (covered && record.state() != quiver::data::FLUSHED) flushed = false;
    }
  } else {
    // Without a collection, look the named segments up in every collection.
    auto segments = deps_.data_coord->ListAllSegments();
    if (!segments.ok()) return segments.status();
    for (const auto& record : *segments) {
      bool asked = std::find(req.segmentids().begin(), req.segmentids().end(), record.id()) != req.segmentids().end();
      if (asked && record.state() != quiver::data::FLUSHED) flushed = false;
    }
  }
  resp->set_flushed(flushed);
  return Status::OK();
}

Status Proxy::ManualCompaction(const CallContext& ctx, const mpb::ManualCompactionRequest& req,
                               mpb::ManualCompactionResponse* resp) {
  int64_t collection_id = req.collectionid();
  if (!req.collection_name().empty()) {
    auto coll = Describe(ctx, req.db_name(), req.collection_name());
    if (!coll.ok()) return coll.status();
    collection_id = coll->collectionid();
  } else {
    mpb::DescribeCollectionRequest describe;
    describe.set_collectionid(collection_id);
    auto coll = root_coord_->DescribeCollection(describe);
    if (!coll.ok()) return coll.status();
  }
  auto id = deps_.compactor->Request(collection_id);
  if (!id.ok()) return id.status();
  resp->set_compactionid(*id);
  resp->set_compactionplancount(1);
  return Status::OK();
}

Status Proxy::GetCompactionState(const CallContext&, const mpb::GetCompactionStateRequest& req,
                                 mpb::GetCompactionStateResponse* resp) {
  auto finished = deps_.compactor->Finished(req.compactionid());
  if (!finished.ok()) return finished.status();
  resp->set_state(*finished ? cpb::Completed : cpb::Executing);
  resp->set_executingplanno(*finished ? 0 : 1);
  resp->set_completedplanno(*finished ? 1 : 0);
  return Status::OK();
}

// ---- loading ----

Status Proxy::LoadCollection(const CallContext& ctx, const mpb::LoadCollectionRequest& req, cpb::Status*) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  QUIVER_RETURN_IF_ERROR(CheckIndexedForLoad(*coll));
  return deps_.query_coord->Load(coll->collectionid(), {}, req.replica_number());
}

Status Proxy::ReleaseCollection(const CallContext& ctx, const mpb::ReleaseCollectionRequest& req, cpb::Status*) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  return deps_.query_coord->Release(coll->collectionid(), {});
}

Status Proxy::LoadPartitions(const CallContext& ctx, const mpb::LoadPartitionsRequest& req, cpb::Status*) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  if (req.partition_names().empty()) return InvalidParameter("partition names should not be empty");
  QUIVER_RETURN_IF_ERROR(CheckIndexedForLoad(*coll));
  auto ids = PartitionIds(*coll, req.partition_names());
  if (!ids.ok()) return ids.status();
  return deps_.query_coord->Load(coll->collectionid(), *ids, req.replica_number());
}

Status Proxy::ReleasePartitions(const CallContext& ctx, const mpb::ReleasePartitionsRequest& req, cpb::Status*) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  auto ids = PartitionIds(*coll, req.partition_names());
  if (!ids.ok()) return ids.status();
  return deps_.query_coord->Release(coll->collectionid(), *ids);
}

Status Proxy::GetLoadState(const CallContext& ctx, const mpb::GetLoadStateRequest& req,
                           mpb::GetLoadStateResponse* resp) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  auto ids = PartitionIds(*coll, req.partition_names());
  if (!ids.ok()) return ids.status();
  switch (deps_.query_coord->State(coll->collectionid(), *ids)) {
    case querycoord::LoadState::kLoaded: resp->set_state(cpb::LoadStateLoaded); break;
    case querycoord::LoadState::kLoading: resp->set_state(cpb::LoadStateLoading); break;
    case querycoord::LoadState::kNotLoad: resp->set_state(cpb::LoadStateNotLoad); break;
  }
  return Status::OK();
}

Status Proxy::GetLoadingProgress(const CallContext& ctx, const mpb::GetLoadingProgressRequest& req,
                                 mpb::GetLoadingProgressResponse* resp) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  auto ids = PartitionIds(*coll, req.partition_names());
  if (!ids.ok()) return ids.status();
  if (auto error = deps_.query_coord->LoadError(coll->collectionid())) {
    return Status(Code::kServiceInternal, "loading collection " + req.collection_name() + " failed: " + *error);
  }
  if (deps_.query_coord->State(coll->collectionid(), *ids) == querycoord::LoadState::kNotLoad) {
    return NotLoaded(req.collection_name());
  }
  resp->set_progress(deps_.query_coord->Progress(coll->collectionid(), *ids));
  resp->set_refresh_progress(resp->progress());
  return Status::OK();
}

// ---- reads ----

StatusOr<Proxy::ReadTimes> Proxy::ReadTimesFor(const CallContext& ctx, const mpb::DescribeCollectionResponse& coll,
                                               cpb::ConsistencyLevel level, uint64_t requested_guarantee) {
  ReadTimes times;
  times.may_wait = ctx.may_wait;
  times.mvcc = UINT64_MAX;  // everything consumed, unless Strong pins a snapshot
  switch (level) {
    case cpb::Strong: {
      if (!ctx.may_wait) return WouldWait("a Strong read's WAL tick");
      std::vector<std::string> vchannels(coll.virtual_channel_names().begin(), coll.virtual_channel_names().end());
      auto tick = deps_.streaming_node->Tick(vchannels);
      if (!tick.ok()) return tick.status();
      times.guarantee = times.mvcc = *tick;
      break;
    }
    case cpb::Session: {
      std::lock_guard lock(session_mu_);
      auto it = last_write_ts_.find(coll.collectionid());
      times.guarantee = it == last_write_ts_.end() ? 0 : it->second;
      break;
    }
    case cpb::Bounded: {
      // Five seconds of staleness need no exact clock: the wall clock spares a TSO call.
      int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      times.guarantee = rootcoord::ComposeTs(now_ms - kBoundedStalenessMs, 0);
      break;
    }
    default: break;  // Eventually: whatever has been consumed
  }
  times.guarantee = std::max(times.guarantee, requested_guarantee);
  return times;
}

StatusOr<std::vector<int64_t>> Proxy::ReadablePartitions(const mpb::DescribeCollectionResponse& coll,
                                                         const google::protobuf::RepeatedPtrField<std::string>& names) {
  auto ids = PartitionIds(coll, names);
  if (!ids.ok()) return ids.status();
  auto state = deps_.query_coord->State(coll.collectionid(), {});
  auto loaded = deps_.query_coord->LoadedPartitions(coll.collectionid());
  if (!loaded) {
    if (state == querycoord::LoadState::kLoading) {
      return Status(Code::kCollectionNotLoaded, "collection not fully loaded[collection=" + coll.collection_name() + "]");
    }
    return NotLoaded(coll.collection_name());
  }
  if (loaded->empty()) {  // the whole collection is loaded: read its current partitions
    if (!names.empty()) return *ids;
    mpb::ShowPartitionsRequest show;
    show.set_collectionid(coll.collectionid());
    auto parts = root_coord_->ShowPartitions(show);
    if (!parts.ok()) return parts.status();
    return std::vector<int64_t>(parts->partitionids().begin(), parts->partitionids().end());
  }
  for (size_t i = 0; i < ids->size(); ++i) {
    if (std::find(loaded->begin(), loaded->end(), (*ids)[i]) == loaded->end()) {
      return Status(Code::kPartitionNotLoaded, "partition not loaded[partition=" + names[static_cast<int>(i)] + "]");
    }
  }
  return ids->empty() ? *loaded : *ids;
}

Status Proxy::Query(const CallContext& ctx, const mpb::QueryRequest& req, mpb::QueryResults* resp) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  if (coll->num_partitions() > 0 && !req.partition_names().empty()) {
    return InvalidParameter("not support manually specifying the partition names if partition key mode is used");
  }
  auto partitions = ReadablePartitions(*coll, req.partition_names());
  if (!partitions.ok()) return partitions.status();
  const auto& schema = coll->schema();
  bool count_only = req.output_fields_size() == 1 && req.output_fields(0) == kCountStar;
  int64_t offset = QueryParam(req.query_params(), "offset").value_or(0);
  std::optional<int64_t> limit = QueryParam(req.query_params(), "limit");
  if (count_only && (limit || offset > 0)) return InvalidParameter("count entities with pagination is not allowed");
  if (offset < 0 || (limit && *limit < 0)) return InvalidParameter("limit and offset must not be negative");
  if (limit && offset + *limit > kMaxQueryWindow) {
    return InvalidParameter("invalid max query result window, (offset+limit) should be in range [1, " +
                            std::to_string(kMaxQueryWindow) + "], but got " + std::to_string(offset + *limit));
  }
  bool empty_expr = req.expr().find_first_not_of(" \t\r\n") == std::string::npos;
  if (empty_expr && !limit && !count_only) return InvalidParameter("empty expression should be used with limit");

  // The collection's full schema (with $meta) drives filters; Describe hid nothing here.
  auto filter = expr::CompileFilter(req.expr(), schema, req.expr_template_values());
  if (!filter.ok()) return filter.status();
  auto times = ReadTimesFor(ctx, *coll, EffectiveLevel(*coll, req.consistency_level(), req.use_default_consistency()),
                            req.guarantee_timestamp());
  if (!times.ok()) return times.status();
  querynode::ReadSpec read = times->Spec(coll->collectionid(), *partitions, filter->get());
  resp->set_collection_name(coll->collection_name());
  for (const auto& field : schema.fields()) {
    if (field.is_primary_key()) resp->set_primary_field_name(field.name());
  }

  if (count_only) {
    auto count = deps_.query_node->Count(read);
    if (!count.ok()) return count.status();
    auto* column = resp->add_fields_data();
    column->set_type(spb::Int64);
    column->set_field_name(kCountStar);
    column->mutable_scalars()->mutable_long_data()->add_data(*count);
    resp->add_output_fields(kCountStar);
    return Status::OK();
  }
  auto plan = PlanOutput(schema, req.output_fields());
  if (!plan.ok()) return plan.status();
  auto result = deps_.query_node->Query(read, plan->field_ids, offset, limit.value_or(-1));
  if (!result.ok()) return result.status();
  WriteOutputColumns(schema, *plan, std::move(result->columns), resp->mutable_fields_data(),
                     resp->mutable_output_fields());
  return Status::OK();
}

StatusOr<int64_t> Proxy::RowCount(const mpb::DescribeCollectionResponse& coll, std::optional<int64_t> partition_id) {
  auto segments = deps_.data_coord->ListSegments(coll.collectionid());
  if (!segments.ok()) return segments.status();
  auto written = deps_.streaming_node->RowsWritten(coll.collectionid());
  int64_t rows = 0;
  for (const auto& record : *segments) {
    if (record.level_zero() || (partition_id && record.partition_id() != *partition_id)) continue;
    if (record.state() == quiver::data::FLUSHED) {
      rows += record.num_rows();
    } else if (auto it = written.find(record.id()); it != written.end()) {
      rows += it->second;  // still in the WAL: count what this run wrote
    }
  }
  return rows;
}

}  // namespace quiver::proxy
