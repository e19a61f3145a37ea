// Dense float indexes (FLAT, HNSW, IVF_FLAT, IVF_SQ8, IVF_PQ), dense brute force and the
// distance kernels, checked against exact answers computed here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/distance.h"
#include "index/vector_index.h"

namespace quiver::index {
namespace {

struct Dataset {
  int64_t rows = 0;
  int64_t dim = 0;
  std::vector<float> values;

  VectorData view() const { return {spb::FloatVector, dim, rows, values.data(), nullptr, nullptr}; }
  const float* row(int64_t r) const { return values.data() + r * dim; }
  // Rows [first, first + count) as queries.
  QueryVectors queries(int64_t first, int64_t count) const {
    return {spb::FloatVector, dim, count, row(first), nullptr, nullptr};
  }
};

// Gaussian clusters around random centers: the shape ANN indexes are built for.
Dataset Clustered(int64_t rows, int64_t dim, uint32_t seed, int clusters = 64) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> center_value(-1.0f, 1.0f);
  std::normal_distribution<float> noise(0.0f, 0.15f);
  std::vector<float> centers(static_cast<size_t>(clusters * dim));
  for (float& v : centers) v = center_value(rng);
  Dataset data{rows, dim, std::vector<float>(static_cast<size_t>(rows * dim))};
  std::uniform_int_distribution<int> pick(0, clusters - 1);
  for (int64_t r = 0; r < rows; ++r) {
    const float* center = centers.data() + pick(rng) * dim;
    for (int64_t i = 0; i < dim; ++i) data.values[r * dim + i] = center[i] + noise(rng);
  }
  return data;
}

IndexSpec Spec(IndexType type, MetricType metric, int64_t dim, std::map<std::string, int64_t> params = {}) {
  IndexSpec spec;
  spec.type = type;
  spec.metric = metric;
  spec.dim = dim;
  spec.build_params = std::move(params);
  return spec;
}

std::unique_ptr<VectorIndex> Build(const IndexSpec& spec, const Dataset& data) {
  auto index = CreateVectorIndex(spec);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  if (!index.ok()) return nullptr;
  Status built = (*index)->Build(data.view());
  EXPECT_TRUE(built.ok()) << built.ToString();
  EXPECT_EQ((*index)->rows(), data.rows);
  return std::move(*index);
}

SearchResult MustSearch(const VectorIndex& index, const QueryVectors& queries, int64_t k,
                        const SearchParams& params = {}, const RowFilter& filter = {}) {
  auto result = index.Search(queries, k, params, filter);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? *result : SearchResult{};
}

SearchResult Exact(const Dataset& data, MetricType metric, const QueryVectors& queries, int64_t k,
                   const SearchParams& params = {}, const RowFilter& filter = {}) {
  auto result = BruteForceSearch(data.view(), metric, queries, k, params, filter);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? *result : SearchResult{};
}

// Fraction of the exact result's rows the approximate result found.
double Recall(const SearchResult& approximate, const SearchResult& exact) {
  int64_t found = 0, total = 0;
  for (int64_t q = 0; q < exact.nq; ++q) {
    std::set<int64_t> truth;
    for (int64_t i = 0; i < exact.k; ++i) {
      if (exact.rows[q * exact.k + i] >= 0) truth.insert(exact.rows[q * exact.k + i]);
    }
    for (int64_t i = 0; i < approximate.k; ++i) found += truth.count(approximate.rows[q * approximate.k + i]);
    total += static_cast<int64_t>(truth.size());
  }
  return total == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(total);
}

double NaiveScore(MetricType metric, const float* a, const float* b, int64_t dim) {
  double dot = 0, l2 = 0, norm_a = 0, norm_b = 0;
  for (int64_t i = 0; i < dim; ++i) {
    dot += double(a[i]) * b[i];
    l2 += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    norm_a += double(a[i]) * a[i];
    norm_b += double(b[i]) * b[i];
  }
  if (metric == MetricType::kL2) return l2;
  if (metric == MetricType::kIP) return dot;
  return dot / std::sqrt(norm_a * norm_b);
}

bool LargerBetter(MetricType metric) { return metric != MetricType::kL2; }

RowFilter Allow(const std::vector<uint8_t>& allowed) {
  return {allowed.data(), static_cast<int64_t>(std::count(allowed.begin(), allowed.end(), 1))};
}

const IndexType kDenseTypes[] = {IndexType::kFlat, IndexType::kHnsw, IndexType::kIvfFlat, IndexType::kIvfSq8,
                                 IndexType::kIvfPq};

std::map<std::string, int64_t> SmallParams(IndexType type) {
  switch (type) {
    case IndexType::kHnsw:
      return {{"M", 16}, {"efConstruction", 100}};
    case IndexType::kIvfPq:
      return {{"nlist", 32}, {"m", 8}, {"nbits", 8}};
    case IndexType::kFlat:
      return {};
    default:
      return {{"nlist", 32}};
  }
}

std::string Name(IndexType type) {
  switch (type) {
    case IndexType::kFlat:
      return "FLAT";
    case IndexType::kHnsw:
      return "HNSW";
    case IndexType::kIvfFlat:
      return "IVF_FLAT";
    case IndexType::kIvfSq8:
      return "IVF_SQ8";
    default:
      return "IVF_PQ";
  }
}

bool Quantized(IndexType type) { return type == IndexType::kIvfSq8 || type == IndexType::kIvfPq; }

// --- distance kernels ---

TEST(DistanceKernelsTest, EveryKernelMatchesANaiveLoop) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  std::uniform_int_distribution<int> pick_dim(1, 1000);
  ASSERT_FALSE(SupportedDistanceKernels().empty());
  for (const DistanceKernels& kernels : SupportedDistanceKernels()) {
    for (int trial = 0; trial < 200; ++trial) {
      int dim = pick_dim(rng);
      if (dim % 16 == 0) ++dim;
      std::vector<float> a(dim), b(dim);
      for (int i = 0; i < dim; ++i) {
        a[i] = value(rng);
        b[i] = value(rng);
      }
      double l2 = 0, dot = 0, magnitude = 0;
      for (int i = 0; i < dim; ++i) {
        l2 += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        dot += double(a[i]) * b[i];
        magnitude += std::abs(double(a[i]) * b[i]);
      }
      // The inner product can cancel to ~0, so its error is measured against sum |a_i b_i|.
      EXPECT_NEAR(kernels.l2sqr(a.data(), b.data(), dim), l2, 1e-4 * l2) << kernels.name << " dim " << dim;
      EXPECT_NEAR(kernels.inner_product(a.data(), b.data(), dim), dot, 1e-4 * magnitude)
          << kernels.name << " dim " << dim;
    }
  }
  EXPECT_EQ(L2Sqr(std::vector<float>{1, 2}.data(), std::vector<float>{4, 6}.data(), 2), 25.0f);
  EXPECT_EQ(InnerProduct(std::vector<float>{1, 2}.data(), std::vector<float>{4, 6}.data(), 2), 16.0f);
}

