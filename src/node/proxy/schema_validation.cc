#include "node/proxy/schema_validation.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <set>

namespace quiver::proxy {
namespace {

using FieldList = google::protobuf::RepeatedPtrField<spb::FieldSchema>;
using ParamList = google::protobuf::RepeatedPtrField<milvus::proto::common::KeyValuePair>;

// ---- Reason texts ----------------------------------------------------------------------
// Milvus builds typed errors by wrapping a merr sentinel ("<detail>: <sentinel>[k=v]") and
// sends plain Go errors as code 65535 with the bare text; these mirror both shapes.

Status ParameterInvalid(const std::string& detail) {
  return {Code::kParameterInvalid, detail + ": invalid parameter"};
}

// merr.WrapErrParameterInvalid(expected, actual, detail).
Status ParameterInvalid(const std::string& expected, const std::string& actual, const std::string& detail) {
  std::string reason = "invalid parameter[expected=" + expected + "][actual=" + actual + "]";
  return {Code::kParameterInvalid, detail.empty() ? reason : detail + ": " + reason};
}

Status PlainError(std::string message) { return {Code::kUnexpected, std::move(message)}; }

Status FieldNameInvalid(const std::string& field, const std::string& detail) {
  return {Code::kFieldInvalidName, detail + ": field name invalid[field=" + field + "]"};
}

Status DatabaseNameInvalid(const std::string& database, const std::string& detail) {
  return {Code::kDatabaseInvalidName, detail + ": invalid database name[database=" + database + "]"};
}

Status SchemaIllegal(const std::string& collection, const std::string& detail) {
  return {Code::kCollectionIllegalSchema, detail + ": illegal collection schema[collection=" + collection + "]"};
}

// Go's DataType.String(): the enum name, or the number for values the enum does not know.
std::string TypeName(spb::DataType type) {
  const std::string& name = spb::DataType_Name(type);
  return name.empty() ? std::to_string(static_cast<int>(type)) : name;
}

// ---- Names -----------------------------------------------------------------------------

bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentifierChar(char c) { return c == '_' || IsAlpha(c) || IsDigit(c); }
bool StartsIdentifier(char c) { return c == '_' || IsAlpha(c); }

bool AllIdentifierChars(std::string_view s) { return std::all_of(s.begin(), s.end(), IsIdentifierChar); }

std::string TrimSpace(const std::string& s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  const size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

const std::string kMaxNameLengthText = std::to_string(kMaxNameLength);

// Words of Milvus's filter expression grammar; a field with such a name could not be
// referenced in a filter.
bool IsFieldNameKeyword(std::string_view name) {
  static const std::set<std::string_view> kKeywords = {
      "$meta", "like", "exists", "EXISTS", "and", "or", "not", "in",
      "json_contains", "JSON_CONTAINS", "json_contains_all", "JSON_CONTAINS_ALL",
      "json_contains_any", "JSON_CONTAINS_ANY", "array_contains", "ARRAY_CONTAINS",
      "array_contains_all", "ARRAY_CONTAINS_ALL", "array_contains_any", "ARRAY_CONTAINS_ANY",
      "array_length", "ARRAY_LENGTH", "true", "True", "TRUE", "false", "False", "FALSE",
      "text_match", "TEXT_MATCH", "phrase_match", "PHRASE_MATCH", "random_sample", "RANDOM_SAMPLE",
  };
  return kKeywords.count(name) > 0;
}

// `kind` is "name" or "alias": Milvus words both errors the same way.
Status ValidateCollectionNameOrAlias(const std::string& raw, const std::string& kind) {
  const std::string entity = TrimSpace(raw);
  const std::string what = "collection " + kind;
  if (entity.empty()) return ParameterInvalid(what + " should not be empty");

  const std::string invalid = "Invalid " + what + ": " + entity + ". ";
  if (entity.size() > kMaxNameLength) {
    return ParameterInvalid(invalid + "the length of a " + what + " must be less than " + kMaxNameLengthText +
                            " characters");
  }
  if (!StartsIdentifier(entity[0])) {
    return ParameterInvalid(invalid + "the first character of a " + what + " must be an underscore or letter");
  }
  if (!AllIdentifierChars(std::string_view(entity).substr(1))) {
    return ParameterInvalid(invalid + what + " can only contain numbers, letters and underscores");
  }
  return Status::OK();
}

// ---- Type params -----------------------------------------------------------------------

const std::string* FindParam(const ParamList& params, std::string_view key) {
  for (const auto& kv : params) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

template <typename Predicate>
const spb::FieldSchema* FindField(const spb::CollectionSchema& schema, Predicate predicate) {
  auto it = std::find_if(schema.fields().begin(), schema.fields().end(), predicate);
  return it == schema.fields().end() ? nullptr : &*it;
}

// Go's strconv.ParseInt(text, 10, 64), error text included: Milvus passes it through.
StatusOr<int64_t> ParseGoInt(const std::string& text) {
  std::string_view number = text;
  if (!number.empty() && number[0] == '+') number.remove_prefix(1);
  const std::string_view digits = (!number.empty() && number[0] == '-') ? number.substr(1) : number;
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), IsDigit)) {
    return PlainError("strconv.ParseInt: parsing \"" + text + "\": invalid syntax");
  }
  int64_t value = 0;
  if (std::from_chars(number.data(), number.data() + number.size(), value).ec != std::errc()) {
    return PlainError("strconv.ParseInt: parsing \"" + text + "\": value out of range");
  }
  return value;
}

// ---- Per-field rules (Milvus proxy: ValidateField) -------------------------------------

Status CheckDimension(const spb::FieldSchema& field) {
  const std::string* dim_text = FindParam(field.type_params(), kDimKey);
  if (!IsDenseVectorType(field.data_type())) {
    if (dim_text == nullptr) return Status::OK();
    return PlainError("dim should not be specified for sparse vector field " + field.name() + "(" +
                      std::to_string(field.fieldid()) + ")");
  }
  if (dim_text == nullptr) {
    return PlainError("dimension is not defined in field type params of field " + field.name() +
                      ", check type param `dim` for vector field");
  }
  auto dim = ParseGoInt(*dim_text);
  if (!dim.ok()) return dim.status();

  const std::string invalid = "invalid dimension: " + std::to_string(*dim);
  if (*dim <= 1) return PlainError(invalid + ". should be in range 2 ~ " + std::to_string(kMaxDimension));
  if (field.data_type() == spb::BinaryVector) {
    if (*dim % 8 != 0) {
      return PlainError(invalid + " of field " + field.name() + ". binary vector dimension should be multiple of 8. ");
    }
    if (*dim > kMaxDimension * 8) {
      return PlainError(invalid + " of field " + field.name() + ". binary vector dimension should be in range 2 ~ " +
                        std::to_string(kMaxDimension * 8));
    }
  } else if (*dim > kMaxDimension) {
    return PlainError(invalid + " of field " + field.name() + ". float vector dimension should be in range 2 ~ " +
                      std::to_string(kMaxDimension));
  }
  return Status::OK();
}

// Milvus checks every max_length entry, not only the first.
Status CheckMaxLength(const spb::FieldSchema& field, const std::string& collection) {
  bool found = false;
  for (const auto& kv : field.type_params()) {
    if (kv.key() != kMaxLengthKey) continue;
    auto max_length = ParseGoInt(kv.value());
    if (!max_length.ok()) return max_length.status();
    if (*max_length <= 0 || *max_length > kMaxVarCharLength) {
      return ParameterInvalid("the maximum length specified for a VarChar field(" + field.name() +
                              ") should be in (0, " + std::to_string(kMaxVarCharLength) + "], but got " +
                              std::to_string(*max_length) + " instead");
    }
    found = true;
  }
  if (!found) {
    return PlainError("type param(max_length) should be specified for varChar field(" + field.name() +
                      ") of collection " + collection);
  }
  return Status::OK();
}

Status CheckMaxCapacity(const spb::FieldSchema& field, const std::string& collection) {
  bool found = false;
  for (const auto& kv : field.type_params()) {
    if (kv.key() != kMaxCapacityKey) continue;
    auto capacity = ParseGoInt(kv.value());
    if (!capacity.ok()) {
      return PlainError("the value for " + std::string(kMaxCapacityKey) + " of field " + field.name() +
                        " must be an integer");
    }
    if (*capacity <= 0 || *capacity > kMaxArrayCapacity) {
      return PlainError("the maximum capacity specified for a Array should be in (0, " +
                        std::to_string(kMaxArrayCapacity) + "]");
    }
    found = true;
  }
  if (!found) {
    return PlainError("type param(max_capacity) should be specified for array field " + field.name() +
                      " of collection " + collection);
  }
  return Status::OK();
}

Status CheckField(const spb::FieldSchema& field, const std::string& collection) {
  QUIVER_RETURN_IF_ERROR(ValidateFieldName(field.name()));
  if (IsVectorType(field.data_type())) QUIVER_RETURN_IF_ERROR(CheckDimension(field));
  const bool is_array = field.data_type() == spb::Array;
  if (field.data_type() == spb::VarChar || (is_array && field.element_type() == spb::VarChar)) {
    QUIVER_RETURN_IF_ERROR(CheckMaxLength(field, collection));
  }
  if (is_array) QUIVER_RETURN_IF_ERROR(CheckMaxCapacity(field, collection));
  return Status::OK();
}

// ---- Field types -----------------------------------------------------------------------

bool IsQuiverScalarType(spb::DataType type) {
  switch (type) {
    case spb::Bool:
    case spb::Int8:
    case spb::Int16:
    case spb::Int32:
    case spb::Int64:
    case spb::Float:
    case spb::Double:
    case spb::VarChar:
    case spb::JSON:
    case spb::Array:
      return true;
    default:
      return false;
  }
}

Status CheckElementType(spb::DataType element) {
  switch (element) {
    case spb::Bool:
    case spb::Int8:
    case spb::Int16:
    case spb::Int32:
    case spb::Int64:
    case spb::Float:
    case spb::Double:
    case spb::VarChar:
      return Status::OK();
    case spb::String:
      return PlainError("string data type not supported yet, please use VarChar type instead");
    case spb::None:
      return PlainError("element data type None is not valid");
    default:
      return PlainError("element type " + TypeName(element) + " is not supported");
  }
}

Status CheckFieldType(const spb::FieldSchema& field) {
  const spb::DataType type = field.data_type();
  if (type == spb::String) return PlainError("string data type not supported yet, please use VarChar type instead");
  if (type == spb::None) return PlainError("data type None is not valid");
  if (!spb::DataType_IsValid(type)) {
    return ParameterInvalid("Invalid field", "field data type: " + TypeName(type) + " is not supported", "");
  }
  if (!IsQuiverScalarType(type) && !IsVectorType(type)) {
    return ParameterInvalid("field data type " + TypeName(type) + " of field " + field.name() +
                            " is not supported by Quiver");
  }
  if (type == spb::Array) return CheckElementType(field.element_type());
  return Status::OK();
}

// ---- Whole-schema rules (Milvus proxy: createCollectionTask.PreExecute) ----------------

Status CheckQuiverFeatures(const spb::CollectionSchema& schema) {
  if (schema.functions_size() > 0) return NotImplemented("functions in a collection schema");
  if (schema.struct_array_fields_size() > 0) return NotImplemented("struct array fields");
  if (schema.enable_namespace()) return NotImplemented("collection namespaces");
  return Status::OK();
}

Status CheckLimits(const spb::CollectionSchema& schema, const CreateCollectionOptions& options) {
  if (options.shards_num > kMaxShardNum) {
    return PlainError("maximum shards's number should be limited to " + std::to_string(kMaxShardNum));
  }
  if (schema.fields_size() > kMaxFieldNum) {
    return PlainError("maximum field's number should be limited to " + std::to_string(kMaxFieldNum));
  }
  const auto vector_fields = std::count_if(schema.fields().begin(), schema.fields().end(),
                                           [](const spb::FieldSchema& f) { return IsVectorType(f.data_type()); });
  if (vector_fields > kMaxVectorFieldNum) {
    return PlainError("maximum vector field's number should be limited to " + std::to_string(kMaxVectorFieldNum));
  }
  if (vector_fields == 0) return ParameterInvalid("schema does not contain vector field");
  return Status::OK();
}

Status CheckPrimaryKey(const spb::CollectionSchema& schema) {
  const spb::FieldSchema* primary = nullptr;
  for (const auto& field : schema.fields()) {
    if (!field.is_primary_key()) continue;
    if (primary != nullptr) {
      return PlainError("there are more than one primary key, field name = " + primary->name() + ", " + field.name());
    }
    if (field.data_type() != spb::Int64 && field.data_type() != spb::VarChar) {
      return PlainError("the data type of primary key should be Int64 or VarChar");
    }
    primary = &field;
  }
  if (primary == nullptr) return PlainError("primary key is not specified");
  return Status::OK();
}

// `$meta` is Milvus's to create; see AppendDynamicField.
Status CheckNoUserDynamicField(const spb::CollectionSchema& schema) {
  for (const auto& field : schema.fields()) {
    if (field.is_dynamic()) return PlainError("cannot explicitly set a field as a dynamic field");
  }
  return Status::OK();
}

// Auto IDs are generated for the primary key only; VarChar keys get them as decimal text.
Status CheckAutoId(const spb::CollectionSchema& schema) {
  const spb::FieldSchema* auto_id = nullptr;
  for (const auto& field : schema.fields()) {
    if (!field.autoid()) continue;
    if (auto_id != nullptr) {
      return PlainError("only one field can speficy AutoID with true, field name = " + auto_id->name() + ", " +
                        field.name());
    }
    if (!field.is_primary_key()) {
      return PlainError("only primary field can speficy AutoID with true, field name = " + field.name());
    }
    auto_id = &field;
  }
  return Status::OK();
}

Status CheckPartitionKey(const spb::CollectionSchema& schema, CreateCollectionOptions* options) {
  const spb::FieldSchema* key = nullptr;
  for (const auto& field : schema.fields()) {
    if (!field.is_partition_key()) continue;
    if (key != nullptr) {
      return PlainError("there are more than one partition key, field name = " + key->name() + ", " + field.name());
    }
    if (field.is_primary_key()) return PlainError("the partition key field must not be primary field");
    if (field.nullable()) return ParameterInvalid("partition key field not support nullable");
    if (field.data_type() != spb::Int64 && field.data_type() != spb::VarChar) {
      return PlainError("the data type of partition key should be Int64 or VarChar");
    }
    if (options->num_partitions < 0) {
      return PlainError("the specified partitions should be greater than 0 if partition key is used");
    }
    if (options->num_partitions > kMaxPartitionNum) {
      return ParameterInvalid("partition number (" + std::to_string(options->num_partitions) +
                              ") exceeds max configuration (" + std::to_string(kMaxPartitionNum) + ")");
    }
    if (options->num_partitions == 0) options->num_partitions = kDefaultPartitionsWithPartitionKey;
    key = &field;
  }
  if (key == nullptr && options->num_partitions != 0) {
    return PlainError("num_partitions should only be specified with partition key field enabled");
  }
  return Status::OK();
}

bool IsClusteringKeyType(spb::DataType type) {
  switch (type) {
    case spb::Int8:
    case spb::Int16:
    case spb::Int32:
    case spb::Int64:
    case spb::Float:
    case spb::Double:
    case spb::VarChar:
      return true;
    default:
      return IsVectorType(type);
  }
}

// Milvus sends 107 for a vector clustering key; Quiver's Code has no such value, so it is
// reported as the illegal schema it is.
Status CheckClusteringKey(const spb::CollectionSchema& schema) {
  const spb::FieldSchema* key = nullptr;
  for (const auto& field : schema.fields()) {
    if (!field.is_clustering_key()) continue;
    if (!IsClusteringKeyType(field.data_type())) {
      return SchemaIllegal(schema.name(), "clustering key field " + field.name() + " has unsupported data type " +
                                              TypeName(field.data_type()));
    }
    if (IsVectorType(field.data_type())) {
      return SchemaIllegal(schema.name(), "vector clustering key not allowed, field name = " + field.name());
    }
    if (key != nullptr) {
      return SchemaIllegal(schema.name(), "there are more than one clustering key, field name = " + key->name() +
                                              ", " + field.name());
    }
    key = &field;
  }
  return Status::OK();
}

Status CheckDuplicateFieldNames(const spb::CollectionSchema& schema) {
  std::set<std::string_view> names;
  for (const auto& field : schema.fields()) {
    if (!names.insert(field.name()).second) return PlainError("duplicated field name " + field.name() + " found");
  }
  return Status::OK();
}

// ---- Rules Milvus's rootcoord adds (createCollectionTask.validateSchema) ---------------

std::string FieldTag(const spb::FieldSchema& field) {
  return "type:" + TypeName(field.data_type()) + ", name:" + field.name();
}

Status DefaultTypeMismatch(const spb::FieldSchema& field, const std::string& default_type) {
  return ParameterInvalid("type (" + TypeName(field.data_type()) + ") of field (" + field.name() +
                          ") is not equal to the type(" + default_type + ") of default_value");
}

// merr.WrapErrParameterInvalidRange.
Status DefaultOutOfRange(int64_t value, int64_t low, int64_t high) {
  return {Code::kParameterInvalid, "default value out of range: invalid parameter[" + std::to_string(value) +
                                       " out of range " + std::to_string(low) + " <= value <= " +
                                       std::to_string(high) + "]"};
}

Status CheckIntDefault(const spb::FieldSchema& field, int64_t value) {
  switch (field.data_type()) {
    case spb::Int32:
      return Status::OK();
    case spb::Int16:
      if (value < std::numeric_limits<int16_t>::min() || value > std::numeric_limits<int16_t>::max()) {
        return DefaultOutOfRange(value, std::numeric_limits<int16_t>::min(), std::numeric_limits<int16_t>::max());
      }
      return Status::OK();
    case spb::Int8:
      if (value < std::numeric_limits<int8_t>::min() || value > std::numeric_limits<int8_t>::max()) {
        return DefaultOutOfRange(value, std::numeric_limits<int8_t>::min(), std::numeric_limits<int8_t>::max());
      }
      return Status::OK();
    default:
      return DefaultTypeMismatch(field, "DataType_Int");
  }
}

Status CheckStringDefault(const spb::FieldSchema& field) {
  if (field.data_type() != spb::VarChar) return DefaultTypeMismatch(field, "DataType_VarChar");
  // max_length was validated by CheckField.
  const int64_t max_length = TypeParamInt(field, kMaxLengthKey).value_or(0);
  const auto length = static_cast<int64_t>(field.default_value().string_data().size());
  if (length > max_length) {
    return ParameterInvalid("valid length string", "string length exceeds max length",
                            "the length (" + std::to_string(length) + ") of string exceeds max length (" +
                                std::to_string(max_length) + ")");
  }
  return Status::OK();
}

Status CheckDefaultValue(const spb::FieldSchema& field) {
  if (!field.has_default_value()) return Status::OK();
  const spb::DataType type = field.data_type();
  if (field.is_primary_key()) {
    return ParameterInvalid("primary field not support default_value, " + FieldTag(field));
  }
  if (type == spb::Array || IsVectorType(type) || (type == spb::JSON && !field.is_dynamic())) {
    return ParameterInvalid("type not support default_value, " + FieldTag(field));
  }
  const spb::ValueField& value = field.default_value();
  switch (value.data_case()) {
    case spb::ValueField::kBoolData:
      return type == spb::Bool ? Status::OK() : DefaultTypeMismatch(field, "DataType_Bool");
    case spb::ValueField::kIntData:
      return CheckIntDefault(field, value.int_data());
    case spb::ValueField::kLongData:
      return type == spb::Int64 ? Status::OK() : DefaultTypeMismatch(field, "DataType_Int64");
    case spb::ValueField::kFloatData:
      return type == spb::Float ? Status::OK() : DefaultTypeMismatch(field, "DataType_Float");
    case spb::ValueField::kDoubleData:
      return type == spb::Double ? Status::OK() : DefaultTypeMismatch(field, "DataType_Double");
    case spb::ValueField::kStringData:
      return CheckStringDefault(field);
    case spb::ValueField::kBytesData:
      return type == spb::JSON ? Status::OK() : DefaultTypeMismatch(field, "DataType_JSON");
    case spb::ValueField::kTimestamptzData:
      return DefaultTypeMismatch(field, "DataType_Timestamptz");  // Timestamptz fields are refused earlier
    case spb::ValueField::DATA_NOT_SET:
      break;  // cleared by ClearEmptyDefaultValues before validation
  }
  return Status::OK();
}

Status CheckDuplicateParams(const ParamList& params, const std::string& kind) {
  std::set<std::string_view> keys;
  for (const auto& kv : params) {
    if (!keys.insert(kv.key()).second) {
      return ParameterInvalid("duplicated " + kind + " param key \"" + kv.key() + "\"");
    }
  }
  return Status::OK();
}

Status CheckStoredField(const spb::FieldSchema& field) {
  if (field.nullable() && field.is_primary_key()) {
    return ParameterInvalid("primary field not support null, " + FieldTag(field));
  }
  if (field.nullable() && IsVectorType(field.data_type())) {
    return ParameterInvalid("vector type not support null, " + FieldTag(field));
  }
  QUIVER_RETURN_IF_ERROR(CheckDefaultValue(field));
  QUIVER_RETURN_IF_ERROR(CheckDuplicateParams(field.type_params(), "type"));
  return CheckDuplicateParams(field.index_params(), "index");
}

// Names of the columns Milvus adds to every collection.
Status CheckNoSystemFieldNames(const spb::CollectionSchema& schema) {
  constexpr std::array<std::string_view, 3> kSystemFields = {"RowID", "Timestamp", kDynamicFieldName};
  for (const auto& field : schema.fields()) {
    if (std::find(kSystemFields.begin(), kSystemFields.end(), field.name()) != kSystemFields.end()) {
      return ParameterInvalid("schema don't contains system field", "contains",
                              "schema contains system field: RowID, Timestamp, $meta");
    }
  }
  return Status::OK();
}

// ---- Normalization ---------------------------------------------------------------------

// An SDK may send an empty ValueField for "no default"; Milvus would crash on it, Quiver
// treats it as absent.
void ClearEmptyDefaultValues(FieldList* fields) {
  for (auto& field : *fields) {
    if (field.has_default_value() && field.default_value().data_case() == spb::ValueField::DATA_NOT_SET) {
      field.clear_default_value();
    }
  }
}

// "+0128" and "128" mean the same dim; store the form every reader expects.
void CanonicalizeNumericTypeParams(FieldList* fields) {
  for (auto& field : *fields) {
    for (auto& kv : *field.mutable_type_params()) {
      if (kv.key() != kDimKey && kv.key() != kMaxLengthKey && kv.key() != kMaxCapacityKey) continue;
      if (auto value = ParseGoInt(kv.value()); value.ok()) kv.set_value(std::to_string(*value));
    }
  }
}

// Nullable with `{}` as default, so rows inserted without dynamic keys read back as {}.
void AppendDynamicField(spb::CollectionSchema* schema) {
  spb::FieldSchema* meta = schema->add_fields();
  meta->set_name(std::string(kDynamicFieldName));
  meta->set_description("dynamic schema");
  meta->set_data_type(spb::JSON);
  meta->set_is_dynamic(true);
  meta->set_nullable(true);
  meta->mutable_default_value()->set_bytes_data("{}");
}

void AssignFieldIds(FieldList* fields) {
  int64_t next_id = kStartOfUserFieldId;
  for (auto& field : *fields) field.set_fieldid(next_id++);
}

}  // namespace

