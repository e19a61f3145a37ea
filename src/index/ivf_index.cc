// IVF_FLAT, IVF_SQ8 and IVF_PQ on FAISS inverted-file indexes.
//
// FAISS trains, assigns, stores and serializes. Searching picks the lists with Quiver's SIMD
// kernels and, for IVF_FLAT, scans them with those kernels too (Debian's FAISS is a generic
// build whose distance loops are scalar); IVF_SQ8 and IVF_PQ codes are scanned by FAISS.
//
// Segments smaller than the index asks for are handled, not refused: nlist is capped at the
// row count (k-means needs a point per centroid), and IVF_PQ on fewer rows than its 2^nbits
// codewords per sub-quantizer keeps the rows uncompressed (an IVF_FLAT underneath), which
// only makes its answers exact within the probed lists.
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <cstring>

#include "index/dense_indexes.h"
#include "index/distance.h"
#include "index/index_blob.h"

namespace quiver::index::dense {
namespace {

// FAISS's own cap on k-means input: more points per centroid barely moves the centroids.
constexpr int64_t kTrainingRowsPerCentroid = 256;

// A filtered search probes enough lists to expect this many times k allowed rows.
constexpr double kFilteredProbeMargin = 4.0;

struct AllowedRows : faiss::IDSelector {
  explicit AllowedRows(const uint8_t* allowed) : allowed(allowed) {}
  bool is_member(idx_t id) const override { return allowed[id] != 0; }
  const uint8_t* allowed;
};

struct StringWriter : faiss::IOWriter {
  size_t operator()(const void* ptr, size_t size, size_t items) override {
    data.append(static_cast<const char*>(ptr), size * items);
    return items;
  }
  std::string data;
};

struct StringViewReader : faiss::IOReader {
  explicit StringViewReader(std::string_view data) : data(data) {}
  size_t operator()(void* ptr, size_t size, size_t items) override {
    if (size == 0) return 0;
    const size_t available = std::min(items, (data.size() - position) / size);
    std::memcpy(ptr, data.data() + position, available * size);
    position += available * size;
    return available;
  }
  std::string_view data;
  size_t position = 0;
};

// Every `rows / count`-th row: spread over the whole segment, deterministic, no shuffle.
std::vector<float> TrainingSample(const float* vectors, int64_t rows, int64_t dim, int64_t count) {
  std::vector<float> sample(static_cast<size_t>(count * dim));
  for (int64_t i = 0; i < count; ++i) {
    const int64_t row = i * rows / count;
    std::memcpy(sample.data() + i * dim, vectors + row * dim, dim * sizeof(float));
  }
  return sample;
}

class IvfIndex final : public VectorIndex {
 public:
  explicit IvfIndex(const IndexSpec& spec) : spec_(spec) {}

  const IndexSpec& spec() const override { return spec_; }
  int64_t rows() const override { return rows_; }

  size_t MemoryBytes() const override {
    if (!index_) return 0;
    size_t bytes = static_cast<size_t>(index_->ntotal) * (index_->code_size + sizeof(faiss::Index::idx_t)) +
                   static_cast<size_t>(index_->nlist * spec_.dim) * sizeof(float);
    if (const auto* pq = dynamic_cast<const faiss::IndexIVFPQ*>(index_.get())) {
      bytes += (pq->pq.centroids.size() + pq->precomputed_table.size()) * sizeof(float);
    }
    return bytes + list_of_row_.capacity() * sizeof(uint16_t);
  }

  // IVF_FLAT's lists hold the rows as given (unless COSINE normalized them).
  bool HoldsRawVectors() const override { return !list_of_row_.empty(); }

  Status ReconstructRows(std::span<const int64_t> rows, float* out) const override {
    if (!HoldsRawVectors()) return VectorIndex::ReconstructRows(rows, out);
    QUIVER_RETURN_IF_ERROR(CheckRowsInRange(rows, rows_));
    const faiss::InvertedLists& lists = *index_->invlists;
    for (size_t i = 0; i < rows.size(); ++i) {
      const size_t list = list_of_row_[rows[i]];
      faiss::InvertedLists::ScopedIds ids(&lists, list);
      const faiss::Index::idx_t* first = ids.get();
      const faiss::Index::idx_t* found = std::lower_bound(first, first + lists.list_size(list), rows[i]);
      faiss::InvertedLists::ScopedCodes codes(&lists, list);
      std::memcpy(out + i * spec_.dim, codes.get() + (found - first) * lists.code_size, spec_.dim * sizeof(float));
    }
    return Status::OK();
  }

