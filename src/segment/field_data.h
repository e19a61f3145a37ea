// Columns of rows as Milvus's own FieldData messages.
//
// Quiver keeps a segment's columns in the wire type: inserts arrive as FieldData, query
// results leave as FieldData, and binlogs store it, so rows are never converted on the
// way through. Vectors sit in contiguous arrays (RepeatedField<float>, bytes) that index
// libraries read in place. These helpers give typed row access and row copying.
//
// Where each type keeps its rows: Bool in scalars.bool_data; Int8/Int16/Int32 in int_data;
// Int64 in long_data; Float in float_data; Double in double_data; VarChar/String in
// string_data; JSON in json_data (raw UTF-8 bytes); Array in array_data (one ScalarField
// per row, element_type alongside); FloatVector in vectors.float_vector (dim floats per
// row); BinaryVector in binary_vector (dim/8 bytes per row); Float16/BFloat16Vector
// (2*dim bytes per row); Int8Vector (dim bytes per row); SparseFloatVector in
// sparse_float_vector.contents (one entry per row: little-endian (uint32 index, float32
// value) pairs).
//
// Nullable columns, canonical form: every data array holds one entry per row, null rows
// hold a placeholder (0, "", empty bytes, empty array), and valid_data holds one bool per
// row. A column whose valid_data is empty has no nulls. SDKs send nullable columns
// "compressed" instead (only the valid rows' values; pymilvus and the Node SDK both do):
// NormalizeNullable turns what a client sent into the canonical form, and every other
// helper here expects that form.
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
// A `dst` that was never initialised (type None) takes src's type.
Status AppendRows(const spb::FieldData& src, spb::FieldData* dst);

// Appends rows src[rows[0]], src[rows[1]], … to `dst` (initialised from src's type if empty).
void GatherRows(const spb::FieldData& src, std::span<const int64_t> rows, spb::FieldData* dst);

// Replaces the value of dst[dst_row] with src[src_row] (same type); dst's validity of that
// row follows src's when dst tracks validity.
void OverwriteRow(const spb::FieldData& src, int64_t src_row, spb::FieldData* dst, int64_t dst_row);

// Brings a column as a client sent it for `field` into the canonical form, as Milvus's
// proxy does on insert (checks first, nothing changed on error, code 1100):
// - valid_data, when present, must have `num_rows` entries;
// - the data array may hold one entry per row or one per valid row (then it is expanded);
// - null rows of a field with a default value take the default and count as valid;
// - a nullable column sent without valid_data gets one `true` per row; a non-nullable one
//   loses an all-true valid_data and is refused when it marks a row null;
// - an empty JSON value in a nullable JSON column is a null (the Node SDK sends JSON
//   nulls that way).
// Vector columns are left as they are.
Status NormalizeNullable(const spb::FieldSchema& field, int64_t num_rows, spb::FieldData* column);

// True when the column is nullable and `row` holds no value.
bool IsNull(const spb::FieldData& column, int64_t row);

// Typed access to one row. The caller picks the accessor that matches the column's type.
// A null row reads as its placeholder.
int64_t IntAt(const spb::FieldData& column, int64_t row);                    // Bool, Int8/16/32/64
double FloatAt(const spb::FieldData& column, int64_t row);                   // Float, Double
std::string_view StringAt(const spb::FieldData& column, int64_t row);        // VarChar
std::string_view JsonAt(const spb::FieldData& column, int64_t row);          // JSON (raw bytes)
const spb::ScalarField& ArrayAt(const spb::FieldData& column, int64_t row);  // Array
const float* FloatVectorAt(const spb::FieldData& column, int64_t row);       // dim floats
std::string_view VectorBytesAt(const spb::FieldData& column, int64_t row);   // binary / fp16 / bf16 / int8 / sparse row

// One Array row: its number of elements, and whether its elements are of `element_type`
// (an array with no element data set, as some clients send empty arrays, matches any type).
int64_t ScalarFieldSize(const spb::ScalarField& array);
bool ScalarFieldHasType(const spb::ScalarField& array, spb::DataType element_type);

}  // namespace quiver::segment
