// Index parameters (Milvus's rules), binary and sparse indexes, and their brute force.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common.pb.h"
#include "index/internal.h"
#include "index/vector_index.h"

namespace quiver::index {
namespace {

using Params = std::map<std::string, std::string>;

spb::FieldSchema VectorField(spb::DataType type, int64_t dim) {
  spb::FieldSchema field;
  field.set_name("vec");
  field.set_data_type(type);
  if (dim > 0) {
    auto* kv = field.add_type_params();
    kv->set_key("dim");
    kv->set_value(std::to_string(dim));
  }
  return field;
}

spb::FieldSchema FloatField() { return VectorField(spb::FloatVector, 128); }
spb::FieldSchema BinaryField(int64_t dim = 256) { return VectorField(spb::BinaryVector, dim); }
spb::FieldSchema SparseField() { return VectorField(spb::SparseFloatVector, 0); }

IndexSpec MustParse(const spb::FieldSchema& field, const Params& params) {
  auto spec = ParseIndexSpec(field, params);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.ok() ? *spec : IndexSpec{};
}

void ExpectRefused(const StatusOr<IndexSpec>& spec, Code code, const std::string& fragment) {
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), code) << spec.status().ToString();
  EXPECT_NE(spec.status().reason().find(fragment), std::string::npos)
      << "reason: " << spec.status().reason() << "\nexpected to contain: " << fragment;
}

// --- CreateIndex parameters ---

TEST(IndexParamsTest, ValidParamsBecomeSpecs) {
  IndexSpec ivf =
      MustParse(FloatField(), {{"index_type", "IVF_FLAT"}, {"metric_type", "L2"}, {"params", R"({"nlist": 256})"}});
  EXPECT_EQ(ivf.type, IndexType::kIvfFlat);
  EXPECT_EQ(ivf.metric, MetricType::kL2);
  EXPECT_EQ(ivf.dim, 128);
  EXPECT_EQ(ivf.vector_type, spb::FloatVector);
  EXPECT_EQ(ivf.build_params.at("nlist"), 256);
  EXPECT_EQ(ivf.index_type_name, "IVF_FLAT");

  IndexSpec pq = MustParse(FloatField(), {{"index_type", "IVF_PQ"}, {"metric_type", "IP"}, {"m", "16"}});
  EXPECT_EQ(pq.type, IndexType::kIvfPq);
  EXPECT_EQ(pq.build_params.at("nlist"), 128);  // knowhere's default
  EXPECT_EQ(pq.build_params.at("m"), 16);
  EXPECT_EQ(pq.build_params.at("nbits"), 8);

  IndexSpec hnsw = MustParse(FloatField(), {{"index_type", "HNSW"}, {"metric_type", "COSINE"}});
  EXPECT_EQ(hnsw.type, IndexType::kHnsw);
  EXPECT_EQ(hnsw.metric, MetricType::kCosine);
  EXPECT_EQ(hnsw.build_params.at("M"), 30);
  EXPECT_EQ(hnsw.build_params.at("efConstruction"), 360);

  IndexSpec sq8 = MustParse(VectorField(spb::Float16Vector, 64),
                            {{"index_type", "IVF_SQ8"}, {"metric_type", "L2"}, {"nlist", " 64"}});
  EXPECT_EQ(sq8.type, IndexType::kIvfSq8);
  EXPECT_EQ(sq8.vector_type, spb::Float16Vector);
  EXPECT_EQ(sq8.build_params.at("nlist"), 64);

  IndexSpec bin =
      MustParse(BinaryField(64), {{"index_type", "BIN_IVF_FLAT"}, {"metric_type", "JACCARD"}, {"nlist", "64"}});
  EXPECT_EQ(bin.type, IndexType::kBinIvfFlat);
  EXPECT_EQ(bin.metric, MetricType::kJaccard);
  EXPECT_EQ(bin.dim, 64);
  EXPECT_EQ(bin.build_params.at("nlist"), 64);

  // Unknown keys are ignored, as Milvus ignores nlist on BIN_FLAT.
  IndexSpec flat = MustParse(BinaryField(), {{"index_type", "BIN_FLAT"}, {"metric_type", "HAMMING"}, {"nlist", "64"}});
  EXPECT_EQ(flat.type, IndexType::kBinFlat);
  EXPECT_EQ(flat.metric, MetricType::kHamming);

  IndexSpec sparse = MustParse(
      SparseField(),
      {{"index_type", "SPARSE_INVERTED_INDEX"}, {"metric_type", "IP"}, {"params", R"({"drop_ratio_build": 0.2})"}});
  EXPECT_EQ(sparse.type, IndexType::kSparseInvertedIndex);
  EXPECT_EQ(sparse.dim, 0);
  IndexSpec wand = MustParse(SparseField(), {{"index_type", "SPARSE_WAND"}, {"metric_type", "IP"}});
  EXPECT_EQ(wand.type, IndexType::kSparseInvertedIndex);
  EXPECT_EQ(wand.index_type_name, "SPARSE_WAND");
}

