#include "segment/field_data.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>

namespace quiver::segment {
namespace {

using google::protobuf::RepeatedField;
using google::protobuf::RepeatedPtrField;

int64_t DimOf(const spb::FieldSchema& field) {
  for (const auto& param : field.type_params()) {
    if (param.key() != "dim") continue;
    int64_t dim = 0;
    const std::string& text = param.value();
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), dim);
    if (error == std::errc() && end == text.data() + text.size()) return dim;
  }
  return 0;
}

bool IsVectorType(spb::DataType type) {
  switch (type) {
    case spb::BinaryVector:
    case spb::FloatVector:
    case spb::Float16Vector:
    case spb::BFloat16Vector:
    case spb::SparseFloatVector:
    case spb::Int8Vector: return true;
    default: return false;
  }
}

// Dense vectors stored as bytes: the bytes one row takes.
int64_t BytesPerRow(const spb::VectorField& vectors) {
  switch (vectors.data_case()) {
    case spb::VectorField::kBinaryVector: return vectors.dim() / 8;
    case spb::VectorField::kFloat16Vector:
    case spb::VectorField::kBfloat16Vector: return vectors.dim() * 2;
    case spb::VectorField::kInt8Vector: return vectors.dim();
    default: return 0;
  }
}

// The bytes of a byte-encoded dense vector column, or nullptr for other layouts.
const std::string* VectorBytes(const spb::VectorField& vectors) {
  switch (vectors.data_case()) {
    case spb::VectorField::kBinaryVector: return &vectors.binary_vector();
    case spb::VectorField::kFloat16Vector: return &vectors.float16_vector();
    case spb::VectorField::kBfloat16Vector: return &vectors.bfloat16_vector();
    case spb::VectorField::kInt8Vector: return &vectors.int8_vector();
    default: return nullptr;
  }
}

std::string* MutableVectorBytes(spb::VectorField* vectors) {
  switch (vectors->data_case()) {
    case spb::VectorField::kBinaryVector: return vectors->mutable_binary_vector();
    case spb::VectorField::kFloat16Vector: return vectors->mutable_float16_vector();
    case spb::VectorField::kBfloat16Vector: return vectors->mutable_bfloat16_vector();
    case spb::VectorField::kInt8Vector: return vectors->mutable_int8_vector();
    default: return nullptr;
  }
}

// Selects `data_case` in `vectors` with no rows.
void SetEmptyVectorLayout(spb::VectorField::DataCase data_case, spb::VectorField* vectors) {
  switch (data_case) {
    case spb::VectorField::kFloatVector: vectors->mutable_float_vector(); break;
    case spb::VectorField::kBinaryVector: vectors->mutable_binary_vector(); break;
    case spb::VectorField::kFloat16Vector: vectors->mutable_float16_vector(); break;
    case spb::VectorField::kBfloat16Vector: vectors->mutable_bfloat16_vector(); break;
    case spb::VectorField::kSparseFloatVector: vectors->mutable_sparse_float_vector(); break;
    case spb::VectorField::kInt8Vector: vectors->mutable_int8_vector(); break;
    default: break;
  }
}

// Selects `data_case` in `scalars` with no rows.
void SetEmptyScalarLayout(spb::ScalarField::DataCase data_case, spb::ScalarField* scalars) {
  switch (data_case) {
    case spb::ScalarField::kBoolData: scalars->mutable_bool_data(); break;
    case spb::ScalarField::kIntData: scalars->mutable_int_data(); break;
    case spb::ScalarField::kLongData: scalars->mutable_long_data(); break;
    case spb::ScalarField::kFloatData: scalars->mutable_float_data(); break;
    case spb::ScalarField::kDoubleData: scalars->mutable_double_data(); break;
    case spb::ScalarField::kStringData: scalars->mutable_string_data(); break;
    case spb::ScalarField::kBytesData: scalars->mutable_bytes_data(); break;
    case spb::ScalarField::kArrayData: scalars->mutable_array_data(); break;
    case spb::ScalarField::kJsonData: scalars->mutable_json_data(); break;
    case spb::ScalarField::kGeometryData: scalars->mutable_geometry_data(); break;
    case spb::ScalarField::kTimestamptzData: scalars->mutable_timestamptz_data(); break;
    case spb::ScalarField::kGeometryWktData: scalars->mutable_geometry_wkt_data(); break;
    default: break;
  }
}

