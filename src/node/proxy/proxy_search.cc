// Proxy: vector indexes and searches.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "index/vector_index.h"
#include "node/proxy/output_plan.h"
#include "node/proxy/proxy.h"
#include "node/proxy/schema_validation.h"
#include "segment/field_data.h"
#include "segment/vector_view.h"

namespace quiver::proxy {

namespace spb = milvus::proto::schema;

// What one ANN request asks for, parsed from search_params and the placeholder group.
struct AnnRequest {
  const spb::FieldSchema* field = nullptr;
  std::optional<index::MetricType> metric;  // unset: the index's
  std::string params_json = "{}";
  int64_t limit = 10;
  int64_t offset = 0;
  int round_decimal = -1;
  const spb::FieldSchema* group_by = nullptr;
  int64_t group_size = 1;
  segment::VectorView queries;
  std::string filter;
  const google::protobuf::Map<std::string, spb::TemplateValue>* filter_params = nullptr;
};

namespace {

constexpr int64_t kMaxTopK = 16384;  // Milvus's quota on limit + offset

std::map<std::string, std::string> ToMap(const google::protobuf::RepeatedPtrField<cpb::KeyValuePair>& pairs) {
  std::map<std::string, std::string> out;
  for (const auto& kv : pairs) out[kv.key()] = kv.value();
  return out;
}

StatusOr<int64_t> IntParam(const std::map<std::string, std::string>& params, const std::string& key,
                           int64_t fallback) {
  auto it = params.find(key);
  if (it == params.end() || it->second.empty()) return fallback;
  try {
    size_t used = 0;
    int64_t value = std::stoll(it->second, &used);
    if (used == it->second.size()) return value;
  } catch (const std::exception&) {
  }
  return InvalidParameter(key + " [" + it->second + "] is invalid, should be an integer");
}

// Milvus's index description lists index_type and metric_type, and the rest as JSON.
void DescribeParams(const indexcoord::IndexRecord& record, google::protobuf::RepeatedPtrField<cpb::KeyValuePair>* out) {
  nlohmann::json rest = nlohmann::json::object();
  for (const auto& kv : record.params()) {
    if (kv.key() == "index_type" || kv.key() == "metric_type") {
      *out->Add() = kv;
      continue;
    }
    auto number = nlohmann::json::parse(kv.value(), nullptr, false);
    rest[kv.key()] = number.is_number() ? number : nlohmann::json(kv.value());
  }
  auto* params = out->Add();
  params->set_key("params");
  params->set_value(rest.dump());
}

float Round(float score, int decimals) {
  if (decimals < 0) return score;
  double scale = std::pow(10.0, decimals);
  return static_cast<float>(std::round(score * scale) / scale);
}

// Scores of different metrics made comparable for weighted fusion, as Milvus does.
float Normalize(index::MetricType metric, float score) {
  switch (metric) {
    case index::MetricType::kCosine: return (1.0f + score) / 2.0f;
    case index::MetricType::kIP: return 0.5f + static_cast<float>(std::atan(score) / M_PI);
    default: return 1.0f - static_cast<float>(2.0 * std::atan(score) / M_PI);
  }
}

std::string PrimaryKeyText(const spb::FieldData& pk, int64_t row) {
  return pk.type() == spb::VarChar ? std::string(segment::StringAt(pk, row)) : std::to_string(segment::IntAt(pk, row));
}

void SetIds(const spb::FieldData& pk, spb::IDs* ids) {
  if (pk.type() == spb::VarChar) {
    *ids->mutable_str_id()->mutable_data() = pk.scalars().string_data().data();
  } else {
    *ids->mutable_int_id()->mutable_data() = pk.scalars().long_data().data();
  }
}

}  // namespace

// ---- indexes ----

StatusOr<std::vector<indexcoord::IndexRecord>> Proxy::FindIndexes(const mpb::DescribeCollectionResponse& coll,
                                                                  const std::string& field_name,
                                                                  const std::string& index_name) {
  std::vector<indexcoord::IndexRecord> found;
  for (auto& record : deps_.index_coord->ListIndexes(coll.collectionid())) {
    const auto* field = FieldById(coll.schema(), record.field_id());
    if (!index_name.empty() && record.index_name() != index_name) continue;
    if (index_name.empty() && !field_name.empty() && (!field || field->name() != field_name)) continue;
    found.push_back(std::move(record));
  }
  if (found.empty()) {
    return Status(Code::kIndexNotFound, "index not found[collection=" + coll.collection_name() + "]" +
                                            (index_name.empty() ? "" : "[indexName=" + index_name + "]"));
  }
  return found;
}

Status Proxy::CreateIndex(const CallContext& ctx, const mpb::CreateIndexRequest& req, cpb::Status*) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  const auto* field = FieldByName(coll->schema(), req.field_name());
  if (!field) return Status(Code::kFieldNotFound, "cannot create index on non-exist field: " + req.field_name());
  if (!IsVectorType(field->data_type())) {
    return Status(Code::kIndexNotSupported, "index type not supported[scalar field " + field->name() +
                                                ": scalar indexes are not supported yet in Quiver]");
  }
  auto params = indexcoord::FlattenIndexParams(req.extra_params());
  if (!params.ok()) return params.status();
  if (!params->count("index_type") || (*params)["index_type"].empty()) (*params)["index_type"] = "AUTOINDEX";
  return deps_.index_coord->CreateIndex(coll->collectionid(), *field, req.index_name(), *params);
}