// --- recall on 20k x 64 clustered rows ---

class RecallTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Queries come from the same clusters as the rows (same seed) but are not rows.
    Dataset all = Clustered(20200, 64, 42);
    queries_ = new Dataset{200, 64, std::vector<float>(all.values.begin() + 20000 * 64, all.values.end())};
    all.rows = 20000;
    all.values.resize(20000 * 64);
    data_ = new Dataset(std::move(all));
  }
  static void TearDownTestSuite() {
    delete data_;
    delete queries_;
  }
  double RecallOf(const IndexSpec& spec, const SearchParams& params) {
    auto index = Build(spec, *data_);
    const QueryVectors queries = queries_->queries(0, queries_->rows);
    return Recall(MustSearch(*index, queries, 10, params), Exact(*data_, spec.metric, queries, 10));
  }
  static Dataset* data_;
  static Dataset* queries_;
};
Dataset* RecallTest::data_ = nullptr;
Dataset* RecallTest::queries_ = nullptr;

TEST_F(RecallTest, Hnsw) {
  SearchParams params;
  params.ef = 64;
  EXPECT_GE(RecallOf(Spec(IndexType::kHnsw, MetricType::kL2, 64, {{"M", 16}, {"efConstruction", 200}}), params), 0.95);
}

TEST_F(RecallTest, IvfFlat) {
  SearchParams params;
  params.nprobe = 16;
  EXPECT_GE(RecallOf(Spec(IndexType::kIvfFlat, MetricType::kL2, 64, {{"nlist", 128}}), params), 0.95);
}