spb::ScalarField::DataCase ScalarLayoutOf(spb::DataType type) {
  switch (type) {
    case spb::Bool: return spb::ScalarField::kBoolData;
    case spb::Int8:
    case spb::Int16:
    case spb::Int32: return spb::ScalarField::kIntData;
    case spb::Int64: return spb::ScalarField::kLongData;
    case spb::Float: return spb::ScalarField::kFloatData;
    case spb::Double: return spb::ScalarField::kDoubleData;
    case spb::String:
    case spb::VarChar: return spb::ScalarField::kStringData;
    case spb::Array: return spb::ScalarField::kArrayData;
    case spb::JSON: return spb::ScalarField::kJsonData;
    default: return spb::ScalarField::DATA_NOT_SET;
  }
}

spb::VectorField::DataCase VectorLayoutOf(spb::DataType type) {
  switch (type) {
    case spb::FloatVector: return spb::VectorField::kFloatVector;
    case spb::BinaryVector: return spb::VectorField::kBinaryVector;
    case spb::Float16Vector: return spb::VectorField::kFloat16Vector;
    case spb::BFloat16Vector: return spb::VectorField::kBfloat16Vector;
    case spb::SparseFloatVector: return spb::VectorField::kSparseFloatVector;
    case spb::Int8Vector: return spb::VectorField::kInt8Vector;
    default: return spb::VectorField::DATA_NOT_SET;
  }
}

// A column with src's identity and layout and no rows.
spb::FieldData EmptyLike(const spb::FieldData& src) {
  spb::FieldData column;
  column.set_type(src.type());
  column.set_field_name(src.field_name());
  column.set_field_id(src.field_id());
  column.set_is_dynamic(src.is_dynamic());
  if (src.has_scalars()) {
    SetEmptyScalarLayout(src.scalars().data_case(), column.mutable_scalars());
    if (src.scalars().has_array_data()) {
      column.mutable_scalars()->mutable_array_data()->set_element_type(src.scalars().array_data().element_type());
    }
  } else if (src.has_vectors()) {
    column.mutable_vectors()->set_dim(src.vectors().dim());
    SetEmptyVectorLayout(src.vectors().data_case(), column.mutable_vectors());
  }
  return column;
}

bool IsUninitialised(const spb::FieldData& column) {
  return column.type() == spb::None && !column.has_scalars() && !column.has_vectors();
}

// Number of values in a scalar column's data array (not counting nulls left out).
int64_t ScalarDataCount(const spb::ScalarField& scalars) {
  switch (scalars.data_case()) {
    case spb::ScalarField::kBoolData: return scalars.bool_data().data_size();
    case spb::ScalarField::kIntData: return scalars.int_data().data_size();
    case spb::ScalarField::kLongData: return scalars.long_data().data_size();
    case spb::ScalarField::kFloatData: return scalars.float_data().data_size();
    case spb::ScalarField::kDoubleData: return scalars.double_data().data_size();
    case spb::ScalarField::kStringData: return scalars.string_data().data_size();
    case spb::ScalarField::kBytesData: return scalars.bytes_data().data_size();
    case spb::ScalarField::kArrayData: return scalars.array_data().data_size();
    case spb::ScalarField::kJsonData: return scalars.json_data().data_size();
    case spb::ScalarField::kGeometryData: return scalars.geometry_data().data_size();
    case spb::ScalarField::kTimestamptzData: return scalars.timestamptz_data().data_size();
    case spb::ScalarField::kGeometryWktData: return scalars.geometry_wkt_data().data_size();
    default: return 0;
  }
}

int64_t VectorRowCount(const spb::VectorField& vectors) {
  if (vectors.has_sparse_float_vector()) return vectors.sparse_float_vector().contents_size();
  if (vectors.dim() <= 0) return 0;
  if (vectors.has_float_vector()) return vectors.float_vector().data_size() / vectors.dim();
  const std::string* bytes = VectorBytes(vectors);
  int64_t per_row = BytesPerRow(vectors);
  return bytes && per_row > 0 ? static_cast<int64_t>(bytes->size()) / per_row : 0;
}

