// HNSW: hnswlib graphs (see hnsw_graph.h) with Quiver's own base-layer search, which can
// skip disallowed rows, and an exact scan when a filter leaves too few rows for the graph.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "index/dense_indexes.h"
#include "index/hnsw_graph.h"
#include "index/index_blob.h"

namespace quiver::index::dense {
namespace {

// A filtered graph search walks until it has ef allowed rows: about ef / selectivity nodes,
// each costing up to 2M distance evaluations against scattered memory. An exact scan costs
// one evaluation per allowed row. With allowed = selectivity * rows, the scan is cheaper when
// allowed^2 < kGraphCostPerResult * ef * rows. Measured (bench/index_bench.cc, filter
// section; 200k x 128, M=16, ef=64): graph ~1.1 us * ef / selectivity, scan ~0.1 us per
// allowed row, so the ratio is ~11 there; in-cache data (30k x 64) measured ~50.
constexpr double kGraphCostPerResult = 16.0;

bool PreferExactScan(int64_t allowed, int64_t rows, int64_t ef) {
  const double allowed_rows = static_cast<double>(allowed);
  return allowed_rows * allowed_rows < kGraphCostPerResult * static_cast<double>(ef) * static_cast<double>(rows);
}

class HnswIndex final : public VectorIndex {
 public:
  explicit HnswIndex(const IndexSpec& spec) : spec_(spec) {}

  const IndexSpec& spec() const override { return spec_; }
  int64_t rows() const override { return rows_; }
  size_t MemoryBytes() const override { return graph_ ? graph_->MemoryBytes() : 0; }
  // hnswlib copies each vector into the graph's base layer as given; only COSINE rows were
  // normalized first.
  bool HoldsRawVectors() const override { return spec_.metric != MetricType::kCosine; }

  Status ReconstructRows(std::span<const int64_t> rows, float* out) const override {
    if (!HoldsRawVectors()) return VectorIndex::ReconstructRows(rows, out);
    QUIVER_RETURN_IF_ERROR(CheckRowsInRange(rows, rows_));
    for (size_t i = 0; i < rows.size(); ++i) {
      std::memcpy(out + i * spec_.dim, graph_->Vector(rows[i]), spec_.dim * sizeof(float));
    }
    return Status::OK();
  }

  Status Build(const VectorData& data) override {
    QUIVER_RETURN_IF_ERROR(CheckDenseVectors(data, spec_.dim, "HNSW index data"));
    HnswGraphOptions options = GraphOptions();
    options.capacity = data.rows;
    options.m = BuildParam(spec_, "M", kDefaultHnswM);
    options.ef_construction = BuildParam(spec_, "efConstruction", kDefaultHnswEfConstruction);
    // hnswlib divides by log(M) and caps M silently; Milvus's range is [2, 2048].
    if (options.m < 2 || options.m > 2048 || options.ef_construction < 1) {
      return InvalidParameter("HNSW needs M in [2, 2048] and efConstruction >= 1");
    }
    std::vector<float> normalized;
    const float* vectors = data.floats;
    if (spec_.metric == MetricType::kCosine) {
      normalized = NormalizedCopy(data.floats, data.rows, data.dim);
      vectors = normalized.data();
    }
    try {
      auto graph = NewHnswGraph(options);
      AddRows(graph.get(), vectors, data.rows, data.dim);
      graph->FinishBuild();
      graph_ = std::move(graph);
      rows_ = data.rows;
    } catch (const std::exception& e) {
      return Internal(std::string("building the HNSW index failed: ") + e.what());
    }
    return Status::OK();
  }