  Status Build(const VectorData& data) override {
    QUIVER_RETURN_IF_ERROR(CheckDenseVectors(data, spec_.dim, "IVF index data"));
    int64_t pq_m = 0;
    if (spec_.type == IndexType::kIvfPq) {
      pq_m = BuildParam(spec_, "m", 0);
      if (pq_m <= 0 || spec_.dim % pq_m != 0) {
        return InvalidParameter("IVF_PQ needs m dividing the dimension " + std::to_string(spec_.dim) + ", got m=" +
                                std::to_string(pq_m));
      }
    }
    const int64_t nbits = BuildParam(spec_, "nbits", kDefaultPqBits);
    if (spec_.type == IndexType::kIvfPq && (nbits < 1 || nbits > 16)) {
      return InvalidParameter("IVF_PQ needs nbits in [1, 16], got " + std::to_string(nbits));
    }
    index_.reset();
    list_of_row_.clear();
    rows_ = data.rows;
    if (data.rows == 0) return Status::OK();
    std::vector<float> normalized;
    const float* vectors = data.floats;
    if (spec_.metric == MetricType::kCosine) {
      normalized = NormalizedCopy(data.floats, data.rows, data.dim);
      vectors = normalized.data();
    }
    try {
      const int64_t nlist = std::clamp<int64_t>(BuildParam(spec_, "nlist", kDefaultNlist), 1, data.rows);
      const bool product_quantized = spec_.type == IndexType::kIvfPq && data.rows >= (int64_t{1} << nbits);
      std::unique_ptr<faiss::IndexIVF> index = NewUntrained(nlist, product_quantized ? pq_m : 0, nbits);
      const int64_t centroids = product_quantized ? std::max(nlist, int64_t{1} << nbits) : nlist;
      const int64_t training_rows = std::min(data.rows, kTrainingRowsPerCentroid * centroids);
      const std::vector<float> sample = TrainingSample(vectors, data.rows, data.dim, training_rows);
      // One thread: FAISS's k-means runs many short OpenMP regions whose barriers spin, and on
      // a shared 2-core machine a second thread gained 10% when idle and lost 4x under load.
      SingleThreadedFaiss single_thread;
      index->train(training_rows, sample.data());
      index->add(data.rows, vectors);
      index_ = std::move(index);
      MapRowsToLists();
    } catch (const std::exception& e) {
      return Internal(std::string("building the IVF index failed: ") + e.what());
    }
    return Status::OK();
  }

  StatusOr<SearchResult> Search(const QueryVectors& queries, int64_t k, const SearchParams& params,
                                const RowFilter& filter) const override {
    QUIVER_RETURN_IF_ERROR(CheckSearch(spec_, queries, k));
    if (!index_) return EmptyResult(queries.rows, k, spec_.metric);
    std::vector<float> normalized;
    const float* prepared = PrepareQueries(queries, spec_.metric, &normalized);
    const std::optional<KeyRange> range = RangeOf(spec_.metric, params);
    const int64_t nlist = static_cast<int64_t>(index_->nlist);
    int64_t nprobe = params.nprobe > 0 ? params.nprobe : kDefaultNprobe;
    if (filter.allowed) nprobe = FilteredNprobe(nprobe, k, filter.allowed_count);
    nprobe = std::min(nprobe, nlist);
    const int64_t eligible = filter.allowed ? filter.allowed_count : rows_;

    try {
      SingleThreadedFaiss single_thread;
      SearchResult result = EmptyResult(queries.rows, k, spec_.metric);
      for (int64_t q = 0; q < queries.rows; ++q) {
        const float* query = prepared + q * spec_.dim;
        std::vector<Candidate> best;
        if (range) {
          auto search = [&](int64_t width) { return SearchOne(query, width, nprobe, filter.allowed); };
          best = RangeSearchByWidening(search, k, rows_, *range);
        } else {
          best = SearchOne(query, k, nprobe, filter.allowed);
          // The probed lists held too few (allowed) rows: probing them all finds every one.
          if (static_cast<int64_t>(best.size()) < std::min(k, eligible) && nprobe < nlist) {
            best = SearchOne(query, k, nlist, filter.allowed);
          }
        }
        WriteQueryResult(best, spec_.metric, q, &result);
      }
      return result;
    } catch (const std::exception& e) {
      return Internal(std::string("IVF search failed: ") + e.what());
    }
  }