TEST(IndexParamsTest, OutOfRangeKnobsNameTheParam) {
  const std::string wrap =
      ": service internal error: invalid parameter[expected=valid index params][actual=invalid index params]";
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "IVF_FLAT"}, {"metric_type", "L2"}, {"nlist", "0"}}),
                Code::kParameterInvalid,
                "Out of range in json: param 'nlist' (0) should be in range [1, 65536]" + wrap);
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "IVF_SQ8"}, {"metric_type", "L2"}, {"nlist", "65537"}}),
                Code::kParameterInvalid, "param 'nlist' (65537) should be in range [1, 65536]");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "IVF_FLAT"}, {"metric_type", "L2"}, {"nlist", "abc"}}),
                Code::kParameterInvalid, "invalid integer value, key: 'nlist', value: 'abc'");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "IVF_FLAT"}, {"metric_type", "L2"}, {"nlist", "12.5"}}),
                Code::kParameterInvalid, "wrong data type in json, key: 'nlist', value: '12.5'");
  ExpectRefused(
      ParseIndexSpec(FloatField(), {{"index_type", "IVF_PQ"}, {"metric_type", "L2"}, {"m", "7"}}),
      Code::kParameterInvalid,
      "The dimension of a vector (dim) should be a multiple of the number of subquantizers (m). Dimension: 128, m: 7");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "IVF_PQ"}, {"metric_type", "L2"}}),
                Code::kParameterInvalid, "param 'm' not exist in json");
  ExpectRefused(
      ParseIndexSpec(FloatField(), {{"index_type", "IVF_PQ"}, {"metric_type", "L2"}, {"m", "8"}, {"nbits", "0"}}),
      Code::kParameterInvalid, "Out of range in json: param 'nbits' (0) should be in range [1, 24]");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "HNSW"}, {"metric_type", "L2"}, {"M", "1"}}),
                Code::kParameterInvalid, "Out of range in json: param 'M' (1) should be in range [2, 2048]");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "HNSW"}, {"metric_type", "L2"}, {"M", "2049"}}),
                Code::kParameterInvalid, "param 'M' (2049)");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "HNSW"}, {"metric_type", "L2"}, {"efConstruction", "0"}}),
                Code::kParameterInvalid,
                "Out of range in json: param 'efConstruction' (0) should be in range [1, 2147483647]");
  ExpectRefused(
      ParseIndexSpec(FloatField(), {{"index_type", "HNSW"}, {"metric_type", "L2"}, {"efConstruction", "2147483648"}}),
      Code::kParameterInvalid, "integer value out of range, key: 'efConstruction', value: '2147483648'");
  ExpectRefused(
      ParseIndexSpec(FloatField(), {{"index_type", "HNSW"}, {"metric_type", "L2"}, {"params", R"({"M": 8.5})"}}),
      Code::kParameterInvalid, "wrong data type in json, key: 'M', value: '8.5'");
  ExpectRefused(
      ParseIndexSpec(BinaryField(), {{"index_type", "BIN_IVF_FLAT"}, {"metric_type", "HAMMING"}, {"nlist", "-1"}}),
      Code::kParameterInvalid, "param 'nlist' (-1) should be in range [1, 65536]");
  ExpectRefused(
      ParseIndexSpec(SparseField(),
                     {{"index_type", "SPARSE_INVERTED_INDEX"}, {"metric_type", "IP"}, {"drop_ratio_build", "1"}}),
      Code::kParameterInvalid, "param 'drop_ratio_build' (1.0) should be in range [0.000000, 1.000000)");
  ExpectRefused(ParseIndexSpec(
                    SparseField(),
                    {{"index_type", "SPARSE_INVERTED_INDEX"}, {"metric_type", "IP"}, {"inverted_index_algo", "BOGUS"}}),
                Code::kParameterInvalid, "sparse inverted index algo BOGUS not found or not supported");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "FLAT"}, {"metric_type", "L2"}, {"dim", "64"}}),
                Code::kParameterInvalid, "dimension mismatch, dimension in schema: 128, dimension: 64");
}

TEST(IndexParamsTest, IndexTypesAndMetricsMustFitTheField) {
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "IVFFFFFFF"}, {"metric_type", "L2"}}),
                Code::kParameterInvalid,
                "invalid parameter[expected=valid index][actual=invalid index type: IVFFFFFFF]");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "DISKANN"}, {"metric_type", "L2"}}),
                Code::kIndexNotSupported, "index type not supported[indexType=DISKANN]");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "HNSW"}}), Code::kParameterInvalid,
                "metric type not set for vector index: invalid parameter");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "FLAT"}, {"metric_type", "HAMMING"}}),
                Code::kParameterInvalid, "float vector index does not support metric type: HAMMING");
  ExpectRefused(ParseIndexSpec(BinaryField(), {{"index_type", "BIN_IVF_FLAT"}, {"metric_type", "L2"}}),
                Code::kParameterInvalid, "binary vector index does not support metric type: L2");
  ExpectRefused(ParseIndexSpec(BinaryField(), {{"index_type", "HNSW"}, {"metric_type", "HAMMING"}}),
                Code::kParameterInvalid, "data type BinaryVector can't build with this index HNSW");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "BIN_FLAT"}, {"metric_type", "L2"}}),
                Code::kParameterInvalid, "data type FloatVector can't build with this index BIN_FLAT");
  ExpectRefused(ParseIndexSpec(SparseField(), {{"index_type", "IVF_FLAT"}, {"metric_type", "IP"}}),
                Code::kParameterInvalid, "data type SparseFloatVector can't build with this index IVF_FLAT");
  ExpectRefused(ParseIndexSpec(SparseField(), {{"index_type", "SPARSE_INVERTED_INDEX"}, {"metric_type", "L2"}}),
                Code::kParameterInvalid, "only IP&BM25 is the supported metric type for sparse index");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "INVERTED"}}), Code::kParameterInvalid,
                "data type FloatVector can't build with this index INVERTED");
  ExpectRefused(ParseIndexSpec(BinaryField(), {{"index_type", "BIN_IVF_FLAT"}, {"metric_type", "SUBSTRUCTURE"}}),
                Code::kParameterInvalid,
                "metric type SUBSTRUCTURE not found or not supported, supported: [HAMMING JACCARD]");
  // Milvus accepts these; Quiver says plainly that it cannot serve them.
  ExpectRefused(ParseIndexSpec(BinaryField(), {{"index_type", "BIN_FLAT"}, {"metric_type", "SUPERSTRUCTURE"}}),
                Code::kServiceUnimplemented, "metric type SUPERSTRUCTURE");
  ExpectRefused(ParseIndexSpec(SparseField(), {{"index_type", "SPARSE_INVERTED_INDEX"}, {"metric_type", "BM25"}}),
                Code::kServiceUnimplemented, "metric type BM25");
  ExpectRefused(ParseIndexSpec(VectorField(spb::Int64, 0), {{"index_type", "HNSW"}, {"metric_type", "L2"}}),
                Code::kParameterInvalid, "index HNSW only supports vector data type");
}

