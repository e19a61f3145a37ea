// Vector indexes: building, searching and storing the ANN structures of sealed segments,
// and brute-force search for rows that have none (growing segments).
//
// Contract:
// - Rows are addressed by their offset in the segment (0 … rows-1); results name rows,
//   never primary keys.
// - Scores follow Milvus: L2 is the squared distance (smaller is better); IP and COSINE are
//   similarities (larger is better); HAMMING and JACCARD are distances (smaller is better).
//   COSINE vectors are normalized inside the index; callers pass raw vectors.
// - A search may be restricted to allowed rows (a filter's result); it then returns up to
//   k allowed rows, and never a disallowed one, however selective the filter.
// - Missing results (fewer than k rows qualify) have row -1.
// - Serialize/Deserialize round-trip exactly: a loaded index answers as the built one.
// - An index that HoldsRawVectors() gives back, bit for bit, the float32 rows Build received
//   (FLAT, HNSW and IVF_FLAT with L2 or IP), so a sealed segment can drop its own copy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "schema.pb.h"

namespace quiver::index {

namespace spb = milvus::proto::schema;

enum class MetricType { kL2, kIP, kCosine, kHamming, kJaccard };
enum class IndexType { kFlat, kIvfFlat, kIvfSq8, kIvfPq, kHnsw, kBinFlat, kBinIvfFlat, kSparseInvertedIndex };

// A validated index definition (CreateIndex's index_type, metric_type and params).
struct IndexSpec {
  IndexType type = IndexType::kFlat;
  MetricType metric = MetricType::kL2;
  spb::DataType vector_type = spb::FloatVector;
  int64_t dim = 0;                            // 0 for sparse vectors
  std::map<std::string, int64_t> build_params;  // nlist, m, nbits, M, efConstruction, …
  std::string index_type_name;                // as the user named it (AUTOINDEX stays AUTOINDEX)
};

// Per-search knobs (search_params' "params" JSON), already validated against the spec.
struct SearchParams {
  int64_t nprobe = 0;  // IVF; 0: the index's default
  int64_t ef = 0;      // HNSW; 0: max(k, default)
  std::optional<double> radius;        // range search: the outer bound
  std::optional<double> range_filter;  // range search: the inner bound
};

// One segment's vectors. Dense float types (FloatVector, Float16Vector, BFloat16Vector)
// are passed as float32 rows; binary vectors as dim/8 bytes per row; sparse rows as
// Milvus's encoding (pairs of little-endian uint32 index, float32 value).
struct VectorData {
  spb::DataType type = spb::FloatVector;
  int64_t dim = 0;
  int64_t rows = 0;
  const float* floats = nullptr;
  const uint8_t* bytes = nullptr;
  const std::string* sparse_rows = nullptr;  // `rows` entries
};

// Queries in the same layout as VectorData (rows = nq).
using QueryVectors = VectorData;

// Rows a search may return: allowed[row] != 0. Null means every row.
struct RowFilter {
  const uint8_t* allowed = nullptr;
  int64_t allowed_count = 0;  // how many rows are allowed (lets an index pick a strategy)
};

struct SearchResult {
  int64_t nq = 0;
  int64_t k = 0;
  std::vector<int64_t> rows;  // nq * k, best first per query; -1 where fewer qualified
  std::vector<float> scores;  // nq * k
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;
  virtual const IndexSpec& spec() const = 0;
  virtual Status Build(const VectorData& data) = 0;
  virtual StatusOr<SearchResult> Search(const QueryVectors& queries, int64_t k, const SearchParams& params,
                                        const RowFilter& filter) const = 0;
  virtual StatusOr<std::string> Serialize() const = 0;
  virtual Status Deserialize(std::string_view blob) = 0;
  virtual int64_t rows() const = 0;
  virtual size_t MemoryBytes() const = 0;

  // False where the index keeps normalized (COSINE) or compressed (IVF_SQ8, IVF_PQ) rows, or
  // is not a dense float index.
  virtual bool HoldsRawVectors() const { return false; }
  // Writes the vector of each of `rows` (in [0, rows())) to `out`, spec().dim floats apiece,
  // in order. Only for an index that HoldsRawVectors().
  virtual Status ReconstructRows(std::span<const int64_t> rows, float* out) const {
    (void)rows;
    (void)out;
    return Internal("this index does not keep the original vectors");
  }
};

// Parses CreateIndex's parameters for `field` the way Milvus does (AUTOINDEX → HNSW with
// M=18, efConstruction=240, COSINE for float vectors, BIN_IVF_FLAT nlist=1024 HAMMING for
// binary, SPARSE_INVERTED_INDEX IP for sparse; knowhere's defaults and ranges of nlist, m,
// nbits, M, efConstruction, filled into build_params) and says precisely what is wrong.
StatusOr<IndexSpec> ParseIndexSpec(const spb::FieldSchema& field, const std::map<std::string, std::string>& params);

// Parses a search's metric and params JSON for an index (or for brute force when spec is
// null) and checks them: metric must match the index's, nprobe in [1, 65536] (above nlist
// means every list), ef >= k, range bounds ordered by the metric, …
StatusOr<SearchParams> ParseSearchParams(const IndexSpec* spec, MetricType metric, const std::string& params_json,
                                         int64_t k);
StatusOr<MetricType> ParseMetric(std::string_view name);
std::string MetricName(MetricType metric);
bool LargerIsBetter(MetricType metric);

StatusOr<std::unique_ptr<VectorIndex>> CreateVectorIndex(const IndexSpec& spec);

// Exact search over raw rows (growing segments, segments without an index).
StatusOr<SearchResult> BruteForceSearch(const VectorData& data, MetricType metric, const QueryVectors& queries,
                                        int64_t k, const SearchParams& params, const RowFilter& filter);

}  // namespace quiver::index
