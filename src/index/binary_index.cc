// Binary vector indexes: BIN_FLAT (exact) and BIN_IVF_FLAT, plus brute force over raw rows.
//
// Rows are dim/8 bytes. HAMMING is the number of differing bits; JACCARD is
// 1 - |a∧b| / |a∨b|, and 1 for two all-zero vectors, as knowhere defines it.
//
// BIN_IVF_FLAT uses FAISS's IndexBinaryIVF for clustering (k-means on the bits), list
// assignment and storage, and scans the probed lists itself: that gives exact JACCARD on the
// candidates (lists are still chosen by Hamming distance to the centroids, as in knowhere),
// row filters, and range bounds with one code path.
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "index/index_blob.h"
#include "index/internal.h"
#include "index/result_collector.h"

namespace quiver::index {
namespace {

// Distance kernels, one query against `count` consecutive codes. Cloned for POPCNT so the
// generic build still gets the hardware instruction where the CPU has it.
__attribute__((target_clones("popcnt", "default"))) void HammingBlock(const uint8_t* query, const uint8_t* codes,
                                                                      size_t count, size_t code_size, float* out) {
  const size_t words = code_size / 8;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* code = codes + i * code_size;
    int bits = 0;
    for (size_t w = 0; w < words; ++w) {
      uint64_t a, b;
      std::memcpy(&a, query + w * 8, 8);
      std::memcpy(&b, code + w * 8, 8);
      bits += __builtin_popcountll(a ^ b);
    }
    for (size_t j = words * 8; j < code_size; ++j) bits += __builtin_popcount(query[j] ^ code[j]);
    out[i] = static_cast<float>(bits);
  }
}

__attribute__((target_clones("popcnt", "default"))) void JaccardBlock(const uint8_t* query, const uint8_t* codes,
                                                                      size_t count, size_t code_size, float* out) {
  const size_t words = code_size / 8;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* code = codes + i * code_size;
    int both = 0, either = 0;
    for (size_t w = 0; w < words; ++w) {
      uint64_t a, b;
      std::memcpy(&a, query + w * 8, 8);
      std::memcpy(&b, code + w * 8, 8);
      both += __builtin_popcountll(a & b);
      either += __builtin_popcountll(a | b);
    }
    for (size_t j = words * 8; j < code_size; ++j) {
      both += __builtin_popcount(query[j] & code[j]);
      either += __builtin_popcount(query[j] | code[j]);
    }
    out[i] = either == 0 ? 1.0f : static_cast<float>(either - both) / static_cast<float>(either);
  }
}

constexpr int64_t kDefaultNprobe = 8;  // knowhere's default
// Below this many rows per list FAISS's k-means degrades (and warns); knowhere lowers
// nlist for small segments the same way.
constexpr int64_t kMinRowsPerList = 39;
constexpr size_t kScanBlock = 256;

// What one binary scan needs besides the codes themselves.
struct ScanContext {
  MetricType metric;
  size_t code_size;
  const RowFilter& filter;
  const ScoreRange& range;
};

// Offers `count` codes to `top`; their rows are ids[i], or first_row + i without ids.
void ScanCodes(const ScanContext& ctx, const uint8_t* query, const uint8_t* codes, const int64_t* ids,
               int64_t first_row, size_t count, TopK* top) {
  float distances[kScanBlock];
  for (size_t start = 0; start < count; start += kScanBlock) {
    const size_t n = std::min(kScanBlock, count - start);
    const uint8_t* block = codes + start * ctx.code_size;
    if (ctx.metric == MetricType::kHamming) {
      HammingBlock(query, block, n, ctx.code_size, distances);
    } else {
      JaccardBlock(query, block, n, ctx.code_size, distances);
    }
    for (size_t i = 0; i < n; ++i) {
      const int64_t row = ids ? ids[start + i] : first_row + static_cast<int64_t>(start + i);
      if (RowAllowed(ctx.filter, row) && ctx.range.Contains(distances[i])) top->Offer(row, distances[i]);
    }
  }
}

Status CheckBinaryMetric(MetricType metric) {
  if (metric != MetricType::kHamming && metric != MetricType::kJaccard) {
    return InvalidParameter("binary vector does not support metric type " + MetricName(metric));
  }
  return Status::OK();
}

