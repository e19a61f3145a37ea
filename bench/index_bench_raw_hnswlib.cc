// Raw hnswlib for the benchmark, compiled for AVX-512 the way Quiver's own AVX-512 level is
// (see src/index/hnsw_graph_impl.inc): standard headers first, then the target pragma.
#include "bench/index_bench_raw_hnswlib.h"

#include "index/hnsw_graph_prelude.h"

#include <thread>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")
#define NO_MANUAL_VECTORIZATION
#define USE_SSE
#define USE_AVX
#define USE_AVX512
#include <hnswlib/hnswlib.h>

namespace quiver::bench {
namespace {

class RawHnswlibImpl final : public RawHnswlib {
 public:
  RawHnswlibImpl(int64_t rows, int64_t dim, int m, int ef_construction)
      : space_(dim), index_(&space_, rows, m, ef_construction) {}

  void Add(const float* vector, int64_t row) { index_.addPoint(vector, static_cast<size_t>(row)); }

  std::vector<int64_t> Search(const float* query, int k, int ef) override {
    index_.setEf(ef);
    auto top = index_.searchKnn(query, k);
    std::vector<int64_t> rows(top.size());
    for (size_t i = rows.size(); i-- > 0; top.pop()) rows[i] = static_cast<int64_t>(top.top().second);
    return rows;
  }

 private:
  hnswlib::L2Space space_;
  hnswlib::HierarchicalNSW<float> index_;
};

}  // namespace

std::unique_ptr<RawHnswlib> RawHnswlib::Build(const float* vectors, int64_t rows, int64_t dim, int m,
                                              int ef_construction, int threads) {
  auto index = std::make_unique<RawHnswlibImpl>(rows, dim, m, ef_construction);
  index->Add(vectors, 0);
  std::atomic<int64_t> next{1};
  auto work = [&] {
    for (int64_t row = next++; row < rows; row = next++) index->Add(vectors + row * dim, row);
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (auto& worker : workers) worker.join();
  return index;
}

}  // namespace quiver::bench

#pragma GCC pop_options

namespace quiver::bench {

bool RawHnswlibSupported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}

}  // namespace quiver::bench
