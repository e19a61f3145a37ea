#include "node/proxy/schema_validation.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace quiver::proxy {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

spb::FieldSchema MakeField(const std::string& name, spb::DataType type, const Params& params = {}) {
  spb::FieldSchema field;
  field.set_name(name);
  field.set_data_type(type);
  for (const auto& [key, value] : params) {
    auto* kv = field.add_type_params();
    kv->set_key(key);
    kv->set_value(value);
  }
  return field;
}

spb::FieldSchema PrimaryKey(const std::string& name = "id", spb::DataType type = spb::Int64,
                            const Params& params = {}) {
  spb::FieldSchema field = MakeField(name, type, params);
  field.set_is_primary_key(true);
  return field;
}

spb::FieldSchema Vector(const std::string& name = "vec", spb::DataType type = spb::FloatVector,
                        const std::string& dim = "8") {
  return MakeField(name, type, {{"dim", dim}});
}

spb::FieldSchema VarChar(const std::string& name, const std::string& max_length = "64") {
  return MakeField(name, spb::VarChar, {{"max_length", max_length}});
}

spb::FieldSchema ArrayOf(const std::string& name, spb::DataType element, const Params& params) {
  spb::FieldSchema field = MakeField(name, spb::Array, params);
  field.set_element_type(element);
  return field;
}

spb::CollectionSchema MakeSchema(std::vector<spb::FieldSchema> fields, const std::string& name = "books") {
  spb::CollectionSchema schema;
  schema.set_name(name);
  for (auto& field : fields) *schema.add_fields() = std::move(field);
  return schema;
}

// id Int64 primary key, vec FloatVector(8), title VarChar(64): valid as it stands.
spb::CollectionSchema BaseSchema() { return MakeSchema({PrimaryKey(), Vector(), VarChar("title")}); }

spb::FieldSchema* FieldNamed(spb::CollectionSchema* schema, const std::string& name) {
  for (auto& field : *schema->mutable_fields()) {
    if (field.name() == name) return &field;
  }
  ADD_FAILURE() << "no field " << name;
  return schema->mutable_fields(0);
}

const spb::FieldSchema& FieldNamed(const spb::CollectionSchema& schema, const std::string& name) {
  for (const auto& field : schema.fields()) {
    if (field.name() == name) return field;
  }
  ADD_FAILURE() << "no field " << name;
  return schema.fields(0);
}

std::string TypeParam(const spb::FieldSchema& field, const std::string& key) {
  for (const auto& kv : field.type_params()) {
    if (kv.key() == key) return kv.value();
  }
  return "<absent>";
}

// ---- Names -----------------------------------------------------------------------------

struct NameCase {
  std::function<Status(const std::string&)> validate;
  std::string name;
  Code code;                // kOk when the name is valid
  std::string reason_part;  // what the reason must say
};

class NameValidationTest : public testing::TestWithParam<NameCase> {};

TEST_P(NameValidationTest, AcceptsOrRejectsLikeMilvus) {
  const NameCase& c = GetParam();
  Status status = c.validate(c.name);
  EXPECT_EQ(status.code(), c.code) << status.ToString();
  EXPECT_NE(status.reason().find(c.reason_part), std::string::npos) << status.reason();
}

const std::string kLongName(256, 'a');

