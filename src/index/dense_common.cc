#include "index/dense_common.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <thread>

#include "index/distance.h"
#include "index/result_collector.h"  // CheckTopK

extern "C" void openblas_set_num_threads(int threads);  // OpenBLAS, which FAISS links

namespace quiver::index::dense {
namespace {

// Order of candidates: smaller key first, then smaller row (so that ties are deterministic).
bool Before(const Candidate& a, const Candidate& b) { return a.key < b.key || (a.key == b.key && a.row < b.row); }

// Rows per block of an exact scan: a block stays in L2 cache while every query visits it.
constexpr int64_t kScanBlockBytes = 256 * 1024;

// Missing results carry the worst possible score, so "best first" holds for the whole list.
float MissingScore(MetricType metric) {
  return metric == MetricType::kL2 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
}

}  // namespace

bool IsDenseFloatType(spb::DataType type) {
  return type == spb::FloatVector || type == spb::Float16Vector || type == spb::BFloat16Vector;
}

bool IsDenseFloatMetric(MetricType metric) {
  return metric == MetricType::kL2 || metric == MetricType::kIP || metric == MetricType::kCosine;
}

Status CheckDenseVectors(const VectorData& data, int64_t dim, std::string_view what) {
  if (!IsDenseFloatType(data.type)) {
    return InvalidParameter(std::string(what) + " must be float vectors, got " + spb::DataType_Name(data.type));
  }
  if (data.dim != dim) {
    return InvalidParameter(std::string(what) + " dimension " + std::to_string(data.dim) +
                            " does not match the index dimension " + std::to_string(dim));
  }
  if (dim <= 0) return InvalidParameter(std::string(what) + " must have a positive dimension");
  if (data.rows < 0 || (data.rows > 0 && data.floats == nullptr)) {
    return InvalidParameter(std::string(what) + " has no float data");
  }
  return Status::OK();
}

std::vector<float> NormalizedCopy(const float* vectors, int64_t rows, int64_t dim) {
  std::vector<float> out(vectors, vectors + rows * dim);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = out.data() + r * dim;
    const float norm = std::sqrt(InnerProduct(row, row, dim));
    if (norm == 0) continue;
    const float inverse = 1.0f / norm;
    for (int64_t i = 0; i < dim; ++i) row[i] *= inverse;
  }
  return out;
}

const float* PrepareQueries(const QueryVectors& queries, MetricType metric, std::vector<float>* storage) {
  if (metric != MetricType::kCosine) return queries.floats;
  *storage = NormalizedCopy(queries.floats, queries.rows, queries.dim);
  return storage->data();
}

std::optional<KeyRange> RangeOf(MetricType metric, const SearchParams& params) {
  if (!params.radius) return std::nullopt;
  KeyRange range;
  if (metric == MetricType::kL2) {
    range.hi = static_cast<float>(*params.radius);
    if (params.range_filter) range.lo = static_cast<float>(*params.range_filter);
  } else {
    range.hi = -static_cast<float>(*params.radius);
    if (params.range_filter) range.lo = -static_cast<float>(*params.range_filter);
  }
  return range;
}

TopKeys::TopKeys(int64_t k, int64_t expected) : k_(k) {
  heap_.reserve(static_cast<size_t>(std::min(k, expected > 0 ? expected : k)));
}

void TopKeys::Push(float key, int64_t row) {
  const Candidate candidate{key, row};
  if (!Full()) {
    heap_.push_back(candidate);
    std::push_heap(heap_.begin(), heap_.end(), Before);
  } else if (k_ > 0 && Before(candidate, heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), Before);
    heap_.back() = candidate;
    std::push_heap(heap_.begin(), heap_.end(), Before);
  }
}

std::vector<Candidate> TopKeys::TakeSorted() {
  std::sort_heap(heap_.begin(), heap_.end(), Before);
  return std::move(heap_);
}

SearchResult EmptyResult(int64_t nq, int64_t k, MetricType metric) {
  SearchResult result;
  result.nq = nq;
  result.k = k;
  result.rows.assign(static_cast<size_t>(nq * k), -1);
  result.scores.assign(static_cast<size_t>(nq * k), MissingScore(metric));
  return result;
}

void WriteQueryResult(const std::vector<Candidate>& best, MetricType metric, int64_t query, SearchResult* result) {
  const int64_t k = result->k;
  const int64_t n = std::min<int64_t>(k, static_cast<int64_t>(best.size()));
  int64_t* rows = result->rows.data() + query * k;
  float* scores = result->scores.data() + query * k;
  for (int64_t i = 0; i < n; ++i) {
    rows[i] = best[i].row;
    scores[i] = ScoreOfKey(metric, best[i].key);
  }
  std::fill(rows + n, rows + k, -1);
  std::fill(scores + n, scores + k, MissingScore(metric));
}