TEST(IndexParamsTest, AutoIndexMapsToMilvusDefaults) {
  IndexSpec implied = MustParse(FloatField(), {});
  EXPECT_EQ(implied.type, IndexType::kHnsw);
  EXPECT_EQ(implied.metric, MetricType::kCosine);
  EXPECT_EQ(implied.build_params.at("M"), 18);
  EXPECT_EQ(implied.build_params.at("efConstruction"), 240);
  EXPECT_EQ(implied.index_type_name, "AUTOINDEX");

  IndexSpec named = MustParse(FloatField(), {{"index_type", "AUTOINDEX"}, {"metric_type", "L2"}});
  EXPECT_EQ(named.type, IndexType::kHnsw);
  EXPECT_EQ(named.metric, MetricType::kL2);
  EXPECT_EQ(named.index_type_name, "AUTOINDEX");

  IndexSpec metric_only = MustParse(FloatField(), {{"metric_type", "IP"}});
  EXPECT_EQ(metric_only.type, IndexType::kHnsw);
  EXPECT_EQ(metric_only.metric, MetricType::kIP);

  IndexSpec binary = MustParse(BinaryField(), {{"index_type", "AUTOINDEX"}});
  EXPECT_EQ(binary.type, IndexType::kBinIvfFlat);
  EXPECT_EQ(binary.metric, MetricType::kHamming);
  EXPECT_EQ(binary.build_params.at("nlist"), 1024);

  IndexSpec sparse = MustParse(SparseField(), {});
  EXPECT_EQ(sparse.type, IndexType::kSparseInvertedIndex);
  EXPECT_EQ(sparse.metric, MetricType::kIP);

  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "AUTOINDEX"}, {"metric_type", "L2"}, {"nlist", "12"}}),
                Code::kUnexpected, "only metric type can be passed when use AutoIndex");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"nlist", "12"}}), Code::kUnexpected,
                "only metric type can be passed when use AutoIndex");
  ExpectRefused(ParseIndexSpec(FloatField(), {{"index_type", "AUTOINDEX"}, {"metric_type", "HAMMING"}}),
                Code::kParameterInvalid, "float vector index does not support metric type: HAMMING");
}

// --- search parameters ---

TEST(SearchParamsTest, MetricMustMatchTheIndex) {
  IndexSpec spec = MustParse(FloatField(), {{"index_type", "FLAT"}, {"metric_type", "L2"}});
  auto parsed = ParseSearchParams(&spec, MetricType::kIP, "", 10);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), Code::kParameterInvalid);
  EXPECT_EQ(parsed.status().reason(), "metric type not match: invalid parameter[expected=L2][actual=IP]");
  EXPECT_TRUE(ParseSearchParams(&spec, MetricType::kL2, "{}", 10).ok());
}

TEST(SearchParamsTest, NprobeFollowsKnowhere) {
  IndexSpec spec = MustParse(FloatField(), {{"index_type", "IVF_FLAT"}, {"metric_type", "L2"}, {"nlist", "128"}});
  auto as_string = ParseSearchParams(&spec, MetricType::kL2, R"({"nprobe": "16"})", 10);
  ASSERT_TRUE(as_string.ok()) << as_string.status().ToString();
  EXPECT_EQ(as_string->nprobe, 16);
  auto absent = ParseSearchParams(&spec, MetricType::kL2, "", 10);
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->nprobe, 0);
  // nprobe above nlist is accepted: knowhere does not check it and FAISS probes every list.
  auto above_nlist = ParseSearchParams(&spec, MetricType::kL2, R"({"nprobe": 512})", 10);
  ASSERT_TRUE(above_nlist.ok());
  EXPECT_EQ(above_nlist->nprobe, 512);

  auto zero = ParseSearchParams(&spec, MetricType::kL2, R"({"nprobe": 0})", 10);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().reason(),
            "Out of range in json: param 'nprobe' (0) should be in range [1, 65536]: invalid parameter");
  auto too_many = ParseSearchParams(&spec, MetricType::kL2, R"({"nprobe": 65537})", 10);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().reason().find("param 'nprobe' (65537)"), std::string::npos);
  auto fractional = ParseSearchParams(&spec, MetricType::kL2, R"({"nprobe": 1.5})", 10);
  ASSERT_FALSE(fractional.ok());
  EXPECT_NE(fractional.status().reason().find("Type conflict in json: param 'nprobe' (1.5) should be integer"),
            std::string::npos);
}

TEST(SearchParamsTest, EfMustCoverK) {
  IndexSpec spec = MustParse(FloatField(), {{"index_type", "HNSW"}, {"metric_type", "IP"}});
  auto small = ParseSearchParams(&spec, MetricType::kIP, R"({"ef": 5})", 10);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.status().code(), Code::kParameterInvalid);
  EXPECT_NE(small.status().reason().find("ef(5) should be larger than k(10)"), std::string::npos);
  auto enough = ParseSearchParams(&spec, MetricType::kIP, R"({"ef": "64"})", 10);
  ASSERT_TRUE(enough.ok());
  EXPECT_EQ(enough->ef, 64);
  auto absent = ParseSearchParams(&spec, MetricType::kIP, "{}", 10);
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->ef, 0);
}

TEST(SearchParamsTest, RangeBoundsAreOrderedByMetric) {
  auto l2 = ParseSearchParams(nullptr, MetricType::kL2, R"({"radius": 1.0, "range_filter": 2.0})", 10);
  ASSERT_FALSE(l2.ok());
  EXPECT_EQ(l2.status().reason(),
            "range_filter must be less than radius for L2/HAMMING/JACCARD, range_filter:2.000000, "
            "radius:1.000000: invalid parameter");
  auto ip = ParseSearchParams(nullptr, MetricType::kIP, R"({"radius": 0.5, "range_filter": 0.4})", 10);
  ASSERT_FALSE(ip.ok());
  EXPECT_NE(ip.status().reason().find("range_filter must be greater than radius for IP/COSINE"), std::string::npos);
  auto text = ParseSearchParams(nullptr, MetricType::kL2, R"({"radius": "1.0"})", 10);
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().reason().find("must pass numpy type for radius"), std::string::npos);

  auto ok = ParseSearchParams(nullptr, MetricType::kHamming, R"({"radius": 10, "range_filter": 2})", 10);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok->radius, 10.0);
  EXPECT_EQ(*ok->range_filter, 2.0);
  auto radius_only = ParseSearchParams(nullptr, MetricType::kIP, R"({"radius": 0.1})", 10);
  ASSERT_TRUE(radius_only.ok());
  EXPECT_FALSE(radius_only->range_filter.has_value());
}