  StatusOr<SearchResult> Search(const QueryVectors& queries, int64_t k, const SearchParams& params,
                                const RowFilter& filter) const override {
    QUIVER_RETURN_IF_ERROR(CheckSearch(spec_, queries, k));
    if (!graph_) return EmptyResult(queries.rows, k, spec_.metric);
    std::vector<float> normalized;
    const float* prepared = PrepareQueries(queries, spec_.metric, &normalized);
    const std::optional<KeyRange> range = RangeOf(spec_.metric, params);
    const int64_t ef = params.ef > 0 ? params.ef : std::max(k, kDefaultHnswEf);
    if (filter.allowed && PreferExactScan(filter.allowed_count, rows_, ef)) {
      return ExactSearch(GraphRows(), spec_.metric, prepared, queries.rows, k, range, filter);
    }
    const int64_t eligible = filter.allowed ? filter.allowed_count : rows_;
    SearchResult result = EmptyResult(queries.rows, k, spec_.metric);
    for (int64_t q = 0; q < queries.rows; ++q) {
      const float* query = prepared + q * spec_.dim;
      auto search = [&](int64_t width) { return graph_->Search(query, width, std::max(ef, width), filter.allowed); };
      if (range) {
        WriteQueryResult(RangeSearchByWidening(search, k, rows_, *range), spec_.metric, q, &result);
        continue;
      }
      std::vector<Candidate> best = search(k);
      if (static_cast<int64_t>(best.size()) < std::min(k, eligible)) {
        // The walk ran out of reachable allowed rows (a filter can cut the graph): scan instead.
        const SearchResult exact = ExactSearch(GraphRows(), spec_.metric, query, 1, k, std::nullopt, filter);
        std::copy(exact.rows.begin(), exact.rows.end(), result.rows.begin() + q * k);
        std::copy(exact.scores.begin(), exact.scores.end(), result.scores.begin() + q * k);
        continue;
      }
      WriteQueryResult(best, spec_.metric, q, &result);
    }
    return result;
  }

  StatusOr<std::string> Serialize() const override {
    try {
      const std::string graph = graph_ ? graph_->Save() : std::string();
      return SealIndexBlob({spec_.type, spec_.metric, spec_.dim, rows_}, graph);
    } catch (const std::exception& e) {
      return Internal(std::string("serializing the HNSW index failed: ") + e.what());
    }
  }

  Status Deserialize(std::string_view blob) override {
    IndexBlobHeader header;
    StatusOr<std::string_view> payload = OpenIndexBlob(blob, spec_, &header);
    if (!payload.ok()) return payload.status();
    try {
      auto graph = NewHnswGraph(GraphOptions());
      graph->Load(*payload);
      if (graph->size() != header.rows) return CorruptIndexBlob("HNSW graph size does not match its rows");
      graph_ = std::move(graph);
      rows_ = header.rows;
    } catch (const std::exception& e) {
      return CorruptIndexBlob(std::string("HNSW graph: ") + e.what());
    }
    return Status::OK();
  }

 private:
  HnswGraphOptions GraphOptions() const {
    HnswGraphOptions options;
    options.space = spec_.metric == MetricType::kL2 ? HnswSpace::kL2 : HnswSpace::kInnerProduct;
    options.dim = spec_.dim;
    return options;
  }

  // Rows go in on BuildThreads() threads; the first alone, as it becomes the entry point.
  static void AddRows(HnswGraph* graph, const float* vectors, int64_t rows, int64_t dim) {
    if (rows == 0) return;
    graph->Add(vectors, 0);
    std::atomic<int64_t> next{1};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto work = [&] {
      for (int64_t row = next++; row < rows; row = next++) {
        try {
          graph->Add(vectors + row * dim, row);
        } catch (...) {
          std::lock_guard lock(failure_mutex);
          if (!failure) failure = std::current_exception();
          next = rows;
        }
      }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < BuildThreads(); ++t) threads.emplace_back(work);
    work();
    for (std::thread& thread : threads) thread.join();
    if (failure) std::rethrow_exception(failure);
  }

  RowSource GraphRows() const {
    RowSource source;
    source.rows = rows_;
    source.dim = spec_.dim;
    source.row_at = [graph = graph_.get()](int64_t row) { return graph->Vector(row); };
    source.normalized = true;
    return source;
  }

  IndexSpec spec_;
  int64_t rows_ = 0;
  std::unique_ptr<HnswGraph> graph_;
};

}  // namespace

std::unique_ptr<VectorIndex> NewHnswIndex(const IndexSpec& spec) { return std::make_unique<HnswIndex>(spec); }

}  // namespace quiver::index::dense
