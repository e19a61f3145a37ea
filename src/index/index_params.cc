// CreateIndex and search parameter checks, following Milvus 2.6: the proxy's
// parseIndexParams (AUTOINDEX, metric per vector kind, data type per index) and knowhere's
// config checks (ranges, defaults, string-to-number rules) with their messages.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>

#include "index/vector_index.h"

namespace quiver::index {
namespace {

using nlohmann::json;

constexpr char kIndexTypeKey[] = "index_type";
constexpr char kMetricTypeKey[] = "metric_type";
constexpr char kParamsKey[] = "params";
constexpr char kDimKey[] = "dim";
constexpr char kAutoIndex[] = "AUTOINDEX";
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

enum class VectorKind { kNone, kDense, kInt8, kBinary, kSparse };

VectorKind KindOf(spb::DataType type) {
  switch (type) {
    case spb::FloatVector:
    case spb::Float16Vector:
    case spb::BFloat16Vector: return VectorKind::kDense;
    case spb::Int8Vector: return VectorKind::kInt8;
    case spb::BinaryVector: return VectorKind::kBinary;
    case spb::SparseFloatVector: return VectorKind::kSparse;
    default: return VectorKind::kNone;
  }
}

// Milvus's autoIndex.params.{build,binary.build,sparse.build} defaults.
std::map<std::string, std::string> AutoIndexConfig(VectorKind kind) {
  switch (kind) {
    case VectorKind::kBinary: return {{kIndexTypeKey, "BIN_IVF_FLAT"}, {kMetricTypeKey, "HAMMING"}, {"nlist", "1024"}};
    case VectorKind::kSparse: return {{kIndexTypeKey, "SPARSE_INVERTED_INDEX"}, {kMetricTypeKey, "IP"}};
    default: return {{kIndexTypeKey, "HNSW"}, {kMetricTypeKey, "COSINE"}, {"M", "18"}, {"efConstruction", "240"}};
  }
}

// Index types Quiver builds, by the name users give them.
std::optional<IndexType> QuiverIndexType(const std::string& name) {
  static const std::map<std::string, IndexType> kTypes = {
      {"FLAT", IndexType::kFlat},
      {"IVF_FLAT", IndexType::kIvfFlat},
      {"IVF_SQ8", IndexType::kIvfSq8},
      {"IVF_PQ", IndexType::kIvfPq},
      {"HNSW", IndexType::kHnsw},
      {"BIN_FLAT", IndexType::kBinFlat},
      {"BIN_IVF_FLAT", IndexType::kBinIvfFlat},
      {"SPARSE_INVERTED_INDEX", IndexType::kSparseInvertedIndex},
      {"SPARSE_WAND", IndexType::kSparseInvertedIndex},
  };
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

// Vector index types Milvus knows and Quiver does not build.
bool IsUnsupportedMilvusVectorIndex(const std::string& name) {
  static const std::set<std::string> kNames = {
      "DISKANN",      "SCANN",      "IVF_RABITQ", "HNSW_SQ",         "HNSW_PQ",     "HNSW_PRQ",
      "GPU_IVF_FLAT", "GPU_IVF_PQ", "GPU_CAGRA",  "GPU_BRUTE_FORCE", "MINHASH_LSH",
  };
  return kNames.count(name) != 0;
}

// Scalar index types: known to Milvus, so naming one on a vector field fails later, on its
// metric or data type, rather than as an unknown index type.
bool IsScalarIndex(const std::string& name) {
  static const std::set<std::string> kNames = {"INVERTED", "STL_SORT", "Trie", "BITMAP", "NGRAM", "RTREE"};
  return kNames.count(name) != 0;
}

bool Contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string BracketList(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? " " : "") + values[i];
  return out + "]";
}

// The proxy wraps every checkTrain failure this way.
Status InvalidIndexParams(const std::string& detail) {
  return {Code::kParameterInvalid,
          detail + ": invalid parameter[expected=valid index params][actual=invalid index params]"};
}

// Knowhere's verdicts reach the proxy as service-internal errors before that wrapping.
Status KnowhereRefusal(const std::string& detail) { return InvalidIndexParams(detail + ": service internal error"); }

// Go's %f.
std::string GoFloat(double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%f", value);
  return buf;
}

// Go's %v of a JSON-decoded value (funcutil.JSONToMap): strings bare, numbers shortest.
std::string GoValueText(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e21) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.0f", d);
      return buf;
    }
  }
  return value.dump();
}

