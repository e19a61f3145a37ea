#include "node/proxy/row_batch.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "node/proxy/schema_validation.h"
#include "segment/field_data.h"

namespace quiver::proxy {
namespace {

constexpr size_t kMaxJsonBytes = 65536;  // Milvus's per-value JSON limit

Status BadRow(const std::string& what) { return InvalidParameter(what); }

std::string RowText(int64_t row) { return " (row " + std::to_string(row) + ")"; }

// Values a missing or null entry of `field` takes.
Status FillMissing(const spb::FieldSchema& field, int64_t rows, spb::FieldData* column) {
  *column = segment::EmptyColumn(field);
  const bool has_default = field.has_default_value();
  for (int64_t i = 0; i < rows; ++i) {
    if (has_default) {
      const auto& value = field.default_value();
      auto* scalars = column->mutable_scalars();
      switch (field.data_type()) {
        case spb::Bool: scalars->mutable_bool_data()->add_data(value.bool_data()); break;
        case spb::Int8:
        case spb::Int16:
        case spb::Int32: scalars->mutable_int_data()->add_data(value.int_data()); break;
        case spb::Int64: scalars->mutable_long_data()->add_data(value.long_data()); break;
        case spb::Float: scalars->mutable_float_data()->add_data(value.float_data()); break;
        case spb::Double: scalars->mutable_double_data()->add_data(value.double_data()); break;
        case spb::VarChar:
        case spb::String: scalars->mutable_string_data()->add_data(value.string_data()); break;
        default: return Internal("default value for unsupported type in field " + field.name());
      }
    }
    if (field.nullable()) column->add_valid_data(has_default);
  }
  if (!has_default) {
    // Nullable without default: placeholders keep one entry per row.
    spb::FieldData placeholders = segment::EmptyColumn(field);
    QUIVER_RETURN_IF_ERROR(segment::NormalizeNullable(field, rows, column));
  }
  return Status::OK();
}

// Null rows of a field with a default take the default (Milvus fills them on insert).
void ApplyDefaults(const spb::FieldSchema& field, spb::FieldData* column) {
  if (!field.has_default_value() || column->valid_data().empty()) return;
  spb::FieldData defaults;
  int64_t rows = column->valid_data_size();
  if (!FillMissing(field, rows, &defaults).ok()) return;
  for (int64_t row = 0; row < rows; ++row) {
    if (column->valid_data(static_cast<int>(row))) continue;
    segment::OverwriteRow(defaults, row, column, row);
    column->set_valid_data(static_cast<int>(row), true);
  }
}

// The data array a column of `type` must use; a mismatch would be read as garbage.
bool HasLayoutOf(spb::DataType type, const spb::FieldData& column) {
  using S = spb::ScalarField;
  using V = spb::VectorField;
  switch (type) {
    case spb::Bool: return column.scalars().data_case() == S::kBoolData;
    case spb::Int8:
    case spb::Int16:
    case spb::Int32: return column.scalars().data_case() == S::kIntData;
    case spb::Int64: return column.scalars().data_case() == S::kLongData;
    case spb::Float: return column.scalars().data_case() == S::kFloatData;
    case spb::Double: return column.scalars().data_case() == S::kDoubleData;
    case spb::String:
    case spb::VarChar: return column.scalars().data_case() == S::kStringData;
    case spb::JSON: return column.scalars().data_case() == S::kJsonData;
    case spb::Array: return column.scalars().data_case() == S::kArrayData;
    case spb::FloatVector: return column.vectors().data_case() == V::kFloatVector;
    case spb::BinaryVector: return column.vectors().data_case() == V::kBinaryVector;
    case spb::Float16Vector: return column.vectors().data_case() == V::kFloat16Vector;
    case spb::BFloat16Vector: return column.vectors().data_case() == V::kBfloat16Vector;
    case spb::SparseFloatVector: return column.vectors().data_case() == V::kSparseFloatVector;
    case spb::Int8Vector: return column.vectors().data_case() == V::kInt8Vector;
    default: return false;
  }
}

Status CheckVectors(const spb::FieldSchema& field, const spb::FieldData& column, int64_t rows) {
  int64_t dim = TypeParamInt(field, kDimKey).value_or(0);
  const auto& vectors = column.vectors();
  auto expect_bytes = [&](size_t actual, int64_t per_row) -> Status {
    if (static_cast<int64_t>(actual) != rows * per_row) {
      return BadRow("the dim (" + std::to_string(per_row ? static_cast<int64_t>(actual) / std::max<int64_t>(rows, 1) : 0) +
                    " bytes per row) of field data(" + field.name() + ") is not equal to schema dim (" +
                    std::to_string(dim) + ")");
    }
    return Status::OK();
  };
  switch (field.data_type()) {
    case spb::FloatVector: {
      int64_t sent_dim = vectors.dim() != 0 ? vectors.dim() : (rows ? vectors.float_vector().data_size() / rows : 0);
      if (sent_dim != dim || vectors.float_vector().data_size() != rows * dim) {
        return BadRow("the dim (" + std::to_string(sent_dim) + ") of field data(" + field.name() +
                      ") is not equal to schema dim (" + std::to_string(dim) + ")");
      }
      for (int i = 0; i < vectors.float_vector().data_size(); ++i) {
        if (!std::isfinite(vectors.float_vector().data(i))) {
          return BadRow("float vector field " + field.name() + " contains NaN or Inf" + RowText(i / dim));
        }
      }
      return Status::OK();
    }
    case spb::BinaryVector: return expect_bytes(vectors.binary_vector().size(), dim / 8);
    case spb::Float16Vector: return expect_bytes(vectors.float16_vector().size(), dim * 2);
    case spb::BFloat16Vector: return expect_bytes(vectors.bfloat16_vector().size(), dim * 2);
    case spb::Int8Vector: return expect_bytes(vectors.int8_vector().size(), dim);
    case spb::SparseFloatVector: {
      const auto& contents = vectors.sparse_float_vector().contents();
      for (int i = 0; i < contents.size(); ++i) {
        // A row is (uint32 index, float32 value) pairs.
        if (contents.Get(i).size() % 8 != 0) return BadRow("invalid sparse vector in field " + field.name() + RowText(i));
      }
      return Status::OK();
    }
    default: return Status::OK();
  }
}

Status CheckScalars(const spb::FieldSchema& field, const spb::FieldData& column, int64_t rows,
                    const std::map<std::string, const spb::FieldSchema*>& static_fields) {
  for (int64_t row = 0; row < rows; ++row) {
    if (segment::IsNull(column, row)) continue;
    switch (field.data_type()) {
      case spb::VarChar: {
        int64_t max_length = TypeParamInt(field, kMaxLengthKey).value_or(kMaxVarCharLength);
        auto value = segment::StringAt(column, row);
        if (static_cast<int64_t>(value.size()) > max_length) {
          return BadRow("length of varchar field " + field.name() + " exceeds max length, row number: " +
                        std::to_string(row) + ", length: " + std::to_string(value.size()) +
                        ", max length: " + std::to_string(max_length));
        }
        break;
      }
      case spb::Float:
      case spb::Double: {
        double value = segment::FloatAt(column, row);
        if (!std::isfinite(value)) {
          return BadRow("value " + std::to_string(value) + " of field " + field.name() +
                        " is not a number or infinity" + RowText(row));
        }
        break;
      }
      case spb::Int8:
      case spb::Int16: {
        int64_t limit = field.data_type() == spb::Int8 ? 127 : 32767;
        int64_t value = segment::IntAt(column, row);
        if (value < -limit - 1 || value > limit) {
          return BadRow("the value " + std::to_string(value) + " of field " + field.name() + " is out of range" +
                        RowText(row));
        }
        break;
      }
      case spb::JSON: {
        auto value = segment::JsonAt(column, row);
        if (value.size() > kMaxJsonBytes) {
          return BadRow("json field " + field.name() + " is larger than " + std::to_string(kMaxJsonBytes) + " bytes" +
                        RowText(row));
        }
        auto parsed = nlohmann::json::parse(value.begin(), value.end(), nullptr, /*allow_exceptions=*/false);
        if (parsed.is_discarded()) return BadRow("invalid JSON in field " + field.name() + RowText(row));
        if (field.is_dynamic()) {
          if (!parsed.is_object()) return BadRow("dynamic field data must be a JSON object" + RowText(row));
          for (const auto& [key, unused] : parsed.items()) {
            if (static_fields.count(key)) {
              return BadRow("dynamic field key " + key + " clashes with a field of the schema" + RowText(row));
            }
          }
        }
        break;
      }
      case spb::Array: {
        const auto& array = segment::ArrayAt(column, row);
        int64_t capacity = TypeParamInt(field, kMaxCapacityKey).value_or(kMaxArrayCapacity);
        int64_t size = segment::ScalarFieldSize(array);
        if (size > capacity) {
          return BadRow("the number of elements (" + std::to_string(size) + ") in array field " + field.name() +
                        " exceeds max_capacity (" + std::to_string(capacity) + ")" + RowText(row));
        }
        if (!segment::ScalarFieldHasType(array, field.element_type())) {
          return BadRow("array field " + field.name() + " holds elements of another type than " +
                        spb::DataType_Name(field.element_type()) + RowText(row));
        }
        if (field.element_type() == spb::VarChar) {
          int64_t max_length = TypeParamInt(field, kMaxLengthKey).value_or(kMaxVarCharLength);
          for (const auto& element : array.string_data().data()) {
            if (static_cast<int64_t>(element.size()) > max_length) {
              return BadRow("length of an element of array field " + field.name() + " exceeds max length, length: " +
                            std::to_string(element.size()) + ", max length: " + std::to_string(max_length) +
                            RowText(row));
            }
          }
        }
        break;
      }
      default: break;
    }
  }
  return Status::OK();
}

StatusOr<spb::FieldData> AutoIds(const spb::FieldSchema& field, int64_t rows, const IdAllocator& allocate) {
  auto first = allocate(static_cast<uint32_t>(rows));
  if (!first.ok()) return first.status();
  spb::FieldData column = segment::EmptyColumn(field);
  for (int64_t i = 0; i < rows; ++i) {
    if (field.data_type() == spb::VarChar) {
      column.mutable_scalars()->mutable_string_data()->add_data(std::to_string(*first + i));
    } else {
      column.mutable_scalars()->mutable_long_data()->add_data(*first + i);
    }
  }
  return column;
}

int64_t InferRows(const google::protobuf::RepeatedPtrField<spb::FieldData>& fields, uint32_t num_rows) {
  if (num_rows > 0) return num_rows;
  for (const auto& field : fields) {
    if (!field.is_dynamic()) return segment::RowCount(field);
  }
  return 0;
}

}  // namespace

StatusOr<RowBatch> PrepareRows(const spb::CollectionSchema& schema,
                               const google::protobuf::RepeatedPtrField<spb::FieldData>& fields, uint32_t num_rows,
                               bool upsert, bool allow_insert_auto_id, const IdAllocator& allocate_ids) {
  RowBatch batch;
  batch.num_rows = InferRows(fields, num_rows);
  if (batch.num_rows <= 0) return InvalidParameter("the request has no rows (num_rows is 0)");

  std::map<std::string, const spb::FieldSchema*> static_fields;
  for (const auto& field : schema.fields()) {
    if (!field.is_dynamic()) static_fields[field.name()] = &field;
  }
  std::map<std::string, const spb::FieldData*> sent;
  for (const auto& column : fields) {
    std::string name = column.is_dynamic() ? std::string(kDynamicFieldName) : column.field_name();
    if (!sent.emplace(name, &column).second) return InvalidParameter("duplicated field name " + name + " in the request");
    if (!static_fields.count(name) && !(name == kDynamicFieldName && schema.enable_dynamic_field())) {
      return InvalidParameter("Attempt to insert an unexpected field `" + name +
                              "` to collection without enabling dynamic field");
    }
  }

  for (const auto& field : schema.fields()) {
    spb::FieldData column;
    auto it = sent.find(field.is_dynamic() ? std::string(kDynamicFieldName) : field.name());
    bool caller_keys = upsert || (allow_insert_auto_id && it != sent.end());
    if (field.is_primary_key() && field.autoid() && !caller_keys) {
      if (it != sent.end()) {
        return InvalidParameter("the primary key field " + field.name() +
                                " is auto-generated: do not pass values for it (or disable autoID)");
      }
      auto ids = AutoIds(field, batch.num_rows, allocate_ids);
      if (!ids.ok()) return ids.status();
      column = std::move(*ids);
    } else if (it == sent.end()) {
      if (field.is_dynamic()) {
        column = segment::EmptyColumn(field);
        for (int64_t i = 0; i < batch.num_rows; ++i) column.mutable_scalars()->mutable_json_data()->add_data("{}");
      } else if (field.nullable() || field.has_default_value()) {
        QUIVER_RETURN_IF_ERROR(FillMissing(field, batch.num_rows, &column));
      } else {
        return InvalidParameter("fieldSchema(" + field.name() + ") has no corresponding fieldData pass in");
      }
    } else {
      column = *it->second;
      bool all_null = field.nullable() && !column.has_scalars() && !column.has_vectors();
      if (column.type() != field.data_type() || (!all_null && !HasLayoutOf(field.data_type(), column))) {
        return InvalidParameter("field " + field.name() + " expects " + spb::DataType_Name(field.data_type()) +
                                " data, got " + spb::DataType_Name(column.type()) + " data in another layout");
      }
      QUIVER_RETURN_IF_ERROR(CheckVectors(field, column, batch.num_rows));
      if (!field.nullable() && !field.has_default_value()) {
        for (bool valid : column.valid_data()) {
          if (!valid) return InvalidParameter("field " + field.name() + " is not nullable but null values were passed");
        }
      }
      QUIVER_RETURN_IF_ERROR(segment::NormalizeNullable(field, batch.num_rows, &column));
      ApplyDefaults(field, &column);
    }
    column.set_field_id(field.fieldid());
    column.set_field_name(field.name());
    column.set_is_dynamic(field.is_dynamic());
    if (segment::RowCount(column) != batch.num_rows) {
      return InvalidParameter("the num_rows (" + std::to_string(segment::RowCount(column)) + ") of field (" +
                              field.name() + ") is not equal to passed num_rows (" + std::to_string(batch.num_rows) +
                              ")");
    }
    QUIVER_RETURN_IF_ERROR(CheckScalars(field, column, batch.num_rows, static_fields));
    if (field.is_primary_key()) {
      if (field.data_type() == spb::VarChar) {
        *batch.primary_keys.mutable_str_id()->mutable_data() = column.scalars().string_data().data();
      } else {
        *batch.primary_keys.mutable_int_id()->mutable_data() = column.scalars().long_data().data();
      }
    }
    batch.columns.push_back(std::move(column));
  }
  return batch;
}

// splitmix64's finalizer: well mixed, and fixed forever (routing depends on it).
uint32_t HashKey(int64_t key) {
  uint64_t x = static_cast<uint64_t>(key) + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<uint32_t>(x ^ (x >> 31));
}

// 32-bit FNV-1a.
uint32_t HashKey(std::string_view key) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : key) hash = (hash ^ c) * 16777619u;
  return hash;
}

