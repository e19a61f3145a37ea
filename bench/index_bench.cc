// index_bench: Quiver's dense indexes against the libraries they wrap.
//
//   index_bench [--n 200000] [--dim 128] [--nq 1000] [--k 10] [--m 16] [--efc 200]
//               [--nlist 1024] [--threads 2] [--fmnist] [--sections hnsw,ivf,filter]
//
// Data: clustered synthetic rows (N x dim), or Fashion-MNIST (--fmnist: 60000 x 784 train
// images as rows, test images as queries; Debian package dataset-fashion-mnist).
// For each method: build time, recall@k against exact search, and single-thread query
// throughput and latency (one query per call, as a segment search issues them; methods take
// turns over 3 passes and each query counts with its fastest pass; QPS = queries / summed
// latency), with ratios
// to the raw library: Quiver HNSW and FAISS IndexHNSWFlat against raw hnswlib, Quiver
// IVF_FLAT against raw FAISS IndexIVFFlat. The filter section (not run by default) times
// filtered HNSW searches at several selectivities, graph walk against exact scan: the data
// behind hnsw_index.cc's cost model.
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <omp.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/index_bench_raw_hnswlib.h"
#include "index/dense_common.h"
#include "index/distance.h"
#include "index/hnsw_graph.h"
#include "index/vector_index.h"

extern "C" void openblas_set_num_threads(int threads);

namespace quiver::bench {
namespace {

using Clock = std::chrono::steady_clock;
using index::IndexSpec;
using index::IndexType;
using index::MetricType;

struct Options {
  int64_t n = 200000;
  int64_t dim = 128;
  int64_t nq = 1000;
  int k = 10;
  int m = 16;
  int ef_construction = 200;
  int64_t nlist = 1024;
  int threads = 2;
  bool fmnist = false;
  std::string sections = "hnsw,ivf";
};

struct Dataset {
  std::string name;
  int64_t rows = 0, dim = 0, nq = 0;
  std::vector<float> base, queries;
  const float* query(int64_t q) const { return queries.data() + q * dim; }
};

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

Dataset Synthetic(const Options& options) {
  Dataset data{"synthetic clustered", options.n, options.dim, options.nq, {}, {}};
  std::mt19937 rng(42);
  const int clusters = 256;
  std::uniform_real_distribution<float> center_value(-1.0f, 1.0f);
  std::normal_distribution<float> noise(0.0f, 0.25f);
  std::vector<float> centers(static_cast<size_t>(clusters * data.dim));
  for (float& v : centers) v = center_value(rng);
  std::uniform_int_distribution<int> pick(0, clusters - 1);
  auto fill = [&](std::vector<float>* out, int64_t rows) {
    out->resize(static_cast<size_t>(rows * data.dim));
    for (int64_t r = 0; r < rows; ++r) {
      const float* center = centers.data() + pick(rng) * data.dim;
      for (int64_t i = 0; i < data.dim; ++i) (*out)[r * data.dim + i] = center[i] + noise(rng);
    }
  };
  fill(&data.base, data.rows);
  fill(&data.queries, data.nq);
  return data;
}

// An IDX3 file (big-endian magic 0x803, count, height, width, then bytes) as float rows.
std::vector<float> ReadIdxImages(const std::string& path, int64_t limit, int64_t* dim) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw std::runtime_error("cannot open " + path + " (apt-get install dataset-fashion-mnist)");
  unsigned char header[16];
  if (gzread(file, header, sizeof(header)) != sizeof(header)) throw std::runtime_error("short read: " + path);
  auto be32 = [&](int at) {
    return (uint32_t{header[at]} << 24) | (uint32_t{header[at + 1]} << 16) | (uint32_t{header[at + 2]} << 8) |
           header[at + 3];
  };
  if (be32(0) != 0x803) throw std::runtime_error("not an IDX3 image file: " + path);
  const int64_t count = std::min<int64_t>(be32(4), limit);
  *dim = int64_t{be32(8)} * be32(12);
  std::vector<unsigned char> bytes(static_cast<size_t>(count * *dim));
  if (gzread(file, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size())) {
    throw std::runtime_error("short read: " + path);
  }
  gzclose(file);
  return std::vector<float>(bytes.begin(), bytes.end());
}

Dataset FashionMnist(const Options& options) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  Dataset data{"Fashion-MNIST", 0, 0, 0, {}, {}};
  data.base = ReadIdxImages(dir + "train-images-idx3-ubyte.gz", INT64_MAX, &data.dim);
  data.queries = ReadIdxImages(dir + "t10k-images-idx3-ubyte.gz", options.nq, &data.dim);
  data.rows = static_cast<int64_t>(data.base.size()) / data.dim;
  data.nq = static_cast<int64_t>(data.queries.size()) / data.dim;
  return data;
}