// Checks that `data` holds binary rows of `dim` bits.
Status CheckBinaryRows(const VectorData& data, int64_t dim, const std::string& what) {
  if (data.type != spb::BinaryVector) return InvalidParameter(what + " are not binary vectors");
  if (dim <= 0 || dim % 8 != 0) {
    return InvalidParameter("dimension of a binary vector must be a positive multiple of 8, got " +
                            std::to_string(dim));
  }
  if (data.dim != dim) {
    return InvalidParameter(what + " have dimension " + std::to_string(data.dim) + ", expected " + std::to_string(dim));
  }
  if (data.rows < 0 || (data.rows > 0 && data.bytes == nullptr)) return InvalidParameter(what + " have no data");
  return Status::OK();
}

// Runs `search_one(query, top)` for every query and collects the results.
template <typename SearchOne>
StatusOr<SearchResult> SearchEachQuery(const QueryVectors& queries, int64_t dim, int64_t k, MetricType metric,
                                       SearchOne search_one) {
  QUIVER_RETURN_IF_ERROR(CheckTopK(k));
  QUIVER_RETURN_IF_ERROR(CheckBinaryRows(queries, dim, "query vectors"));
  SearchResult result = AllocateResult(queries.rows, k);
  TopK top(k, LargerIsBetter(metric));
  const size_t code_size = static_cast<size_t>(dim / 8);
  for (int64_t q = 0; q < queries.rows; ++q) {
    search_one(q, queries.bytes + q * code_size, &top);
    top.Drain(&result.rows[q * k], &result.scores[q * k]);
  }
  return result;
}

class BinaryFlatIndex final : public VectorIndex {
 public:
  explicit BinaryFlatIndex(IndexSpec spec) : spec_(std::move(spec)), code_size_(static_cast<size_t>(spec_.dim / 8)) {}

  const IndexSpec& spec() const override { return spec_; }
  int64_t rows() const override { return rows_; }
  size_t MemoryBytes() const override { return codes_.size(); }

  Status Build(const VectorData& data) override {
    QUIVER_RETURN_IF_ERROR(CheckBinaryRows(data, spec_.dim, "rows"));
    codes_.assign(data.bytes, data.bytes + data.rows * code_size_);
    rows_ = data.rows;
    return Status::OK();
  }

  StatusOr<SearchResult> Search(const QueryVectors& queries, int64_t k, const SearchParams& params,
                                const RowFilter& filter) const override {
    const ScoreRange range(false, params);
    const ScanContext ctx{spec_.metric, code_size_, filter, range};
    return SearchEachQuery(queries, spec_.dim, k, spec_.metric, [&](int64_t, const uint8_t* query, TopK* top) {
      ScanCodes(ctx, query, codes_.data(), nullptr, 0, static_cast<size_t>(rows_), top);
    });
  }

  StatusOr<std::string> Serialize() const override {
    std::string_view payload(reinterpret_cast<const char*>(codes_.data()), codes_.size());
    return SealIndexBlob({spec_.type, spec_.metric, spec_.dim, rows_}, payload);
  }

  Status Deserialize(std::string_view blob) override {
    IndexBlobHeader header;
    auto payload = OpenIndexBlob(blob, spec_, &header);
    if (!payload.ok()) return payload.status();
    if (payload->size() / code_size_ != static_cast<size_t>(header.rows) || payload->size() % code_size_ != 0) {
      return CorruptIndexBlob("BIN_FLAT payload does not hold " + std::to_string(header.rows) + " rows");
    }
    codes_.assign(payload->begin(), payload->end());
    rows_ = header.rows;
    return Status::OK();
  }

 private:
  IndexSpec spec_;
  size_t code_size_;
  int64_t rows_ = 0;
  std::vector<uint8_t> codes_;
};

// Lets FAISS read from a blob in place.
struct StringViewReader : faiss::IOReader {
  explicit StringViewReader(std::string_view in) : in(in) {}
  size_t operator()(void* ptr, size_t size, size_t nitems) override {
    if (size == 0) return 0;
    nitems = std::min(nitems, (in.size() - pos) / size);
    std::memcpy(ptr, in.data() + pos, size * nitems);
    pos += size * nitems;
    return nitems;
  }
  std::string_view in;
  size_t pos = 0;
};

class BinaryIvfIndex final : public VectorIndex {
 public:
  explicit BinaryIvfIndex(IndexSpec spec) : spec_(std::move(spec)), code_size_(static_cast<size_t>(spec_.dim / 8)) {}