TEST_F(RecallTest, IvfSq8AndIvfPq) {
  SearchParams params;
  params.nprobe = 16;
  EXPECT_GE(RecallOf(Spec(IndexType::kIvfSq8, MetricType::kL2, 64, {{"nlist", 128}}), params), 0.7);
  EXPECT_GE(RecallOf(Spec(IndexType::kIvfPq, MetricType::kL2, 64, {{"nlist", 128}, {"m", 32}, {"nbits", 8}}), params),
            0.7);
}

TEST_F(RecallTest, FilterExcluding99PercentStillReturnsKAllowedRows) {
  std::vector<uint8_t> allowed(data_->rows, 0);
  for (int64_t r = 0; r < data_->rows; r += 100) allowed[r] = 1;
  const RowFilter filter = Allow(allowed);
  const QueryVectors queries = queries_->queries(0, 20);
  for (IndexType type : kDenseTypes) {
    auto index = Build(Spec(type, MetricType::kL2, 64, SmallParams(type)), *data_);
    const SearchResult result = MustSearch(*index, queries, 10, {}, filter);
    for (int64_t i = 0; i < queries.rows * 10; ++i) {
      ASSERT_GE(result.rows[i], 0) << Name(type) << ": fewer than k hits";
      ASSERT_TRUE(allowed[result.rows[i]]) << Name(type) << " returned disallowed row " << result.rows[i];
    }
    if (!Quantized(type)) {
      EXPECT_GE(Recall(result, Exact(*data_, MetricType::kL2, queries, 10, {}, filter)), 0.95) << Name(type);
    }
  }
}

// Half the rows allowed: HNSW searches its graph (not the exact fallback) and must skip the rest.
TEST_F(RecallTest, HnswGraphSearchHonoursAFilter) {
  std::vector<uint8_t> allowed(data_->rows, 0);
  std::mt19937 rng(3);
  for (auto& a : allowed) a = rng() % 2;
  const RowFilter filter = Allow(allowed);
  auto index = Build(Spec(IndexType::kHnsw, MetricType::kL2, 64, {{"M", 16}, {"efConstruction", 200}}), *data_);
  SearchParams params;
  params.ef = 64;
  const QueryVectors queries = queries_->queries(0, queries_->rows);
  const SearchResult result = MustSearch(*index, queries, 10, params, filter);
  for (int64_t row : result.rows) {
    ASSERT_GE(row, 0);
    ASSERT_TRUE(allowed[row]) << "disallowed row " << row;
  }
  EXPECT_GE(Recall(result, Exact(*data_, MetricType::kL2, queries, 10, {}, filter)), 0.95);
}

// --- metrics, ordering and scores ---

TEST(DenseIndexTest, EveryMetricOrdersAndScoresLikeMilvus) {
  const Dataset data = Clustered(3000, 24, 5);
  const QueryVectors queries = data.queries(100, 10);  // stored rows as queries
  for (MetricType metric : {MetricType::kL2, MetricType::kIP, MetricType::kCosine}) {
    for (IndexType type : kDenseTypes) {
      SCOPED_TRACE(Name(type) + " metric " + std::to_string(static_cast<int>(metric)));
      auto index = Build(Spec(type, metric, 24, SmallParams(type)), data);
      SearchParams params;
      params.nprobe = 32;
      params.ef = 100;
      const SearchResult result = MustSearch(*index, queries, 10, params);
      const SearchResult exact = Exact(data, metric, queries, 10);
      for (int64_t q = 0; q < queries.rows; ++q) {
        for (int64_t i = 0; i < 10; ++i) {
          const int64_t row = result.rows[q * 10 + i];
          ASSERT_GE(row, 0);
          const float score = result.scores[q * 10 + i];
          if (i > 0) {
            const float previous = result.scores[q * 10 + i - 1];
            EXPECT_TRUE(LargerBetter(metric) ? previous >= score : previous <= score) << "not best first";
          }
          const double truth = NaiveScore(metric, queries.floats + q * 24, data.row(row), 24);
          // Quantized indexes report approximate scores: only their scale is checked.
          const double tolerance = type == IndexType::kIvfPq ? 0.3 : type == IndexType::kIvfSq8 ? 0.05 : 1e-3;
          EXPECT_NEAR(score, truth, tolerance * (1 + std::abs(truth)));
        }
        if (metric != MetricType::kIP && !Quantized(type)) {
          EXPECT_EQ(result.rows[q * 10], 100 + q) << "a stored row is its own nearest neighbour";
        }
        if (metric == MetricType::kCosine) {
          EXPECT_NEAR(exact.scores[q * 10], 1.0, 1e-5);
        }
      }
      if (!Quantized(type)) {
        EXPECT_GE(Recall(result, exact), 0.95);
      }
    }
  }
}