Status ValidateCollectionName(const std::string& name) { return ValidateCollectionNameOrAlias(name, "name"); }

Status ValidateAliasName(const std::string& alias) { return ValidateCollectionNameOrAlias(alias, "alias"); }

Status ValidatePartitionName(const std::string& raw) {
  const std::string name = TrimSpace(raw);
  const std::string invalid = "Invalid partition name: " + name + ". ";
  if (name.empty()) return PlainError(invalid + "Partition name should not be empty.");
  if (name.size() > kMaxNameLength) {
    return PlainError(invalid + "The length of a partition name must be less than " + kMaxNameLengthText +
                      " characters.");
  }
  if (!StartsIdentifier(name[0]) && !IsDigit(name[0])) {
    return PlainError(invalid + "The first character of a partition name must be an underscore or letter.");
  }
  const std::string_view tail = std::string_view(name).substr(1);
  if (!std::all_of(tail.begin(), tail.end(), [](char c) { return IsIdentifierChar(c) || c == '-'; })) {
    return PlainError(invalid + "Partition name can only contain numbers, letters and underscores.");
  }
  return Status::OK();
}

Status ValidateDatabaseName(const std::string& name) {
  if (name.empty()) return DatabaseNameInvalid(name, "database name couldn't be empty");
  if (name.size() > kMaxNameLength) {
    return DatabaseNameInvalid(name, "the length of a database name must be less than " + kMaxNameLengthText +
                                         " characters");
  }
  if (!StartsIdentifier(name[0])) {
    return DatabaseNameInvalid(name, "the first character of a database name must be an underscore or letter");
  }
  if (!AllIdentifierChars(std::string_view(name).substr(1))) {
    return DatabaseNameInvalid(name, "database name can only contain numbers, letters and underscores");
  }
  return Status::OK();
}