  StatusOr<std::string> Serialize() const override {
    StringWriter writer;
    try {
      if (index_) faiss::write_index(index_.get(), &writer);
    } catch (const std::exception& e) {
      return Internal(std::string("serializing the IVF index failed: ") + e.what());
    }
    return SealIndexBlob({spec_.type, spec_.metric, spec_.dim, rows_}, writer.data);
  }

  Status Deserialize(std::string_view blob) override {
    IndexBlobHeader header;
    StatusOr<std::string_view> payload = OpenIndexBlob(blob, spec_, &header);
    if (!payload.ok()) return payload.status();
    std::unique_ptr<faiss::IndexIVF> index;
    if (header.rows > 0) {
      try {
        StringViewReader reader(*payload);
        std::unique_ptr<faiss::Index> loaded(faiss::read_index(&reader));
        index.reset(dynamic_cast<faiss::IndexIVF*>(loaded.get()));
        if (!index) return CorruptIndexBlob("the payload is not a FAISS IVF index");
        loaded.release();
      } catch (const std::exception& e) {
        return CorruptIndexBlob(std::string("FAISS index: ") + e.what());
      }
      if (index->ntotal != header.rows || index->d != spec_.dim || index->metric_type != FaissMetric() ||
          !dynamic_cast<const faiss::IndexFlat*>(index->quantizer)) {
        return CorruptIndexBlob("FAISS index does not match the blob header");
      }
    }
    index_ = std::move(index);
    rows_ = header.rows;
    MapRowsToLists();
    return Status::OK();
  }

 private:
  faiss::MetricType FaissMetric() const {
    return spec_.metric == MetricType::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
  }

  // A filter thins every list, so the nearest allowed rows sit in farther lists. When the
  // allowed rows of all lists are no more than an unfiltered search would scan, scan them all
  // (exact among the stored codes); otherwise probe enough lists to expect
  // kFilteredProbeMargin * k allowed rows.
  int64_t FilteredNprobe(int64_t nprobe, int64_t k, int64_t allowed_count) const {
    const int64_t nlist = static_cast<int64_t>(index_->nlist);
    const double allowed_per_list = static_cast<double>(std::max<int64_t>(allowed_count, 1)) / nlist;
    if (allowed_count <= nprobe * (rows_ / nlist)) return nlist;
    const double wanted = std::min<double>(nlist, kFilteredProbeMargin * k / allowed_per_list + 1);
    return std::max(nprobe, static_cast<int64_t>(wanted));
  }

  // Which list holds each row, so that IVF_FLAT can give rows back: 2 bytes per row (nlist
  // is at most 65536), the offset within the list being found by binary search, as FAISS
  // adds rows to each list in ascending order. Left empty (no reconstruction) for other
  // types, COSINE, or lists that break that order.
  void MapRowsToLists() {
    list_of_row_.clear();
    if (spec_.type != IndexType::kIvfFlat || spec_.metric == MetricType::kCosine || !index_) return;
    if (index_->nlist > 65536 || !dynamic_cast<const faiss::IndexIVFFlat*>(index_.get())) return;
    const faiss::InvertedLists& lists = *index_->invlists;
    std::vector<uint16_t> list_of_row(static_cast<size_t>(rows_));
    std::vector<bool> seen(static_cast<size_t>(rows_), false);
    for (size_t list = 0; list < lists.nlist; ++list) {
      faiss::InvertedLists::ScopedIds ids(&lists, list);
      for (size_t i = 0; i < lists.list_size(list); ++i) {
        const faiss::Index::idx_t row = ids[i];
        if (row < 0 || row >= rows_ || seen[row] || (i > 0 && ids[i - 1] >= row)) return;
        seen[row] = true;
        list_of_row[row] = static_cast<uint16_t>(list);
      }
    }
    if (std::find(seen.begin(), seen.end(), false) != seen.end()) return;
    list_of_row_ = std::move(list_of_row);
  }

  // pq_m == 0: no product quantization (IVF_FLAT, IVF_SQ8, or IVF_PQ on too few rows).
  std::unique_ptr<faiss::IndexIVF> NewUntrained(int64_t nlist, int64_t pq_m, int64_t nbits) const {
    auto quantizer = std::make_unique<faiss::IndexFlat>(spec_.dim, FaissMetric());
    std::unique_ptr<faiss::IndexIVF> index;
    if (spec_.type == IndexType::kIvfSq8) {
      index = std::make_unique<faiss::IndexIVFScalarQuantizer>(quantizer.get(), spec_.dim, nlist,
                                                               faiss::ScalarQuantizer::QT_8bit, FaissMetric());
    } else if (pq_m > 0) {
      auto pq = std::make_unique<faiss::IndexIVFPQ>(quantizer.get(), spec_.dim, nlist, pq_m, nbits, FaissMetric());
      pq->pq.cp.min_points_per_centroid = 1;  // few points per codeword is fine; do not print warnings
      index = std::move(pq);
    } else {
      index = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), spec_.dim, nlist, FaissMetric());
    }
    index->own_fields = true;
    quantizer.release();
    index->cp.min_points_per_centroid = 1;
    return index;
  }