// Gives `dst` one validity entry per row when src or dst track validity, so that after
// appending `src_rows` rows (taking src's validity or "valid") both stay aligned.
void PrepareValidity(const spb::FieldData& src, int64_t dst_rows, spb::FieldData* dst) {
  if (src.valid_data_size() > 0 && dst->valid_data_size() == 0) dst->mutable_valid_data()->Resize(dst_rows, true);
}

template <typename T>
void GatherField(const RepeatedField<T>& in, std::span<const int64_t> rows, RepeatedField<T>* out) {
  out->Reserve(out->size() + static_cast<int>(rows.size()));
  for (int64_t row : rows) out->Add(in.Get(row));
}

template <typename T>
void GatherPtrField(const RepeatedPtrField<T>& in, std::span<const int64_t> rows, RepeatedPtrField<T>* out) {
  out->Reserve(out->size() + static_cast<int>(rows.size()));
  for (int64_t row : rows) *out->Add() = in.Get(row);
}

void GatherScalars(const spb::ScalarField& in, std::span<const int64_t> rows, spb::ScalarField* out) {
  switch (in.data_case()) {
    case spb::ScalarField::kBoolData:
      GatherField(in.bool_data().data(), rows, out->mutable_bool_data()->mutable_data());
      break;
    case spb::ScalarField::kIntData:
      GatherField(in.int_data().data(), rows, out->mutable_int_data()->mutable_data());
      break;
    case spb::ScalarField::kLongData:
      GatherField(in.long_data().data(), rows, out->mutable_long_data()->mutable_data());
      break;
    case spb::ScalarField::kFloatData:
      GatherField(in.float_data().data(), rows, out->mutable_float_data()->mutable_data());
      break;
    case spb::ScalarField::kDoubleData:
      GatherField(in.double_data().data(), rows, out->mutable_double_data()->mutable_data());
      break;
    case spb::ScalarField::kTimestamptzData:
      GatherField(in.timestamptz_data().data(), rows, out->mutable_timestamptz_data()->mutable_data());
      break;
    case spb::ScalarField::kStringData:
      GatherPtrField(in.string_data().data(), rows, out->mutable_string_data()->mutable_data());
      break;
    case spb::ScalarField::kBytesData:
      GatherPtrField(in.bytes_data().data(), rows, out->mutable_bytes_data()->mutable_data());
      break;
    case spb::ScalarField::kArrayData:
      GatherPtrField(in.array_data().data(), rows, out->mutable_array_data()->mutable_data());
      break;
    case spb::ScalarField::kJsonData:
      GatherPtrField(in.json_data().data(), rows, out->mutable_json_data()->mutable_data());
      break;
    case spb::ScalarField::kGeometryData:
      GatherPtrField(in.geometry_data().data(), rows, out->mutable_geometry_data()->mutable_data());
      break;
    case spb::ScalarField::kGeometryWktData:
      GatherPtrField(in.geometry_wkt_data().data(), rows, out->mutable_geometry_wkt_data()->mutable_data());
      break;
    default: break;
  }
}

void GatherVectors(const spb::VectorField& in, std::span<const int64_t> rows, spb::VectorField* out) {
  const int64_t dim = in.dim();
  if (in.has_float_vector()) {
    const float* data = in.float_vector().data().data();
    auto* target = out->mutable_float_vector()->mutable_data();
    target->Reserve(target->size() + static_cast<int>(rows.size() * dim));
    for (int64_t row : rows) target->Add(data + row * dim, data + (row + 1) * dim);
  } else if (in.has_sparse_float_vector()) {
    auto* target = out->mutable_sparse_float_vector();
    GatherPtrField(in.sparse_float_vector().contents(), rows, target->mutable_contents());
    target->set_dim(std::max(target->dim(), in.sparse_float_vector().dim()));
  } else if (const std::string* bytes = VectorBytes(in)) {
    const int64_t per_row = BytesPerRow(in);
    std::string* target = MutableVectorBytes(out);
    target->reserve(target->size() + rows.size() * per_row);
    for (int64_t row : rows) target->append(*bytes, row * per_row, per_row);
  }
}