Status Proxy::DescribeIndex(const CallContext& ctx, const mpb::DescribeIndexRequest& req,
                            mpb::DescribeIndexResponse* resp) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  auto indexes = FindIndexes(*coll, req.field_name(), req.index_name());
  if (!indexes.ok()) return indexes.status();
  for (const auto& record : *indexes) {
    auto progress = deps_.index_coord->Progress(coll->collectionid(), record.index_id());
    auto* desc = resp->add_index_descriptions();
    desc->set_index_name(record.index_name());
    desc->set_indexid(record.index_id());
    DescribeParams(record, desc->mutable_params());
    if (const auto* field = FieldById(coll->schema(), record.field_id())) desc->set_field_name(field->name());
    desc->set_indexed_rows(progress.indexed_rows);
    desc->set_total_rows(progress.total_rows);
    desc->set_pending_index_rows(progress.total_rows - progress.indexed_rows);
    desc->set_state(progress.state);
    desc->set_index_state_fail_reason(progress.fail_reason);
  }
  return Status::OK();
}

Status Proxy::DropIndex(const CallContext& ctx, const mpb::DropIndexRequest& req, cpb::Status*) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  auto indexes = FindIndexes(*coll, req.field_name(), req.index_name());
  if (!indexes.ok()) return Status::OK();  // dropping is idempotent, as in Milvus
  if (deps_.query_coord->State(coll->collectionid(), {}) != querycoord::LoadState::kNotLoad) {
    return InvalidParameter("index cannot be dropped, collection is loaded, please release it first");
  }
  for (const auto& record : *indexes) {
    QUIVER_RETURN_IF_ERROR(deps_.index_coord->DropIndex(coll->collectionid(), record.index_id()));
  }
  return Status::OK();
}

Status Proxy::GetIndexState(const CallContext& ctx, const mpb::GetIndexStateRequest& req,
                            mpb::GetIndexStateResponse* resp) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  auto indexes = FindIndexes(*coll, req.field_name(), req.index_name());
  if (!indexes.ok()) return indexes.status();
  auto progress = deps_.index_coord->Progress(coll->collectionid(), indexes->front().index_id());
  resp->set_state(progress.state);
  resp->set_fail_reason(progress.fail_reason);
  return Status::OK();
}