INSTANTIATE_TEST_SUITE_P(
    Names, NameValidationTest,
    testing::Values(
        NameCase{ValidateCollectionName, "_Books_2024", Code::kOk, ""},
        NameCase{ValidateCollectionName, "  books  ", Code::kOk, ""},
        NameCase{ValidateCollectionName, std::string(255, 'a'), Code::kOk, ""},
        NameCase{ValidateCollectionName, "", Code::kParameterInvalid,
                 "collection name should not be empty: invalid parameter"},
        NameCase{ValidateCollectionName, "   ", Code::kParameterInvalid, "collection name should not be empty"},
        NameCase{ValidateCollectionName, "1books", Code::kParameterInvalid,
                 "Invalid collection name: 1books. the first character of a collection name must be an "
                 "underscore or letter: invalid parameter"},
        NameCase{ValidateCollectionName, "books-2", Code::kParameterInvalid,
                 "Invalid collection name: books-2. collection name can only contain numbers, letters and "
                 "underscores: invalid parameter"},
        NameCase{ValidateCollectionName, "espa\xc3\xb1ol", Code::kParameterInvalid,
                 "collection name can only contain numbers, letters and underscores"},
        NameCase{ValidateCollectionName, kLongName, Code::kParameterInvalid,
                 "the length of a collection name must be less than 255 characters"},
        NameCase{ValidateAliasName, "my_alias", Code::kOk, ""},
        NameCase{ValidateAliasName, "9alias", Code::kParameterInvalid,
                 "Invalid collection alias: 9alias. the first character of a collection alias must be an "
                 "underscore or letter: invalid parameter"},
        NameCase{ValidatePartitionName, "2024-01", Code::kOk, ""},
        NameCase{ValidatePartitionName, "_default", Code::kOk, ""},
        NameCase{ValidatePartitionName, " ", Code::kUnexpected,
                 "Invalid partition name: . Partition name should not be empty."},
        NameCase{ValidatePartitionName, "-p", Code::kUnexpected,
                 "Invalid partition name: -p. The first character of a partition name must be an underscore or "
                 "letter."},
        NameCase{ValidatePartitionName, "p.1", Code::kUnexpected,
                 "Invalid partition name: p.1. Partition name can only contain numbers, letters and underscores."},
        NameCase{ValidatePartitionName, kLongName, Code::kUnexpected,
                 "The length of a partition name must be less than 255 characters."},
        NameCase{ValidateDatabaseName, "default", Code::kOk, ""},
        NameCase{ValidateDatabaseName, "", Code::kDatabaseInvalidName,
                 "database name couldn't be empty: invalid database name[database=]"},
        NameCase{ValidateDatabaseName, "1db", Code::kDatabaseInvalidName,
                 "the first character of a database name must be an underscore or letter: invalid database "
                 "name[database=1db]"},
        NameCase{ValidateDatabaseName, "d b", Code::kDatabaseInvalidName,
                 "database name can only contain numbers, letters and underscores"},
        NameCase{ValidateDatabaseName, kLongName, Code::kDatabaseInvalidName,
                 "the length of a database name must be less than 255 characters"},
        NameCase{ValidateFieldName, "_embedding_2", Code::kOk, ""},
        NameCase{ValidateFieldName, "", Code::kFieldInvalidName,
                 "field name should not be empty: field name invalid[field=]"},
        NameCase{ValidateFieldName, "1st", Code::kFieldInvalidName,
                 "Invalid field name: 1st. The first character of a field name must be an underscore or "
                 "letter.: field name invalid[field=1st]"},
        NameCase{ValidateFieldName, "a-b", Code::kFieldInvalidName,
                 "Field name can only contain numbers, letters, and underscores."},
        NameCase{ValidateFieldName, "$meta", Code::kFieldInvalidName, "field name invalid[field=$meta]"},
        NameCase{ValidateFieldName, "like", Code::kFieldInvalidName, "like is keyword in milvus."},
        NameCase{ValidateFieldName, "TEXT_MATCH", Code::kFieldInvalidName, "TEXT_MATCH is keyword in milvus."},
        NameCase{ValidateFieldName, kLongName, Code::kFieldInvalidName,
                 "The length of a field name must be less than 255 characters."}));

// ---- Valid schemas ---------------------------------------------------------------------

struct ValidCase {
  std::string label;
  spb::CollectionSchema schema;
  CreateCollectionOptions options;
  std::vector<std::string> stored_fields;  // names in stored order; IDs must run from 100
  CreateCollectionOptions stored_options;
  std::function<void(const spb::CollectionSchema&)> check = [](const spb::CollectionSchema&) {};
};

class ValidSchemaTest : public testing::TestWithParam<ValidCase> {};

TEST_P(ValidSchemaTest, IsAcceptedAndStoredLikeMilvus) {
  ValidCase c = GetParam();
  Status status = ValidateAndNormalizeSchema(&c.schema, &c.options);
  ASSERT_TRUE(status.ok()) << status.ToString();

  ASSERT_EQ(c.schema.fields_size(), static_cast<int>(c.stored_fields.size()));
  for (int i = 0; i < c.schema.fields_size(); ++i) {
    EXPECT_EQ(c.schema.fields(i).name(), c.stored_fields[i]);
    EXPECT_EQ(c.schema.fields(i).fieldid(), 100 + i) << c.stored_fields[i];
  }
  EXPECT_EQ(c.options.shards_num, c.stored_options.shards_num);
  EXPECT_EQ(c.options.num_partitions, c.stored_options.num_partitions);
  EXPECT_FALSE(c.schema.autoid());
  c.check(c.schema);
}