// Turns a data array holding only the valid rows' values into one entry per row, with
// T{} in null rows. Works in place from the back: a value never moves towards the front.
template <typename T>
void ExpandField(const RepeatedField<bool>& valid, RepeatedField<T>* data) {
  int src = data->size() - 1;
  data->Resize(valid.size(), T{});
  for (int row = valid.size() - 1; row >= 0; --row) {
    data->Set(row, valid.Get(row) ? data->Get(src--) : T{});
  }
}

template <typename T>
void ExpandPtrField(const RepeatedField<bool>& valid, RepeatedPtrField<T>* data) {
  int src = data->size() - 1;
  while (data->size() < valid.size()) data->Add();
  for (int row = valid.size() - 1; row >= 0; --row) {
    if (!valid.Get(row)) {
      *data->Mutable(row) = T();
    } else if (src-- != row) {
      data->SwapElements(src + 1, row);
    }
  }
}

void ExpandScalars(const RepeatedField<bool>& valid, spb::ScalarField* scalars) {
  switch (scalars->data_case()) {
    case spb::ScalarField::kBoolData: ExpandField(valid, scalars->mutable_bool_data()->mutable_data()); break;
    case spb::ScalarField::kIntData: ExpandField(valid, scalars->mutable_int_data()->mutable_data()); break;
    case spb::ScalarField::kLongData: ExpandField(valid, scalars->mutable_long_data()->mutable_data()); break;
    case spb::ScalarField::kFloatData: ExpandField(valid, scalars->mutable_float_data()->mutable_data()); break;
    case spb::ScalarField::kDoubleData: ExpandField(valid, scalars->mutable_double_data()->mutable_data()); break;
    case spb::ScalarField::kTimestamptzData:
      ExpandField(valid, scalars->mutable_timestamptz_data()->mutable_data());
      break;
    case spb::ScalarField::kStringData: ExpandPtrField(valid, scalars->mutable_string_data()->mutable_data()); break;
    case spb::ScalarField::kBytesData: ExpandPtrField(valid, scalars->mutable_bytes_data()->mutable_data()); break;
    case spb::ScalarField::kArrayData: ExpandPtrField(valid, scalars->mutable_array_data()->mutable_data()); break;
    case spb::ScalarField::kJsonData: ExpandPtrField(valid, scalars->mutable_json_data()->mutable_data()); break;
    case spb::ScalarField::kGeometryData:
      ExpandPtrField(valid, scalars->mutable_geometry_data()->mutable_data());
      break;
    case spb::ScalarField::kGeometryWktData:
      ExpandPtrField(valid, scalars->mutable_geometry_wkt_data()->mutable_data());
      break;
    default: break;
  }
}

bool DefaultValueSupported(spb::DataType type) {
  switch (type) {
    case spb::Bool:
    case spb::Int8:
    case spb::Int16:
    case spb::Int32:
    case spb::Int64:
    case spb::Float:
    case spb::Double:
    case spb::String:
    case spb::VarChar:
    case spb::JSON: return true;
    default: return false;
  }
}

// Null rows take the field's default value and become valid.
void FillDefaults(const spb::FieldSchema& field, spb::FieldData* column) {
  const spb::ValueField& value = field.default_value();
  spb::ScalarField* scalars = column->mutable_scalars();
  const int rows = static_cast<int>(std::min<int64_t>(column->valid_data_size(), ScalarDataCount(*scalars)));
  for (int row = 0; row < rows; ++row) {
    if (column->valid_data(row)) continue;
    switch (field.data_type()) {
      case spb::Bool: scalars->mutable_bool_data()->set_data(row, value.bool_data()); break;
      case spb::Int8:
      case spb::Int16:
      case spb::Int32: scalars->mutable_int_data()->set_data(row, value.int_data()); break;
      case spb::Int64: scalars->mutable_long_data()->set_data(row, value.long_data()); break;
      case spb::Float: scalars->mutable_float_data()->set_data(row, value.float_data()); break;
      case spb::Double: scalars->mutable_double_data()->set_data(row, value.double_data()); break;
      case spb::String:
      case spb::VarChar: scalars->mutable_string_data()->set_data(row, value.string_data()); break;
      case spb::JSON: scalars->mutable_json_data()->set_data(row, value.bytes_data()); break;
      default: break;
    }
    column->set_valid_data(row, true);
  }
}