TEST(SearchParamsTest, MalformedParamsAndSparseRatio) {
  EXPECT_FALSE(ParseSearchParams(nullptr, MetricType::kL2, "{nprobe:", 10).ok());
  EXPECT_FALSE(ParseSearchParams(nullptr, MetricType::kL2, "[1, 2]", 10).ok());
  IndexSpec sparse = MustParse(SparseField(), {});
  auto ratio = ParseSearchParams(&sparse, MetricType::kIP, R"({"drop_ratio_search": 1.5})", 10);
  ASSERT_FALSE(ratio.ok());
  EXPECT_NE(ratio.status().reason().find("param 'drop_ratio_search'"), std::string::npos);
  EXPECT_TRUE(ParseSearchParams(&sparse, MetricType::kIP, R"({"drop_ratio_search": 0.2})", 10).ok());
}

TEST(MetricTest, NamesRoundTrip) {
  for (MetricType metric :
       {MetricType::kL2, MetricType::kIP, MetricType::kCosine, MetricType::kHamming, MetricType::kJaccard}) {
    auto parsed = ParseMetric(MetricName(metric));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, metric);
  }
  ASSERT_TRUE(ParseMetric("cosine").ok());
  EXPECT_EQ(*ParseMetric("cosine"), MetricType::kCosine);
  EXPECT_EQ(ParseMetric("EUCLID").status().code(), Code::kParameterInvalid);
  EXPECT_EQ(ParseMetric("SUBSTRUCTURE").status().code(), Code::kServiceUnimplemented);
  EXPECT_TRUE(LargerIsBetter(MetricType::kIP));
  EXPECT_TRUE(LargerIsBetter(MetricType::kCosine));
  EXPECT_FALSE(LargerIsBetter(MetricType::kL2));
  EXPECT_FALSE(LargerIsBetter(MetricType::kHamming));
  EXPECT_FALSE(LargerIsBetter(MetricType::kJaccard));
}

// --- shared test helpers ---

struct Hit {
  int64_t row;
  float score;
};

// The naive answer: every qualifying row scored, sorted best first (ties by row).
std::vector<Hit> NaiveTopK(std::vector<Hit> hits, int64_t k, bool larger_is_better) {
  std::sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
    if (a.score != b.score) return larger_is_better ? a.score > b.score : a.score < b.score;
    return a.row < b.row;
  });
  if (static_cast<int64_t>(hits.size()) > k) hits.resize(k);
  return hits;
}

void ExpectSameAsNaive(const SearchResult& result, int64_t q, const std::vector<Hit>& naive) {
  const int64_t k = result.k;
  for (int64_t i = 0; i < k; ++i) {
    if (i < static_cast<int64_t>(naive.size())) {
      EXPECT_EQ(result.rows[q * k + i], naive[i].row) << "query " << q << " rank " << i;
      EXPECT_FLOAT_EQ(result.scores[q * k + i], naive[i].score) << "query " << q << " rank " << i;
    } else {
      EXPECT_EQ(result.rows[q * k + i], -1) << "query " << q << " rank " << i;
    }
  }
}

void ExpectSameResults(const SearchResult& a, const SearchResult& b) {
  EXPECT_EQ(a.nq, b.nq);
  EXPECT_EQ(a.k, b.k);
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.scores, b.scores);
}

std::vector<uint8_t> EveryThirdRow(int64_t rows, int64_t* allowed_count) {
  std::vector<uint8_t> allowed(rows);
  *allowed_count = 0;
  for (int64_t r = 0; r < rows; r += 3) allowed[r] = 1, ++*allowed_count;
  return allowed;
}

// --- binary vectors ---

struct BinaryData {
  int64_t dim;
  int64_t rows;
  std::vector<uint8_t> codes;
  VectorData view() const {
    VectorData data;
    data.type = spb::BinaryVector;
    data.dim = dim;
    data.rows = rows;
    data.bytes = codes.data();
    return data;
  }
};

// Rows scattered around `clusters` random centres, so an IVF has structure to find.
BinaryData RandomBinary(int64_t rows, int64_t dim, int clusters, double flip, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t code_size = dim / 8;
  std::vector<std::vector<uint8_t>> centres(clusters, std::vector<uint8_t>(code_size));
  for (auto& centre : centres) {
    for (auto& byte : centre) byte = static_cast<uint8_t>(rng());
  }
  std::bernoulli_distribution flip_bit(flip);
  BinaryData data{dim, rows, std::vector<uint8_t>(rows * code_size)};
  for (int64_t r = 0; r < rows; ++r) {
    const auto& centre = centres[rng() % clusters];
    for (int64_t b = 0; b < dim; ++b) {
      bool bit = (centre[b / 8] >> (b % 8)) & 1;
      if (flip_bit(rng)) bit = !bit;
      if (bit) data.codes[r * code_size + b / 8] |= static_cast<uint8_t>(1u << (b % 8));
    }
  }
  return data;
}

float NaiveBinaryDistance(MetricType metric, const uint8_t* a, const uint8_t* b, int64_t dim) {
  int both = 0, either = 0, differ = 0;
  for (int64_t bit = 0; bit < dim; ++bit) {
    const bool x = (a[bit / 8] >> (bit % 8)) & 1;
    const bool y = (b[bit / 8] >> (bit % 8)) & 1;
    both += x && y;
    either += x || y;
    differ += x != y;
  }
  if (metric == MetricType::kHamming) return static_cast<float>(differ);
  return either == 0 ? 1.0f : static_cast<float>(either - both) / static_cast<float>(either);
}

std::vector<Hit> NaiveBinary(const BinaryData& data, MetricType metric, const uint8_t* query, int64_t k,
                             const std::vector<uint8_t>* allowed = nullptr, std::optional<double> radius = std::nullopt,
                             std::optional<double> range_filter = std::nullopt) {
  std::vector<Hit> hits;
  for (int64_t r = 0; r < data.rows; ++r) {
    if (allowed && !(*allowed)[r]) continue;
    const float d = NaiveBinaryDistance(metric, query, data.codes.data() + r * data.dim / 8, data.dim);
    if (radius && !(d < *radius && (!range_filter || d >= *range_filter))) continue;
    hits.push_back({r, d});
  }
  return NaiveTopK(hits, k, false);
}

