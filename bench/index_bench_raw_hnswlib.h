// hnswlib used directly, as an application would: the reference the benchmark compares
// Quiver's HNSW wrapper with. Compiled for AVX-512 (index_bench_raw_hnswlib.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace quiver::bench {

class RawHnswlib {
 public:
  virtual ~RawHnswlib() = default;
  // Rows labelled 0..rows-1, added on `threads` threads (the first row alone).
  static std::unique_ptr<RawHnswlib> Build(const float* vectors, int64_t rows, int64_t dim, int m, int ef_construction,
                                           int threads);
  // hnswlib's setEf + searchKnn; the labels of the best k, best first.
  virtual std::vector<int64_t> Search(const float* query, int k, int ef) = 0;
};

// Whether this CPU can run the AVX-512 build of RawHnswlib.
bool RawHnswlibSupported();

}  // namespace quiver::bench