void MarkEmptyJsonNull(spb::FieldData* column) {
  const auto& values = column->scalars().json_data().data();
  const int rows = std::min(values.size(), column->valid_data_size());
  for (int row = 0; row < rows; ++row) {
    if (values.Get(row).empty()) column->set_valid_data(row, false);
  }
}

}  // namespace

int64_t RowCount(const spb::FieldData& column) {
  if (column.has_vectors()) return VectorRowCount(column.vectors());
  if (column.valid_data_size() > 0) return column.valid_data_size();
  return column.has_scalars() ? ScalarDataCount(column.scalars()) : 0;
}

spb::FieldData EmptyColumn(const spb::FieldSchema& field) {
  spb::FieldData column;
  column.set_type(field.data_type());
  column.set_field_name(field.name());
  column.set_field_id(field.fieldid());
  column.set_is_dynamic(field.is_dynamic());
  if (IsVectorType(field.data_type())) {
    if (field.data_type() != spb::SparseFloatVector) column.mutable_vectors()->set_dim(DimOf(field));
    SetEmptyVectorLayout(VectorLayoutOf(field.data_type()), column.mutable_vectors());
  } else {
    SetEmptyScalarLayout(ScalarLayoutOf(field.data_type()), column.mutable_scalars());
    if (field.data_type() == spb::Array) {
      column.mutable_scalars()->mutable_array_data()->set_element_type(field.element_type());
    }
  }
  return column;
}

Status AppendRows(const spb::FieldData& src, spb::FieldData* dst) {
  if (IsUninitialised(*dst)) *dst = EmptyLike(src);
  const std::string& name = dst->field_name();
  if (src.type() != dst->type()) {
    return InvalidParameter("cannot append " + spb::DataType_Name(src.type()) + " rows to " +
                            spb::DataType_Name(dst->type()) + " column " + name);
  }
  if (src.has_vectors() && dst->has_vectors() && src.vectors().dim() != dst->vectors().dim() &&
      !src.vectors().has_sparse_float_vector()) {
    return InvalidParameter("cannot append rows of dim " + std::to_string(src.vectors().dim()) + " to column " + name +
                            " of dim " + std::to_string(dst->vectors().dim()));
  }
  if (src.has_scalars() && dst->has_scalars() && dst->scalars().data_case() != spb::ScalarField::DATA_NOT_SET &&
      src.scalars().data_case() != dst->scalars().data_case()) {
    return InvalidParameter("column " + name + " holds its values in another layout than the rows appended to it");
  }
  const int64_t src_rows = RowCount(src);
  if (src.valid_data_size() > 0 && src.has_scalars() && ScalarDataCount(src.scalars()) != src_rows) {
    return InvalidParameter("column " + name + " has " + std::to_string(ScalarDataCount(src.scalars())) +
                            " values for " + std::to_string(src_rows) + " rows: normalize nullable columns first");
  }

  const bool track_validity = src.valid_data_size() > 0 || dst->valid_data_size() > 0;
  PrepareValidity(src, RowCount(*dst), dst);
  if (src.has_scalars()) {
    // Merging a oneof message of the same case concatenates its repeated data.
    dst->mutable_scalars()->MergeFrom(src.scalars());
  } else if (src.has_vectors()) {
    const spb::VectorField& in = src.vectors();
    spb::VectorField* out = dst->mutable_vectors();
    if (in.has_float_vector()) {
      out->mutable_float_vector()->mutable_data()->MergeFrom(in.float_vector().data());
    } else if (in.has_sparse_float_vector()) {
      auto* target = out->mutable_sparse_float_vector();
      target->mutable_contents()->MergeFrom(in.sparse_float_vector().contents());
      target->set_dim(std::max(target->dim(), in.sparse_float_vector().dim()));
    } else if (const std::string* bytes = VectorBytes(in)) {
      if (out->data_case() == spb::VectorField::DATA_NOT_SET) SetEmptyVectorLayout(in.data_case(), out);
      MutableVectorBytes(out)->append(*bytes);
    }
  }
  if (track_validity) {
    if (src.valid_data_size() > 0) {
      dst->mutable_valid_data()->MergeFrom(src.valid_data());
    } else {
      for (int64_t i = 0; i < src_rows; ++i) dst->add_valid_data(true);
    }
  }
  return Status::OK();
}

