// VectorView: a column's (or a query's) vectors in the layout vector indexes take.
//
// Float vectors are viewed in place; Float16 and BFloat16 rows are widened to float32
// (indexes work in float32), binary and sparse rows are viewed in place.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "index/vector_index.h"
#include "schema.pb.h"

namespace quiver::segment {

namespace spb = milvus::proto::schema;

struct VectorView {
  index::VectorData data;
  std::vector<float> widened;               // owns converted half-precision rows
  std::vector<std::string> sparse_storage;  // owns sparse rows when built from bytes lists
};

// The first `rows` vectors of `column` (a vector FieldData of `dim`).
StatusOr<VectorView> ViewVectors(const spb::FieldData& column, int64_t dim, int64_t rows);

// Query vectors from a search request's placeholder values (one bytes value per query).
StatusOr<VectorView> ViewQueries(spb::DataType type, int64_t dim, const google::protobuf::RepeatedPtrField<std::string>& values);

float HalfToFloat(uint16_t half);
float BFloat16ToFloat(uint16_t value);

}  // namespace quiver::segment
