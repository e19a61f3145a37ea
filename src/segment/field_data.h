// Columns of rows as Milvus's own FieldData messages.
//
// Quiver keeps a segment's columns in the wire type: inserts arrive as FieldData, query
// results leave as FieldData, and binlogs store it, so rows are never converted on the
// way through. Vectors sit in contiguous arrays (RepeatedField<float>, bytes) that index
// libraries read in place. These helpers give typed row access and row copying.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.h"
#include "schema.pb.h"

namespace quiver::segment {

namespace spb = milvus::proto::schema;

// Number of rows in `column`, from its data arrays (vectors: by dim).
int64_t RowCount(const spb::FieldData& column);

// An empty column with `field`'s name, ID, type (and dim for vectors).
spb::FieldData EmptyColumn(const spb::FieldSchema& field);

// Appends every row of `src` to `dst`; both must be the same field type (and dim).
Status AppendRows(const spb::FieldData& src, spb::FieldData* dst);

// Appends rows src[rows[0]], src[rows[1]], … to `dst` (initialised from src's type if empty).
void GatherRows(const spb::FieldData& src, std::span<const int64_t> rows, spb::FieldData* dst);

// True when the column is nullable and `row` holds no value.
bool IsNull(const spb::FieldData& column, int64_t row);

// Typed access to one row. The caller picks the accessor that matches the column's type.
int64_t IntAt(const spb::FieldData& column, int64_t row);            // Bool, Int8/16/32/64
double FloatAt(const spb::FieldData& column, int64_t row);           // Float, Double
std::string_view StringAt(const spb::FieldData& column, int64_t row);  // VarChar
std::string_view JsonAt(const spb::FieldData& column, int64_t row);    // JSON (raw bytes)
const spb::ScalarField& ArrayAt(const spb::FieldData& column, int64_t row);  // Array
const float* FloatVectorAt(const spb::FieldData& column, int64_t row);       // dim floats
std::string_view VectorBytesAt(const spb::FieldData& column, int64_t row);   // binary / fp16 / bf16 / sparse row

}  // namespace quiver::segment
