#include "bench/search_bench_data.h"

#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <thread>

extern "C" void openblas_set_num_threads(int threads);

namespace quiver::bench {
namespace {

// splitmix64: a counter-based generator, so each row's values depend only on (seed, row) and
// generation can be split over threads without changing the data.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  // Box-Muller, written out so the data do not depend on the standard library's version.
  double Normal() {
    const double u = 1.0 - Uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * Uniform());
  }

 private:
  uint64_t state_;
};

uint64_t Mix(uint64_t seed, uint64_t stream) { return Random(seed ^ (stream * 0xd1b54a32d192ed03ULL)).Next(); }

// Real embeddings are not uniform noise: they gather in clusters, and within a cluster they
// vary along a few directions only (a low intrinsic dimension). Each cluster here is a
// center plus a combination of kLatentDims random directions of decreasing spread, plus a
// little isotropic noise; queries come from the same distribution. The centers lie close
// enough (kCenterRange) for clusters to overlap, so near neighbours cross cluster borders;
// with these constants HNSW (M=16, efConstruction=200) reaches recall@10 of about 0.98 at
// ef=32 on 100k rows, less on more, much like SIFT.
constexpr int64_t kClusters = 1000;
constexpr double kCenterRange = 0.15;  // centers uniform in [-kCenterRange, kCenterRange]^dim
constexpr int64_t kLatentDims = 16;
constexpr double kLatentSpread = 0.6;
constexpr double kNoise = 0.05;

struct ClusterModel {
  int64_t dim;
  std::vector<float> centers;     // kClusters x dim
  std::vector<float> directions;  // kClusters x kLatentDims x dim, scaled by their spread

  ClusterModel(int64_t dim_, uint64_t seed) : dim(dim_) {
    Random random(Mix(seed, 0));
    centers.resize(static_cast<size_t>(kClusters * dim));
    for (float& v : centers) v = static_cast<float>((random.Uniform() * 2.0 - 1.0) * kCenterRange);
    directions.resize(static_cast<size_t>(kClusters * kLatentDims * dim));
    for (int64_t c = 0; c < kClusters; ++c) {
      for (int64_t l = 0; l < kLatentDims; ++l) {
        const double spread = kLatentSpread / (1.0 + 0.15 * static_cast<double>(l)) / std::sqrt(double(dim));
        float* direction = directions.data() + (c * kLatentDims + l) * dim;
        for (int64_t i = 0; i < dim; ++i) direction[i] = static_cast<float>(random.Normal() * spread);
      }
    }
  }

  void Sample(Random* random, float* out) const {
    const int64_t c = static_cast<int64_t>(random->Next() % kClusters);
    std::memcpy(out, centers.data() + c * dim, dim * sizeof(float));
    for (int64_t l = 0; l < kLatentDims; ++l) {
      const float z = static_cast<float>(random->Normal());
      const float* direction = directions.data() + (c * kLatentDims + l) * dim;
      for (int64_t i = 0; i < dim; ++i) out[i] += z * direction[i];
    }
    for (int64_t i = 0; i < dim; ++i) out[i] += static_cast<float>(random->Normal() * kNoise);
  }
};

void ParallelFor(int64_t count, const std::function<void(int64_t begin, int64_t end)>& body) {
  const int64_t threads = std::max<int64_t>(1, std::thread::hardware_concurrency());
  std::vector<std::thread> workers;
  for (int64_t t = 0; t < threads; ++t) {
    const int64_t begin = count * t / threads, end = count * (t + 1) / threads;
    workers.emplace_back([&body, begin, end] { body(begin, end); });
  }
  for (auto& worker : workers) worker.join();
}

std::vector<float> ReadFvecsFile(const std::string& path, int64_t limit, int64_t* dim) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<float> out;
  int64_t count = 0;
  int32_t row_dim = 0;
  while ((limit <= 0 || count < limit) && in.read(reinterpret_cast<char*>(&row_dim), sizeof(row_dim))) {
    if (row_dim <= 0 || (*dim != 0 && row_dim != *dim)) {
      throw std::runtime_error(path + ": vector " + std::to_string(count) + " has dimension " +
                               std::to_string(row_dim) + (*dim ? ", expected " + std::to_string(*dim) : ""));
    }
    *dim = row_dim;
    out.resize(out.size() + static_cast<size_t>(row_dim));
    if (!in.read(reinterpret_cast<char*>(out.data() + count * row_dim), row_dim * sizeof(float))) {
      throw std::runtime_error(path + ": truncated vector " + std::to_string(count));
    }
    ++count;
  }
  if (count == 0) throw std::runtime_error(path + " holds no vectors");
  return out;
}