index::VectorData View(const Dataset& data) {
  return {index::spb::FloatVector, data.dim, data.rows, data.base.data(), nullptr, nullptr};
}

index::QueryVectors OneQuery(const Dataset& data, int64_t q) {
  return {index::spb::FloatVector, data.dim, 1, data.query(q), nullptr, nullptr};
}

struct Measurement {
  double recall = 0, qps = 0, p50_us = 0, p99_us = 0;
};

// Per-query latencies (microseconds) of one pass over the queries, and the pass's recall.
struct Pass {
  std::vector<double> latencies_us;
  double recall = 0;
};

// Runs `search(q)` for every query, one at a time on this thread.
Pass RunQueries(const Dataset& data, const std::vector<std::vector<int64_t>>& truth, int k,
                const std::function<std::vector<int64_t>(int64_t)>& search) {
  Pass pass;
  int64_t found = 0;
  for (int64_t q = 0; q < data.nq; ++q) {
    const auto begin = Clock::now();
    const std::vector<int64_t> rows = search(q);
    pass.latencies_us.push_back(Seconds(begin) * 1e6);
    const std::set<int64_t> expected(truth[q].begin(), truth[q].end());
    for (int i = 0; i < k && i < static_cast<int>(rows.size()); ++i) found += expected.count(rows[i]);
  }
  pass.recall = static_cast<double>(found) / static_cast<double>(data.nq * k);
  return pass;
}

// Throughput and latency percentiles from per-query latencies.
Measurement Summarize(std::vector<double> latencies_us, double recall) {
  Measurement m;
  m.recall = recall;
  double total_us = 0;
  for (double latency : latencies_us) total_us += latency;
  std::sort(latencies_us.begin(), latencies_us.end());
  m.qps = static_cast<double>(latencies_us.size()) / (total_us * 1e-6);
  m.p50_us = latencies_us[latencies_us.size() / 2];
  m.p99_us = latencies_us[std::min(latencies_us.size() - 1, latencies_us.size() * 99 / 100)];
  return m;
}

Measurement Measure(const Dataset& data, const std::vector<std::vector<int64_t>>& truth, int k,
                    const std::function<std::vector<int64_t>(int64_t)>& search) {
  Pass pass = RunQueries(data, truth, k, search);
  return Summarize(std::move(pass.latencies_us), pass.recall);
}

void PrintHeader() {
  std::printf("%-34s %8s %9s %9s %9s %9s %11s %9s\n", "method", "build_s", "recall", "QPS", "p50_us", "p99_us",
              "build_ratio", "qps_ratio");
}

// One way of answering the queries, and the raw-library method its ratios are against.
struct Method {
  std::string name;
  double build_seconds = 0;
  std::function<std::vector<int64_t>(int64_t)> search;
  int reference = -1;  // index into the method list; -1: none
};