// COSINE compares directions: scaling a row must not change its score.
TEST(DenseIndexTest, CosineIgnoresVectorLength) {
  Dataset data = Clustered(500, 16, 9);
  for (int64_t i = 0; i < 16; ++i) data.values[7 * 16 + i] *= 40.0f;
  const QueryVectors query = data.queries(7, 1);
  for (IndexType type : {IndexType::kFlat, IndexType::kHnsw, IndexType::kIvfFlat}) {
    auto index = Build(Spec(type, MetricType::kCosine, 16, SmallParams(type)), data);
    const SearchResult result = MustSearch(*index, query, 1);
    EXPECT_EQ(result.rows[0], 7) << Name(type);
    EXPECT_NEAR(result.scores[0], 1.0f, 1e-5) << Name(type);
  }
}

// --- batches, small segments, persistence ---

TEST(DenseIndexTest, ManyQueriesAnswerAsOneAtATime) {
  const Dataset data = Clustered(4000, 32, 11);
  const QueryVectors batch = data.queries(10, 7);
  for (IndexType type : kDenseTypes) {
    auto index = Build(Spec(type, MetricType::kL2, 32, SmallParams(type)), data);
    const SearchResult together = MustSearch(*index, batch, 5);
    ASSERT_EQ(together.nq, 7);
    for (int64_t q = 0; q < 7; ++q) {
      const SearchResult alone = MustSearch(*index, data.queries(10 + q, 1), 5);
      for (int64_t i = 0; i < 5; ++i) {
        EXPECT_EQ(together.rows[q * 5 + i], alone.rows[i]) << Name(type) << " query " << q;
        EXPECT_EQ(together.scores[q * 5 + i], alone.scores[i]) << Name(type) << " query " << q;
      }
    }
  }
}

TEST(DenseIndexTest, KBeyondTheRowsPadsWithMinusOne) {
  const Dataset data = Clustered(50, 16, 13);  // fewer rows than nlist and than PQ's 256 codewords
  for (IndexType type : kDenseTypes) {
    auto index = Build(Spec(type, MetricType::kIP, 16, SmallParams(type)), data);
    const SearchResult result = MustSearch(*index, data.queries(0, 2), 80);
    for (int64_t q = 0; q < 2; ++q) {
      std::set<int64_t> rows(result.rows.begin() + q * 80, result.rows.begin() + q * 80 + 50);
      EXPECT_EQ(rows.size(), 50u) << Name(type) << ": every row once";
      EXPECT_EQ(*rows.begin(), 0) << Name(type);
      EXPECT_EQ(*rows.rbegin(), 49) << Name(type);
      for (int64_t i = 50; i < 80; ++i) EXPECT_EQ(result.rows[q * 80 + i], -1) << Name(type);
    }
  }
}

TEST(DenseIndexTest, EmptySegmentFindsNothing) {
  const Dataset empty{0, 8, {}};
  const Dataset query = Clustered(1, 8, 1);
  for (IndexType type : kDenseTypes) {
    auto index = Build(Spec(type, MetricType::kL2, 8, SmallParams(type)), empty);
    const SearchResult result = MustSearch(*index, query.queries(0, 1), 3);
    EXPECT_EQ(result.rows, std::vector<int64_t>(3, -1)) << Name(type);
  }
}