Status ValidateFieldName(const std::string& raw) {
  const std::string name = TrimSpace(raw);
  if (name.empty()) return FieldNameInvalid(name, "field name should not be empty");

  const std::string invalid = "Invalid field name: " + name + ". ";
  if (name.size() > kMaxNameLength) {
    return FieldNameInvalid(name, invalid + "The length of a field name must be less than " + kMaxNameLengthText +
                                      " characters.");
  }
  if (!StartsIdentifier(name[0])) {
    return FieldNameInvalid(name, invalid + "The first character of a field name must be an underscore or letter.");
  }
  if (!AllIdentifierChars(std::string_view(name).substr(1))) {
    return FieldNameInvalid(name, invalid + "Field name can only contain numbers, letters, and underscores.");
  }
  if (IsFieldNameKeyword(name)) return FieldNameInvalid(name, invalid + name + " is keyword in milvus.");
  return Status::OK();
}

// The order of checks is Milvus's (proxy first, then rootcoord), so a schema with several
// problems reports the same one Milvus would.
Status ValidateAndNormalizeSchema(spb::CollectionSchema* schema, CreateCollectionOptions* options) {
  schema->set_autoid(false);  // deprecated collection-level flag; the proxy ignores it
  ClearEmptyDefaultValues(schema->mutable_fields());

  QUIVER_RETURN_IF_ERROR(CheckQuiverFeatures(*schema));
  QUIVER_RETURN_IF_ERROR(CheckLimits(*schema, *options));
  QUIVER_RETURN_IF_ERROR(ValidateCollectionName(schema->name()));
  QUIVER_RETURN_IF_ERROR(CheckPrimaryKey(*schema));
  QUIVER_RETURN_IF_ERROR(CheckNoUserDynamicField(*schema));
  QUIVER_RETURN_IF_ERROR(CheckAutoId(*schema));
  for (const auto& field : schema->fields()) QUIVER_RETURN_IF_ERROR(CheckFieldType(field));
  QUIVER_RETURN_IF_ERROR(CheckPartitionKey(*schema, options));
  QUIVER_RETURN_IF_ERROR(CheckClusteringKey(*schema));
  for (const auto& field : schema->fields()) QUIVER_RETURN_IF_ERROR(CheckField(field, schema->name()));
  QUIVER_RETURN_IF_ERROR(CheckDuplicateFieldNames(*schema));

  for (const auto& field : schema->fields()) QUIVER_RETURN_IF_ERROR(CheckStoredField(field));
  QUIVER_RETURN_IF_ERROR(CheckNoSystemFieldNames(*schema));

  CanonicalizeNumericTypeParams(schema->mutable_fields());
  if (schema->enable_dynamic_field()) AppendDynamicField(schema);
  AssignFieldIds(schema->mutable_fields());
  if (options->shards_num <= 0) options->shards_num = kDefaultShardNum;
  return Status::OK();
}

