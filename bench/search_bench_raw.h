// search_bench's reference: the libraries Quiver wraps, used directly in this process the way
// an application would, on the same data and with the same build parameters.
#pragma once

#include <cstdint>
#include <memory>

#include "bench/search_bench_data.h"

namespace quiver::bench {

class RawIndex {
 public:
  virtual ~RawIndex() = default;
  // Sets the search width (hnswlib's ef, FAISS's nprobe) of the searches that follow; not
  // while searches run.
  virtual void SetSearchWidth(int64_t width) = 0;
  // The best k rows of `query`, best first, into rows[0..k); safe from several threads.
  virtual void Search(const float* query, int k, int64_t* rows) const = 0;
  // Bytes of the index structure itself: for hnswlib the level-0 block (vectors, links,
  // labels) and the upper levels' link lists; for FAISS the inverted lists' codes and ids
  // (as stored, without the slack of their growing vectors) plus the centroids.
  virtual size_t MemoryBytes() const = 0;
};

// hnswlib HierarchicalNSW<float> with L2Space, rows added on `threads` threads (the first
// row alone, as it becomes the entry point). Labels are row numbers.
std::unique_ptr<RawIndex> BuildRawHnsw(const Dataset& data, int m, int ef_construction, int threads);

// FAISS IndexIVFFlat (IndexFlatL2 quantizer), trained on the rows (FAISS samples 256 per
// list) and filled on one thread, as Quiver builds it.
std::unique_ptr<RawIndex> BuildRawIvfFlat(const Dataset& data, int64_t nlist);

}  // namespace quiver::bench