// The machine is shared: methods take turns over `rounds` passes, and each query counts
// with its fastest pass, so a burst of someone else's work lands on no method in particular.
void CompareMethods(const Dataset& data, const std::vector<std::vector<int64_t>>& truth, int k,
                    const std::vector<Method>& methods, int rounds = 3) {
  std::vector<Pass> fastest(methods.size());
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < methods.size(); ++i) {
      Pass pass = RunQueries(data, truth, k, methods[i].search);
      if (round == 0) {
        fastest[i] = std::move(pass);
        continue;
      }
      for (size_t q = 0; q < pass.latencies_us.size(); ++q) {
        fastest[i].latencies_us[q] = std::min(fastest[i].latencies_us[q], pass.latencies_us[q]);
      }
    }
  }
  std::vector<Measurement> best;
  for (Pass& pass : fastest) best.push_back(Summarize(std::move(pass.latencies_us), pass.recall));
  for (size_t i = 0; i < methods.size(); ++i) {
    const Method& method = methods[i];
    const Measurement& m = best[i];
    std::printf("%-34s %8.2f %9.4f %9.0f %9.1f %9.1f", method.name.c_str(), method.build_seconds, m.recall, m.qps,
                m.p50_us, m.p99_us);
    if (method.reference >= 0) {
      std::printf(" %11.2f %9.2f\n", method.build_seconds / methods[method.reference].build_seconds,
                  m.qps / best[method.reference].qps);
    } else {
      std::printf(" %11s %9s\n", "-", "-");
    }
  }
  std::fflush(stdout);
}

std::vector<int64_t> Rows(const StatusOr<index::SearchResult>& result) {
  if (!result.ok()) throw std::runtime_error(result.status().ToString());
  return result->rows;
}

std::unique_ptr<index::VectorIndex> BuildQuiver(const IndexSpec& spec, const Dataset& data, double* seconds) {
  auto index = index::CreateVectorIndex(spec);
  if (!index.ok()) throw std::runtime_error(index.status().ToString());
  const auto start = Clock::now();
  Status built = (*index)->Build(View(data));
  *seconds = Seconds(start);
  if (!built.ok()) throw std::runtime_error(built.ToString());
  return std::move(*index);
}

std::vector<int64_t> FaissSearch(const faiss::Index& index, const float* query, int k,
                                 const faiss::SearchParameters* params) {
  std::vector<float> distances(k);
  std::vector<faiss::Index::idx_t> labels(k);
  index.search(1, query, k, distances.data(), labels.data(), params);
  return {labels.begin(), labels.end()};
}

void BenchHnsw(const Options& options, const Dataset& data, const std::vector<std::vector<int64_t>>& truth) {
  std::printf("\nHNSW  M=%d efConstruction=%d, built on %d threads; Quiver's hnswlib compiled for %s\n", options.m,
              options.ef_construction, options.threads, index::HnswSimdLevel());
  if (!RawHnswlibSupported()) {
    std::printf("(skipped: the raw hnswlib reference is compiled for AVX-512, which this CPU lacks)\n");
    return;
  }
  auto start = Clock::now();
  auto raw = RawHnswlib::Build(data.base.data(), data.rows, data.dim, options.m, options.ef_construction,
                               options.threads);
  const double raw_build = Seconds(start);

  IndexSpec spec;
  spec.type = IndexType::kHnsw;
  spec.dim = data.dim;
  spec.build_params = {{"M", options.m}, {"efConstruction", options.ef_construction}};
  double quiver_build = 0;
  auto quiver = BuildQuiver(spec, data, &quiver_build);

  faiss::IndexHNSWFlat faiss_index(static_cast<int>(data.dim), options.m);
  faiss_index.hnsw.efConstruction = options.ef_construction;
  omp_set_num_threads(options.threads);
  start = Clock::now();
  faiss_index.add(data.rows, data.base.data());
  const double faiss_build = Seconds(start);
  omp_set_num_threads(1);

  PrintHeader();
  for (int ef : {32, 64, 128}) {
    index::SearchParams params;
    params.ef = ef;
    faiss_index.hnsw.efSearch = ef;  // FAISS 1.7.3's IndexHNSW::search ignores SearchParametersHNSW
    const std::string suffix = " ef=" + std::to_string(ef);
    CompareMethods(data, truth, options.k,
                   {{"raw hnswlib" + suffix, raw_build,
                     [&](int64_t q) { return raw->Search(data.query(q), options.k, ef); }, 0},
                    {"quiver HNSW" + suffix, quiver_build,
                     [&](int64_t q) { return Rows(quiver->Search(OneQuery(data, q), options.k, params, {})); }, 0},
                    {"faiss IndexHNSWFlat" + suffix, faiss_build,
                     [&](int64_t q) { return FaissSearch(faiss_index, data.query(q), options.k, nullptr); },
                     0}});
  }
  std::printf("quiver HNSW memory: %.1f MB\n", quiver->MemoryBytes() / 1e6);
}