TEST(DenseIndexTest, SerializedIndexAnswersIdentically) {
  const Dataset data = Clustered(3000, 32, 17);
  const QueryVectors queries = data.queries(0, 20);
  std::vector<uint8_t> allowed(data.rows, 0);
  for (int64_t r = 0; r < data.rows; r += 3) allowed[r] = 1;
  for (MetricType metric : {MetricType::kL2, MetricType::kCosine}) {
    for (IndexType type : kDenseTypes) {
      const IndexSpec spec = Spec(type, metric, 32, SmallParams(type));
      auto built = Build(spec, data);
      auto blob = built->Serialize();
      ASSERT_TRUE(blob.ok()) << blob.status().ToString();
      auto loaded = std::move(*CreateVectorIndex(spec));
      Status status = loaded->Deserialize(*blob);
      ASSERT_TRUE(status.ok()) << Name(type) << ": " << status.ToString();
      EXPECT_EQ(loaded->rows(), data.rows);
      EXPECT_GT(loaded->MemoryBytes(), 0u);
      for (const RowFilter& filter : {RowFilter{}, Allow(allowed)}) {
        const SearchResult before = MustSearch(*built, queries, 10, {}, filter);
        const SearchResult after = MustSearch(*loaded, queries, 10, {}, filter);
        EXPECT_EQ(before.rows, after.rows) << Name(type);
        EXPECT_EQ(before.scores, after.scores) << Name(type);
      }
      // A blob only loads into the index type, metric and dimension that wrote it.
      const IndexType other = type == IndexType::kFlat ? IndexType::kHnsw : IndexType::kFlat;
      auto mismatched = std::move(*CreateVectorIndex(Spec(other, metric, 32, SmallParams(other))));
      EXPECT_FALSE(mismatched->Deserialize(*blob).ok()) << Name(type);
      EXPECT_FALSE(loaded->Deserialize(blob->substr(0, blob->size() / 2)).ok()) << Name(type);
    }
  }
}

// A sealed segment drops its vector column when its index gives the rows back bit for bit.
TEST(DenseIndexTest, ReconstructGivesBackExactlyTheBuiltRows) {
  Dataset data = Clustered(2000, 24, 41);
  data.values[5] = -0.0f;  // bit for bit, not merely equal
  data.values[7] = 1e-40f;  // a subnormal
  std::vector<int64_t> rows(static_cast<size_t>(data.rows));
  for (int64_t r = 0; r < data.rows; ++r) rows[static_cast<size_t>(r)] = (r * 7919) % data.rows;  // every row, shuffled
  for (MetricType metric : {MetricType::kL2, MetricType::kIP, MetricType::kCosine}) {
    for (IndexType type : kDenseTypes) {
      SCOPED_TRACE(Name(type) + " metric " + MetricName(metric));
      const IndexSpec spec = Spec(type, metric, data.dim, SmallParams(type));
      auto built = Build(spec, data);
      auto loaded = std::move(*CreateVectorIndex(spec));
      ASSERT_TRUE(loaded->Deserialize(*built->Serialize()).ok());
      const bool exact = metric != MetricType::kCosine && !Quantized(type);
      for (const VectorIndex* index : {built.get(), loaded.get()}) {
        ASSERT_EQ(index->HoldsRawVectors(), exact);
        std::vector<float> out(rows.size() * data.dim, 42.0f);
        Status status = index->ReconstructRows(rows, out.data());
        ASSERT_EQ(status.ok(), exact) << status.ToString();
        if (!exact) continue;
        for (size_t i = 0; i < rows.size(); ++i) {
          ASSERT_EQ(std::memcmp(out.data() + i * data.dim, data.row(rows[i]), data.dim * sizeof(float)), 0)
              << "row " << rows[i];
        }
        const int64_t outside[] = {0, data.rows};
        EXPECT_FALSE(index->ReconstructRows(outside, out.data()).ok());
      }
    }
  }
}

TEST(DenseIndexTest, BuildRefusesParametersTheLibrariesCannotTake) {
  const Dataset data = Clustered(300, 24, 29);
  auto pq = std::move(*CreateVectorIndex(Spec(IndexType::kIvfPq, MetricType::kL2, 24, {{"m", 7}})));
  EXPECT_EQ(pq->Build(data.view()).code(), Code::kParameterInvalid) << "m must divide the dimension";
  auto hnsw = std::move(*CreateVectorIndex(Spec(IndexType::kHnsw, MetricType::kL2, 24, {{"M", 1}})));
  EXPECT_EQ(hnsw->Build(data.view()).code(), Code::kParameterInvalid);
  auto flat = std::move(*CreateVectorIndex(Spec(IndexType::kFlat, MetricType::kL2, 32)));
  EXPECT_EQ(flat->Build(data.view()).code(), Code::kParameterInvalid) << "dimension mismatch";
  EXPECT_FALSE(CreateVectorIndex(Spec(IndexType::kHnsw, MetricType::kHamming, 24)).ok());
}