  // The best `k` allowed rows in the `nprobe` lists nearest to `query` (best first).
  std::vector<Candidate> SearchOne(const float* query, int64_t k, int64_t nprobe, const uint8_t* allowed) const {
    const ProbedLists probed = NearestLists(query, nprobe);
    if (const auto* flat = dynamic_cast<const faiss::IndexIVFFlat*>(index_.get())) {
      return ScanFlatLists(*flat, query, probed, k, allowed);
    }
    std::vector<float> distances(static_cast<size_t>(k));
    std::vector<faiss::Index::idx_t> labels(static_cast<size_t>(k));
    AllowedRows selector(allowed);
    faiss::SearchParametersIVF params;
    params.nprobe = probed.lists.size();
    params.sel = allowed ? &selector : nullptr;
    index_->search_preassigned(1, query, k, probed.lists.data(), probed.distances.data(), distances.data(),
                               labels.data(), false, &params);
    std::vector<Candidate> best;
    for (int64_t i = 0; i < k && labels[i] >= 0; ++i) best.push_back({KeyOfScore(spec_.metric, distances[i]), labels[i]});
    return best;
  }

  struct ProbedLists {
    std::vector<faiss::Index::idx_t> lists;  // nearest first
    std::vector<float> distances;             // FAISS's convention: L2 distance or inner product
  };

  // The coarse step with Quiver's kernels: Debian's FAISS is a generic build whose distance
  // loops are scalar.
  ProbedLists NearestLists(const float* query, int64_t nprobe) const {
    const auto& quantizer = static_cast<const faiss::IndexFlat&>(*index_->quantizer);
    const float* centroids = quantizer.get_xb();
    const DistanceKernels& kernels = SupportedDistanceKernels()[0];
    const bool is_l2 = spec_.metric == MetricType::kL2;
    TopKeys nearest(nprobe);
    for (int64_t list = 0; list < quantizer.ntotal; ++list) {
      const float* centroid = centroids + list * spec_.dim;
      nearest.Push(is_l2 ? kernels.l2sqr(query, centroid, spec_.dim) : -kernels.inner_product(query, centroid, spec_.dim),
                   list);
    }
    ProbedLists probed;
    for (const Candidate& c : nearest.TakeSorted()) {
      probed.lists.push_back(c.row);
      probed.distances.push_back(ScoreOfKey(spec_.metric, c.key));
    }
    return probed;
  }

  // IVF_FLAT's lists hold the raw vectors: scanned with Quiver's kernels, for the same reason.
  std::vector<Candidate> ScanFlatLists(const faiss::IndexIVFFlat& flat, const float* query, const ProbedLists& probed,
                                       int64_t k, const uint8_t* allowed) const {
    const DistanceKernels& kernels = SupportedDistanceKernels()[0];
    const bool is_l2 = spec_.metric == MetricType::kL2;
    const faiss::InvertedLists& lists = *flat.invlists;
    TopKeys best(k);
    for (const faiss::Index::idx_t list : probed.lists) {
      const size_t size = lists.list_size(list);
      faiss::InvertedLists::ScopedCodes codes(&lists, list);
      faiss::InvertedLists::ScopedIds ids(&lists, list);
      const float* vectors = reinterpret_cast<const float*>(codes.get());
      for (size_t i = 0; i < size; ++i) {
        const int64_t row = ids[i];
        if (allowed && !allowed[row]) continue;
        const float* vector = vectors + i * spec_.dim;
        const float key = is_l2 ? kernels.l2sqr(query, vector, spec_.dim) : -kernels.inner_product(query, vector, spec_.dim);
        if (key <= best.WorstKey()) best.Push(key, row);
      }
    }
    return best.TakeSorted();
  }

  IndexSpec spec_;
  int64_t rows_ = 0;
  std::unique_ptr<faiss::IndexIVF> index_;
  std::vector<uint16_t> list_of_row_;  // see MapRowsToLists
};

}  // namespace

std::unique_ptr<VectorIndex> NewIvfIndex(const IndexSpec& spec) { return std::make_unique<IvfIndex>(spec); }

}  // namespace quiver::index::dense
