// FLAT: exact search over a copy of the rows (unit length for COSINE), and dense brute
// force over a segment's raw rows.
#include <cstring>

#include "index/dense_indexes.h"
#include "index/index_blob.h"

namespace quiver::index::dense {
namespace {

class FlatIndex final : public VectorIndex {
 public:
  explicit FlatIndex(const IndexSpec& spec) : spec_(spec) {}

  const IndexSpec& spec() const override { return spec_; }
  int64_t rows() const override { return rows_; }
  size_t MemoryBytes() const override { return vectors_.capacity() * sizeof(float); }
  bool HoldsRawVectors() const override { return spec_.metric != MetricType::kCosine; }

  Status ReconstructRows(std::span<const int64_t> rows, float* out) const override {
    if (!HoldsRawVectors()) return VectorIndex::ReconstructRows(rows, out);
    QUIVER_RETURN_IF_ERROR(CheckRowsInRange(rows, rows_));
    for (size_t i = 0; i < rows.size(); ++i) {
      std::memcpy(out + i * spec_.dim, vectors_.data() + rows[i] * spec_.dim, spec_.dim * sizeof(float));
    }
    return Status::OK();
  }

  Status Build(const VectorData& data) override {
    QUIVER_RETURN_IF_ERROR(CheckDenseVectors(data, spec_.dim, "FLAT index data"));
    rows_ = data.rows;
    if (spec_.metric == MetricType::kCosine) {
      vectors_ = NormalizedCopy(data.floats, data.rows, data.dim);
    } else {
      vectors_.assign(data.floats, data.floats + data.rows * data.dim);
    }
    return Status::OK();
  }

  StatusOr<SearchResult> Search(const QueryVectors& queries, int64_t k, const SearchParams& params,
                                const RowFilter& filter) const override {
    QUIVER_RETURN_IF_ERROR(CheckSearch(spec_, queries, k));
    std::vector<float> normalized;
    const float* prepared = PrepareQueries(queries, spec_.metric, &normalized);
    RowSource source;
    source.rows = rows_;
    source.dim = spec_.dim;
    source.contiguous = vectors_.data();
    source.normalized = true;
    return ExactSearch(source, spec_.metric, prepared, queries.rows, k, RangeOf(spec_.metric, params), filter);
  }

  StatusOr<std::string> Serialize() const override {
    const std::string_view payload(reinterpret_cast<const char*>(vectors_.data()), vectors_.size() * sizeof(float));
    return SealIndexBlob({spec_.type, spec_.metric, spec_.dim, rows_}, payload);
  }

  Status Deserialize(std::string_view blob) override {
    IndexBlobHeader header;
    StatusOr<std::string_view> payload = OpenIndexBlob(blob, spec_, &header);
    if (!payload.ok()) return payload.status();
    const size_t values = static_cast<size_t>(header.rows * spec_.dim);
    if (payload->size() != values * sizeof(float)) return CorruptIndexBlob("FLAT payload size does not match its rows");
    vectors_.resize(values);
    std::memcpy(vectors_.data(), payload->data(), payload->size());
    rows_ = header.rows;
    return Status::OK();
  }

 private:
  IndexSpec spec_;
  int64_t rows_ = 0;
  std::vector<float> vectors_;
};

}  // namespace

std::unique_ptr<VectorIndex> NewFlatIndex(const IndexSpec& spec) { return std::make_unique<FlatIndex>(spec); }

StatusOr<SearchResult> BruteForceDense(const VectorData& data, MetricType metric, const QueryVectors& queries,
                                       int64_t k, const SearchParams& params, const RowFilter& filter) {
  if (!IsDenseFloatMetric(metric)) {
    return InvalidParameter("float vectors are searched with L2, IP or COSINE");
  }
  QUIVER_RETURN_IF_ERROR(CheckDenseVectors(data, data.dim, "vectors"));
  IndexSpec spec;
  spec.metric = metric;
  spec.dim = data.dim;
  QUIVER_RETURN_IF_ERROR(CheckSearch(spec, queries, k));
  std::vector<float> normalized;
  const float* prepared = PrepareQueries(queries, metric, &normalized);
  RowSource source;
  source.rows = data.rows;
  source.dim = data.dim;
  source.contiguous = data.floats;
  return ExactSearch(source, metric, prepared, queries.rows, k, RangeOf(metric, params), filter);
}

}  // namespace quiver::index::dense