// --- knowhere's config loading: strings become numbers first, then types and ranges ---

std::string RangeText(int64_t min, int64_t max) { return "[" + std::to_string(min) + ", " + std::to_string(max) + "]"; }

// Turns a string knob into an integer like knowhere's FormatAndCheck (std::stoll, whole
// string, int32), and checks type and range like its Config::Load.
StatusOr<std::optional<int64_t>> LoadIntKnob(const json& params, const std::string& key, int64_t min, int64_t max,
                                             std::optional<int64_t> default_value, bool for_index) {
  auto refuse = [for_index](const std::string& msg) -> Status {
    return for_index ? KnowhereRefusal(msg) : InvalidParameter(msg);
  };
  auto it = params.find(key);
  if (it == params.end()) return default_value;
  json value = *it;
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    size_t used = 0;
    int64_t parsed = 0;
    try {
      parsed = std::stoll(text, &used);
    } catch (const std::out_of_range&) {
      return refuse("integer value out of range, key: '" + key + "', value: '" + text + "'");
    } catch (const std::invalid_argument&) {
      return refuse("invalid integer value, key: '" + key + "', value: '" + text + "'");
    }
    if (used < text.size()) return refuse("wrong data type in json, key: '" + key + "', value: '" + text + "'");
    if (parsed < std::numeric_limits<int32_t>::min() || parsed > kInt32Max) {
      return refuse("integer value out of range, key: '" + key + "', value: '" + text + "'");
    }
    value = parsed;
  }
  if (!value.is_number_integer()) {
    return refuse("Type conflict in json: param '" + key + "' (" + value.dump() + ") should be integer");
  }
  if (value.is_number_unsigned() ? value.get<uint64_t>() > static_cast<uint64_t>(kInt32Max)
                                 : value.get<int64_t>() > kInt32Max) {
    return refuse("Arithmetic overflow: param '" + key + "' (" + value.dump() + ") should not bigger than " +
                  std::to_string(kInt32Max));
  }
  const int64_t v = value.get<int64_t>();
  if (v < min || v > max) {
    return refuse("Out of range in json: param '" + key + "' (" + value.dump() + ") should be in range " +
                  RangeText(min, max));
  }
  return std::optional<int64_t>(v);
}

// A float knob with range [0, 1), the only kind Quiver's indexes read.
Status CheckUnitRatioKnob(const json& params, const std::string& key, bool for_index) {
  auto refuse = [for_index](const std::string& msg) -> Status {
    return for_index ? KnowhereRefusal(msg) : InvalidParameter(msg);
  };
  auto it = params.find(key);
  if (it == params.end()) return Status::OK();
  json value = *it;
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    try {
      value = std::stof(text);
    } catch (const std::out_of_range&) {
      return refuse("float value out of range, key: '" + key + "', value: '" + text + "'");
    } catch (const std::invalid_argument&) {
      return refuse("invalid float value, key: '" + key + "', value: '" + text + "'");
    }
  }
  if (!value.is_number()) {
    return refuse("Type conflict in json: param '" + key + "' (" + value.dump() + ") should be a number");
  }
  const double v = value.get<double>();
  if (!(v >= 0.0 && v < 1.0)) {
    return refuse("Out of range in json: param '" + key + "' (" + value.dump() + ") should be in range [" +
                  std::to_string(0.0f) + ", " + std::to_string(1.0f) + ")");
  }
  return Status::OK();
}