std::optional<int64_t> TypeParamInt(const spb::FieldSchema& field, std::string_view key) {
  const std::string* text = FindParam(field.type_params(), key);
  if (text == nullptr) return std::nullopt;
  auto value = ParseGoInt(*text);
  if (!value.ok()) return std::nullopt;
  return *value;
}

bool IsVectorType(spb::DataType type) { return IsDenseVectorType(type) || type == spb::SparseFloatVector; }

bool IsDenseVectorType(spb::DataType type) {
  switch (type) {
    case spb::BinaryVector:
    case spb::FloatVector:
    case spb::Float16Vector:
    case spb::BFloat16Vector:
    case spb::Int8Vector:
      return true;
    default:
      return false;
  }
}

const spb::FieldSchema* FindPrimaryField(const spb::CollectionSchema& schema) {
  return FindField(schema, [](const spb::FieldSchema& f) { return f.is_primary_key(); });
}

const spb::FieldSchema* FindPartitionKeyField(const spb::CollectionSchema& schema) {
  return FindField(schema, [](const spb::FieldSchema& f) { return f.is_partition_key(); });
}

const spb::FieldSchema* FindDynamicField(const spb::CollectionSchema& schema) {
  return FindField(schema, [](const spb::FieldSchema& f) { return f.is_dynamic(); });
}

}  // namespace quiver::proxy