void BenchIvf(const Options& options, const Dataset& data, const std::vector<std::vector<int64_t>>& truth) {
  const int64_t nlist = std::min(options.nlist, data.rows / 39);
  std::printf("\nIVF_FLAT  nlist=%lld, built on 1 thread (both)\n", static_cast<long long>(nlist));
  faiss::IndexFlatL2 quantizer(data.dim);
  faiss::IndexIVFFlat raw(&quantizer, data.dim, nlist);
  auto start = Clock::now();
  raw.train(data.rows, data.base.data());
  raw.add(data.rows, data.base.data());
  const double raw_build = Seconds(start);

  IndexSpec spec;
  spec.type = IndexType::kIvfFlat;
  spec.dim = data.dim;
  spec.build_params = {{"nlist", nlist}};
  double quiver_build = 0;
  auto quiver = BuildQuiver(spec, data, &quiver_build);

  PrintHeader();
  for (int64_t nprobe : {8, 16, 32}) {
    index::SearchParams params;
    params.nprobe = nprobe;
    faiss::SearchParametersIVF faiss_params;
    faiss_params.nprobe = nprobe;
    const std::string suffix = " nprobe=" + std::to_string(nprobe);
    CompareMethods(data, truth, options.k,
                   {{"raw faiss IVFFlat" + suffix, raw_build,
                     [&](int64_t q) { return FaissSearch(raw, data.query(q), options.k, &faiss_params); }, 0},
                    {"quiver IVF_FLAT" + suffix, quiver_build,
                     [&](int64_t q) { return Rows(quiver->Search(OneQuery(data, q), options.k, params, {})); }, 0}});
  }
  std::printf("quiver IVF_FLAT memory: %.1f MB\n", quiver->MemoryBytes() / 1e6);
}