// --- range search ---

TEST(DenseIndexTest, RangeSearchKeepsMilvusBounds) {
  const Dataset data = Clustered(5000, 16, 19);
  const QueryVectors queries = data.queries(0, 10);
  for (MetricType metric : {MetricType::kL2, MetricType::kIP, MetricType::kCosine}) {
    SCOPED_TRACE("metric " + std::to_string(static_cast<int>(metric)));
    // Bounds from the first query's exact ranking: its 10th and 100th best scores, so the
    // range excludes the closest rows and holds more than k = 50 rows for that query.
    const SearchResult ranking = Exact(data, metric, data.queries(0, 1), 100);
    SearchParams params;
    params.range_filter = ranking.scores[10];
    params.radius = ranking.scores[99];
    params.ef = 64;
    params.nprobe = 8;
    auto inside = [&](float s) {
      return LargerBetter(metric) ? s > *params.radius && s <= *params.range_filter
                                  : s >= *params.range_filter && s < *params.radius;
    };
    const SearchResult exact = Exact(data, metric, queries, 50, params);
    EXPECT_EQ(std::count(exact.rows.begin(), exact.rows.begin() + 50, -1), 0) << "first query: k hits in range";
    for (int64_t i = 0; i < exact.nq * exact.k; ++i) {
      if (exact.rows[i] >= 0) {
        EXPECT_TRUE(inside(exact.scores[i])) << "exact score " << exact.scores[i];
      }
    }
    for (IndexType type : {IndexType::kFlat, IndexType::kHnsw, IndexType::kIvfFlat}) {
      auto index = Build(Spec(type, metric, 16, SmallParams(type)), data);
      const SearchResult result = MustSearch(*index, queries, 50, params);
      for (int64_t i = 0; i < result.nq * result.k; ++i) {
        if (result.rows[i] >= 0) {
          EXPECT_TRUE(inside(result.scores[i])) << Name(type) << " score " << result.scores[i];
        }
      }
      EXPECT_GE(Recall(result, exact), type == IndexType::kFlat ? 0.99 : 0.9) << Name(type);
    }
  }
}

// --- brute force ---

TEST(DenseBruteForceTest, MatchesNaiveRanking) {
  const Dataset data = Clustered(700, 20, 23);
  const QueryVectors queries = data.queries(3, 4);
  std::vector<uint8_t> allowed(data.rows, 0);
  for (int64_t r = 0; r < data.rows; r += 7) allowed[r] = 1;
  for (MetricType metric : {MetricType::kL2, MetricType::kIP, MetricType::kCosine}) {
    const SearchResult result = Exact(data, metric, queries, 5, {}, Allow(allowed));
    for (int64_t q = 0; q < queries.rows; ++q) {
      std::vector<std::pair<double, int64_t>> ranking;
      for (int64_t r = 0; r < data.rows; r += 7) {
        const double score = NaiveScore(metric, queries.floats + q * 20, data.row(r), 20);
        ranking.push_back({LargerBetter(metric) ? -score : score, r});
      }
      std::sort(ranking.begin(), ranking.end());
      for (int64_t i = 0; i < 5; ++i) {
        EXPECT_EQ(result.rows[q * 5 + i], ranking[i].second);
        EXPECT_NEAR(result.scores[q * 5 + i], LargerBetter(metric) ? -ranking[i].first : ranking[i].first, 1e-4);
      }
    }
  }
}

TEST(DenseBruteForceTest, RefusesMismatchedQueries) {
  const Dataset data = Clustered(10, 8, 1);
  const Dataset other = Clustered(1, 4, 1);
  EXPECT_FALSE(BruteForceSearch(data.view(), MetricType::kL2, other.queries(0, 1), 3, {}, {}).ok());
  EXPECT_FALSE(BruteForceSearch(data.view(), MetricType::kL2, data.queries(0, 1), 0, {}, {}).ok());
  EXPECT_FALSE(BruteForceSearch(data.view(), MetricType::kHamming, data.queries(0, 1), 3, {}, {}).ok());
}

}  // namespace
}  // namespace quiver::index