spb::CollectionSchema EveryScalarType() {
  return MakeSchema({PrimaryKey(), Vector(), MakeField("flag", spb::Bool), MakeField("i8", spb::Int8),
                     MakeField("i16", spb::Int16), MakeField("i32", spb::Int32), MakeField("i64", spb::Int64),
                     MakeField("f32", spb::Float), MakeField("f64", spb::Double), VarChar("text", "65535"),
                     MakeField("doc", spb::JSON),
                     ArrayOf("scores", spb::Double, {{"max_capacity", "4096"}}),
                     ArrayOf("tags", spb::VarChar, {{"max_capacity", "16"}, {"max_length", "32"}})});
}

spb::CollectionSchema WithDynamicField() {
  spb::CollectionSchema schema = BaseSchema();
  schema.set_enable_dynamic_field(true);
  return schema;
}

spb::CollectionSchema WithAutoId(spb::FieldSchema primary_key) {
  primary_key.set_autoid(true);
  return MakeSchema({primary_key, Vector()});
}

spb::CollectionSchema WithPartitionKey(spb::DataType type) {
  spb::CollectionSchema schema = BaseSchema();
  spb::FieldSchema key = type == spb::VarChar ? VarChar("tenant") : MakeField("tenant", type);
  key.set_is_partition_key(true);
  *schema.add_fields() = key;
  return schema;
}

spb::CollectionSchema WithNullablesAndDefaults() {
  spb::CollectionSchema schema = BaseSchema();
  auto add = [&schema](spb::FieldSchema field, auto set_default, bool nullable) {
    set_default(field.mutable_default_value());
    field.set_nullable(nullable);
    *schema.add_fields() = std::move(field);
  };
  add(MakeField("flag", spb::Bool), [](spb::ValueField* v) { v->set_bool_data(true); }, false);
  add(MakeField("i8", spb::Int8), [](spb::ValueField* v) { v->set_int_data(-128); }, true);
  add(MakeField("i16", spb::Int16), [](spb::ValueField* v) { v->set_int_data(32767); }, false);
  add(MakeField("i32", spb::Int32), [](spb::ValueField* v) { v->set_int_data(7); }, true);
  add(MakeField("i64", spb::Int64), [](spb::ValueField* v) { v->set_long_data(1LL << 40); }, false);
  add(MakeField("f32", spb::Float), [](spb::ValueField* v) { v->set_float_data(1.5f); }, false);
  add(MakeField("f64", spb::Double), [](spb::ValueField* v) { v->set_double_data(2.5); }, false);
  add(VarChar("note", "5"), [](spb::ValueField* v) { v->set_string_data("hello"); }, true);
  // Some SDKs send an empty ValueField for "no default".
  add(MakeField("plain", spb::Int32), [](spb::ValueField* v) { v->Clear(); }, false);
  auto* nullable_json = schema.add_fields();
  *nullable_json = MakeField("doc", spb::JSON);
  nullable_json->set_nullable(true);
  return schema;
}