  const IndexSpec& spec() const override { return spec_; }
  int64_t rows() const override { return rows_; }

  size_t MemoryBytes() const override {
    if (!ivf_) return 0;
    return static_cast<size_t>(rows_) * (code_size_ + sizeof(int64_t)) + ivf_->nlist * code_size_;
  }

  Status Build(const VectorData& data) override {
    QUIVER_RETURN_IF_ERROR(CheckBinaryRows(data, spec_.dim, "rows"));
    ivf_.reset();
    rows_ = 0;
    if (data.rows == 0) return Status::OK();
    const int64_t nlist = std::clamp<int64_t>(data.rows / kMinRowsPerList, 1, spec_.build_params.at("nlist"));
    try {
      auto quantizer = std::make_unique<faiss::IndexBinaryFlat>(spec_.dim);
      auto ivf = std::make_unique<faiss::IndexBinaryIVF>(quantizer.get(), spec_.dim, nlist);
      ivf->own_fields = true;
      quantizer.release();
      ivf->train(data.rows, data.bytes);
      ivf->add(data.rows, data.bytes);
      ivf_ = std::move(ivf);
    } catch (const std::exception& e) {
      return Internal(std::string("building BIN_IVF_FLAT failed: ") + e.what());
    }
    rows_ = data.rows;
    return Status::OK();
  }

  StatusOr<SearchResult> Search(const QueryVectors& queries, int64_t k, const SearchParams& params,
                                const RowFilter& filter) const override {
    if (!ivf_) {
      return SearchEachQuery(queries, spec_.dim, k, spec_.metric, [](int64_t, const uint8_t*, TopK*) {});
    }
    const int64_t nlist = static_cast<int64_t>(ivf_->nlist);
    const int64_t nprobe = std::min(params.nprobe > 0 ? params.nprobe : kDefaultNprobe, nlist);
    std::vector<int64_t> probes;
    if (queries.type == spb::BinaryVector && queries.dim == spec_.dim && queries.rows > 0 && queries.bytes) {
      probes.resize(static_cast<size_t>(queries.rows * nprobe));
      std::vector<int32_t> centroid_distances(probes.size());
      ivf_->quantizer->search(queries.rows, queries.bytes, nprobe, centroid_distances.data(), probes.data());
    }
    const ScoreRange range(false, params);
    const ScanContext ctx{spec_.metric, code_size_, filter, range};
    const int64_t eligible = filter.allowed ? filter.allowed_count : rows_;
    // A selective filter leaves fewer than k allowed rows in the probed lists on average.
    const bool scan_everything = filter.allowed && filter.allowed_count * nprobe < k * nlist;
    return SearchEachQuery(queries, spec_.dim, k, spec_.metric, [&](int64_t q, const uint8_t* query, TopK* top) {
      if (!scan_everything) {
        for (int64_t p = 0; p < nprobe; ++p) {
          const int64_t list = probes[q * nprobe + p];
          if (list >= 0) ScanList(ctx, query, list, top);
        }
        // Small or filtered lists can leave the answer short of k rows that do exist.
        if (params.radius || static_cast<int64_t>(top->size()) >= std::min(k, eligible)) return;
        top->Clear();
      }
      for (int64_t list = 0; list < nlist; ++list) ScanList(ctx, query, list, top);
    });
  }

  StatusOr<std::string> Serialize() const override {
    faiss::VectorIOWriter writer;
    if (ivf_) {
      try {
        faiss::write_index_binary(ivf_.get(), &writer);
      } catch (const std::exception& e) {
        return Internal(std::string("serializing BIN_IVF_FLAT failed: ") + e.what());
      }
    }
    std::string_view payload(reinterpret_cast<const char*>(writer.data.data()), writer.data.size());
    return SealIndexBlob({spec_.type, spec_.metric, spec_.dim, rows_}, payload);
  }