std::unique_ptr<VectorIndex> BuiltBinaryIndex(const IndexSpec& spec, const BinaryData& data) {
  auto index = CreateBinaryIndex(spec);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  if (!index.ok()) return nullptr;
  Status built = (*index)->Build(data.view());
  EXPECT_TRUE(built.ok()) << built.ToString();
  return std::move(*index);
}

class BinaryExactTest : public ::testing::TestWithParam<std::tuple<MetricType, int64_t>> {};

TEST_P(BinaryExactTest, FlatAndBruteForceMatchNaive) {
  const auto [metric, dim] = GetParam();
  const BinaryData data = RandomBinary(1500, dim, 20, 0.2, 7);
  const BinaryData queries = RandomBinary(6, dim, 20, 0.2, 8);
  const int64_t k = 10;
  IndexSpec spec = MustParse(BinaryField(dim), {{"index_type", "BIN_FLAT"}, {"metric_type", MetricName(metric)}});
  auto index = BuiltBinaryIndex(spec, data);
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->rows(), data.rows);

  auto flat = index->Search(queries.view(), k, {}, {});
  auto brute = BruteForceBinary(data.view(), metric, queries.view(), k, {}, {});
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  ASSERT_TRUE(brute.ok()) << brute.status().ToString();
  for (int64_t q = 0; q < queries.rows; ++q) {
    const auto naive = NaiveBinary(data, metric, queries.codes.data() + q * dim / 8, k);
    ExpectSameAsNaive(*flat, q, naive);
    ExpectSameAsNaive(*brute, q, naive);
  }

  int64_t allowed_count = 0;
  const auto allowed = EveryThirdRow(data.rows, &allowed_count);
  const RowFilter filter{allowed.data(), allowed_count};
  auto filtered = index->Search(queries.view(), k, {}, filter);
  auto filtered_brute = BruteForceBinary(data.view(), metric, queries.view(), k, {}, filter);
  ASSERT_TRUE(filtered.ok());
  ASSERT_TRUE(filtered_brute.ok());
  for (int64_t q = 0; q < queries.rows; ++q) {
    const auto naive = NaiveBinary(data, metric, queries.codes.data() + q * dim / 8, k, &allowed);
    ExpectSameAsNaive(*filtered, q, naive);
    ExpectSameAsNaive(*filtered_brute, q, naive);
  }
}

INSTANTIATE_TEST_SUITE_P(MetricsAndDims, BinaryExactTest,
                         ::testing::Combine(::testing::Values(MetricType::kHamming, MetricType::kJaccard),
                                            ::testing::Values<int64_t>(256, 72, 8)));

TEST(BinaryIndexTest, RangeSearchKeepsOnlyScoresInsideTheBounds) {
  const BinaryData data = RandomBinary(800, 128, 8, 0.2, 11);
  const BinaryData queries = RandomBinary(3, 128, 8, 0.2, 12);
  IndexSpec spec = MustParse(BinaryField(128), {{"index_type", "BIN_FLAT"}, {"metric_type", "HAMMING"}});
  auto index = BuiltBinaryIndex(spec, data);
  ASSERT_NE(index, nullptr);
  SearchParams params;
  params.radius = 30;
  params.range_filter = 10;
  auto result = index->Search(queries.view(), 50, params, {});
  ASSERT_TRUE(result.ok());
  for (int64_t q = 0; q < queries.rows; ++q) {
    ExpectSameAsNaive(*result, q,
                      NaiveBinary(data, MetricType::kHamming, queries.codes.data() + q * 16, 50, nullptr, 30.0, 10.0));
  }
}

TEST(BinaryIndexTest, SelectiveFilterReturnsOnlyAllowedRows) {
  const BinaryData data = RandomBinary(2000, 64, 10, 0.2, 13);
  const BinaryData queries = RandomBinary(4, 64, 10, 0.2, 14);
  std::vector<uint8_t> allowed(data.rows);
  for (int64_t r : {5, 77, 900, 1500, 1999}) allowed[r] = 1;
  const RowFilter filter{allowed.data(), 5};
  for (const char* type : {"BIN_FLAT", "BIN_IVF_FLAT"}) {
    IndexSpec spec = MustParse(BinaryField(64), {{"index_type", type}, {"metric_type", "HAMMING"}, {"nlist", "32"}});
    auto index = BuiltBinaryIndex(spec, data);
    ASSERT_NE(index, nullptr);
    auto result = index->Search(queries.view(), 10, {}, filter);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    for (int64_t q = 0; q < queries.rows; ++q) {
      ExpectSameAsNaive(*result, q,
                        NaiveBinary(data, MetricType::kHamming, queries.codes.data() + q * 8, 10, &allowed));
    }
  }
}

double Recall(const SearchResult& approx, const SearchResult& exact) {
  int64_t found = 0, total = 0;
  for (int64_t q = 0; q < exact.nq; ++q) {
    std::set<int64_t> truth;
    for (int64_t i = 0; i < exact.k; ++i) {
      if (exact.rows[q * exact.k + i] >= 0) truth.insert(exact.rows[q * exact.k + i]);
    }
    for (int64_t i = 0; i < approx.k; ++i) found += truth.count(approx.rows[q * approx.k + i]);
    total += static_cast<int64_t>(truth.size());
  }
  return total == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(total);
}

