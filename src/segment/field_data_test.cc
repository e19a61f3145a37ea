#include "segment/field_data.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace quiver::segment {
namespace {

spb::FieldSchema Field(const std::string& name, spb::DataType type, int64_t dim = 0) {
  spb::FieldSchema field;
  field.set_name(name);
  field.set_fieldid(100);
  field.set_data_type(type);
  if (dim > 0) {
    auto* param = field.add_type_params();
    param->set_key("dim");
    param->set_value(std::to_string(dim));
  }
  return field;
}

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// One row rendered through the typed accessor that matches the column's type.
std::string RowText(const spb::FieldData& column, int64_t row) {
  switch (column.type()) {
    case spb::Bool:
    case spb::Int8:
    case spb::Int16:
    case spb::Int32:
    case spb::Int64: return std::to_string(IntAt(column, row));
    case spb::Float:
    case spb::Double: return Number(FloatAt(column, row));
    case spb::VarChar: return std::string(StringAt(column, row));
    case spb::JSON: return std::string(JsonAt(column, row));
    case spb::Array: {
      std::string text;
      for (int64_t value : ArrayAt(column, row).long_data().data()) text += std::to_string(value) + ";";
      return text;
    }
    case spb::FloatVector: {
      std::string text;
      const float* values = FloatVectorAt(column, row);
      for (int64_t i = 0; i < column.vectors().dim(); ++i) text += Number(values[i]) + ";";
      return text;
    }
    default: return std::string(VectorBytesAt(column, row));
  }
}

struct TypeCase {
  std::string name;
  spb::FieldSchema field;
  spb::FieldData column;              // three rows
  std::vector<std::string> expected;  // RowText of each row
};

spb::ScalarField LongArray(std::vector<int64_t> values) {
  spb::ScalarField array;
  for (int64_t value : values) array.mutable_long_data()->add_data(value);
  return array;
}

std::vector<TypeCase> EveryType() {
  std::vector<TypeCase> cases;
  auto add = [&](std::string name, spb::FieldSchema field, auto fill, std::vector<std::string> expected) {
    spb::FieldData column = EmptyColumn(field);
    fill(&column);
    cases.push_back({std::move(name), std::move(field), std::move(column), std::move(expected)});
  };
  add("Bool", Field("b", spb::Bool),
      [](spb::FieldData* c) {
        for (bool v : {true, false, true}) c->mutable_scalars()->mutable_bool_data()->add_data(v);
      },
      {"1", "0", "1"});
  add("Int8", Field("i8", spb::Int8),
      [](spb::FieldData* c) {
        for (int v : {-8, 0, 127}) c->mutable_scalars()->mutable_int_data()->add_data(v);
      },
      {"-8", "0", "127"});
  add("Int16", Field("i16", spb::Int16),
      [](spb::FieldData* c) {
        for (int v : {-300, 1, 300}) c->mutable_scalars()->mutable_int_data()->add_data(v);
      },
      {"-300", "1", "300"});
  add("Int32", Field("i32", spb::Int32),
      [](spb::FieldData* c) {
        for (int v : {-70000, 2, 70000}) c->mutable_scalars()->mutable_int_data()->add_data(v);
      },
      {"-70000", "2", "70000"});
  add("Int64", Field("i64", spb::Int64),
      [](spb::FieldData* c) {
        for (int64_t v : {-(int64_t{1} << 40), int64_t{3}, int64_t{1} << 40}) {
          c->mutable_scalars()->mutable_long_data()->add_data(v);
        }
      },
      {"-1099511627776", "3", "1099511627776"});
  add("Float", Field("f", spb::Float),
      [](spb::FieldData* c) {
        for (float v : {1.5f, -2.25f, 0.0f}) c->mutable_scalars()->mutable_float_data()->add_data(v);
      },
      {"1.5", "-2.25", "0"});
  add("Double", Field("d", spb::Double),
      [](spb::FieldData* c) {
        for (double v : {1e300, -0.5, 3.25}) c->mutable_scalars()->mutable_double_data()->add_data(v);
      },
      {"1e+300", "-0.5", "3.25"});
  add("VarChar", Field("s", spb::VarChar),
      [](spb::FieldData* c) {
        for (const char* v : {"a", "", "h\xc3\xa9llo"}) c->mutable_scalars()->mutable_string_data()->add_data(v);
      },
      {"a", "", "h\xc3\xa9llo"});
  add("JSON", Field("j", spb::JSON),
      [](spb::FieldData* c) {
        for (const char* v : {R"({"a":1})", "[]", R"("x")"}) c->mutable_scalars()->mutable_json_data()->add_data(v);
      },
      {R"({"a":1})", "[]", R"("x")"});
  spb::FieldSchema array_field = Field("arr", spb::Array);
  array_field.set_element_type(spb::Int64);
  add("Array", array_field,
      [](spb::FieldData* c) {
        auto* rows = c->mutable_scalars()->mutable_array_data();
        *rows->add_data() = LongArray({1, 2});
        *rows->add_data() = LongArray({});
        *rows->add_data() = LongArray({3});
      },
      {"1;2;", "", "3;"});
  add("FloatVector", Field("fv", spb::FloatVector, 2),
      [](spb::FieldData* c) {
        for (float v : {1, 2, 3, 4, 5, 6}) c->mutable_vectors()->mutable_float_vector()->add_data(v);
      },
      {"1;2;", "3;4;", "5;6;"});
  add("BinaryVector", Field("bv", spb::BinaryVector, 16),
      [](spb::FieldData* c) { c->mutable_vectors()->set_binary_vector("\x01\x02\x03\x04\x05\x06"); },
      {"\x01\x02", "\x03\x04", "\x05\x06"});
  add("Float16Vector", Field("hv", spb::Float16Vector, 2),
      [](spb::FieldData* c) { c->mutable_vectors()->set_float16_vector("aaaabbbbcccc"); }, {"aaaa", "bbbb", "cccc"});
  add("BFloat16Vector", Field("bf", spb::BFloat16Vector, 2),
      [](spb::FieldData* c) { c->mutable_vectors()->set_bfloat16_vector("ddddeeeeffff"); }, {"dddd", "eeee", "ffff"});
  add("Int8Vector", Field("iv", spb::Int8Vector, 3),
      [](spb::FieldData* c) { c->mutable_vectors()->set_int8_vector("ghijklmno"); }, {"ghi", "jkl", "mno"});
  add("SparseFloatVector", Field("sv", spb::SparseFloatVector),
      [](spb::FieldData* c) {
        auto* sparse = c->mutable_vectors()->mutable_sparse_float_vector();
        sparse->set_dim(9);
        for (const char* row : {"pair0001", "", "pair0002pair0003"}) sparse->add_contents(row);
      },
      {"pair0001", "", "pair0002pair0003"});
  return cases;
}

TEST(FieldDataTest, EmptyColumnCarriesIdentityAndLayout) {
  spb::FieldSchema vector_field = Field("embedding", spb::FloatVector, 8);
  vector_field.set_fieldid(107);
  spb::FieldData column = EmptyColumn(vector_field);
  EXPECT_EQ(column.field_name(), "embedding");
  EXPECT_EQ(column.field_id(), 107);
  EXPECT_EQ(column.type(), spb::FloatVector);
  EXPECT_EQ(column.vectors().dim(), 8);
  EXPECT_TRUE(column.vectors().has_float_vector());
  EXPECT_EQ(RowCount(column), 0);

  spb::FieldSchema array_field = Field("tags", spb::Array);
  array_field.set_element_type(spb::VarChar);
  EXPECT_EQ(EmptyColumn(array_field).scalars().array_data().element_type(), spb::VarChar);
  EXPECT_TRUE(EmptyColumn(Field("n", spb::Int16)).scalars().has_int_data());
}

TEST(FieldDataTest, EveryTypeReadsBackAppendsAndGathers) {
  for (const TypeCase& test : EveryType()) {
    SCOPED_TRACE(test.name);
    ASSERT_EQ(RowCount(test.column), 3);
    for (int64_t row = 0; row < 3; ++row) EXPECT_EQ(RowText(test.column, row), test.expected[row]) << "row " << row;

    spb::FieldData appended = EmptyColumn(test.field);
    ASSERT_TRUE(AppendRows(test.column, &appended).ok());
    ASSERT_TRUE(AppendRows(test.column, &appended).ok());
    ASSERT_EQ(RowCount(appended), 6);
    for (int64_t row = 0; row < 6; ++row) EXPECT_EQ(RowText(appended, row), test.expected[row % 3]) << "row " << row;

    spb::FieldData gathered;  // uninitialised: takes the source's type and layout
    const std::vector<int64_t> rows = {2, 0, 2};
    GatherRows(appended, rows, &gathered);
    ASSERT_EQ(RowCount(gathered), 3);
    EXPECT_EQ(gathered.type(), test.column.type());
    for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(RowText(gathered, i), test.expected[rows[i]]) << "row " << i;
  }
}

TEST(FieldDataTest, AppendRefusesAnotherTypeOrDim) {
  spb::FieldData ints = EmptyColumn(Field("a", spb::Int64));
  spb::FieldData strings = EmptyColumn(Field("a", spb::VarChar));
  strings.mutable_scalars()->mutable_string_data()->add_data("x");
  Status status = AppendRows(strings, &ints);
  EXPECT_EQ(status.code(), Code::kParameterInvalid);

  spb::FieldData dim4 = EmptyColumn(Field("v", spb::FloatVector, 4));
  spb::FieldData dim2 = EmptyColumn(Field("v", spb::FloatVector, 2));
  dim2.mutable_vectors()->mutable_float_vector()->add_data(1);
  dim2.mutable_vectors()->mutable_float_vector()->add_data(2);
  EXPECT_EQ(AppendRows(dim2, &dim4).code(), Code::kParameterInvalid);
  EXPECT_EQ(RowCount(dim4), 0);
}

TEST(FieldDataTest, AppendKeepsValidityAligned) {
  spb::FieldSchema field = Field("n", spb::Int64);
  field.set_nullable(true);
  spb::FieldData plain = EmptyColumn(field);  // no valid_data: every row valid
  plain.mutable_scalars()->mutable_long_data()->add_data(1);
  plain.mutable_scalars()->mutable_long_data()->add_data(2);

  spb::FieldData with_null = EmptyColumn(field);
  with_null.mutable_scalars()->mutable_long_data()->add_data(3);
  with_null.mutable_scalars()->mutable_long_data()->add_data(0);
  with_null.add_valid_data(true);
  with_null.add_valid_data(false);

  spb::FieldData column = EmptyColumn(field);
  ASSERT_TRUE(AppendRows(plain, &column).ok());
  ASSERT_TRUE(AppendRows(with_null, &column).ok());
  ASSERT_TRUE(AppendRows(plain, &column).ok());
  ASSERT_EQ(RowCount(column), 6);
  ASSERT_EQ(column.valid_data_size(), 6);
  std::vector<bool> nulls;
  for (int64_t row = 0; row < 6; ++row) nulls.push_back(IsNull(column, row));
  EXPECT_EQ(nulls, (std::vector<bool>{false, false, false, true, false, false}));
  EXPECT_EQ(IntAt(column, 4), 1);
}

TEST(FieldDataTest, AppendRefusesCompressedNullableColumns) {
  spb::FieldSchema field = Field("n", spb::Int64);
  field.set_nullable(true);
  spb::FieldData compressed = EmptyColumn(field);
  compressed.mutable_scalars()->mutable_long_data()->add_data(7);
  compressed.add_valid_data(false);
  compressed.add_valid_data(true);
  spb::FieldData column = EmptyColumn(field);
  EXPECT_EQ(AppendRows(compressed, &column).code(), Code::kParameterInvalid);
}

TEST(FieldDataTest, GatherCarriesNulls) {
  spb::FieldSchema field = Field("s", spb::VarChar);
  field.set_nullable(true);
  spb::FieldData column = EmptyColumn(field);
  for (const char* value : {"a", "", "c"}) column.mutable_scalars()->mutable_string_data()->add_data(value);
  for (bool valid : {true, false, true}) column.add_valid_data(valid);

  spb::FieldData picked;
  const std::vector<int64_t> rows = {1, 2};
  GatherRows(column, rows, &picked);
  ASSERT_EQ(RowCount(picked), 2);
  EXPECT_TRUE(IsNull(picked, 0));
  EXPECT_FALSE(IsNull(picked, 1));
  EXPECT_EQ(StringAt(picked, 1), "c");
}

TEST(FieldDataTest, OverwriteRowReplacesOneValue) {
  for (const TypeCase& test : EveryType()) {
    SCOPED_TRACE(test.name);
    if (test.field.data_type() == spb::SparseFloatVector) continue;  // rows differ in size
    spb::FieldData column = test.column;
    OverwriteRow(test.column, 2, &column, 0);
    EXPECT_EQ(RowText(column, 0), test.expected[2]);
    EXPECT_EQ(RowText(column, 1), test.expected[1]);
    EXPECT_EQ(RowText(column, 2), test.expected[2]);
  }
}

// --- NormalizeNullable: the forms SDKs send ---

spb::FieldSchema Nullable(spb::DataType type) {
  spb::FieldSchema field = Field("x", type);
  field.set_nullable(true);
  return field;
}

spb::FieldData LongColumn(std::vector<int64_t> values, std::vector<bool> valid) {
  spb::FieldData column = EmptyColumn(Field("x", spb::Int64));
  for (int64_t value : values) column.mutable_scalars()->mutable_long_data()->add_data(value);
  for (bool v : valid) column.add_valid_data(v);
  return column;
}

std::vector<int64_t> Longs(const spb::FieldData& column) {
  return {column.scalars().long_data().data().begin(), column.scalars().long_data().data().end()};
}

TEST(NormalizeNullableTest, ExpandsCompressedValues) {
  spb::FieldData column = LongColumn({5, 7}, {true, false, true, false});
  ASSERT_TRUE(NormalizeNullable(Nullable(spb::Int64), 4, &column).ok());
  EXPECT_EQ(Longs(column), (std::vector<int64_t>{5, 0, 7, 0}));
  EXPECT_EQ(RowCount(column), 4);
  EXPECT_FALSE(IsNull(column, 0));
  EXPECT_TRUE(IsNull(column, 1));
  EXPECT_TRUE(IsNull(column, 3));
}

TEST(NormalizeNullableTest, ExpandsStringsJsonAndArrays) {
  spb::FieldData strings = EmptyColumn(Nullable(spb::VarChar));
  for (const char* value : {"p", "q"}) strings.mutable_scalars()->mutable_string_data()->add_data(value);
  for (bool v : {false, true, false, true}) strings.add_valid_data(v);
  ASSERT_TRUE(NormalizeNullable(Nullable(spb::VarChar), 4, &strings).ok());
  const auto& values = strings.scalars().string_data().data();
  EXPECT_EQ(std::vector<std::string>(values.begin(), values.end()), (std::vector<std::string>{"", "p", "", "q"}));

  spb::FieldSchema array_field = Nullable(spb::Array);
  array_field.set_element_type(spb::Int64);
  spb::FieldData arrays = EmptyColumn(array_field);
  *arrays.mutable_scalars()->mutable_array_data()->add_data() = LongArray({1, 2});
  for (bool v : {false, false, true}) arrays.add_valid_data(v);
  ASSERT_TRUE(NormalizeNullable(array_field, 3, &arrays).ok());
  ASSERT_EQ(RowCount(arrays), 3);
  EXPECT_EQ(ScalarFieldSize(ArrayAt(arrays, 0)), 0);
  EXPECT_EQ(ScalarFieldSize(ArrayAt(arrays, 2)), 2);
  EXPECT_TRUE(IsNull(arrays, 1));
}

TEST(NormalizeNullableTest, KeepsOneEntryPerRowForm) {
  spb::FieldData column = LongColumn({5, 99, 7}, {true, false, true});
  ASSERT_TRUE(NormalizeNullable(Nullable(spb::Int64), 3, &column).ok());
  EXPECT_EQ(Longs(column), (std::vector<int64_t>{5, 99, 7}));
  EXPECT_TRUE(IsNull(column, 1));
}

TEST(NormalizeNullableTest, AllNullColumnSentWithoutValues) {
  spb::FieldData column = LongColumn({}, {false, false});
  ASSERT_TRUE(NormalizeNullable(Nullable(spb::Int64), 2, &column).ok());
  EXPECT_EQ(Longs(column), (std::vector<int64_t>{0, 0}));
  EXPECT_TRUE(IsNull(column, 0) && IsNull(column, 1));
}

TEST(NormalizeNullableTest, AddsValidityToNullableColumnSentWithout) {
  spb::FieldData column = LongColumn({1, 2}, {});
  ASSERT_TRUE(NormalizeNullable(Nullable(spb::Int64), 2, &column).ok());
  EXPECT_EQ(column.valid_data_size(), 2);
  EXPECT_FALSE(IsNull(column, 0) || IsNull(column, 1));
}

TEST(NormalizeNullableTest, RefusesLengthsThatFitNeitherForm) {
  spb::FieldData column = LongColumn({1, 2}, {true, false, false});  // 2 values, 1 valid, 3 rows
  const spb::FieldData before = column;
  Status status = NormalizeNullable(Nullable(spb::Int64), 3, &column);
  EXPECT_EQ(status.code(), Code::kParameterInvalid);
  EXPECT_NE(status.reason().find("x"), std::string::npos) << status.reason();
  EXPECT_EQ(column.SerializeAsString(), before.SerializeAsString());

  spb::FieldData short_validity = LongColumn({1, 2}, {true, true});
  EXPECT_EQ(NormalizeNullable(Nullable(spb::Int64), 3, &short_validity).code(), Code::kParameterInvalid);
}

TEST(NormalizeNullableTest, NonNullableField) {
  spb::FieldSchema field = Field("x", spb::Int64);
  spb::FieldData all_valid = LongColumn({1, 2}, {true, true});
  ASSERT_TRUE(NormalizeNullable(field, 2, &all_valid).ok());
  EXPECT_EQ(all_valid.valid_data_size(), 0);

  spb::FieldData with_null = LongColumn({1}, {true, false});
  EXPECT_EQ(NormalizeNullable(field, 2, &with_null).code(), Code::kParameterInvalid);
}

TEST(NormalizeNullableTest, DefaultValueFillsNullRows) {
  spb::FieldSchema field = Field("x", spb::Int64);
  field.mutable_default_value()->set_long_data(42);
  spb::FieldData column = LongColumn({5, 7}, {true, false, true});
  ASSERT_TRUE(NormalizeNullable(field, 3, &column).ok());
  EXPECT_EQ(Longs(column), (std::vector<int64_t>{5, 42, 7}));
  EXPECT_EQ(column.valid_data_size(), 0);  // not nullable: no validity kept

  field.set_nullable(true);
  spb::FieldData nullable = LongColumn({5}, {false, true});
  ASSERT_TRUE(NormalizeNullable(field, 2, &nullable).ok());
  EXPECT_EQ(Longs(nullable), (std::vector<int64_t>{42, 5}));
  EXPECT_FALSE(IsNull(nullable, 0));
}

TEST(NormalizeNullableTest, EmptyJsonIsNull) {
  spb::FieldData column = EmptyColumn(Nullable(spb::JSON));
  for (const char* value : {R"({"a":1})", ""}) column.mutable_scalars()->mutable_json_data()->add_data(value);
  for (bool v : {true, true}) column.add_valid_data(v);  // how the Node SDK sends a null JSON
  ASSERT_TRUE(NormalizeNullable(Nullable(spb::JSON), 2, &column).ok());
  EXPECT_FALSE(IsNull(column, 0));
  EXPECT_TRUE(IsNull(column, 1));
}

TEST(FieldDataTest, ArrayRowHelpers) {
  spb::ScalarField longs = LongArray({1, 2, 3});
  EXPECT_EQ(ScalarFieldSize(longs), 3);
  EXPECT_TRUE(ScalarFieldHasType(longs, spb::Int64));
  EXPECT_FALSE(ScalarFieldHasType(longs, spb::Int32));
  spb::ScalarField ints;
  ints.mutable_int_data()->add_data(1);
  EXPECT_TRUE(ScalarFieldHasType(ints, spb::Int16));
  EXPECT_TRUE(ScalarFieldHasType(spb::ScalarField(), spb::VarChar));
}

TEST(FieldDataTest, BigVectorBatchesAppendWhole) {
  constexpr int kDim = 128;
  constexpr int kRows = 20000;
  spb::FieldSchema field = Field("v", spb::FloatVector, kDim);
  spb::FieldData batch = EmptyColumn(field);
  auto* values = batch.mutable_vectors()->mutable_float_vector()->mutable_data();
  for (int i = 0; i < kRows * kDim; ++i) values->Add(static_cast<float>(i));
  spb::FieldData column = EmptyColumn(field);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(AppendRows(batch, &column).ok());
  ASSERT_EQ(RowCount(column), 5 * kRows);
  EXPECT_EQ(FloatVectorAt(column, kRows + 1)[3], static_cast<float>(kDim + 3));
}

}  // namespace
}  // namespace quiver::segment