// --- CreateIndex ---

// Merges the request's key-value pairs, expanding the "params" JSON object like Milvus.
StatusOr<std::map<std::string, std::string>> FlattenIndexParams(const std::map<std::string, std::string>& params) {
  std::map<std::string, std::string> flat;
  for (const auto& [key, value] : params) {
    if (key != kParamsKey) {
      flat[key] = value;
      continue;
    }
    json object = json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded() || !object.is_object()) {
      return Status(Code::kUnexpected, "unmarshal params failed, invalid JSON: " + value);
    }
    for (const auto& [k, v] : object.items()) flat[k] = GoValueText(v);
  }
  return flat;
}

// AUTOINDEX (named, or implied by a missing index_type) takes only a metric type; Milvus
// then substitutes its configured index for the field's vector kind.
Status ApplyAutoIndex(VectorKind kind, size_t allowed_keys, std::map<std::string, std::string>* params) {
  auto metric = params->find(kMetricTypeKey);
  const bool metric_given = metric != params->end();
  if (params->size() > allowed_keys + (metric_given ? 1 : 0)) {
    return {Code::kUnexpected, "only metric type can be passed when use AutoIndex"};
  }
  std::optional<std::string> user_metric;
  if (metric_given) user_metric = metric->second;
  for (const auto& [key, value] : AutoIndexConfig(kind)) (*params)[key] = value;
  if (user_metric) (*params)[kMetricTypeKey] = *user_metric;
  return Status::OK();
}

// The proxy's metric check, made before the index-specific checks.
Status CheckMetricForKind(VectorKind kind, const std::string& metric) {
  switch (kind) {
    case VectorKind::kDense:
    case VectorKind::kInt8:
      if (!Contains({"L2", "IP", "COSINE"}, metric)) {
        return InvalidIndexParams("float vector index does not support metric type: " + metric);
      }
      break;
    case VectorKind::kSparse:
      if (!Contains({"IP", "BM25"}, metric)) {
        return InvalidIndexParams("only IP&BM25 is the supported metric type for sparse index");
      }
      break;
    case VectorKind::kBinary:
      if (!Contains({"HAMMING", "JACCARD", "SUBSTRUCTURE", "SUPERSTRUCTURE", "MHJACCARD"}, metric)) {
        return InvalidIndexParams("binary vector index does not support metric type: " + metric);
      }
      break;
    case VectorKind::kNone: break;
  }
  return Status::OK();
}

bool IndexSupportsKind(const std::string& index_name, VectorKind kind) {
  auto type = QuiverIndexType(index_name);
  if (!type) return false;
  switch (*type) {
    case IndexType::kFlat:
    case IndexType::kIvfFlat:
    case IndexType::kIvfSq8:
    case IndexType::kIvfPq: return kind == VectorKind::kDense;
    case IndexType::kHnsw: return kind == VectorKind::kDense || kind == VectorKind::kInt8;
    case IndexType::kBinFlat:
    case IndexType::kBinIvfFlat: return kind == VectorKind::kBinary;
    case IndexType::kSparseInvertedIndex: return kind == VectorKind::kSparse;
  }
  return false;
}

std::optional<std::string> TypeParam(const spb::FieldSchema& field, const std::string& key) {
  for (const auto& kv : field.type_params()) {
    if (kv.key() == key) return kv.value();
  }
  for (const auto& kv : field.index_params()) {
    if (kv.key() == key) return kv.value();
  }
  return std::nullopt;
}