TEST(BinaryIndexTest, IvfRecallAgainstExact) {
  const BinaryData data = RandomBinary(4000, 128, 40, 0.1, 21);
  const BinaryData queries = RandomBinary(50, 128, 40, 0.1, 21);  // same centres
  for (const char* metric : {"HAMMING", "JACCARD"}) {
    IndexSpec spec =
        MustParse(BinaryField(128), {{"index_type", "BIN_IVF_FLAT"}, {"metric_type", metric}, {"nlist", "64"}});
    auto index = BuiltBinaryIndex(spec, data);
    ASSERT_NE(index, nullptr);
    SearchParams params;
    params.nprobe = 8;
    auto approx = index->Search(queries.view(), 10, params, {});
    auto exact = BruteForceBinary(data.view(), spec.metric, queries.view(), 10, {}, {});
    ASSERT_TRUE(approx.ok()) << approx.status().ToString();
    ASSERT_TRUE(exact.ok());
    EXPECT_GE(Recall(*approx, *exact), 0.9) << metric;

    // Probing every list is exhaustive.
    params.nprobe = 65536;
    auto everything = index->Search(queries.view(), 10, params, {});
    ASSERT_TRUE(everything.ok());
    ExpectSameResults(*everything, *exact);
  }
}

TEST(BinaryIndexTest, FilteredIvfNeverReturnsDisallowedRows) {
  const BinaryData data = RandomBinary(3000, 128, 30, 0.1, 31);
  const BinaryData queries = RandomBinary(20, 128, 30, 0.1, 31);
  IndexSpec spec =
      MustParse(BinaryField(128), {{"index_type", "BIN_IVF_FLAT"}, {"metric_type", "HAMMING"}, {"nlist", "32"}});
  auto index = BuiltBinaryIndex(spec, data);
  ASSERT_NE(index, nullptr);
  int64_t allowed_count = 0;
  const auto allowed = EveryThirdRow(data.rows, &allowed_count);
  auto result = index->Search(queries.view(), 20, {}, {allowed.data(), allowed_count});
  ASSERT_TRUE(result.ok());
  for (int64_t i = 0; i < result->nq * result->k; ++i) {
    ASSERT_GE(result->rows[i], 0) << "enough rows are allowed to fill k";
    EXPECT_TRUE(allowed[result->rows[i]]);
  }
}

TEST(BinaryIndexTest, SerializationRoundTrips) {
  const BinaryData data = RandomBinary(2500, 256, 25, 0.15, 41);
  const BinaryData queries = RandomBinary(8, 256, 25, 0.15, 42);
  for (const char* type : {"BIN_FLAT", "BIN_IVF_FLAT"}) {
    IndexSpec spec = MustParse(BinaryField(256), {{"index_type", type}, {"metric_type", "JACCARD"}, {"nlist", "40"}});
    auto built = BuiltBinaryIndex(spec, data);
    ASSERT_NE(built, nullptr);
    auto blob = built->Serialize();
    ASSERT_TRUE(blob.ok()) << blob.status().ToString();

    auto loaded = CreateBinaryIndex(spec);
    ASSERT_TRUE(loaded.ok());
    Status status = (*loaded)->Deserialize(*blob);
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ((*loaded)->rows(), data.rows);
    EXPECT_GT((*loaded)->MemoryBytes(), 0u);
    SearchParams params;
    params.nprobe = 4;
    auto before = built->Search(queries.view(), 10, params, {});
    auto after = (*loaded)->Search(queries.view(), 10, params, {});
    ASSERT_TRUE(before.ok());
    ASSERT_TRUE(after.ok());
    ExpectSameResults(*before, *after);
  }
}

TEST(BinaryIndexTest, EmptyIndexAnswersWithNoRows) {
  const BinaryData empty{64, 0, {}};
  const BinaryData queries = RandomBinary(2, 64, 2, 0.1, 51);
  IndexSpec spec = MustParse(BinaryField(64), {{"index_type", "BIN_IVF_FLAT"}, {"metric_type", "HAMMING"}});
  auto index = BuiltBinaryIndex(spec, empty);
  ASSERT_NE(index, nullptr);
  auto result = index->Search(queries.view(), 3, {}, {});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows, std::vector<int64_t>(6, -1));
  auto blob = index->Serialize();
  ASSERT_TRUE(blob.ok());
  auto loaded = CreateBinaryIndex(spec);
  ASSERT_TRUE((*loaded)->Deserialize(*blob).ok());
  EXPECT_EQ((*loaded)->rows(), 0);
}

TEST(BinaryIndexTest, RefusesMismatchedInput) {
  const BinaryData data = RandomBinary(100, 64, 2, 0.1, 61);
  IndexSpec spec = MustParse(BinaryField(64), {{"index_type", "BIN_FLAT"}, {"metric_type", "HAMMING"}});
  auto index = BuiltBinaryIndex(spec, data);
  ASSERT_NE(index, nullptr);
  const BinaryData wide = RandomBinary(1, 128, 1, 0.1, 62);
  EXPECT_FALSE(index->Search(wide.view(), 5, {}, {}).ok());
  EXPECT_FALSE(index->Search(data.view(), 0, {}, {}).ok());
  EXPECT_FALSE(index->Build(wide.view()).ok());
  EXPECT_FALSE(BruteForceBinary(data.view(), MetricType::kL2, data.view(), 5, {}, {}).ok());
  spec.metric = MetricType::kIP;
  EXPECT_FALSE(CreateBinaryIndex(spec).ok());
}

