// The dense float indexes and dense brute force, as the factory (vector_index_factory.cc)
// reaches them. Specs are already validated (ParseIndexSpec); Build re-checks only what
// would otherwise crash.
#pragma once

#include <memory>

#include "index/dense_common.h"
#include "index/vector_index.h"

namespace quiver::index::dense {

// Defaults where a build or search parameter is absent (Milvus/Knowhere's).
inline constexpr int64_t kDefaultHnswM = 16;
inline constexpr int64_t kDefaultHnswEfConstruction = 200;
inline constexpr int64_t kDefaultHnswEf = 32;  // searches use max(k, this)
inline constexpr int64_t kDefaultNlist = 128;
inline constexpr int64_t kDefaultNprobe = 8;
inline constexpr int64_t kDefaultPqBits = 8;

std::unique_ptr<VectorIndex> NewFlatIndex(const IndexSpec& spec);
std::unique_ptr<VectorIndex> NewHnswIndex(const IndexSpec& spec);
std::unique_ptr<VectorIndex> NewIvfIndex(const IndexSpec& spec);  // IVF_FLAT, IVF_SQ8, IVF_PQ

StatusOr<SearchResult> BruteForceDense(const VectorData& data, MetricType metric, const QueryVectors& queries,
                                       int64_t k, const SearchParams& params, const RowFilter& filter);

}  // namespace quiver::index::dense