uint64_t ContentHash(const Dataset& data) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  auto mix = [&](const std::vector<float>& values) {
    const size_t words = values.size() / 2;
    const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
    for (size_t w = 0; w < words; ++w) {
      uint64_t word;
      std::memcpy(&word, bytes + w * 8, 8);
      hash = (hash ^ word) * 0x100000001b3ULL;
    }
    if (values.size() % 2) hash = (hash ^ static_cast<uint64_t>(values.back())) * 0x100000001b3ULL;
  };
  mix(data.base);
  mix(data.queries);
  return hash;
}

struct CacheHeader {
  char magic[8] = {'Q', 'V', 'G', 'T', '0', '0', '0', '1'};
  int64_t rows = 0, dim = 0, nq = 0, k = 0;
  uint64_t hash = 0;
};

bool ReadCache(const std::string& path, const CacheHeader& expected, std::vector<int64_t>* truth) {
  std::ifstream in(path, std::ios::binary);
  CacheHeader header;
  if (!in || !in.read(reinterpret_cast<char*>(&header), sizeof(header))) return false;
  if (std::memcmp(&header, &expected, sizeof(header)) != 0) return false;
  truth->resize(static_cast<size_t>(expected.nq * expected.k));
  return static_cast<bool>(in.read(reinterpret_cast<char*>(truth->data()), truth->size() * sizeof(int64_t)));
}

void WriteCache(const std::string& path, const CacheHeader& header, const std::vector<int64_t>& truth) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(&header), sizeof(header));
  out.write(reinterpret_cast<const char*>(truth.data()), truth.size() * sizeof(int64_t));
  if (!out) std::fprintf(stderr, "warning: cannot write the ground-truth cache %s\n", path.c_str());
}

}  // namespace

Dataset GenerateClustered(int64_t rows, int64_t dim, int64_t nq, uint64_t seed) {
  Dataset data{"synthetic clustered (seed " + std::to_string(seed) + ")", rows, dim, nq, {}, {}};
  const ClusterModel model(dim, seed);
  data.base.resize(static_cast<size_t>(rows * dim));
  data.queries.resize(static_cast<size_t>(nq * dim));
  ParallelFor(rows + nq, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      Random random(Mix(seed, static_cast<uint64_t>(i) + 1));
      model.Sample(&random, i < rows ? data.base.data() + i * dim : data.queries.data() + (i - rows) * dim);
    }
  });
  return data;
}

Dataset ReadFvecs(const std::string& base_path, const std::string& query_path, int64_t max_rows,
                  int64_t max_queries) {
  Dataset data;
  data.name = base_path;
  data.base = ReadFvecsFile(base_path, max_rows, &data.dim);
  data.queries = ReadFvecsFile(query_path, max_queries, &data.dim);
  data.rows = static_cast<int64_t>(data.base.size()) / data.dim;
  data.nq = static_cast<int64_t>(data.queries.size()) / data.dim;
  return data;
}

std::vector<int64_t> ExactTopK(const Dataset& data, int k, const std::string& cache_path) {
  CacheHeader header;
  header.rows = data.rows;
  header.dim = data.dim;
  header.nq = data.nq;
  header.k = k;
  if (!cache_path.empty()) {
    header.hash = ContentHash(data);
    std::vector<int64_t> cached;
    if (ReadCache(cache_path, header, &cached)) return cached;
  }
  // FAISS's exact kNN: BLAS matrix products over query blocks, on every core for this once.
  std::vector<float> distances(static_cast<size_t>(data.nq * k));
  std::vector<int64_t> truth(static_cast<size_t>(data.nq * k));
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  openblas_set_num_threads(cores);
  omp_set_num_threads(cores);
  faiss::knn_L2sqr(data.queries.data(), data.base.data(), static_cast<size_t>(data.dim),
                   static_cast<size_t>(data.nq), static_cast<size_t>(data.rows), static_cast<size_t>(k),
                   distances.data(), truth.data());
  openblas_set_num_threads(1);
  omp_set_num_threads(1);
  if (!cache_path.empty()) WriteCache(cache_path, header, truth);
  return truth;
}

}  // namespace quiver::bench