// Blobs that are not whole, untouched Serialize output of the same spec.
std::vector<std::string> DamagedBlobs(const std::string& good, const std::string& foreign) {
  std::vector<std::string> blobs = {
      "", "QVIX", std::string(64, '\0'), good.substr(0, good.size() / 2), good.substr(0, 40), good + "x", foreign};
  std::string flipped = good;
  flipped[flipped.size() - 3] ^= 0x40;
  blobs.push_back(flipped);
  std::mt19937 rng(99);
  std::string noise(good.size(), '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  blobs.push_back(noise);
  std::string header_only_changed = good;
  header_only_changed[4] ^= 0x01;  // format version
  blobs.push_back(header_only_changed);
  return blobs;
}

TEST(BinaryIndexTest, GarbageBlobsAreRefused) {
  const BinaryData data = RandomBinary(500, 64, 4, 0.1, 71);
  IndexSpec ivf_spec =
      MustParse(BinaryField(64), {{"index_type", "BIN_IVF_FLAT"}, {"metric_type", "HAMMING"}, {"nlist", "8"}});
  IndexSpec flat_spec = MustParse(BinaryField(64), {{"index_type", "BIN_FLAT"}, {"metric_type", "HAMMING"}});
  auto ivf = BuiltBinaryIndex(ivf_spec, data);
  auto flat = BuiltBinaryIndex(flat_spec, data);
  ASSERT_NE(ivf, nullptr);
  ASSERT_NE(flat, nullptr);
  const std::string ivf_blob = *ivf->Serialize();
  const std::string flat_blob = *flat->Serialize();
  for (const auto& [spec, good, foreign] :
       {std::tuple{ivf_spec, ivf_blob, flat_blob}, std::tuple{flat_spec, flat_blob, ivf_blob}}) {
    for (const std::string& blob : DamagedBlobs(good, foreign)) {
      auto index = CreateBinaryIndex(spec);
      ASSERT_TRUE(index.ok());
      Status status = (*index)->Deserialize(blob);
      EXPECT_FALSE(status.ok()) << spec.index_type_name << " accepted a damaged blob of " << blob.size() << " bytes";
    }
  }
}

// --- sparse vectors ---

std::string SparseRowBytes(const std::vector<std::pair<uint32_t, float>>& entries) {
  std::string row;
  for (const auto& [index, value] : entries) {
    row.append(reinterpret_cast<const char*>(&index), 4);
    row.append(reinterpret_cast<const char*>(&value), 4);
  }
  return row;
}

struct SparseData {
  std::vector<std::string> rows;
  VectorData view() const {
    VectorData data;
    data.type = spb::SparseFloatVector;
    data.rows = static_cast<int64_t>(rows.size());
    data.sparse_rows = rows.data();
    return data;
  }
};

SparseData RandomSparse(int64_t rows, uint32_t vocabulary, int max_nnz, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(0.01f, 1.0f);
  SparseData data;
  for (int64_t r = 0; r < rows; ++r) {
    std::map<uint32_t, float> entries;
    const int nnz = static_cast<int>(rng() % (max_nnz + 1));  // some rows are empty
    while (static_cast<int>(entries.size()) < nnz) entries[rng() % vocabulary] = value(rng);
    data.rows.push_back(SparseRowBytes({entries.begin(), entries.end()}));
  }
  return data;
}

std::map<uint32_t, float> DecodeSparse(const std::string& row) {
  std::map<uint32_t, float> entries;
  for (size_t i = 0; i + 8 <= row.size(); i += 8) {
    uint32_t index;
    float value;
    std::memcpy(&index, row.data() + i, 4);
    std::memcpy(&value, row.data() + i + 4, 4);
    entries[index] = value;
  }
  return entries;
}

std::vector<Hit> NaiveSparse(const SparseData& data, const std::string& query_row, int64_t k,
                             const std::vector<uint8_t>* allowed = nullptr, std::optional<double> radius = std::nullopt,
                             std::optional<double> range_filter = std::nullopt) {
  const auto query = DecodeSparse(query_row);
  std::vector<Hit> hits;
  for (size_t r = 0; r < data.rows.size(); ++r) {
    if (allowed && !(*allowed)[r]) continue;
    float score = 0.0f;
    bool shared = false;
    for (const auto& [index, value] : DecodeSparse(data.rows[r])) {  // ascending dimension
      auto q = query.find(index);
      if (q == query.end()) continue;
      score += q->second * value;
      shared = true;
    }
    if (!shared) continue;
    if (radius && !(score > *radius && (!range_filter || score <= *range_filter))) continue;
    hits.push_back({static_cast<int64_t>(r), score});
  }
  return NaiveTopK(hits, k, true);
}

std::unique_ptr<VectorIndex> BuiltSparseIndex(const SparseData& data) {
  auto index =
      CreateSparseIndex(MustParse(SparseField(), {{"index_type", "SPARSE_INVERTED_INDEX"}, {"metric_type", "IP"}}));
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  if (!index.ok()) return nullptr;
  Status built = (*index)->Build(data.view());
  EXPECT_TRUE(built.ok()) << built.ToString();
  return std::move(*index);
}

TEST(SparseIndexTest, InvertedIndexAndBruteForceMatchNaive) {
  const SparseData data = RandomSparse(3000, 500, 30, 81);
  const SparseData queries = RandomSparse(8, 500, 12, 82);
  const int64_t k = 15;
  auto index = BuiltSparseIndex(data);
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->rows(), 3000);
  auto indexed = index->Search(queries.view(), k, {}, {});
  auto brute = BruteForceSparse(data.view(), MetricType::kIP, queries.view(), k, {}, {});
  ASSERT_TRUE(indexed.ok()) << indexed.status().ToString();
  ASSERT_TRUE(brute.ok()) << brute.status().ToString();
  for (int64_t q = 0; q < queries.view().rows; ++q) {
    const auto naive = NaiveSparse(data, queries.rows[q], k);
    ExpectSameAsNaive(*indexed, q, naive);
    ExpectSameAsNaive(*brute, q, naive);
  }

  int64_t allowed_count = 0;
  const auto allowed = EveryThirdRow(3000, &allowed_count);
  const RowFilter filter{allowed.data(), allowed_count};
  SearchParams range;
  range.radius = 0.2;
  range.range_filter = 1.5;
  auto filtered = index->Search(queries.view(), k, range, filter);
  auto filtered_brute = BruteForceSparse(data.view(), MetricType::kIP, queries.view(), k, range, filter);
  ASSERT_TRUE(filtered.ok());
  ASSERT_TRUE(filtered_brute.ok());
  for (int64_t q = 0; q < queries.view().rows; ++q) {
    const auto naive = NaiveSparse(data, queries.rows[q], k, &allowed, 0.2, 1.5);
    ExpectSameAsNaive(*filtered, q, naive);
    ExpectSameAsNaive(*filtered_brute, q, naive);
  }
}

TEST(SparseIndexTest, RowsSharingNoDimensionAreNotResults) {
  SparseData data;
  data.rows = {SparseRowBytes({{1, 1.0f}}), SparseRowBytes({{2, 2.0f}}), SparseRowBytes({}),
               SparseRowBytes({{1, 0.5f}, {7, 3.0f}})};
  SparseData queries;
  queries.rows = {SparseRowBytes({{1, 2.0f}}), SparseRowBytes({})};
  auto index = BuiltSparseIndex(data);
  ASSERT_NE(index, nullptr);
  auto result = index->Search(queries.view(), 3, {}, {});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->rows, (std::vector<int64_t>{0, 3, -1, -1, -1, -1}));
  EXPECT_FLOAT_EQ(result->scores[0], 2.0f);
  EXPECT_FLOAT_EQ(result->scores[1], 1.0f);
}

