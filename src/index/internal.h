// Seams between the halves of the index library: vector_index_factory.cc dispatches binary
// and sparse specs (and brute-force searches over such rows) to these functions.
#pragma once

#include <memory>

#include "index/vector_index.h"

namespace quiver::index {

// BIN_FLAT and BIN_IVF_FLAT.
StatusOr<std::unique_ptr<VectorIndex>> CreateBinaryIndex(const IndexSpec& spec);
// SPARSE_INVERTED_INDEX (and SPARSE_WAND, which shares its implementation).
StatusOr<std::unique_ptr<VectorIndex>> CreateSparseIndex(const IndexSpec& spec);

// Exact search over binary rows with HAMMING or JACCARD.
StatusOr<SearchResult> BruteForceBinary(const VectorData& data, MetricType metric, const QueryVectors& queries,
                                        int64_t k, const SearchParams& params, const RowFilter& filter);
// Exact search over sparse rows with IP.
StatusOr<SearchResult> BruteForceSparse(const VectorData& data, MetricType metric, const QueryVectors& queries,
                                        int64_t k, const SearchParams& params, const RowFilter& filter);

}  // namespace quiver::index