// fillDimension plus the fixed-dimension range check of checkTrain.
StatusOr<int64_t> ResolveDim(const spb::FieldSchema& field, const std::map<std::string, std::string>& params) {
  auto schema_dim = TypeParam(field, kDimKey);
  if (!schema_dim) return InvalidIndexParams("dimension not found in schema");
  auto given = params.find(kDimKey);
  if (given != params.end() && given->second != *schema_dim) {
    return InvalidIndexParams("dimension mismatch, dimension in schema: " + *schema_dim +
                              ", dimension: " + given->second);
  }
  int64_t dim = 0;
  try {
    size_t used = 0;
    dim = std::stoll(*schema_dim, &used);
    if (used != schema_dim->size()) dim = 0;
  } catch (const std::exception&) {
    dim = 0;
  }
  if (dim < 1) {
    return InvalidIndexParams("failed to check vector dimension, should be larger than 0 and smaller than math.MaxInt");
  }
  return dim;
}

// Knowhere's per-index configs: ranges, defaults and cross-checks of the build knobs.
Status LoadBuildKnobs(IndexType type, const json& knobs, IndexSpec* spec) {
  auto load = [&](const std::string& key, int64_t min, int64_t max, std::optional<int64_t> def) -> Status {
    auto value = LoadIntKnob(knobs, key, min, max, def, /*for_index=*/true);
    if (!value.ok()) return value.status();
    if (!value->has_value()) return KnowhereRefusal("param '" + key + "' not exist in json");
    spec->build_params[key] = **value;
    return Status::OK();
  };
  switch (type) {
    case IndexType::kFlat:
    case IndexType::kBinFlat: return Status::OK();
    case IndexType::kIvfFlat:
    case IndexType::kIvfSq8:
    case IndexType::kBinIvfFlat: return load("nlist", 1, 65536, 128);
    case IndexType::kIvfPq: {
      QUIVER_RETURN_IF_ERROR(load("nlist", 1, 65536, 128));
      QUIVER_RETURN_IF_ERROR(load("m", 1, 65536, std::nullopt));
      // Knowhere caps nbits at FAISS's limit of 24.
      QUIVER_RETURN_IF_ERROR(load("nbits", 1, 24, 8));
      const int64_t m = spec->build_params["m"];
      if (spec->dim % m != 0) {
        return KnowhereRefusal(
            "The dimension of a vector (dim) should be a multiple of the number of subquantizers (m). Dimension: " +
            std::to_string(spec->dim) + ", m: " + std::to_string(m));
      }
      return Status::OK();
    }
    case IndexType::kHnsw:
      QUIVER_RETURN_IF_ERROR(load("M", 2, 2048, 30));
      return load("efConstruction", 1, kInt32Max, 360);
    case IndexType::kSparseInvertedIndex: {
      // drop_ratio_build is deprecated in knowhere and changes nothing; it is still checked.
      QUIVER_RETURN_IF_ERROR(CheckUnitRatioKnob(knobs, "drop_ratio_build", /*for_index=*/true));
      auto algo = knobs.find("inverted_index_algo");
      const std::vector<std::string> kAlgos = {"TAAT_NAIVE", "DAAT_WAND", "DAAT_MAXSCORE"};
      if (algo != knobs.end() && !Contains(kAlgos, algo->get<std::string>())) {
        return KnowhereRefusal("sparse inverted index algo " + algo->get<std::string>() +
                               " not found or not supported, supported: " + BracketList(kAlgos));
      }
      return Status::OK();
    }
  }
  return Status::OK();
}

// Knowhere's train-time metric check, stricter than the proxy's for some index types.
Status CheckMetricForIndex(IndexType type, const std::string& metric) {
  std::vector<std::string> supported;
  switch (type) {
    case IndexType::kBinIvfFlat: supported = {"HAMMING", "JACCARD"}; break;
    case IndexType::kBinFlat: supported = {"HAMMING", "JACCARD", "SUBSTRUCTURE", "SUPERSTRUCTURE"}; break;
    case IndexType::kSparseInvertedIndex: supported = {"IP", "BM25"}; break;
    default: supported = {"L2", "IP", "COSINE"}; break;
  }
  if (!Contains(supported, metric)) {
    return KnowhereRefusal("metric type " + metric +
                           " not found or not supported, supported: " + BracketList(supported));
  }
  return Status::OK();
}

}  // namespace