std::vector<ValidCase> ValidCases() {
  std::vector<ValidCase> cases;

  cases.push_back({"Minimal", BaseSchema(), {0, 0}, {"id", "vec", "title"}, {1, 0},
                   [](const spb::CollectionSchema& s) {
                     EXPECT_EQ(FindPrimaryField(s)->name(), "id");
                     EXPECT_EQ(FindDynamicField(s), nullptr);
                     EXPECT_EQ(FindPartitionKeyField(s), nullptr);
                   }});

  cases.push_back({"EveryScalarType", EveryScalarType(), {2, 0},
                   {"id", "vec", "flag", "i8", "i16", "i32", "i64", "f32", "f64", "text", "doc", "scores", "tags"},
                   {2, 0},
                   [](const spb::CollectionSchema& s) {
                     EXPECT_EQ(FieldNamed(s, "tags").element_type(), spb::VarChar);
                     EXPECT_EQ(TypeParamInt(FieldNamed(s, "tags"), kMaxCapacityKey), 16);
                   }});

  cases.push_back({"FourDenseVectorTypes",
                   MakeSchema({PrimaryKey(), Vector("f", spb::FloatVector, "32768"),
                               Vector("b", spb::BinaryVector, "262144"), Vector("h", spb::Float16Vector, "2"),
                               Vector("bf", spb::BFloat16Vector, "768")}),
                   {16, 0}, {"id", "f", "b", "h", "bf"}, {16, 0},
                   [](const spb::CollectionSchema& s) {
                     EXPECT_EQ(TypeParamInt(FieldNamed(s, "b"), kDimKey), 262144);
                   }});

  cases.push_back({"SparseAndInt8Vectors",
                   MakeSchema({PrimaryKey(), MakeField("sparse", spb::SparseFloatVector),
                               Vector("i8v", spb::Int8Vector, "16")}),
                   {-3, 0}, {"id", "sparse", "i8v"}, {1, 0},
                   [](const spb::CollectionSchema& s) {
                     EXPECT_EQ(FieldNamed(s, "sparse").type_params_size(), 0);
                   }});

  cases.push_back({"TypeParamsStoredAsCanonicalDecimal",
                   MakeSchema({PrimaryKey("pk", spb::VarChar, {{"max_length", "+064"}}),
                               Vector("vec", spb::FloatVector, "0128"),
                               ArrayOf("nums", spb::Int32, {{"max_capacity", "+10"}})}),
                   {0, 0}, {"pk", "vec", "nums"}, {1, 0},
                   [](const spb::CollectionSchema& s) {
                     EXPECT_EQ(TypeParam(FieldNamed(s, "pk"), "max_length"), "64");
                     EXPECT_EQ(TypeParam(FieldNamed(s, "vec"), "dim"), "128");
                     EXPECT_EQ(TypeParam(FieldNamed(s, "nums"), "max_capacity"), "10");
                   }});

  cases.push_back({"AutoIdInt64", WithAutoId(PrimaryKey()), {0, 0}, {"id", "vec"}, {1, 0},
                   [](const spb::CollectionSchema& s) { EXPECT_TRUE(FindPrimaryField(s)->autoid()); }});

  cases.push_back({"AutoIdVarChar", WithAutoId(PrimaryKey("id", spb::VarChar, {{"max_length", "36"}})), {0, 0},
                   {"id", "vec"}, {1, 0},
                   [](const spb::CollectionSchema& s) { EXPECT_TRUE(FindPrimaryField(s)->autoid()); }});

  cases.push_back({"DeprecatedCollectionAutoIdIgnored",
                   [] {
                     spb::CollectionSchema s = BaseSchema();
                     s.set_autoid(true);
                     return s;
                   }(),
                   {0, 0}, {"id", "vec", "title"}, {1, 0},
                   [](const spb::CollectionSchema& s) { EXPECT_FALSE(FindPrimaryField(s)->autoid()); }});

  cases.push_back({"DynamicFieldAppendedLast", WithDynamicField(), {0, 0}, {"id", "vec", "title", "$meta"}, {1, 0},
                   [](const spb::CollectionSchema& s) {
                     const spb::FieldSchema* meta = FindDynamicField(s);
                     ASSERT_NE(meta, nullptr);
                     EXPECT_EQ(meta->name(), "$meta");
                     EXPECT_EQ(meta->fieldid(), 103);
                     EXPECT_EQ(meta->data_type(), spb::JSON);
                     EXPECT_TRUE(meta->nullable());
                     EXPECT_EQ(meta->default_value().bytes_data(), "{}");
                   }});

  cases.push_back({"Int64PartitionKeyGetsDefaultPartitions", WithPartitionKey(spb::Int64), {0, 0},
                   {"id", "vec", "title", "tenant"}, {1, 16},
                   [](const spb::CollectionSchema& s) { EXPECT_EQ(FindPartitionKeyField(s)->name(), "tenant"); }});

  cases.push_back({"VarCharPartitionKeyKeepsRequestedPartitions", WithPartitionKey(spb::VarChar), {4, 1024},
                   {"id", "vec", "title", "tenant"}, {4, 1024}});

  cases.push_back({"ClusteringKey",
                   [] {
                     spb::CollectionSchema s = BaseSchema();
                     FieldNamed(&s, "title")->set_is_clustering_key(true);
                     return s;
                   }(),
                   {0, 0}, {"id", "vec", "title"}, {1, 0}});

  cases.push_back({"NullablesAndDefaults", WithNullablesAndDefaults(), {0, 0},
                   {"id", "vec", "title", "flag", "i8", "i16", "i32", "i64", "f32", "f64", "note", "plain", "doc"},
                   {1, 0},
                   [](const spb::CollectionSchema& s) {
                     EXPECT_TRUE(FieldNamed(s, "flag").default_value().bool_data());
                     EXPECT_EQ(FieldNamed(s, "i8").default_value().int_data(), -128);
                     EXPECT_TRUE(FieldNamed(s, "i8").nullable());
                     EXPECT_EQ(FieldNamed(s, "i64").default_value().long_data(), 1LL << 40);
                     EXPECT_EQ(FieldNamed(s, "note").default_value().string_data(), "hello");
                     EXPECT_FALSE(FieldNamed(s, "plain").has_default_value());
                     EXPECT_TRUE(FieldNamed(s, "doc").nullable());
                   }});

  cases.push_back({"UserFieldIdsAreReplaced",
                   [] {
                     spb::CollectionSchema s = BaseSchema();
                     s.mutable_fields(0)->set_fieldid(7);
                     s.mutable_fields(2)->set_fieldid(100);
                     return s;
                   }(),
                   {0, 0}, {"id", "vec", "title"}, {1, 0}});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Schemas, ValidSchemaTest, testing::ValuesIn(ValidCases()),
                         [](const testing::TestParamInfo<ValidCase>& info) { return info.param.label; });