Status Proxy::GetIndexBuildProgress(const CallContext& ctx, const mpb::GetIndexBuildProgressRequest& req,
                                    mpb::GetIndexBuildProgressResponse* resp) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  auto indexes = FindIndexes(*coll, req.field_name(), req.index_name());
  if (!indexes.ok()) return indexes.status();
  auto progress = deps_.index_coord->Progress(coll->collectionid(), indexes->front().index_id());
  resp->set_indexed_rows(progress.indexed_rows);
  resp->set_total_rows(progress.total_rows);
  return Status::OK();
}

Status Proxy::CheckIndexedForLoad(const mpb::DescribeCollectionResponse& coll) {
  auto indexes = deps_.index_coord->ListIndexes(coll.collectionid());
  for (const auto& field : coll.schema().fields()) {
    if (!IsVectorType(field.data_type())) continue;
    bool indexed = std::any_of(indexes.begin(), indexes.end(),
                               [&](const auto& record) { return record.field_id() == field.fieldid(); });
    if (!indexed) {
      return Status(Code::kIndexNotFound, "index not found[collection=" + coll.collection_name() +
                                              "]: there is no vector index on field: [" + field.name() +
                                              "], please create index firstly");
    }
  }
  return Status::OK();
}

// ---- search ----

StatusOr<querynode::SearchHits> Proxy::RunAnn(const mpb::DescribeCollectionResponse& coll, AnnRequest& ann,
                                              const std::vector<int64_t>& partitions, const ReadTimes& times,
                                              const std::vector<int64_t>& output_field_ids) {
  std::optional<index::IndexSpec> spec = deps_.index_coord->SpecOfField(coll.collectionid(), ann.field->fieldid());
  index::MetricType metric = ann.metric.value_or(spec ? spec->metric : index::MetricType::kL2);
  ann.metric = metric;  // callers fusing scores need the metric actually used
  // Checked here too, so a mistake fails the same way whether or not segments are indexed yet.
  auto checked = index::ParseSearchParams(spec ? &*spec : nullptr, metric, ann.params_json, ann.limit + ann.offset);
  if (!checked.ok()) return checked.status();
  auto filter = expr::CompileFilter(ann.filter, coll.schema(),
                                    ann.filter_params ? *ann.filter_params : expr::TemplateValues{});
  if (!filter.ok()) return filter.status();
  querynode::ReadSpec read = times.Spec(coll.collectionid(), partitions, filter->get());
  querynode::SearchSpec search;
  search.field_id = ann.field->fieldid();
  search.dim = TypeParamInt(*ann.field, kDimKey).value_or(0);
  search.metric = metric;
  search.queries = &ann.queries.data;
  search.k = ann.limit + ann.offset;
  search.params = *checked;
  if (ann.group_by) search.group_by_field_id = ann.group_by->fieldid();
  search.group_size = ann.group_size;
  search.group_offset = ann.group_by ? ann.offset : 0;
  return deps_.query_node->Search(read, search, output_field_ids);
}