TEST(SparseIndexTest, SerializationRoundTrips) {
  const SparseData data = RandomSparse(1000, 300, 20, 91);
  const SparseData queries = RandomSparse(5, 300, 10, 92);
  auto built = BuiltSparseIndex(data);
  ASSERT_NE(built, nullptr);
  auto blob = built->Serialize();
  ASSERT_TRUE(blob.ok());
  IndexSpec spec = built->spec();
  auto loaded = CreateSparseIndex(spec);
  ASSERT_TRUE(loaded.ok());
  Status status = (*loaded)->Deserialize(*blob);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ((*loaded)->rows(), 1000);
  EXPECT_EQ((*loaded)->MemoryBytes(), built->MemoryBytes());
  auto before = built->Search(queries.view(), 10, {}, {});
  auto after = (*loaded)->Search(queries.view(), 10, {}, {});
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(after.ok());
  ExpectSameResults(*before, *after);

  auto empty = BuiltSparseIndex(SparseData{});
  ASSERT_NE(empty, nullptr);
  auto empty_loaded = CreateSparseIndex(spec);
  ASSERT_TRUE((*empty_loaded)->Deserialize(*empty->Serialize()).ok());
  EXPECT_EQ((*empty_loaded)->rows(), 0);
}

TEST(SparseIndexTest, GarbageBlobsAreRefused) {
  const SparseData data = RandomSparse(300, 100, 10, 101);
  auto built = BuiltSparseIndex(data);
  ASSERT_NE(built, nullptr);
  const std::string good = *built->Serialize();
  const BinaryData binary = RandomBinary(10, 64, 1, 0.1, 102);
  auto binary_index =
      BuiltBinaryIndex(MustParse(BinaryField(64), {{"index_type", "BIN_FLAT"}, {"metric_type", "HAMMING"}}), binary);
  ASSERT_NE(binary_index, nullptr);
  for (const std::string& blob : DamagedBlobs(good, *binary_index->Serialize())) {
    auto index = CreateSparseIndex(built->spec());
    ASSERT_TRUE(index.ok());
    EXPECT_FALSE((*index)->Deserialize(blob).ok()) << "accepted a damaged blob of " << blob.size() << " bytes";
  }
}

TEST(SparseIndexTest, MalformedRowsAreRefused) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {SparseRowBytes({{1, 1.0f}}) + "abc", "invalid data length in sparse float vector"},
      {SparseRowBytes({{5, 1.0f}, {2, 1.0f}}), "unsorted or same indices in sparse float vector"},
      {SparseRowBytes({{5, 1.0f}, {5, 1.0f}}), "unsorted or same indices in sparse float vector"},
      {SparseRowBytes({{0xFFFFFFFFu, 1.0f}}), "invalid index in sparse float vector: must be less than 2^32-1"},
      {SparseRowBytes({{3, nan}}), "NaN or infinite value in sparse float vector"},
  };
  for (const auto& [row, message] : cases) {
    SparseData data;
    data.rows = {SparseRowBytes({{1, 1.0f}}), row};
    auto index = CreateSparseIndex(MustParse(SparseField(), {}));
    ASSERT_TRUE(index.ok());
    Status built = (*index)->Build(data.view());
    ASSERT_FALSE(built.ok()) << message;
    EXPECT_EQ(built.code(), Code::kParameterInvalid);
    EXPECT_NE(built.reason().find(message), std::string::npos) << built.reason();

    SparseData good;
    good.rows = {SparseRowBytes({{1, 1.0f}})};
    EXPECT_FALSE(BruteForceSparse(good.view(), MetricType::kIP, data.view(), 1, {}, {}).ok()) << message;
  }
  EXPECT_FALSE(BruteForceSparse(SparseData{}.view(), MetricType::kL2, SparseData{}.view(), 1, {}, {}).ok());
  IndexSpec l2 = MustParse(SparseField(), {});
  l2.metric = MetricType::kL2;
  EXPECT_FALSE(CreateSparseIndex(l2).ok());
}

// The public entry points route binary and sparse specs and rows here.
TEST(FactoryDispatchTest, BinaryAndSparseGoThroughThePublicFactory) {
  const BinaryData binary = RandomBinary(300, 64, 4, 0.1, 111);
  auto bin_index = CreateVectorIndex(MustParse(BinaryField(64), {{"index_type", "AUTOINDEX"}}));
  ASSERT_TRUE(bin_index.ok()) << bin_index.status().ToString();
  ASSERT_TRUE((*bin_index)->Build(binary.view()).ok());
  SearchParams everything;
  everything.nprobe = 65536;
  auto via_index = (*bin_index)->Search(binary.view(), 5, everything, {});
  auto via_brute = BruteForceSearch(binary.view(), MetricType::kHamming, binary.view(), 5, {}, {});
  ASSERT_TRUE(via_index.ok());
  ASSERT_TRUE(via_brute.ok());
  ExpectSameResults(*via_index, *via_brute);

  const SparseData sparse = RandomSparse(300, 50, 8, 112);
  auto sparse_index =
      CreateVectorIndex(MustParse(SparseField(), {{"index_type", "SPARSE_WAND"}, {"metric_type", "IP"}}));
  ASSERT_TRUE(sparse_index.ok()) << sparse_index.status().ToString();
  ASSERT_TRUE((*sparse_index)->Build(sparse.view()).ok());
  auto sparse_result = (*sparse_index)->Search(sparse.view(), 5, {}, {});
  auto sparse_brute = BruteForceSearch(sparse.view(), MetricType::kIP, sparse.view(), 5, {}, {});
  ASSERT_TRUE(sparse_result.ok());
  ASSERT_TRUE(sparse_brute.ok());
  ExpectSameResults(*sparse_result, *sparse_brute);
}

}  // namespace
}  // namespace quiver::index