// ---- Invalid schemas -------------------------------------------------------------------

using Mutation = std::function<void(spb::CollectionSchema*, CreateCollectionOptions*)>;

struct InvalidCase {
  std::string label;
  Mutation mutate;  // applied to BaseSchema() and default options
  Code code;
  std::string reason_part;
};

class InvalidSchemaTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidSchemaTest, IsRejectedLikeMilvus) {
  const InvalidCase& c = GetParam();
  spb::CollectionSchema schema = BaseSchema();
  CreateCollectionOptions options;
  c.mutate(&schema, &options);
  Status status = ValidateAndNormalizeSchema(&schema, &options);
  EXPECT_EQ(status.code(), c.code) << status.ToString();
  EXPECT_NE(status.reason().find(c.reason_part), std::string::npos) << status.reason();
}

// Mutation helpers: each names the change it makes to the base schema.
Mutation AddField(spb::FieldSchema field) {
  return [field](spb::CollectionSchema* s, CreateCollectionOptions*) { *s->add_fields() = field; };
}

Mutation ReplaceField(const std::string& name, spb::FieldSchema field) {
  return [name, field](spb::CollectionSchema* s, CreateCollectionOptions*) { *FieldNamed(s, name) = field; };
}

Mutation EditField(const std::string& name, std::function<void(spb::FieldSchema*)> edit) {
  return [name, edit](spb::CollectionSchema* s, CreateCollectionOptions*) { edit(FieldNamed(s, name)); };
}

Mutation WithDefault(const std::string& name, std::function<void(spb::ValueField*)> set) {
  return EditField(name, [set](spb::FieldSchema* f) { set(f->mutable_default_value()); });
}

Mutation Both(Mutation first, Mutation second) {
  return [first, second](spb::CollectionSchema* s, CreateCollectionOptions* o) {
    first(s, o);
    second(s, o);
  };
}

spb::FieldSchema PartitionKey(spb::FieldSchema field) {
  field.set_is_partition_key(true);
  return field;
}

spb::FieldSchema ClusteringKey(spb::FieldSchema field) {
  field.set_is_clustering_key(true);
  return field;
}