SearchResult ExactSearch(const RowSource& source, MetricType metric, const float* queries, int64_t nq, int64_t k,
                         const std::optional<KeyRange>& range, const RowFilter& filter) {
  SearchResult result = EmptyResult(nq, k, metric);
  const int64_t dim = source.dim;
  const int64_t eligible = filter.allowed ? filter.allowed_count : source.rows;
  std::vector<TopKeys> heaps;
  heaps.reserve(static_cast<size_t>(nq));
  for (int64_t q = 0; q < nq; ++q) heaps.emplace_back(k, eligible);

  const DistanceKernels& kernels = SupportedDistanceKernels()[0];
  const bool is_l2 = metric == MetricType::kL2;
  const bool normalize_rows = metric == MetricType::kCosine && !source.normalized;
  const int64_t block_rows = std::max<int64_t>(1, kScanBlockBytes / (dim * static_cast<int64_t>(sizeof(float))));

  // Per block: the allowed rows, their vectors and (COSINE on raw rows) inverse norms.
  std::vector<int64_t> block_ids;
  std::vector<const float*> block_vectors;
  std::vector<float> block_scale;
  for (int64_t begin = 0; begin < source.rows; begin += block_rows) {
    const int64_t end = std::min(source.rows, begin + block_rows);
    block_ids.clear();
    block_vectors.clear();
    block_scale.clear();
    for (int64_t row = begin; row < end; ++row) {
      if (filter.allowed && !filter.allowed[row]) continue;
      const float* vector = source.Row(row);
      float scale = 1.0f;
      if (normalize_rows) {
        const float norm = std::sqrt(kernels.inner_product(vector, vector, dim));
        scale = norm > 0 ? 1.0f / norm : 0.0f;
      }
      block_ids.push_back(row);
      block_vectors.push_back(vector);
      block_scale.push_back(scale);
    }
    if (block_ids.empty()) continue;
    for (int64_t q = 0; q < nq; ++q) {
      const float* query = queries + q * dim;
      TopKeys& heap = heaps[q];
      for (size_t i = 0; i < block_ids.size(); ++i) {
        const float key = is_l2 ? kernels.l2sqr(query, block_vectors[i], dim)
                                : -kernels.inner_product(query, block_vectors[i], dim) * block_scale[i];
        if (key > heap.WorstKey()) continue;
        if (range && !range->Contains(key)) continue;
        heap.Push(key, block_ids[i]);
      }
    }
  }
  for (int64_t q = 0; q < nq; ++q) WriteQueryResult(heaps[q].TakeSorted(), metric, q, &result);
  return result;
}

int64_t BuildParam(const IndexSpec& spec, const std::string& name, int64_t fallback) {
  const auto it = spec.build_params.find(name);
  return it == spec.build_params.end() ? fallback : it->second;
}

Status CheckSearch(const IndexSpec& spec, const QueryVectors& queries, int64_t k) {
  QUIVER_RETURN_IF_ERROR(CheckDenseVectors(queries, spec.dim, "query vectors"));
  return CheckTopK(k);
}

std::vector<Candidate> RangeSearchByWidening(const std::function<std::vector<Candidate>(int64_t width)>& search,
                                             int64_t k, int64_t limit, const KeyRange& range) {
  int64_t width = std::min(limit, 2 * k);
  while (true) {
    const std::vector<Candidate> found = search(width);
    std::vector<Candidate> inside;
    for (const Candidate& candidate : found) {
      if (range.Contains(candidate.key)) inside.push_back(candidate);
      if (static_cast<int64_t>(inside.size()) == k) return inside;
    }
    const bool exhausted = static_cast<int64_t>(found.size()) < width || width >= limit;
    const bool past_far_bound = !found.empty() && found.back().key >= range.hi;
    if (exhausted || past_far_bound) return inside;
    width = std::min(limit, width * 4);
  }
}

int BuildThreads() {
  const unsigned hardware = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(hardware, 1u, 2u));
}

SingleThreadedFaiss::SingleThreadedFaiss() : previous_(omp_get_max_threads()) {
  static std::once_flag blas_configured;
  std::call_once(blas_configured, [] { openblas_set_num_threads(1); });
  omp_set_num_threads(1);
}

SingleThreadedFaiss::~SingleThreadedFaiss() { omp_set_num_threads(previous_); }

Status CheckRowsInRange(std::span<const int64_t> rows, int64_t count) {
  for (int64_t row : rows) {
    if (row < 0 || row >= count) {
      return InvalidParameter("row " + std::to_string(row) + " is outside the index's " + std::to_string(count) +
                              " rows");
    }
  }
  return Status::OK();
}

}  // namespace quiver::index::dense