namespace {

// Parses search_params and the placeholder group of a Search (or of one HybridSearch request).
StatusOr<AnnRequest*> ParseAnn(const spb::CollectionSchema& schema,
                                     const google::protobuf::RepeatedPtrField<cpb::KeyValuePair>& search_params,
                                     const std::string& placeholder_group, AnnRequest* ann) {
  auto params = ToMap(search_params);
  std::string field_name = params.count("anns_field") ? params["anns_field"] : "";
  if (field_name.empty()) {
    for (const auto& field : schema.fields()) {
      if (IsVectorType(field.data_type())) {
        if (!field_name.empty()) return InvalidParameter("multiple anns_fields exist, please specify a anns_field in search_params");
        field_name = field.name();
      }
    }
  }
  ann->field = FieldByName(schema, field_name);
  if (!ann->field || !IsVectorType(ann->field->data_type())) {
    return Status(Code::kFieldNotFound, "failed to get field schema by name[fieldName=" + field_name + "]");
  }
  if (params.count("metric_type") && !params["metric_type"].empty()) {
    auto metric = index::ParseMetric(params["metric_type"]);
    if (!metric.ok()) return metric.status();
    ann->metric = *metric;
  }
  if (params.count("params") && !params["params"].empty()) ann->params_json = params["params"];
  auto limit = IntParam(params, "topk", 10);
  if (!limit.ok()) return limit.status();
  auto offset = IntParam(params, "offset", 0);
  if (!offset.ok()) return offset.status();
  auto round = IntParam(params, "round_decimal", -1);
  if (!round.ok()) return round.status();
  auto group_size = IntParam(params, "group_size", 1);
  if (!group_size.ok()) return group_size.status();
  if (*limit <= 0 || *offset < 0 || *limit + *offset > kMaxTopK) {
    return InvalidParameter("limit+offset should be in range [1, " + std::to_string(kMaxTopK) + "], but got " +
                            std::to_string(*limit + *offset));
  }
  if (*round != -1 && (*round < 0 || *round > 6)) {
    return InvalidParameter("round_decimal " + std::to_string(*round) + " is invalid, should be -1 or an integer in range [0, 6]");
  }
  ann->limit = *limit;
  ann->offset = *offset;
  ann->round_decimal = static_cast<int>(*round);
  ann->group_size = std::max<int64_t>(1, *group_size);
  if (params.count("group_by_field") && !params["group_by_field"].empty()) {
    ann->group_by = FieldByName(schema, params["group_by_field"]);
    if (!ann->group_by) return Status(Code::kFieldNotFound, "group by field " + params["group_by_field"] + " not found");
    if (IsVectorType(ann->group_by->data_type()) || ann->group_by->data_type() == spb::JSON ||
        ann->group_by->data_type() == spb::Float || ann->group_by->data_type() == spb::Double ||
        ann->group_by->data_type() == spb::Array) {
      return InvalidParameter("group by field " + ann->group_by->name() + " must be a bool, integer or varchar field");
    }
  }
  cpb::PlaceholderGroup group;
  if (!group.ParseFromString(placeholder_group) || group.placeholders_size() != 1) {
    return InvalidParameter("the search request carries no valid query vectors (placeholder group)");
  }
  const auto& placeholder = group.placeholders(0);
  spb::DataType expected = ann->field->data_type();
  if (static_cast<int>(placeholder.type()) != static_cast<int>(expected)) {
    return InvalidParameter("the type of the query vectors (" + cpb::PlaceholderType_Name(placeholder.type()) +
                            ") does not match field " + ann->field->name() + " (" + spb::DataType_Name(expected) + ")");
  }
  if (placeholder.values_size() == 0) return InvalidParameter("nq should be greater than 0");
  auto queries = segment::ViewQueries(expected, TypeParamInt(*ann->field, kDimKey).value_or(0), placeholder.values());
  if (!queries.ok()) return queries.status();
  ann->queries = std::move(*queries);
  return ann;
}

}  // namespace

