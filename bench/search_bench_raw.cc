// Compiled, like all of search_bench, for this machine's CPU (-march=native): hnswlib picks
// its SIMD distance code at compile time, and Quiver picks its widest level at run time.
#include "bench/search_bench_raw.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <hnswlib/hnswlib.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace quiver::bench {
namespace {

class RawHnsw final : public RawIndex {
 public:
  RawHnsw(const Dataset& data, int m, int ef_construction, int threads)
      : space_(static_cast<size_t>(data.dim)),
        index_(&space_, static_cast<size_t>(data.rows), static_cast<size_t>(m), static_cast<size_t>(ef_construction)) {
    index_.addPoint(data.row(0), 0);
    std::atomic<int64_t> next{1};
    auto work = [&] {
      for (int64_t row = next++; row < data.rows; row = next++) index_.addPoint(data.row(row), static_cast<size_t>(row));
    };
    std::vector<std::thread> workers;
    for (int t = 1; t < threads; ++t) workers.emplace_back(work);
    work();
    for (auto& worker : workers) worker.join();
  }

  void SetSearchWidth(int64_t width) override { index_.setEf(static_cast<size_t>(width)); }

  void Search(const float* query, int k, int64_t* rows) const override {
    auto top = index_.searchKnn(query, static_cast<size_t>(k));  // worst on top
    std::fill(rows, rows + k, -1);
    for (size_t i = top.size(); i-- > 0; top.pop()) rows[i] = static_cast<int64_t>(top.top().second);
  }

  size_t MemoryBytes() const override {
    size_t bytes = index_.max_elements_ * index_.size_data_per_element_;
    for (size_t i = 0; i < index_.cur_element_count; ++i) {
      bytes += static_cast<size_t>(index_.element_levels_[i]) * index_.size_links_per_element_;
    }
    return bytes;
  }

 private:
  hnswlib::L2Space space_;
  hnswlib::HierarchicalNSW<float> index_;
};

// A thread's OpenMP team size is its own setting: one thread per search, as in Quiver, whose
// searches run in parallel across requests, not inside FAISS.
void UseOneOpenMpThread() {
  thread_local const bool set = [] {
    omp_set_num_threads(1);
    return true;
  }();
  (void)set;
}

class RawIvfFlat final : public RawIndex {
 public:
  RawIvfFlat(const Dataset& data, int64_t nlist)
      : quantizer_(static_cast<int>(data.dim)), index_(&quantizer_, static_cast<size_t>(data.dim), static_cast<size_t>(nlist)) {
    UseOneOpenMpThread();
    index_.train(data.rows, data.base.data());
    index_.add(data.rows, data.base.data());
  }

  void SetSearchWidth(int64_t width) override { params_.nprobe = static_cast<size_t>(width); }

  void Search(const float* query, int k, int64_t* rows) const override {
    UseOneOpenMpThread();
    thread_local std::vector<float> distances;
    distances.resize(static_cast<size_t>(k));
    index_.search(1, query, k, distances.data(), rows, &params_);
  }

  size_t MemoryBytes() const override {
    size_t bytes = quantizer_.codes.size();
    for (size_t l = 0; l < index_.invlists->nlist; ++l) {
      bytes += index_.invlists->list_size(l) * (index_.invlists->code_size + sizeof(faiss::Index::idx_t));
    }
    return bytes;
  }

 private:
  faiss::IndexFlatL2 quantizer_;
  faiss::IndexIVFFlat index_;
  faiss::SearchParametersIVF params_;
};

}  // namespace

std::unique_ptr<RawIndex> BuildRawHnsw(const Dataset& data, int m, int ef_construction, int threads) {
  return std::make_unique<RawHnsw>(data, m, ef_construction, threads);
}

std::unique_ptr<RawIndex> BuildRawIvfFlat(const Dataset& data, int64_t nlist) {
  return std::make_unique<RawIvfFlat>(data, nlist);
}

}  // namespace quiver::bench