void GatherRows(const spb::FieldData& src, std::span<const int64_t> rows, spb::FieldData* dst) {
  if (IsUninitialised(*dst)) *dst = EmptyLike(src);
  const bool track_validity = src.valid_data_size() > 0 || dst->valid_data_size() > 0;
  PrepareValidity(src, RowCount(*dst), dst);
  if (src.has_scalars()) {
    GatherScalars(src.scalars(), rows, dst->mutable_scalars());
  } else if (src.has_vectors()) {
    GatherVectors(src.vectors(), rows, dst->mutable_vectors());
  }
  if (track_validity) {
    auto* valid = dst->mutable_valid_data();
    valid->Reserve(valid->size() + static_cast<int>(rows.size()));
    for (int64_t row : rows) valid->Add(!IsNull(src, row));
  }
}

void OverwriteRow(const spb::FieldData& src, int64_t src_row, spb::FieldData* dst, int64_t dst_row) {
  if (src.has_scalars()) {
    const spb::ScalarField& in = src.scalars();
    spb::ScalarField* out = dst->mutable_scalars();
    switch (in.data_case()) {
      case spb::ScalarField::kBoolData:
        out->mutable_bool_data()->set_data(dst_row, in.bool_data().data(src_row));
        break;
      case spb::ScalarField::kIntData: out->mutable_int_data()->set_data(dst_row, in.int_data().data(src_row)); break;
      case spb::ScalarField::kLongData:
        out->mutable_long_data()->set_data(dst_row, in.long_data().data(src_row));
        break;
      case spb::ScalarField::kFloatData:
        out->mutable_float_data()->set_data(dst_row, in.float_data().data(src_row));
        break;
      case spb::ScalarField::kDoubleData:
        out->mutable_double_data()->set_data(dst_row, in.double_data().data(src_row));
        break;
      case spb::ScalarField::kStringData:
        out->mutable_string_data()->set_data(dst_row, in.string_data().data(src_row));
        break;
      case spb::ScalarField::kArrayData:
        *out->mutable_array_data()->mutable_data(dst_row) = in.array_data().data(src_row);
        break;
      case spb::ScalarField::kJsonData:
        out->mutable_json_data()->set_data(dst_row, in.json_data().data(src_row));
        break;
      default: break;
    }
  } else if (src.has_vectors()) {
    const spb::VectorField& in = src.vectors();
    spb::VectorField* out = dst->mutable_vectors();
    if (in.has_float_vector()) {
      const float* from = FloatVectorAt(src, src_row);
      std::copy(from, from + in.dim(),
                out->mutable_float_vector()->mutable_data()->mutable_data() + dst_row * in.dim());
    } else if (in.has_sparse_float_vector()) {
      out->mutable_sparse_float_vector()->set_contents(dst_row, in.sparse_float_vector().contents(src_row));
    } else if (MutableVectorBytes(out)) {
      const int64_t per_row = BytesPerRow(in);
      MutableVectorBytes(out)->replace(dst_row * per_row, per_row, VectorBytesAt(src, src_row));
    }
  }
  if (dst_row < dst->valid_data_size()) dst->set_valid_data(dst_row, !IsNull(src, src_row));
}

