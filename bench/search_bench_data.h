// search_bench's data: the vectors both Quiver and the raw libraries index, and the exact
// answers their results are scored against.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quiver::bench {

struct Dataset {
  std::string name;
  int64_t rows = 0;
  int64_t dim = 0;
  int64_t nq = 0;
  std::vector<float> base;     // rows x dim; row r is inserted with primary key r
  std::vector<float> queries;  // nq x dim
  const float* row(int64_t r) const { return base.data() + r * dim; }
  const float* query(int64_t q) const { return queries.data() + q * dim; }
};

// Clustered rows, the same for the same arguments (see the .cc for the shape of the data).
Dataset GenerateClustered(int64_t rows, int64_t dim, int64_t nq, uint64_t seed);

// SIFT-style .fvecs files (each vector: int32 dim, then dim float32), at most `max_rows`
// base rows and `max_queries` queries (<= 0: all). Throws std::runtime_error.
Dataset ReadFvecs(const std::string& base_path, const std::string& query_path, int64_t max_rows,
                  int64_t max_queries);

// Exact top-k rows (squared L2) of every query, nq x k, best first. With a non-empty
// `cache_path`, reads them from there when the file was written for this very data (same
// shape and content hash), and otherwise computes and writes them.
std::vector<int64_t> ExactTopK(const Dataset& data, int k, const std::string& cache_path);

}  // namespace quiver::bench
