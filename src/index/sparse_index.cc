// Sparse float vectors: SPARSE_INVERTED_INDEX (SPARSE_WAND shares it) and brute force, IP only.
//
// A row is Milvus's encoding: (little-endian uint32 index, float32 value) pairs, indices
// strictly ascending and below 2^32-1, values finite. A row scores against a query only if
// they share a dimension; rows sharing none are not results (as in knowhere), whatever k is.
// Both paths add a row's products in ascending dimension order, so they agree exactly.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <unordered_map>

#include "index/index_blob.h"
#include "index/internal.h"
#include "index/result_collector.h"

namespace quiver::index {
namespace {

constexpr size_t kEntryBytes = 8;

// One row in Milvus's sparse encoding.
class SparseRow {
 public:
  explicit SparseRow(std::string_view bytes) : bytes_(bytes) {}
  size_t size() const { return bytes_.size() / kEntryBytes; }
  uint32_t index(size_t i) const {
    uint32_t value;
    std::memcpy(&value, bytes_.data() + i * kEntryBytes, sizeof(value));
    return value;
  }
  float value(size_t i) const {
    float value;
    std::memcpy(&value, bytes_.data() + i * kEntryBytes + 4, sizeof(value));
    return value;
  }

 private:
  std::string_view bytes_;
};

Status ValidateSparseRow(std::string_view bytes) {
  if (bytes.size() % kEntryBytes != 0) {
    return InvalidParameter("invalid data length in sparse float vector: " + std::to_string(bytes.size()));
  }
  SparseRow row(bytes);
  for (size_t i = 0; i < row.size(); ++i) {
    if (row.index(i) == std::numeric_limits<uint32_t>::max()) {
      return InvalidParameter("invalid index in sparse float vector: must be less than 2^32-1");
    }
    if (i > 0 && row.index(i) <= row.index(i - 1)) {
      return InvalidParameter("unsorted or same indices in sparse float vector");
    }
    if (!std::isfinite(row.value(i))) return InvalidParameter("NaN or infinite value in sparse float vector");
  }
  return Status::OK();
}

Status CheckSparseRows(const VectorData& data, const std::string& what) {
  if (data.type != spb::SparseFloatVector) return InvalidParameter(what + " are not sparse float vectors");
  if (data.rows < 0 || (data.rows > 0 && data.sparse_rows == nullptr)) return InvalidParameter(what + " have no data");
  for (int64_t i = 0; i < data.rows; ++i) QUIVER_RETURN_IF_ERROR(ValidateSparseRow(data.sparse_rows[i]));
  return Status::OK();
}

Status CheckSparseMetric(MetricType metric) {
  if (metric != MetricType::kIP) {
    return InvalidParameter("sparse float vector does not support metric type " + MetricName(metric) + ", only IP");
  }
  return Status::OK();
}

// Runs `search_one(query, top)` for every query and collects the results.
template <typename SearchOne>
StatusOr<SearchResult> SearchEachQuery(const QueryVectors& queries, int64_t k, SearchOne search_one) {
  QUIVER_RETURN_IF_ERROR(CheckTopK(k));
  QUIVER_RETURN_IF_ERROR(CheckSparseRows(queries, "query vectors"));
  SearchResult result = AllocateResult(queries.rows, k);
  TopK top(k, /*larger_is_better=*/true);
  for (int64_t q = 0; q < queries.rows; ++q) {
    search_one(SparseRow(queries.sparse_rows[q]), &top);
    top.Drain(&result.rows[q * k], &result.scores[q * k]);
  }
  return result;
}

class SparseInvertedIndex final : public VectorIndex {
 public:
  explicit SparseInvertedIndex(IndexSpec spec) : spec_(std::move(spec)) {}

  const IndexSpec& spec() const override { return spec_; }
  int64_t rows() const override { return rows_; }

  size_t MemoryBytes() const override {
    return dims_.size() * sizeof(uint32_t) + offsets_.size() * sizeof(uint64_t) +
           posting_rows_.size() * sizeof(uint32_t) + posting_values_.size() * sizeof(float);
  }