// Filtered HNSW: the graph walk (HnswGraph::Search with a filter) and the exact scan over the
// allowed rows, per selectivity, and what Quiver's HNSW index does (it picks one of the two).
void BenchFilter(const Options& options, const Dataset& data) {
  const int ef = 64;
  std::printf("\nfiltered HNSW  ef=%d (latency per query, microseconds)\n", ef);
  IndexSpec spec;
  spec.type = IndexType::kHnsw;
  spec.dim = data.dim;
  spec.build_params = {{"M", options.m}, {"efConstruction", options.ef_construction}};
  double build = 0;
  auto index = BuildQuiver(spec, data, &build);

  index::HnswGraphOptions graph_options;
  graph_options.dim = data.dim;
  graph_options.capacity = data.rows;
  graph_options.m = options.m;
  graph_options.ef_construction = options.ef_construction;
  auto graph = index::NewHnswGraph(graph_options);
  // Single-threaded insertion would take long; the graph shape does not depend on it.
  {
    graph->Add(data.base.data(), 0);
    std::atomic<int64_t> next{1};
    auto work = [&] {
      for (int64_t row = next++; row < data.rows; row = next++) graph->Add(data.base.data() + row * data.dim, row);
    };
    std::vector<std::thread> workers;
    for (int t = 1; t < options.threads; ++t) workers.emplace_back(work);
    work();
    for (auto& worker : workers) worker.join();
    graph->FinishBuild();
  }

  std::printf("%-12s %10s %12s %12s %12s %12s %12s\n", "selectivity", "allowed", "graph_us", "graph_recall",
              "scan_us", "quiver_us", "quiver_recall");
  std::mt19937 rng(5);
  for (double selectivity : {0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005}) {
    std::vector<uint8_t> allowed(data.rows);
    std::bernoulli_distribution keep(selectivity);
    int64_t allowed_count = 0;
    for (auto& a : allowed) allowed_count += (a = keep(rng));
    const index::RowFilter filter{allowed.data(), allowed_count};
    const int64_t nq = std::min<int64_t>(data.nq, 200);
    Dataset subset = data;
    subset.nq = nq;
    std::vector<std::vector<int64_t>> truth(nq);
    auto scan_start = Clock::now();
    for (int64_t q = 0; q < nq; ++q) {
      truth[q] = Rows(index::BruteForceSearch(View(data), MetricType::kL2, OneQuery(data, q), options.k, {}, filter));
    }
    const double scan_us = Seconds(scan_start) * 1e6 / nq;
    const Measurement walk = Measure(subset, truth, options.k, [&](int64_t q) {
      std::vector<int64_t> rows;
      for (const auto& c : graph->Search(data.query(q), options.k, ef, allowed.data())) rows.push_back(c.row);
      return rows;
    });
    index::SearchParams params;
    params.ef = ef;
    const Measurement quiver = Measure(subset, truth, options.k, [&](int64_t q) {
      return Rows(index->Search(OneQuery(data, q), options.k, params, filter));
    });
    std::printf("%-12.3f %10lld %12.1f %12.4f %12.1f %12.1f %12.4f\n", selectivity,
                static_cast<long long>(allowed_count), walk.qps > 0 ? 1e6 / walk.qps : 0.0, walk.recall, scan_us,
                1e6 / quiver.qps, quiver.recall);
    std::fflush(stdout);
  }
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> int64_t {
      if (i + 1 >= argc) throw std::runtime_error(flag + " needs a value");
      return std::atoll(argv[++i]);
    };
    if (flag == "--n") options.n = value();
    else if (flag == "--dim") options.dim = value();
    else if (flag == "--nq") options.nq = value();
    else if (flag == "--k") options.k = static_cast<int>(value());
    else if (flag == "--m") options.m = static_cast<int>(value());
    else if (flag == "--efc") options.ef_construction = static_cast<int>(value());
    else if (flag == "--nlist") options.nlist = value();
    else if (flag == "--threads") options.threads = static_cast<int>(value());
    else if (flag == "--fmnist") options.fmnist = true;
    else if (flag == "--sections") options.sections = i + 1 < argc ? argv[++i] : "";
    else throw std::runtime_error("unknown flag " + flag);
  }
  return options;
}

int Run(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  // FAISS's k-means calls OpenBLAS, whose spinning threads fight OpenMP's; Quiver runs FAISS
  // single-threaded (see dense_common.h), and so does the raw reference here.
  openblas_set_num_threads(1);
  omp_set_num_threads(1);
  const Dataset data = options.fmnist ? FashionMnist(options) : Synthetic(options);
  std::printf("%s: %lld rows x %lld dims, %lld queries, k=%d; distance kernels %s\n", data.name.c_str(),
              static_cast<long long>(data.rows), static_cast<long long>(data.dim), static_cast<long long>(data.nq),
              options.k, index::SupportedDistanceKernels()[0].name);

  // Ground truth, which also times Quiver's exact search (brute force over raw rows).
  std::vector<std::vector<int64_t>> truth(data.nq);
  const Measurement exact = Measure(data, truth, options.k, [&](int64_t q) {
    truth[q] = Rows(index::BruteForceSearch(View(data), MetricType::kL2, OneQuery(data, q), options.k, {}, {}));
    return truth[q];
  });
  std::printf("quiver brute force: %.0f QPS, p50 %.1f us, p99 %.1f us\n", exact.qps, exact.p50_us, exact.p99_us);

  auto wanted = [&](const std::string& section) { return options.sections.find(section) != std::string::npos; };
  if (wanted("hnsw")) BenchHnsw(options, data, truth);
  if (wanted("ivf")) BenchIvf(options, data, truth);
  if (wanted("filter")) BenchFilter(options, data);
  return 0;
}

}  // namespace
}  // namespace quiver::bench

int main(int argc, char** argv) {
  try {
    return quiver::bench::Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "index_bench: %s\n", e.what());
    return 1;
  }
}