Status Proxy::Search(const CallContext& ctx, const mpb::SearchRequest& req, mpb::SearchResults* resp) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  if (coll->num_partitions() > 0 && !req.partition_names().empty()) {
    return InvalidParameter("not support manually specifying the partition names if partition key mode is used");
  }
  if (req.has_ids()) return NotImplemented("search by primary keys");
  auto partitions = ReadablePartitions(*coll, req.partition_names());
  if (!partitions.ok()) return partitions.status();
  AnnRequest ann;
  auto parsed = ParseAnn(coll->schema(), req.search_params(), req.placeholder_group(), &ann);
  if (!parsed.ok()) return parsed.status();
  ann.filter = req.dsl();
  ann.filter_params = &req.expr_template_values();
  auto plan = PlanOutput(coll->schema(), req.output_fields());
  if (!plan.ok()) return plan.status();
  auto times = ReadTimesFor(ctx, *coll, req.use_default_consistency() ? coll->consistency_level() : req.consistency_level(),
                            req.guarantee_timestamp());
  if (!times.ok()) return times.status();
  auto hits = RunAnn(*coll, ann, *partitions, *times, plan->field_ids);
  if (!hits.ok()) return hits.status();

  // Drop each query's first `offset` hits, round scores, and lay the rest out per query.
  std::vector<int64_t> kept;
  auto* results = resp->mutable_results();
  int64_t base = 0;
  for (int64_t topk : hits->topks) {
    // With grouping the query node already skipped `offset` groups and kept `limit`.
    int64_t skip = ann.group_by ? 0 : ann.offset;
    int64_t take = std::max<int64_t>(0, ann.group_by ? topk : std::min(topk - skip, ann.limit));
    for (int64_t i = 0; i < take; ++i) {
      int64_t hit = base + skip + i;
      kept.push_back(hit);
      results->add_scores(Round(hits->scores[static_cast<size_t>(hit)], ann.round_decimal));
    }
    results->add_topks(take);
    base += topk;
  }
  std::vector<spb::FieldData> columns(hits->columns.size());
  for (size_t f = 0; f < hits->columns.size(); ++f) segment::GatherRows(hits->columns[f], kept, &columns[f]);
  SetIds(columns.front(), results->mutable_ids());
  if (ann.group_by) {
    segment::GatherRows(hits->group_values, kept, results->mutable_group_by_field_value());
    results->mutable_group_by_field_value()->set_field_name(ann.group_by->name());
    results->mutable_group_by_field_value()->set_field_id(ann.group_by->fieldid());
    results->mutable_group_by_field_value()->set_type(ann.group_by->data_type());
  }
  WriteOutputColumns(coll->schema(), *plan, std::move(columns), results->mutable_fields_data(),
                     results->mutable_output_fields());
  results->set_num_queries(static_cast<int64_t>(hits->topks.size()));
  results->set_top_k(ann.limit);
  results->set_primary_field_name(FieldById(coll->schema(), plan->field_ids.front())->name());
  resp->set_collection_name(coll->collection_name());
  return Status::OK();
}