  Status Build(const VectorData& data) override {
    QUIVER_RETURN_IF_ERROR(CheckSparseRows(data, "rows"));
    if (data.rows > std::numeric_limits<uint32_t>::max()) return InvalidParameter("too many rows for a sparse index");
    // Count each dimension's postings, lay the lists out by ascending dimension, then fill
    // them in row order so every list is sorted by row.
    std::unordered_map<uint32_t, uint64_t> counts;
    for (int64_t r = 0; r < data.rows; ++r) {
      SparseRow row(data.sparse_rows[r]);
      for (size_t i = 0; i < row.size(); ++i) ++counts[row.index(i)];
    }
    dims_.clear();
    for (const auto& entry : counts) dims_.push_back(entry.first);
    std::sort(dims_.begin(), dims_.end());
    dims_.shrink_to_fit();
    offsets_.assign(dims_.size() + 1, 0);
    std::unordered_map<uint32_t, uint64_t> cursor;
    for (size_t slot = 0; slot < dims_.size(); ++slot) {
      cursor[dims_[slot]] = offsets_[slot];
      offsets_[slot + 1] = offsets_[slot] + counts[dims_[slot]];
    }
    posting_rows_.resize(offsets_.back());
    posting_values_.resize(offsets_.back());
    for (int64_t r = 0; r < data.rows; ++r) {
      SparseRow row(data.sparse_rows[r]);
      for (size_t i = 0; i < row.size(); ++i) {
        const uint64_t at = cursor[row.index(i)]++;
        posting_rows_[at] = static_cast<uint32_t>(r);
        posting_values_[at] = row.value(i);
      }
    }
    rows_ = data.rows;
    return Status::OK();
  }

  StatusOr<SearchResult> Search(const QueryVectors& queries, int64_t k, const SearchParams& params,
                                const RowFilter& filter) const override {
    const ScoreRange range(true, params);
    std::vector<float> scores(static_cast<size_t>(rows_));
    std::vector<uint8_t> seen(static_cast<size_t>(rows_));
    std::vector<uint32_t> touched;
    return SearchEachQuery(queries, k, [&](const SparseRow& query, TopK* top) {
      for (size_t i = 0; i < query.size(); ++i) {
        auto dim = std::lower_bound(dims_.begin(), dims_.end(), query.index(i));
        if (dim == dims_.end() || *dim != query.index(i)) continue;
        const size_t slot = static_cast<size_t>(dim - dims_.begin());
        const float weight = query.value(i);
        for (uint64_t p = offsets_[slot]; p < offsets_[slot + 1]; ++p) {
          const uint32_t row = posting_rows_[p];
          if (!seen[row]) {
            seen[row] = 1;
            scores[row] = 0.0f;
            touched.push_back(row);
          }
          scores[row] += weight * posting_values_[p];
        }
      }
      for (uint32_t row : touched) {
        if (RowAllowed(filter, row) && range.Contains(scores[row])) top->Offer(row, scores[row]);
        seen[row] = 0;
      }
      touched.clear();
    });
  }

  StatusOr<std::string> Serialize() const override {
    ByteWriter payload;
    payload.Put(static_cast<uint64_t>(dims_.size()));
    payload.Put(static_cast<uint64_t>(posting_rows_.size()));
    payload.PutArray(dims_.data(), dims_.size());
    payload.PutArray(offsets_.data(), offsets_.size());
    payload.PutArray(posting_rows_.data(), posting_rows_.size());
    payload.PutArray(posting_values_.data(), posting_values_.size());
    return SealIndexBlob({spec_.type, spec_.metric, spec_.dim, rows_}, payload.bytes());
  }