Status NormalizeNullable(const spb::FieldSchema& field, int64_t num_rows, spb::FieldData* column) {
  if (IsVectorType(field.data_type())) return Status::OK();
  const std::string& name = field.name();
  const int64_t valid_size = column->valid_data_size();
  if (valid_size == 0) {
    if (!field.nullable()) return Status::OK();
    column->mutable_valid_data()->Resize(static_cast<int>(num_rows), true);
    if (field.data_type() == spb::JSON) MarkEmptyJsonNull(column);
    if (field.has_default_value()) FillDefaults(field, column);
    return Status::OK();
  }

  // Every check comes before the first change.
  if (valid_size != num_rows) {
    return InvalidParameter("the length of valid_data of field(" + name + ") is wrong: " + std::to_string(valid_size) +
                            " entries for " + std::to_string(num_rows) + " rows");
  }
  const auto& valid = column->valid_data();
  const int64_t valid_count = std::count(valid.begin(), valid.end(), true);
  if (!field.nullable() && !field.has_default_value() && valid_count != num_rows) {
    return InvalidParameter("field " + name + " is not nullable but null values were passed");
  }
  if (field.has_default_value() && !DefaultValueSupported(field.data_type())) {
    return InvalidParameter(spb::DataType_Name(field.data_type()) + " field " + name +
                            " does not support default values");
  }
  const int64_t data_count = column->has_scalars() ? ScalarDataCount(column->scalars()) : 0;
  const bool compressed = data_count == valid_count && valid_count != num_rows;
  if (!compressed && data_count != num_rows) {
    return InvalidParameter("the length of field " + name + " is wrong: " + std::to_string(data_count) +
                            " values for " + std::to_string(num_rows) + " rows of which " +
                            std::to_string(valid_count) + " are valid");
  }

  if (!column->has_scalars() || column->scalars().data_case() == spb::ScalarField::DATA_NOT_SET) {
    *column->mutable_scalars() = EmptyColumn(field).scalars();
  }
  if (compressed) ExpandScalars(column->valid_data(), column->mutable_scalars());
  if (field.nullable() && field.data_type() == spb::JSON) MarkEmptyJsonNull(column);
  if (field.has_default_value()) FillDefaults(field, column);
  if (!field.nullable()) column->clear_valid_data();
  return Status::OK();
}

bool IsNull(const spb::FieldData& column, int64_t row) {
  return row < column.valid_data_size() && !column.valid_data(static_cast<int>(row));
}

int64_t IntAt(const spb::FieldData& column, int64_t row) {
  const spb::ScalarField& scalars = column.scalars();
  switch (scalars.data_case()) {
    case spb::ScalarField::kBoolData: return scalars.bool_data().data(row);
    case spb::ScalarField::kIntData: return scalars.int_data().data(row);
    case spb::ScalarField::kLongData: return scalars.long_data().data(row);
    default: return 0;
  }
}

double FloatAt(const spb::FieldData& column, int64_t row) {
  const spb::ScalarField& scalars = column.scalars();
  switch (scalars.data_case()) {
    case spb::ScalarField::kFloatData: return scalars.float_data().data(row);
    case spb::ScalarField::kDoubleData: return scalars.double_data().data(row);
    default: return 0;
  }
}

std::string_view StringAt(const spb::FieldData& column, int64_t row) {
  return column.scalars().string_data().data(row);
}

std::string_view JsonAt(const spb::FieldData& column, int64_t row) { return column.scalars().json_data().data(row); }

const spb::ScalarField& ArrayAt(const spb::FieldData& column, int64_t row) {
  return column.scalars().array_data().data(row);
}

const float* FloatVectorAt(const spb::FieldData& column, int64_t row) {
  const spb::VectorField& vectors = column.vectors();
  return vectors.float_vector().data().data() + row * vectors.dim();
}

std::string_view VectorBytesAt(const spb::FieldData& column, int64_t row) {
  const spb::VectorField& vectors = column.vectors();
  if (vectors.has_sparse_float_vector()) return vectors.sparse_float_vector().contents(row);
  const std::string* bytes = VectorBytes(vectors);
  if (!bytes) return {};
  const int64_t per_row = BytesPerRow(vectors);
  return std::string_view(*bytes).substr(row * per_row, per_row);
}

int64_t ScalarFieldSize(const spb::ScalarField& array) { return ScalarDataCount(array); }

bool ScalarFieldHasType(const spb::ScalarField& array, spb::DataType element_type) {
  switch (array.data_case()) {
    case spb::ScalarField::DATA_NOT_SET: return true;
    case spb::ScalarField::kBoolData: return element_type == spb::Bool;
    case spb::ScalarField::kIntData:
      return element_type == spb::Int8 || element_type == spb::Int16 || element_type == spb::Int32;
    case spb::ScalarField::kLongData: return element_type == spb::Int64;
    case spb::ScalarField::kFloatData: return element_type == spb::Float;
    case spb::ScalarField::kDoubleData: return element_type == spb::Double;
    case spb::ScalarField::kStringData: return element_type == spb::VarChar || element_type == spb::String;
    default: return false;
  }
}

}  // namespace quiver::segment