std::vector<RowGroup> GroupRows(const spb::CollectionSchema& schema, const RowBatch& batch, int shards,
                                int partition_buckets) {
  const spb::FieldData* pk = nullptr;
  const spb::FieldData* partition_key = nullptr;
  for (size_t i = 0; i < batch.columns.size(); ++i) {
    const auto& field = schema.fields(static_cast<int>(i));
    if (field.is_primary_key()) pk = &batch.columns[i];
    if (field.is_partition_key()) partition_key = &batch.columns[i];
  }
  std::map<std::pair<int, int>, std::vector<int64_t>> groups;
  for (int64_t row = 0; row < batch.num_rows; ++row) {
    uint32_t pk_hash = pk->type() == spb::VarChar ? HashKey(segment::StringAt(*pk, row)) : HashKey(segment::IntAt(*pk, row));
    int bucket = 0;
    if (partition_key && partition_buckets > 0 && !segment::IsNull(*partition_key, row)) {
      uint32_t key_hash = partition_key->type() == spb::VarChar ? HashKey(segment::StringAt(*partition_key, row))
                                                                 : HashKey(segment::IntAt(*partition_key, row));
      bucket = static_cast<int>(key_hash % static_cast<uint32_t>(partition_buckets));
    }
    groups[{static_cast<int>(pk_hash % static_cast<uint32_t>(shards)), bucket}].push_back(row);
  }
  std::vector<RowGroup> out;
  for (auto& [key, rows] : groups) out.push_back({key.first, key.second, std::move(rows)});
  return out;
}

std::vector<std::pair<int, spb::IDs>> GroupKeys(const spb::IDs& keys, int shards) {
  std::map<int, spb::IDs> groups;
  if (keys.has_int_id()) {
    for (int64_t key : keys.int_id().data()) {
      groups[static_cast<int>(HashKey(key) % static_cast<uint32_t>(shards))].mutable_int_id()->add_data(key);
    }
  } else if (keys.has_str_id()) {
    for (const auto& key : keys.str_id().data()) {
      groups[static_cast<int>(HashKey(key) % static_cast<uint32_t>(shards))].mutable_str_id()->add_data(key);
    }
  }
  return {groups.begin(), groups.end()};
}

}  // namespace quiver::proxy
