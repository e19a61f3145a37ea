// CreateVectorIndex and BruteForceSearch: route by vector type to the dense float indexes
// (this half of the library) or to the binary and sparse ones (internal.h).
#include "index/dense_indexes.h"
#include "index/internal.h"

namespace quiver::index {

StatusOr<std::unique_ptr<VectorIndex>> CreateVectorIndex(const IndexSpec& spec) {
  if (spec.vector_type == spb::BinaryVector) return CreateBinaryIndex(spec);
  if (spec.vector_type == spb::SparseFloatVector) return CreateSparseIndex(spec);
  if (!dense::IsDenseFloatType(spec.vector_type)) {
    return InvalidParameter("no vector index supports " + spb::DataType_Name(spec.vector_type));
  }
  if (!dense::IsDenseFloatMetric(spec.metric)) {
    return InvalidParameter("float vectors are indexed with L2, IP or COSINE, not " + MetricName(spec.metric));
  }
  if (spec.dim <= 0) return InvalidParameter("float vector indexes need a positive dimension");
  switch (spec.type) {
    case IndexType::kFlat:
      return dense::NewFlatIndex(spec);
    case IndexType::kHnsw:
      return dense::NewHnswIndex(spec);
    case IndexType::kIvfFlat:
    case IndexType::kIvfSq8:
    case IndexType::kIvfPq:
      return dense::NewIvfIndex(spec);
    default:
      return InvalidParameter("index type " + spec.index_type_name + " does not apply to float vectors");
  }
}

StatusOr<SearchResult> BruteForceSearch(const VectorData& data, MetricType metric, const QueryVectors& queries,
                                        int64_t k, const SearchParams& params, const RowFilter& filter) {
  if (data.type == spb::BinaryVector) return BruteForceBinary(data, metric, queries, k, params, filter);
  if (data.type == spb::SparseFloatVector) return BruteForceSparse(data, metric, queries, k, params, filter);
  return dense::BruteForceDense(data, metric, queries, k, params, filter);
}

}  // namespace quiver::index