  Status Deserialize(std::string_view blob) override {
    IndexBlobHeader header;
    auto payload = OpenIndexBlob(blob, spec_, &header);
    if (!payload.ok()) return payload.status();
    if (header.rows == 0) {
      if (!payload->empty()) return CorruptIndexBlob("empty BIN_IVF_FLAT carries data");
      ivf_.reset();
      rows_ = 0;
      return Status::OK();
    }
    std::unique_ptr<faiss::IndexBinary> loaded;
    try {
      StringViewReader reader(*payload);
      loaded.reset(faiss::read_index_binary(&reader));
    } catch (const std::exception& e) {
      return CorruptIndexBlob(std::string("FAISS could not read BIN_IVF_FLAT: ") + e.what());
    }
    auto* ivf = dynamic_cast<faiss::IndexBinaryIVF*>(loaded.get());
    if (ivf == nullptr) return CorruptIndexBlob("payload is not a binary IVF index");
    QUIVER_RETURN_IF_ERROR(CheckLoadedIvf(*ivf, header.rows));
    loaded.release();
    ivf_.reset(ivf);
    rows_ = header.rows;
    return Status::OK();
  }

 private:
  void ScanList(const ScanContext& ctx, const uint8_t* query, int64_t list, TopK* top) const {
    const faiss::InvertedLists* lists = ivf_->invlists;
    const size_t size = lists->list_size(list);
    if (size == 0) return;
    faiss::InvertedLists::ScopedCodes codes(lists, list);
    faiss::InvertedLists::ScopedIds ids(lists, list);
    ScanCodes(ctx, query, codes.get(), ids.get(), 0, size, top);
  }

  // A checksummed blob came from Serialize, but it must also fit this spec.
  Status CheckLoadedIvf(const faiss::IndexBinaryIVF& ivf, int64_t rows) const {
    const faiss::InvertedLists* lists = ivf.invlists;
    if (ivf.d != spec_.dim || ivf.ntotal != rows || !ivf.is_trained || ivf.nlist == 0 || ivf.quantizer == nullptr ||
        ivf.quantizer->ntotal != static_cast<int64_t>(ivf.nlist) || lists == nullptr || lists->nlist != ivf.nlist ||
        lists->code_size != code_size_) {
      return CorruptIndexBlob("BIN_IVF_FLAT structure does not match its header");
    }
    int64_t total = 0;
    for (size_t list = 0; list < ivf.nlist; ++list) {
      const size_t size = lists->list_size(list);
      faiss::InvertedLists::ScopedIds ids(lists, list);
      for (size_t i = 0; i < size; ++i) {
        if (ids[i] < 0 || ids[i] >= rows) return CorruptIndexBlob("BIN_IVF_FLAT row id out of range");
      }
      total += static_cast<int64_t>(size);
    }
    if (total != rows) return CorruptIndexBlob("BIN_IVF_FLAT lists do not hold every row");
    return Status::OK();
  }

  IndexSpec spec_;
  size_t code_size_;
  int64_t rows_ = 0;
  std::unique_ptr<faiss::IndexBinaryIVF> ivf_;  // null while empty
};

}  // namespace

StatusOr<std::unique_ptr<VectorIndex>> CreateBinaryIndex(const IndexSpec& spec) {
  QUIVER_RETURN_IF_ERROR(CheckBinaryMetric(spec.metric));
  if (spec.dim <= 0 || spec.dim % 8 != 0) {
    return InvalidParameter("dimension of a binary vector must be a positive multiple of 8, got " +
                            std::to_string(spec.dim));
  }
  switch (spec.type) {
    case IndexType::kBinFlat: return std::unique_ptr<VectorIndex>(new BinaryFlatIndex(spec));
    case IndexType::kBinIvfFlat:
      if (spec.build_params.count("nlist") == 0 || spec.build_params.at("nlist") < 1) {
        return InvalidParameter("BIN_IVF_FLAT needs a positive nlist");
      }
      return std::unique_ptr<VectorIndex>(new BinaryIvfIndex(spec));
    default: return InvalidParameter("not a binary vector index type: " + spec.index_type_name);
  }
}

StatusOr<SearchResult> BruteForceBinary(const VectorData& data, MetricType metric, const QueryVectors& queries,
                                        int64_t k, const SearchParams& params, const RowFilter& filter) {
  QUIVER_RETURN_IF_ERROR(CheckBinaryMetric(metric));
  QUIVER_RETURN_IF_ERROR(CheckBinaryRows(data, data.dim, "rows"));
  const ScoreRange range(false, params);
  const ScanContext ctx{metric, static_cast<size_t>(data.dim / 8), filter, range};
  return SearchEachQuery(queries, data.dim, k, metric, [&](int64_t, const uint8_t* query, TopK* top) {
    ScanCodes(ctx, query, data.bytes, nullptr, 0, static_cast<size_t>(data.rows), top);
  });
}

}  // namespace quiver::index