  Status Deserialize(std::string_view blob) override {
    IndexBlobHeader header;
    auto payload = OpenIndexBlob(blob, spec_, &header);
    if (!payload.ok()) return payload.status();
    ByteReader reader(*payload);
    uint64_t ndims = 0, nnz = 0;
    if (!reader.Get(&ndims) || !reader.Get(&nnz)) return CorruptIndexBlob("truncated sparse index");
    // Sizes are checked against the bytes present before anything is allocated.
    const uint64_t left = reader.remaining();
    if (ndims > left / 12 || nnz > left / 8 || ndims * 4 + (ndims + 1) * 8 + nnz * 8 != left) {
      return CorruptIndexBlob("sparse index sizes do not match its payload");
    }
    std::vector<uint32_t> dims(ndims), rows(nnz);
    std::vector<uint64_t> offsets(ndims + 1);
    std::vector<float> values(nnz);
    reader.GetArray(dims.data(), dims.size());
    reader.GetArray(offsets.data(), offsets.size());
    reader.GetArray(rows.data(), rows.size());
    reader.GetArray(values.data(), values.size());
    QUIVER_RETURN_IF_ERROR(CheckPostings(dims, offsets, rows, values, header.rows));
    dims_ = std::move(dims);
    offsets_ = std::move(offsets);
    posting_rows_ = std::move(rows);
    posting_values_ = std::move(values);
    rows_ = header.rows;
    return Status::OK();
  }

 private:
  static Status CheckPostings(const std::vector<uint32_t>& dims, const std::vector<uint64_t>& offsets,
                              const std::vector<uint32_t>& rows, const std::vector<float>& values, int64_t row_count) {
    if (offsets.front() != 0 || offsets.back() != rows.size()) return CorruptIndexBlob("bad posting offsets");
    for (size_t i = 0; i < dims.size(); ++i) {
      if (offsets[i] > offsets[i + 1]) return CorruptIndexBlob("bad posting offsets");
      if (i > 0 && dims[i] <= dims[i - 1]) return CorruptIndexBlob("dimensions out of order");
    }
    for (size_t p = 0; p < rows.size(); ++p) {
      if (rows[p] >= row_count || !std::isfinite(values[p])) return CorruptIndexBlob("bad posting entry");
    }
    return Status::OK();
  }

  IndexSpec spec_;
  int64_t rows_ = 0;
  std::vector<uint32_t> dims_;          // ascending
  std::vector<uint64_t> offsets_;       // dims_.size() + 1; list i is [offsets_[i], offsets_[i+1])
  std::vector<uint32_t> posting_rows_;  // ascending within each list
  std::vector<float> posting_values_;
};

}  // namespace

StatusOr<std::unique_ptr<VectorIndex>> CreateSparseIndex(const IndexSpec& spec) {
  QUIVER_RETURN_IF_ERROR(CheckSparseMetric(spec.metric));
  if (spec.type != IndexType::kSparseInvertedIndex) {
    return InvalidParameter("not a sparse vector index type: " + spec.index_type_name);
  }
  return std::unique_ptr<VectorIndex>(new SparseInvertedIndex(spec));
}

StatusOr<SearchResult> BruteForceSparse(const VectorData& data, MetricType metric, const QueryVectors& queries,
                                        int64_t k, const SearchParams& params, const RowFilter& filter) {
  QUIVER_RETURN_IF_ERROR(CheckSparseMetric(metric));
  QUIVER_RETURN_IF_ERROR(CheckSparseRows(data, "rows"));
  const ScoreRange range(true, params);
  return SearchEachQuery(queries, k, [&](const SparseRow& query, TopK* top) {
    for (int64_t r = 0; r < data.rows; ++r) {
      if (!RowAllowed(filter, r)) continue;
      SparseRow row(data.sparse_rows[r]);
      float score = 0.0f;
      bool shared = false;
      for (size_t i = 0, j = 0; i < query.size() && j < row.size();) {
        if (query.index(i) < row.index(j)) {
          ++i;
        } else if (row.index(j) < query.index(i)) {
          ++j;
        } else {
          score += query.value(i) * row.value(j);
          shared = true;
          ++i, ++j;
        }
      }
      if (shared && range.Contains(score)) top->Offer(r, score);
    }
  });
}

}  // namespace quiver::index