StatusOr<MetricType> ParseMetric(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "L2") return MetricType::kL2;
  if (upper == "IP") return MetricType::kIP;
  if (upper == "COSINE") return MetricType::kCosine;
  if (upper == "HAMMING") return MetricType::kHamming;
  if (upper == "JACCARD") return MetricType::kJaccard;
  if (upper == "SUBSTRUCTURE" || upper == "SUPERSTRUCTURE" || upper == "MHJACCARD" || upper == "BM25") {
    return NotImplemented("metric type " + upper);
  }
  return InvalidParameter("metric type " + std::string(name) + " not found or not supported");
}

std::string MetricName(MetricType metric) {
  switch (metric) {
    case MetricType::kL2: return "L2";
    case MetricType::kIP: return "IP";
    case MetricType::kCosine: return "COSINE";
    case MetricType::kHamming: return "HAMMING";
    case MetricType::kJaccard: return "JACCARD";
  }
  return "UNKNOWN";
}

bool LargerIsBetter(MetricType metric) { return metric == MetricType::kIP || metric == MetricType::kCosine; }

StatusOr<IndexSpec> ParseIndexSpec(const spb::FieldSchema& field, const std::map<std::string, std::string>& params) {
  auto flattened = FlattenIndexParams(params);
  if (!flattened.ok()) return flattened.status();
  std::map<std::string, std::string>& map = *flattened;
  const VectorKind kind = KindOf(field.data_type());

  auto named = map.find(kIndexTypeKey);
  if (named != map.end() && !named->second.empty()) {
    const std::string& name = named->second;
    if (IsUnsupportedMilvusVectorIndex(name)) {
      return Status(Code::kIndexNotSupported, "index type not supported[indexType=" + name + "]");
    }
    if (name != kAutoIndex && !QuiverIndexType(name) && !IsScalarIndex(name)) {
      return Status(Code::kParameterInvalid,
                    "invalid parameter[expected=valid index][actual=invalid index type: " + name + "]");
    }
  }
  if (kind == VectorKind::kNone) {
    const std::string name = named == map.end() ? std::string(kAutoIndex) : named->second;
    return InvalidIndexParams("index " + name + " only supports vector data type");
  }

  const std::string user_index_name = named == map.end() ? std::string(kAutoIndex) : named->second;
  if (named == map.end()) {
    QUIVER_RETURN_IF_ERROR(ApplyAutoIndex(kind, 0, &map));
  } else if (named->second == kAutoIndex) {
    QUIVER_RETURN_IF_ERROR(ApplyAutoIndex(kind, 1, &map));
  }

  // The index must fit the field's data type before its metric is worth checking.
  const std::string index_name = map[kIndexTypeKey];
  auto type = QuiverIndexType(index_name);
  if (!type && !IsScalarIndex(index_name)) return InvalidIndexParams("invalid index type: " + index_name);
  if (!IndexSupportsKind(index_name, kind)) {
    return InvalidIndexParams("data type " + spb::DataType_Name(field.data_type()) + " can't build with this index " +
                              index_name);
  }
  auto metric_it = map.find(kMetricTypeKey);
  if (metric_it == map.end()) return InvalidIndexParams("metric type not set for vector index");
  const std::string metric_name = metric_it->second;
  QUIVER_RETURN_IF_ERROR(CheckMetricForKind(kind, metric_name));

  IndexSpec spec;
  spec.type = *type;
  spec.vector_type = field.data_type();
  spec.index_type_name = user_index_name;
  if (kind != VectorKind::kSparse) {
    auto dim = ResolveDim(field, map);
    if (!dim.ok()) return dim.status();
    spec.dim = *dim;
  }
  QUIVER_RETURN_IF_ERROR(CheckMetricForIndex(spec.type, metric_name));
  json knobs = json::object();
  for (const auto& [key, value] : map) knobs[key] = value;
  QUIVER_RETURN_IF_ERROR(LoadBuildKnobs(spec.type, knobs, &spec));

  // Everything Milvus accepts is now accepted; what remains is what Quiver lacks.
  auto metric = ParseMetric(metric_name);
  if (!metric.ok()) return metric.status();
  spec.metric = *metric;
  if (kind == VectorKind::kBinary && spec.dim % 8 != 0) {
    return InvalidIndexParams("dimension of a binary vector must be a multiple of 8, dimension: " +
                              std::to_string(spec.dim));
  }
  return spec;
}