std::vector<InvalidCase> InvalidCases() {
  const Code kPlain = Code::kUnexpected;  // Milvus answers these with an untyped error
  return {
      // Limits and overall shape.
      {"TooManyShards", [](auto*, auto* o) { o->shards_num = 17; }, kPlain,
       "maximum shards's number should be limited to 16"},
      {"TooManyFields",
       [](auto* s, auto*) {
         for (int i = 0; i < 62; ++i) *s->add_fields() = MakeField("f" + std::to_string(i), spb::Int32);
       },
       kPlain, "maximum field's number should be limited to 64"},
      {"TooManyVectorFields",
       [](auto* s, auto*) {
         for (int i = 0; i < 4; ++i) *s->add_fields() = Vector("v" + std::to_string(i));
       },
       kPlain, "maximum vector field's number should be limited to 4"},
      {"NoVectorField", [](auto* s, auto*) { s->mutable_fields()->DeleteSubrange(1, 1); }, Code::kParameterInvalid,
       "schema does not contain vector field: invalid parameter"},
      {"InvalidCollectionName", [](auto* s, auto*) { s->set_name("1books"); }, Code::kParameterInvalid,
       "the first character of a collection name must be an underscore or letter"},
      {"Functions", [](auto* s, auto*) { s->add_functions()->set_name("bm25"); }, Code::kServiceUnimplemented,
       "functions"},
      {"StructArrayFields", [](auto* s, auto*) { s->add_struct_array_fields()->set_name("st"); },
       Code::kServiceUnimplemented, "struct array fields"},

      // Primary key, auto id, dynamic flag.
      {"NoPrimaryKey", EditField("id", [](auto* f) { f->set_is_primary_key(false); }), kPlain,
       "primary key is not specified"},
      {"TwoPrimaryKeys", AddField(PrimaryKey("id2")), kPlain,
       "there are more than one primary key, field name = id, id2"},
      {"FloatPrimaryKey", ReplaceField("id", PrimaryKey("id", spb::Float)), kPlain,
       "the data type of primary key should be Int64 or VarChar"},
      {"VarCharPrimaryKeyWithoutMaxLength", ReplaceField("id", PrimaryKey("id", spb::VarChar)), kPlain,
       "type param(max_length) should be specified for varChar field(id) of collection books"},
      {"UserDynamicField", EditField("title", [](auto* f) { f->set_is_dynamic(true); }), kPlain,
       "cannot explicitly set a field as a dynamic field"},
      {"AutoIdOnNonPrimaryField", EditField("title", [](auto* f) { f->set_autoid(true); }), kPlain,
       "only primary field can speficy AutoID with true, field name = title"},

      // Field types.
      {"StringType", AddField(MakeField("s", spb::String)), kPlain,
       "string data type not supported yet, please use VarChar type instead"},
      {"NoneType", AddField(MakeField("n", spb::None)), kPlain, "data type None is not valid"},
      {"UnknownType", AddField(MakeField("u", static_cast<spb::DataType>(300))), Code::kParameterInvalid,
       "field data type: 300 is not supported"},
      {"GeometryType", AddField(MakeField("geo", spb::Geometry)), Code::kParameterInvalid,
       "field data type Geometry of field geo is not supported by Quiver"},
      {"ArrayOfJson", AddField(ArrayOf("a", spb::JSON, {{"max_capacity", "4"}})), kPlain,
       "element type JSON is not supported"},
      {"ArrayWithoutElementType", AddField(ArrayOf("a", spb::None, {{"max_capacity", "4"}})), kPlain,
       "element data type None is not valid"},

      // Partition key and num_partitions.
      {"TwoPartitionKeys",
       Both(AddField(PartitionKey(MakeField("a", spb::Int64))), AddField(PartitionKey(MakeField("b", spb::Int64)))),
       kPlain, "there are more than one partition key, field name = a, b"},
      {"PartitionKeyOnPrimaryKey", EditField("id", [](auto* f) { f->set_is_partition_key(true); }), kPlain,
       "the partition key field must not be primary field"},
      {"NullablePartitionKey",
       AddField([] {
         spb::FieldSchema f = PartitionKey(MakeField("tenant", spb::Int64));
         f.set_nullable(true);
         return f;
       }()),
       Code::kParameterInvalid, "partition key field not support nullable: invalid parameter"},
      {"FloatPartitionKey", AddField(PartitionKey(MakeField("tenant", spb::Float))), kPlain,
       "the data type of partition key should be Int64 or VarChar"},
      {"NegativePartitionCount",
       Both(AddField(PartitionKey(MakeField("tenant", spb::Int64))), [](auto*, auto* o) { o->num_partitions = -1; }),
       kPlain, "the specified partitions should be greater than 0 if partition key is used"},
      {"TooManyPartitions",
       Both(AddField(PartitionKey(MakeField("tenant", spb::Int64))),
            [](auto*, auto* o) { o->num_partitions = 1025; }),
       Code::kParameterInvalid, "partition number (1025) exceeds max configuration (1024): invalid parameter"},
      {"PartitionCountWithoutPartitionKey", [](auto*, auto* o) { o->num_partitions = 4; }, kPlain,
       "num_partitions should only be specified with partition key field enabled"},

      // Clustering key.
      {"JsonClusteringKey", AddField(ClusteringKey(MakeField("doc", spb::JSON))), Code::kCollectionIllegalSchema,
       "clustering key field doc has unsupported data type JSON: illegal collection schema[collection=books]"},
      {"VectorClusteringKey", EditField("vec", [](auto* f) { f->set_is_clustering_key(true); }),
       Code::kCollectionIllegalSchema, "vector clustering key not allowed"},
      {"TwoClusteringKeys",
       Both(AddField(ClusteringKey(MakeField("a", spb::Int64))), AddField(ClusteringKey(MakeField("b", spb::Int64)))),
       Code::kCollectionIllegalSchema, "there are more than one clustering key, field name = a, b"},

      // Field names.
      {"FieldNameStartsWithDigit", AddField(MakeField("1st", spb::Int64)), Code::kFieldInvalidName,
       "The first character of a field name must be an underscore or letter.: field name invalid[field=1st]"},
      {"FieldNamedMeta", AddField(MakeField("$meta", spb::JSON)), Code::kFieldInvalidName,
       "field name invalid[field=$meta]"},
      {"FieldNamedKeyword", AddField(MakeField("exists", spb::Int64)), Code::kFieldInvalidName,
       "exists is keyword in milvus."},
      {"DuplicateFieldName", AddField(VarChar("title")), kPlain, "duplicated field name title found"},
      {"SystemFieldName", AddField(MakeField("Timestamp", spb::Int64)), Code::kParameterInvalid,
       "schema contains system field: RowID, Timestamp, $meta: invalid parameter[expected=schema don't contains "
       "system field][actual=contains]"},

      // Vector dimensions.
      {"MissingDim", ReplaceField("vec", MakeField("vec", spb::FloatVector)), kPlain,
       "dimension is not defined in field type params of field vec, check type param `dim` for vector field"},
      {"NonNumericDim", ReplaceField("vec", Vector("vec", spb::FloatVector, "abc")), kPlain,
       "strconv.ParseInt: parsing \"abc\": invalid syntax"},
      {"HugeDim", ReplaceField("vec", Vector("vec", spb::FloatVector, "99999999999999999999")), kPlain,
       "value out of range"},
      {"DimOne", ReplaceField("vec", Vector("vec", spb::Float16Vector, "1")), kPlain,
       "invalid dimension: 1. should be in range 2 ~ 32768"},
      {"FloatDimTooLarge", ReplaceField("vec", Vector("vec", spb::FloatVector, "32769")), kPlain,
       "invalid dimension: 32769 of field vec. float vector dimension should be in range 2 ~ 32768"},
      {"Int8DimTooLarge", ReplaceField("vec", Vector("vec", spb::Int8Vector, "32776")), kPlain,
       "float vector dimension should be in range 2 ~ 32768"},
      {"BinaryDimNotMultipleOf8", ReplaceField("vec", Vector("vec", spb::BinaryVector, "12")), kPlain,
       "invalid dimension: 12 of field vec. binary vector dimension should be multiple of 8."},
      {"BinaryDimTooLarge", ReplaceField("vec", Vector("vec", spb::BinaryVector, "262152")), kPlain,
       "binary vector dimension should be in range 2 ~ 262144"},
      {"SparseWithDim", ReplaceField("vec", Vector("vec", spb::SparseFloatVector, "8")), kPlain,
       "dim should not be specified for sparse vector field vec(0)"},

      // VarChar and Array type params.
      {"VarCharWithoutMaxLength", ReplaceField("title", MakeField("title", spb::VarChar)), kPlain,
       "type param(max_length) should be specified for varChar field(title) of collection books"},
      {"VarCharMaxLengthTooLarge", ReplaceField("title", VarChar("title", "65536")), Code::kParameterInvalid,
       "the maximum length specified for a VarChar field(title) should be in (0, 65535], but got 65536 instead: "
       "invalid parameter"},
      {"VarCharMaxLengthZero", ReplaceField("title", VarChar("title", "0")), Code::kParameterInvalid,
       "but got 0 instead"},
      {"ArrayWithoutCapacity", AddField(ArrayOf("tags", spb::Int64, {})), kPlain,
       "type param(max_capacity) should be specified for array field tags of collection books"},
      {"ArrayCapacityTooLarge", AddField(ArrayOf("tags", spb::Int64, {{"max_capacity", "4097"}})), kPlain,
       "the maximum capacity specified for a Array should be in (0, 4096]"},
      {"ArrayCapacityNotInteger", AddField(ArrayOf("tags", spb::Int64, {{"max_capacity", "many"}})), kPlain,
       "the value for max_capacity of field tags must be an integer"},
      {"VarCharArrayWithoutMaxLength", AddField(ArrayOf("tags", spb::VarChar, {{"max_capacity", "4"}})), kPlain,
       "type param(max_length) should be specified for varChar field(tags) of collection books"},
      {"DuplicateTypeParam",
       EditField("vec",
                 [](auto* f) {
                   auto* kv = f->add_type_params();
                   kv->set_key("dim");
                   kv->set_value("16");
                 }),
       Code::kParameterInvalid, "duplicated type param key \"dim\": invalid parameter"},

      // Nullable and default values.
      {"NullablePrimaryKey", EditField("id", [](auto* f) { f->set_nullable(true); }), Code::kParameterInvalid,
       "primary field not support null, type:Int64, name:id: invalid parameter"},
      {"NullableVector", EditField("vec", [](auto* f) { f->set_nullable(true); }), Code::kParameterInvalid,
       "vector type not support null, type:FloatVector, name:vec"},
      {"DefaultOnPrimaryKey", WithDefault("id", [](auto* v) { v->set_long_data(1); }), Code::kParameterInvalid,
       "primary field not support default_value, type:Int64, name:id"},
      {"DefaultOnVector", WithDefault("vec", [](auto* v) { v->set_float_data(2); }), Code::kParameterInvalid,
       "type not support default_value, type:FloatVector, name:vec"},
      {"DefaultOnJson",
       Both(AddField(MakeField("doc", spb::JSON)), WithDefault("doc", [](auto* v) { v->set_bytes_data("{}"); })),
       Code::kParameterInvalid, "type not support default_value, type:JSON, name:doc"},
      {"DefaultOnArray",
       Both(AddField(ArrayOf("tags", spb::Int64, {{"max_capacity", "4"}})),
            WithDefault("tags", [](auto* v) { v->set_long_data(1); })),
       Code::kParameterInvalid, "type not support default_value, type:Array, name:tags"},
      {"Int32FieldWithLongDefault",
       Both(AddField(MakeField("count", spb::Int32)), WithDefault("count", [](auto* v) { v->set_long_data(2); })),
       Code::kParameterInvalid,
       "type (Int32) of field (count) is not equal to the type(DataType_Int64) of default_value"},
      {"VarCharFieldWithIntDefault", WithDefault("title", [](auto* v) { v->set_int_data(2); }),
       Code::kParameterInvalid,
       "type (VarChar) of field (title) is not equal to the type(DataType_Int) of default_value"},
      {"Int8DefaultOutOfRange",
       Both(AddField(MakeField("small", spb::Int8)), WithDefault("small", [](auto* v) { v->set_int_data(128); })),
       Code::kParameterInvalid, "default value out of range: invalid parameter[128 out of range -128 <= value <= 127]"},
      {"Int16DefaultOutOfRange",
       Both(AddField(MakeField("mid", spb::Int16)), WithDefault("mid", [](auto* v) { v->set_int_data(-32769); })),
       Code::kParameterInvalid, "[-32769 out of range -32768 <= value <= 32767]"},
      {"VarCharDefaultTooLong",
       Both(ReplaceField("title", VarChar("title", "2")),
            WithDefault("title", [](auto* v) { v->set_string_data("defaultaaaaaaaaa"); })),
       Code::kParameterInvalid, "the length (16) of string exceeds max length (2)"},
  };
}