Status Proxy::HybridSearch(const CallContext& ctx, const mpb::HybridSearchRequest& req, mpb::SearchResults* resp) {
  auto coll = Describe(ctx, req.db_name(), req.collection_name());
  if (!coll.ok()) return coll.status();
  if (req.requests().empty()) return InvalidParameter("hybrid search needs at least one request");
  auto partitions = ReadablePartitions(*coll, req.partition_names());
  if (!partitions.ok()) return partitions.status();
  auto rank = ToMap(req.rank_params());
  auto limit = IntParam(rank, "limit", 10);
  if (!limit.ok()) return limit.status();
  auto offset = IntParam(rank, "offset", 0);
  if (!offset.ok()) return offset.status();
  auto round = IntParam(rank, "round_decimal", -1);
  if (!round.ok()) return round.status();
  if (*limit <= 0 || *offset < 0 || *limit + *offset > kMaxTopK) {
    return InvalidParameter("limit+offset should be in range [1, " + std::to_string(kMaxTopK) + "]");
  }
  std::string strategy = rank.count("strategy") ? rank["strategy"] : "rrf";
  auto rank_params = nlohmann::json::parse(rank.count("params") ? rank["params"] : "{}", nullptr, false);
  if (rank_params.is_discarded() || !rank_params.is_object()) return InvalidParameter("rank params must be a JSON object");
  double rrf_k = rank_params.value("k", 60.0);
  std::vector<double> weights;
  if (strategy == "weighted") {
    if (!rank_params.contains("weights") || !rank_params["weights"].is_array()) {
      return InvalidParameter("weighted ranker needs params.weights, one per request");
    }
    for (const auto& w : rank_params["weights"]) weights.push_back(w.get<double>());
    if (weights.size() != static_cast<size_t>(req.requests_size())) {
      return InvalidParameter("the number of weights (" + std::to_string(weights.size()) +
                              ") must equal the number of requests (" + std::to_string(req.requests_size()) + ")");
    }
  } else if (strategy != "rrf") {
    return InvalidParameter("unknown rank strategy " + strategy + ", expected rrf or weighted");
  } else if (rrf_k <= 0 || rrf_k >= 16384) {
    return InvalidParameter("the k of the rrf ranker must be in (0, 16384)");
  }
  auto plan = PlanOutput(coll->schema(), req.output_fields());
  if (!plan.ok()) return plan.status();
  auto times = ReadTimesFor(ctx, *coll, req.use_default_consistency() ? coll->consistency_level() : req.consistency_level(),
                            req.guarantee_timestamp());
  if (!times.ok()) return times.status();

  // Fused score per (query, primary key), and where to copy the row's fields from.
  struct Fused {
    double score = 0;
    size_t request = 0;
    int64_t hit = 0;
  };
  std::vector<querynode::SearchHits> all_hits;
  std::vector<std::map<std::string, Fused>> fused;
  int64_t nq = -1;
  for (int r = 0; r < req.requests_size(); ++r) {
    const auto& sub = req.requests(r);
    AnnRequest ann;
    auto parsed = ParseAnn(coll->schema(), sub.search_params(), sub.placeholder_group(), &ann);
    if (!parsed.ok()) return parsed.status();
    ann.filter = sub.dsl();
    ann.filter_params = &sub.expr_template_values();
    auto hits = RunAnn(*coll, ann, *partitions, *times, plan->field_ids);
    if (!hits.ok()) return hits.status();
    if (nq < 0) {
      nq = static_cast<int64_t>(hits->topks.size());
      fused.resize(static_cast<size_t>(nq));
    } else if (nq != static_cast<int64_t>(hits->topks.size())) {
      return InvalidParameter("every request of a hybrid search must have the same number of query vectors");
    }
    index::MetricType metric = *ann.metric;  // resolved by RunAnn
    int64_t base = 0;
    for (int64_t q = 0; q < nq; ++q) {
      for (int64_t rank_in_list = 0; rank_in_list < hits->topks[static_cast<size_t>(q)]; ++rank_in_list) {
        int64_t hit = base + rank_in_list;
        std::string pk = PrimaryKeyText(hits->columns.front(), hit);
        auto [it, inserted] = fused[static_cast<size_t>(q)].try_emplace(pk, Fused{0, all_hits.size(), hit});
        it->second.score += strategy == "rrf"
                                ? 1.0 / (rrf_k + static_cast<double>(rank_in_list + 1))
                                : weights[static_cast<size_t>(r)] * Normalize(metric, hits->scores[static_cast<size_t>(hit)]);
      }
      base += hits->topks[static_cast<size_t>(q)];
    }
    all_hits.push_back(std::move(*hits));
  }

  auto* results = resp->mutable_results();
  std::vector<spb::FieldData> columns(plan->field_ids.size());
  for (int64_t q = 0; q < nq; ++q) {
    std::vector<const Fused*> order;
    for (const auto& [pk, entry] : fused[static_cast<size_t>(q)]) order.push_back(&entry);
    std::stable_sort(order.begin(), order.end(), [](const Fused* a, const Fused* b) { return a->score > b->score; });
    int64_t take = std::max<int64_t>(0, std::min<int64_t>(static_cast<int64_t>(order.size()) - *offset, *limit));
    for (int64_t i = 0; i < take; ++i) {
      const Fused* entry = order[static_cast<size_t>(*offset + i)];
      results->add_scores(Round(static_cast<float>(entry->score), static_cast<int>(*round)));
      const int64_t row[] = {entry->hit};
      for (size_t f = 0; f < columns.size(); ++f) {
        segment::GatherRows(all_hits[entry->request].columns[f], row, &columns[f]);
      }
    }
    results->add_topks(take);
  }
  if (!columns.empty() && segment::RowCount(columns.front()) > 0) SetIds(columns.front(), results->mutable_ids());
  WriteOutputColumns(coll->schema(), *plan, std::move(columns), results->mutable_fields_data(),
                     results->mutable_output_fields());
  results->set_num_queries(nq);
  results->set_top_k(*limit);
  results->set_primary_field_name(FieldById(coll->schema(), plan->field_ids.front())->name());
  resp->set_collection_name(coll->collection_name());
  return Status::OK();
}

}  // namespace quiver::proxy
