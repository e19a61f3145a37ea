// Pieces shared by the dense float indexes (FLAT, HNSW, IVF_*) and dense brute force.
//
// Inside these indexes every candidate is ranked by a key where smaller is better: the
// squared L2 distance, or the negated inner product for IP and COSINE (COSINE rows and
// queries being unit length). Keys become Milvus scores only when results are written.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "index/vector_index.h"

namespace quiver::index::dense {

bool IsDenseFloatType(spb::DataType type);
bool IsDenseFloatMetric(MetricType metric);

// Checks that `data` holds `dim`-dimensional dense float rows (as built or queried).
Status CheckDenseVectors(const VectorData& data, int64_t dim, std::string_view what);

inline float ScoreOfKey(MetricType metric, float key) { return metric == MetricType::kL2 ? key : -key; }
inline float KeyOfScore(MetricType metric, float score) { return metric == MetricType::kL2 ? score : -score; }

// Unit-length copies of `rows` vectors (zero vectors stay zero).
std::vector<float> NormalizedCopy(const float* vectors, int64_t rows, int64_t dim);

// Queries as the index compares them: normalized for COSINE, untouched otherwise. `storage`
// owns the normalized copy when one is needed.
const float* PrepareQueries(const QueryVectors& queries, MetricType metric, std::vector<float>* storage);

// A range search's bounds as keys: lo <= key < hi. Milvus's L2 rule
// `range_filter <= distance < radius` and IP/COSINE rule `radius < score <= range_filter`
// both become this half-open interval.
struct KeyRange {
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
  bool Contains(float key) const { return key >= lo && key < hi; }
};
std::optional<KeyRange> RangeOf(MetricType metric, const SearchParams& params);

struct Candidate {
  float key;
  int64_t row;
};

// The best k candidates seen so far (smaller key first; equal keys: smaller row first).
class TopKeys {
 public:
  explicit TopKeys(int64_t k, int64_t expected = 0);
  bool Full() const { return static_cast<int64_t>(heap_.size()) >= k_; }
  // A key that Push would certainly reject (for cheap pre-checks); +inf until full.
  float WorstKey() const { return Full() ? heap_.front().key : std::numeric_limits<float>::infinity(); }
  void Push(float key, int64_t row);
  std::vector<Candidate> TakeSorted();  // best first; leaves the heap empty

 private:
  int64_t k_;
  std::vector<Candidate> heap_;  // max-heap: the worst kept candidate on top
};

// Results with no rows yet: row -1 and the metric's worst score (+inf or -inf) everywhere.
SearchResult EmptyResult(int64_t nq, int64_t k, MetricType metric);
// Writes one query's candidates (best first, at most k) as rows and Milvus scores; the slots
// past them as missing.
void WriteQueryResult(const std::vector<Candidate>& best, MetricType metric, int64_t query, SearchResult* result);

// Rows an exact scan reads: one contiguous array, or rows fetched one by one.
struct RowSource {
  int64_t rows = 0;
  int64_t dim = 0;
  const float* contiguous = nullptr;                // row r at contiguous + r * dim, or
  std::function<const float*(int64_t)> row_at;     // when rows live elsewhere (the HNSW graph)
  bool normalized = false;                          // rows already unit length (COSINE indexes)
  const float* Row(int64_t row) const { return contiguous ? contiguous + row * dim : row_at(row); }
};

// Exact top-k of `nq` queries (prepared by PrepareQueries) over the allowed rows of `source`.
SearchResult ExactSearch(const RowSource& source, MetricType metric, const float* queries, int64_t nq, int64_t k,
                         const std::optional<KeyRange>& range, const RowFilter& filter);

int64_t BuildParam(const IndexSpec& spec, const std::string& name, int64_t fallback);

// Checks that every one of `rows` names a row of an index with `count` rows (ReconstructRows).
Status CheckRowsInRange(std::span<const int64_t> rows, int64_t count);

// Checks what every dense index's Search needs: dense queries of the index's dimension, k > 0.
Status CheckSearch(const IndexSpec& spec, const QueryVectors& queries, int64_t k);

// Range search on an approximate index: `search(width)` returns the best `width` candidates
// (best first). Widens until k candidates fall inside `range`, the candidates run past the
// range's far bound, or the index has no more (fewer than `width` returned, or `limit`).
std::vector<Candidate> RangeSearchByWidening(const std::function<std::vector<Candidate>(int64_t width)>& search,
                                             int64_t k, int64_t limit, const KeyRange& range);

// How many threads an HNSW build may use: the machine is shared with searches.
int BuildThreads();

// Keeps FAISS on the calling thread for the scope's duration: sets this thread's OpenMP team
// size to 1 (searches parallelise across segments, not inside FAISS), and OpenBLAS, which
// FAISS's k-means calls, to one thread for good: its spinning threads fight OpenMP's
// (training IVF_PQ on 20k rows took 62 s instead of 8 s on 2 cores).
class SingleThreadedFaiss {
 public:
  SingleThreadedFaiss();
  ~SingleThreadedFaiss();
  SingleThreadedFaiss(const SingleThreadedFaiss&) = delete;
  SingleThreadedFaiss& operator=(const SingleThreadedFaiss&) = delete;

 private:
  int previous_;
};

}  // namespace quiver::index::dense