INSTANTIATE_TEST_SUITE_P(Schemas, InvalidSchemaTest, testing::ValuesIn(InvalidCases()),
                         [](const testing::TestParamInfo<InvalidCase>& info) { return info.param.label; });

// ---- Helpers ---------------------------------------------------------------------------

TEST(TypeParamIntTest, ReadsIntegersAndRejectsEverythingElse) {
  spb::FieldSchema field = MakeField("f", spb::FloatVector, {{"dim", "128"}, {"max_length", "x"}, {"neg", "-3"}});
  EXPECT_EQ(TypeParamInt(field, "dim"), 128);
  EXPECT_EQ(TypeParamInt(field, "neg"), -3);
  EXPECT_EQ(TypeParamInt(field, "max_length"), std::nullopt);
  EXPECT_EQ(TypeParamInt(field, "max_capacity"), std::nullopt);
}

TEST(VectorTypeTest, SparseIsAVectorWithoutDim) {
  EXPECT_TRUE(IsVectorType(spb::SparseFloatVector));
  EXPECT_FALSE(IsDenseVectorType(spb::SparseFloatVector));
  EXPECT_TRUE(IsDenseVectorType(spb::Int8Vector));
  EXPECT_FALSE(IsVectorType(spb::Array));
}

}  // namespace
}  // namespace quiver::proxy