StatusOr<SearchParams> ParseSearchParams(const IndexSpec* spec, MetricType metric, const std::string& params_json,
                                         int64_t k) {
  if (spec != nullptr && metric != spec->metric) {
    return Status(Code::kParameterInvalid, "metric type not match: invalid parameter[expected=" +
                                               MetricName(spec->metric) + "][actual=" + MetricName(metric) + "]");
  }
  json params = json::object();
  if (params_json.find_first_not_of(" \t\r\n") != std::string::npos) {
    params = json::parse(params_json, nullptr, /*allow_exceptions=*/false);
    if (params.is_discarded() || !params.is_object()) {
      return InvalidParameter("search params must be a JSON object, got: " + params_json);
    }
  }

  SearchParams out;
  // The proxy's range search check: numbers only, and the bounds ordered by the metric.
  if (auto radius = params.find("radius"); radius != params.end()) {
    if (radius->is_null()) return InvalidParameter("pass invalid type for radius");
    if (!radius->is_number()) return InvalidParameter("must pass numpy type for radius");
    out.radius = radius->get<double>();
    if (auto filter = params.find("range_filter"); filter != params.end()) {
      if (filter->is_null()) return InvalidParameter("pass invalid type for range_filter");
      if (!filter->is_number()) return InvalidParameter("must pass numpy type for range_filter");
      out.range_filter = filter->get<double>();
      if (LargerIsBetter(metric) && *out.radius >= *out.range_filter) {
        return InvalidParameter("range_filter must be greater than radius for IP/COSINE, range_filter:" +
                                GoFloat(*out.range_filter) + ", radius:" + GoFloat(*out.radius));
      }
      if (!LargerIsBetter(metric) && *out.radius <= *out.range_filter) {
        return InvalidParameter("range_filter must be less than radius for L2/HAMMING/JACCARD, range_filter:" +
                                GoFloat(*out.range_filter) + ", radius:" + GoFloat(*out.radius));
      }
    }
  }
  if (spec == nullptr) return out;  // brute force has no knobs

  // Knowhere's search-time config of the index.
  switch (spec->type) {
    case IndexType::kIvfFlat:
    case IndexType::kIvfSq8:
    case IndexType::kIvfPq:
    case IndexType::kBinIvfFlat: {
      // A nprobe above nlist is accepted: FAISS probes every list then.
      auto nprobe = LoadIntKnob(params, "nprobe", 1, 65536, std::nullopt, /*for_index=*/false);
      if (!nprobe.ok()) return nprobe.status();
      out.nprobe = nprobe->value_or(0);
      break;
    }
    case IndexType::kHnsw: {
      auto ef = LoadIntKnob(params, "ef", 1, kInt32Max, std::nullopt, /*for_index=*/false);
      if (!ef.ok()) return ef.status();
      out.ef = ef->value_or(0);
      if (out.ef != 0 && !out.radius && out.ef < k) {
        return InvalidParameter("ef(" + std::to_string(out.ef) + ") should be larger than k(" + std::to_string(k) +
                                ")");
      }
      break;
    }
    case IndexType::kSparseInvertedIndex:
      // Quiver's sparse search is exact, so a drop ratio is checked but never needed.
      QUIVER_RETURN_IF_ERROR(CheckUnitRatioKnob(params, "drop_ratio_search", /*for_index=*/false));
      break;
    case IndexType::kFlat:
    case IndexType::kBinFlat: break;
  }
  return out;
}

}  // namespace quiver::index
