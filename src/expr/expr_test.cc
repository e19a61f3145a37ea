#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "expr/filter.h"
#include "expr/like_pattern.h"
#include "segment/field_data.h"

namespace quiver::expr {
namespace {

constexpr int64_t kRows = 8;

class Columns : public ColumnSource {
 public:
  void Add(spb::FieldData column) { columns_[column.field_id()] = std::move(column); }
  const spb::FieldData* Column(int64_t field_id) const override {
    auto it = columns_.find(field_id);
    return it == columns_.end() ? nullptr : &it->second;
  }

 private:
  std::map<int64_t, spb::FieldData> columns_;
};

spb::FieldSchema* AddField(spb::CollectionSchema* schema, const std::string& name, spb::DataType type,
                           spb::DataType element = spb::None) {
  spb::FieldSchema* field = schema->add_fields();
  field->set_name(name);
  field->set_fieldid(100 + schema->fields_size() - 1);
  field->set_data_type(type);
  field->set_element_type(element);
  return field;
}

spb::FieldData ArrayRow(const std::vector<std::string>& values) {
  spb::FieldData row;
  for (const auto& value : values) row.mutable_scalars()->mutable_string_data()->add_data(value);
  return row;
}

// Eight rows covering every scalar type, nulls, JSON (including a malformed document),
// arrays and dynamic keys. Row i has id i.
struct Dataset {
  spb::CollectionSchema schema;
  Columns columns;

  Dataset() {
    schema.set_enable_dynamic_field(true);
    Longs("id", {0, 1, 2, 3, 4, 5, 6, 7});
    schema.mutable_fields(0)->set_is_primary_key(true);
    Bools("b", {true, false, true, false, true, false, true, false});
    Ints("i8", spb::Int8, {-5, 0, 5, 10, 127, -128, 1, 2});
    Ints("i16", spb::Int16, {100, 200, 300, 400, -100, 0, 1, 2});
    Ints("i32", spb::Int32, {1000, 2000, 3000, 4000, -1, 0, 1, 2});
    Longs("age", {10, 20, 30, 40, 50, 60, 70, 80});
    Floats("f", {1.5f, 2.5f, 3.5f, -1.0f, 0.0f, 100.0f, 1.1f, 2.0f});
    Doubles("d", {0.25, 0.5, 1.0, 2.0, -3.5, 1e10, 1.1, 2.0});
    Strings("name",
            {"apple", "banana", "cherry", "apricot", "", "Apple", "a_b%c", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"});
    NullableLongs("n_age", {1, 3, 5, 6, 7, 8}, {true, false, true, false, true, true, true, true});
    NullableStrings("n_name", {"x", "y", "zz", "x", "x_y", "%"}, {true, true, false, false, true, true, true, true});
    Jsons("meta", spb::JSON,
          {R"({"a":1,"b":{"c":"deep"},"arr":[1,2,3],"s":"hello"})", R"({"a":2,"arr":[4],"s":"help"})",
           R"({"a":3.5,"b":{"c":"shallow"}})", R"({"a":"3","arr":[1,"x"]})", "{}", R"({"a":null,"arr":[]})",
           R"({"a":1,"s":"Hello"})", "{bad"});
    StringArrays("tags",
                 {{"red", "green"}, {"blue"}, {}, {"red", "blue", "green"}, {"green"}, {"red"}, {"x"}, {"red", "red"}});
    LongArrays("nums", {{1, 2, 3}, {}, {5}, {1, 5, 9}, {2, 4}, {7, 8, 9, 10}, {3}, {1}});
    spb::FieldSchema* vec = AddField(&schema, "vec", spb::FloatVector);
    auto* dim = vec->add_type_params();
    dim->set_key("dim");
    dim->set_value("2");
    spb::FieldData vectors = segment::EmptyColumn(*vec);
    for (int i = 0; i < 2 * kRows; ++i) vectors.mutable_vectors()->mutable_float_vector()->add_data(i);
    columns.Add(vectors);
    Jsons("$meta", spb::JSON,
          {R"({"color":"red","size":1})", R"({"color":"blue","size":2})", R"({"color":"red"})", "{}", R"({"size":5})",
           R"({"color":"green","size":6})", R"({"color":"red","size":7,"nested":{"v":[1,2]}})",
           R"({"color":"RED","size":"8"})"},
          /*dynamic=*/true);
    // As the Node SDK sends a nullable JSON column: null rows left out, and an empty value
    // for a JSON null.
    spb::FieldSchema* n_json = AddField(&schema, "n_json", spb::JSON);
    n_json->set_nullable(true);
    spb::FieldData sent = segment::EmptyColumn(*n_json);
    for (const char* value : {R"({"k":1})", R"({"k":2})", R"({"k":null})", R"({"k":3})", R"({"k":[1,2]})", ""}) {
      sent.mutable_scalars()->mutable_json_data()->add_data(value);
    }
    for (bool valid : {true, false, true, false, true, true, true, true}) sent.add_valid_data(valid);
    EXPECT_TRUE(segment::NormalizeNullable(*n_json, kRows, &sent).ok());
    columns.Add(sent);
  }

  template <typename Fill>
  void Column(const std::string& name, spb::DataType type, Fill fill, spb::DataType element = spb::None) {
    spb::FieldData column = segment::EmptyColumn(*AddField(&schema, name, type, element));
    fill(column.mutable_scalars());
    columns.Add(column);
  }
  void Bools(const std::string& name, std::vector<bool> values) {
    Column(name, spb::Bool, [&](spb::ScalarField* s) {
      for (bool v : values) s->mutable_bool_data()->add_data(v);
    });
  }
  void Ints(const std::string& name, spb::DataType type, std::vector<int32_t> values) {
    Column(name, type, [&](spb::ScalarField* s) {
      for (int32_t v : values) s->mutable_int_data()->add_data(v);
    });
  }
  void Longs(const std::string& name, std::vector<int64_t> values) {
    Column(name, spb::Int64, [&](spb::ScalarField* s) {
      for (int64_t v : values) s->mutable_long_data()->add_data(v);
    });
  }
  void Floats(const std::string& name, std::vector<float> values) {
    Column(name, spb::Float, [&](spb::ScalarField* s) {
      for (float v : values) s->mutable_float_data()->add_data(v);
    });
  }
  void Doubles(const std::string& name, std::vector<double> values) {
    Column(name, spb::Double, [&](spb::ScalarField* s) {
      for (double v : values) s->mutable_double_data()->add_data(v);
    });
  }
  void Strings(const std::string& name, std::vector<std::string> values) {
    Column(name, spb::VarChar, [&](spb::ScalarField* s) {
      for (const auto& v : values) s->mutable_string_data()->add_data(v);
    });
  }
  void Jsons(const std::string& name, spb::DataType type, std::vector<std::string> values, bool dynamic = false) {
    spb::FieldSchema* field = AddField(&schema, name, type);
    field->set_is_dynamic(dynamic);
    spb::FieldData column = segment::EmptyColumn(*field);
    for (const auto& v : values) column.mutable_scalars()->mutable_json_data()->add_data(v);
    columns.Add(column);
  }
  void StringArrays(const std::string& name, std::vector<std::vector<std::string>> rows) {
    Column(
        name, spb::Array,
        [&](spb::ScalarField* s) {
          for (const auto& row : rows) *s->mutable_array_data()->add_data() = ArrayRow(row).scalars();
        },
        spb::VarChar);
  }
  void LongArrays(const std::string& name, std::vector<std::vector<int64_t>> rows) {
    Column(
        name, spb::Array,
        [&](spb::ScalarField* s) {
          for (const auto& row : rows) {
            spb::ScalarField* array = s->mutable_array_data()->add_data();
            array->mutable_long_data();
            for (int64_t v : row) array->mutable_long_data()->add_data(v);
          }
        },
        spb::Int64);
  }
  // Nullable columns arrive compressed (values of valid rows only) and are normalized.
  void NullableLongs(const std::string& name, std::vector<int64_t> values, std::vector<bool> valid) {
    spb::FieldSchema* field = AddField(&schema, name, spb::Int64);
    field->set_nullable(true);
    spb::FieldData column = segment::EmptyColumn(*field);
    for (int64_t v : values) column.mutable_scalars()->mutable_long_data()->add_data(v);
    for (bool v : valid) column.add_valid_data(v);
    EXPECT_TRUE(segment::NormalizeNullable(*field, kRows, &column).ok());
    columns.Add(column);
  }
  void NullableStrings(const std::string& name, std::vector<std::string> values, std::vector<bool> valid) {
    spb::FieldSchema* field = AddField(&schema, name, spb::VarChar);
    field->set_nullable(true);
    spb::FieldData column = segment::EmptyColumn(*field);
    for (const auto& v : values) column.mutable_scalars()->mutable_string_data()->add_data(v);
    for (bool v : valid) column.add_valid_data(v);
    EXPECT_TRUE(segment::NormalizeNullable(*field, kRows, &column).ok());
    columns.Add(column);
  }
};

const Dataset& Data() {
  static const Dataset* data = new Dataset();
  return *data;
}

spb::TemplateValue Int64Value(int64_t v) {
  spb::TemplateValue value;
  value.set_int64_val(v);
  return value;
}

TemplateValues Params() {
  TemplateValues params;
  params["x"] = Int64Value(45);
  params["lo"] = Int64Value(10);
  params["hi"] = Int64Value(40);
  params["fl"].set_float_val(2.0);
  params["flag"].set_bool_val(false);
  params["pat"].set_string_val("ch%");
  for (const char* name : {"apple", "cherry"})
    params["names"].mutable_array_val()->mutable_string_data()->add_data(name);
  for (int64_t age : {20, 40}) params["ages"].mutable_array_val()->mutable_long_data()->add_data(age);
  return params;
}

std::vector<int64_t> Matching(const std::string& expression, const TemplateValues& params = Params()) {
  auto filter = CompileFilter(expression, Data().schema, params);
  EXPECT_TRUE(filter.ok()) << filter.status().ToString();
  if (!filter.ok()) return {-1};
  EXPECT_NE(*filter, nullptr);
  std::vector<uint8_t> matches;
  (*filter)->Evaluate(Data().columns, 0, kRows, &matches);
  std::vector<int64_t> rows;
  for (int64_t row = 0; row < kRows; ++row) {
    EXPECT_LE(matches[row], 1);
    if (matches[row]) rows.push_back(row);
  }
  return rows;
}

struct MatchCase {
  std::string expression;
  std::vector<int64_t> rows;
};

const std::vector<int64_t> kAll = {0, 1, 2, 3, 4, 5, 6, 7};

TEST(FilterTest, MatchesTheExpectedRows) {
  const std::vector<MatchCase> cases = {
      // comparisons, logic, ranges
      {"age > 30", {3, 4, 5, 6, 7}},
      {"age >= 30", {2, 3, 4, 5, 6, 7}},
      {"age == 40", {3}},
      {"age != 40", {0, 1, 2, 4, 5, 6, 7}},
      {"age < 25 or age > 65", {0, 1, 6, 7}},
      {"age < 25 || age > 65", {0, 1, 6, 7}},
      {"age > 20 and age < 50", {2, 3}},
      {"age > 20 && age < 50", {2, 3}},
      {"age > 20 AND age < 40", {2}},
      {"not (age > 30)", {0, 1, 2}},
      {"!(age > 30)", {0, 1, 2}},
      {"not age > 30", {0, 1, 2}},
      {"NOT age > 30 OR age == 80", {0, 1, 2, 7}},
      {"10 < age <= 30", {1, 2}},
      {"30 > age >= 10", {0, 1}},
      {"age == 10 or age == 20 or age == 30", {0, 1, 2}},
      {"(age > 50) and (name like \"A%\" or f > 50)", {5}},
      {"age > 10\n and\tage < 30", {1}},
      {"id in [1, 3]", {1, 3}},
      // in
      {"age in [10, 30, 99]", {0, 2}},
      {"age not in [10, 30]", {1, 3, 4, 5, 6, 7}},
      {"age IN [10]", {0}},
      {"age in []", {}},
      {"age in [10.0, 20.5]", {0}},
      // arithmetic and number literals
      {"age + 5 > 60", {5, 6, 7}},
      {"age % 20 == 0", {1, 3, 5, 7}},
      {"age * 2 == 100", {4}},
      {"age / 3 == 10", {2}},
      {"age - 10 < 10", {0}},
      {"2 * age > 150", {7}},
      {"age > 2 ** 5", {3, 4, 5, 6, 7}},
      {"-age < -65", {6, 7}},
      {"age > -1e3", kAll},
      {"age == 1e1", {0}},
      {"age > 0x1e", {3, 4, 5, 6, 7}},
      {"age == 0b1010", {0}},
      {"age == 012", {0}},
      {"age < 25.5", {0, 1}},
      {"age > 100 - 15 * 2 - 5", {6, 7}},
      {"i16 > age", {0, 1, 2, 3}},
      // small integers, bools, floats
      {"i8 < 0", {0, 5}},
      {"i8 == 127", {4}},
      {"i8 > 1000", {}},
      {"i16 >= 300", {2, 3}},
      {"i32 in [1, 2, -1]", {4, 6, 7}},
      {"b == true", {0, 2, 4, 6}},
      {"b == True", {0, 2, 4, 6}},
      {"b != TRUE", {1, 3, 5, 7}},
      {"b in [false]", {1, 3, 5, 7}},
      {"f > 2", {1, 2, 5}},
      {"f == 1.1", {6}},
      {"d == 1.1", {6}},
      {"d == f", {7}},
      {"f <= 0", {3, 4}},
      {"d > 1e9", {5}},
      {"f in [1.5, 2]", {0, 7}},
      // strings and like
      {"name == \"apple\"", {0}},
      {"name == 'apple'", {0}},
      {"name like \"ap%\"", {0, 3}},
      {"name LIKE \"%rry\"", {2}},
      {"name like \"%an%\"", {1}},
      {R"(name like "a\_b\%c")", {6}},
      {R"(name like r"a\_b\%c")", {6}},
      {"name like \"a_p%\"", {0}},
      {"name like \"%\"", kAll},
      {"name like \"\"", {4}},
      {"name like \"_\xe6\x9c\xac%\"", {7}},
      {"name > \"b\"", {1, 2, 7}},
      {"name in [\"apple\", \"Apple\", \"zzz\"]", {0, 5}},
      {R"(name == "\u65e5\u672c\u8a9e")", {7}},
      {"name != \"apple\" and name != \"\"", {1, 2, 3, 5, 6, 7}},
      // nullable fields: a comparison with null is false, and so is its negation
      {"n_age > 2", {2, 4, 5, 6, 7}},
      {"not (n_age > 2)", {0}},
      {"n_age != 1", {2, 4, 5, 6, 7}},
      {"n_age is null", {1, 3}},
      {"n_age IS NOT NULL", {0, 2, 4, 5, 6, 7}},
      {"not (n_age > 2 and age > 100)", kAll},
      {"not (n_age > 2 or age > 100)", {0, 1, 3}},
      {"n_age in [1, 3]", {0, 2}},
      {"n_age not in [1, 3]", {4, 5, 6, 7}},
      {"n_age + 1 > 6", {5, 6, 7}},
      {"n_name like \"x%\"", {0, 5, 6}},
      {"n_name is null", {2, 3}},
      // JSON field; row 7 holds malformed JSON
      {"meta[\"a\"] == 1", {0, 6}},
      {"meta[\"a\"] > 1", {1, 2}},
      {"meta[\"a\"] >= 1.5", {1, 2}},
      {"meta[\"a\"] != 1", {1, 2, 3, 4, 5, 7}},
      {"meta[\"a\"] == \"3\"", {3}},
      {"meta[\"b\"][\"c\"] == \"deep\"", {0}},
      {"meta['b']['c'] like \"sh%\"", {2}},
      {"meta[\"arr\"][0] == 1", {0, 3}},
      {"meta[\"arr\"][1] == \"x\"", {3}},
      {"meta['s'] in [\"hello\", \"Hello\"]", {0, 6}},
      {"meta[\"a\"] in [1, \"3\"]", {0, 3, 6}},
      {"meta[\"arr\"] == [1, 2, 3]", {0}},
      {"json_contains(meta[\"arr\"], 1)", {0, 3}},
      {"json_contains(meta[\"arr\"], \"x\")", {3}},
      {"JSON_CONTAINS(meta[\"arr\"], 4)", {1}},
      {"json_contains_all(meta[\"arr\"], [1, 2])", {0}},
      {"json_contains_any(meta[\"arr\"], [4, \"x\"])", {1, 3}},
      {"array_length(meta[\"arr\"]) == 0", {5}},
      {"array_length(meta[\"arr\"]) >= 1", {0, 1, 3}},
      {"meta[\"a\"] is null", {4, 5, 7}},
      {"meta[\"a\"] is not null", {0, 1, 2, 3, 6}},
      {"exists meta[\"b\"]", {0, 2}},
      {"not (meta[\"a\"] > 1)", {0, 3, 4, 5, 6, 7}},
      {"meta[\"a\"] + 1 == 2", {0, 6}},
      {"meta[\"a\"] % 2 == 1", {0, 6}},
      {"meta[\"s\"] like \"hel%\"", {0, 1}},
      // dynamic field
      {"color == \"red\"", {0, 2, 6}},
      {"$meta[\"color\"] == \"red\"", {0, 2, 6}},
      {"color != \"red\"", {1, 3, 4, 5, 7}},
      {"size > 4", {4, 5, 6}},
      {"size in [1, 2]", {0, 1}},
      {"color like \"r%\"", {0, 2, 6}},
      {"color is null", {3, 4}},
      {"nested[\"v\"][1] == 2", {6}},
      {"json_contains(nested[\"v\"], 1)", {6}},
      {"meta[\"a\"] == 1 and $meta[\"size\"] == 1", {0}},
      // nullable JSON: rows 1 and 3 null, row 7 sent empty
      {"n_json is null", {1, 3, 7}},
      {"n_json[\"k\"] is null", {1, 3, 4, 7}},
      {"not (n_json[\"k\"] > 1)", {0, 4, 6}},
      {"n_json[\"k\"] != 1", {2, 4, 5, 6}},
      {"json_contains(n_json[\"k\"], 2)", {6}},
      // arrays
      {"array_contains(tags, \"red\")", {0, 3, 5, 7}},
      {"array_contains_all(tags, [\"red\", \"green\"])", {0, 3}},
      {"array_contains_any(tags, [\"blue\", \"x\"])", {1, 3, 6}},
      {"array_contains(nums, 5)", {2, 3}},
      {"array_length(nums) == 3", {0, 3}},
      {"ARRAY_LENGTH(tags) == 1", {1, 4, 5, 6}},
      {"array_length(tags) == 0", {2}},
      {"nums[0] == 1", {0, 3, 7}},
      {"nums[1] > 4", {3, 5}},
      {"tags[0] like \"r%\"", {0, 3, 5, 7}},
      {"tags[1] == \"blue\"", {3}},
      {"not (nums[2] > 5)", {0, 1, 2, 4, 6, 7}},
      {"nums[0] in [2, 7]", {4, 5}},
      {"nums == [1, 2, 3]", {0}},
      {"nums[0] + nums[1] > 10", {5}},
      // template parameters
      {"age > {x}", {4, 5, 6, 7}},
      {"name in {names}", {0, 2}},
      {"age in {ages}", {1, 3}},
      {"f > {fl}", {1, 2, 5}},
      {"b == {flag}", {1, 3, 5, 7}},
      {"{lo} < age < {hi}", {1, 2}},
      {"name like {pat}", {2}},
      // constants
      {"1 == 1", kAll},
      {"1 == 2 or age == 10", {0}},
      {"age > 5 and true", kAll},
  };
  for (const MatchCase& test : cases) {
    EXPECT_EQ(Matching(test.expression), test.rows) << test.expression;
  }
}

TEST(FilterTest, BlankExpressionMatchesEverything) {
  for (const char* expression : {"", "   ", "\n\t"}) {
    auto filter = CompileFilter(expression, Data().schema);
    ASSERT_TRUE(filter.ok());
    EXPECT_EQ(*filter, nullptr);
  }
}

TEST(FilterTest, EvaluatesASubrange) {
  auto filter = CompileFilter("age >= 30 and meta[\"a\"] != 1", Data().schema);
  ASSERT_TRUE(filter.ok());
  std::vector<uint8_t> matches;
  (*filter)->Evaluate(Data().columns, 2, 6, &matches);
  EXPECT_EQ(matches, (std::vector<uint8_t>{1, 1, 1, 1}));
  (*filter)->Evaluate(Data().columns, 5, 8, &matches);
  EXPECT_EQ(matches, (std::vector<uint8_t>{1, 0, 1}));
}

TEST(FilterTest, ReportsTheFieldsItReads) {
  auto filter = CompileFilter("color == \"red\" and age > 1 or age < 0", Data().schema);
  ASSERT_TRUE(filter.ok());
  EXPECT_EQ((*filter)->field_ids(), (std::vector<int64_t>{115, 105}));  // $meta, age
}

TEST(FilterTest, PrimaryKeyTerms) {
  auto keys = [](const std::string& expression) {
    auto filter = CompileFilter(expression, Data().schema, Params());
    EXPECT_TRUE(filter.ok()) << filter.status().ToString();
    return PrimaryKeyTerms(**filter);
  };
  ASSERT_TRUE(keys("id in [3, 1, 2]").has_value());
  EXPECT_EQ(keys("id in [3, 1, 2]")->int_id().data_size(), 3);
  EXPECT_EQ(keys("5 == id")->int_id().data(0), 5);
  EXPECT_EQ(keys("id in {ages}")->int_id().data(1), 40);
  EXPECT_FALSE(keys("id > 3").has_value());
  EXPECT_FALSE(keys("id not in [1]").has_value());
  EXPECT_FALSE(keys("id in [1] and age > 1").has_value());

  spb::CollectionSchema strings;
  AddField(&strings, "pk", spb::VarChar)->set_is_primary_key(true);
  auto filter = CompileFilter("pk in [\"a\", \"b\"]", strings);
  ASSERT_TRUE(filter.ok());
  auto string_keys = PrimaryKeyTerms(**filter);
  ASSERT_TRUE(string_keys.has_value());
  EXPECT_EQ(string_keys->str_id().data(1), "b");
}

struct ErrorCase {
  std::string expression;
  int column;
  std::string problem;
};

TEST(FilterTest, RejectsMalformedAndIllTypedExpressions) {
  const std::vector<ErrorCase> cases = {
      {"age >> 5", 6, "syntax error at column 6: unexpected '>'"},
      {"age > ", 7, "unexpected end of expression"},
      {"(age > 5", 9, "expected ')'"},
      {"age > 5)", 8, "unexpected ')'"},
      {"age = 5", 5, "unexpected character '='"},
      {"name == \"abc", 9, "unterminated string"},
      {"\"abc\" @ 1", 7, "unexpected character '@'"},
      {"age > 1 and", 12, "unexpected end of expression"},
      {"age is nul", 8, "expected 'null'"},
      {"meta[a] == 1", 6, "expected a quoted JSON key"},
      {"12abc > 1", 1, "malformed number '12abc'"},
      {"1 < age > 0", 9, "chained comparison"},
      {"name > 5", 6, "comparisons between VarChar and Int64 are not supported"},
      {"b == 1", 3, "comparisons between Bool and Int64 are not supported"},
      {"nums > 1", 6, "comparisons between Array[Int64] and Int64 are not supported"},
      {"age like \"a%\"", 1, "like operation on non-string or no-json field is unsupported"},
      {"name like 5", 11, "the pattern of like must be a string"},
      {"name + 1 > 2", 1, "arithmetic operator '+' cannot be applied to VarChar"},
      {"vec > 1", 1, "filter on FloatVector field (vec) is not supported"},
      {"age > 99999999999999999999", 7, "out of the int64 range"},
      {"9223372036854775807 + 1 > age", 21, "integer overflow"},
      {"age in 5", 8, "the right-hand side of 'in' must be a list"},
      {"age in [1, \"a\"]", 8, "cannot be casted to Int64"},
      {"age > {missing}", 7, "template variable name {missing} is not found"},
      {"age", 1, "predicate is not a boolean expression"},
      {"age and b == true", 1, "'and' can only be used between boolean expressions"},
      {"not age", 5, "'not' can only be applied to a boolean expression"},
      {"age / 0 > 1", 7, "division or modulus by zero"},
      {"f % 2 == 0", 3, "modulo can only apply on integer types"},
      {"age ** 2 > 1", 5, "power can only apply on constants"},
      {"foo(age)", 1, "function foo() is not supported"},
      {"json_contains(age, 1)", 15, "contains operation are only supported on json or array fields"},
      {"json_contains_all(meta[\"arr\"], 1)", 32, "element must be an array"},
      {"array_contains(nums, \"x\")", 22, "cannot be an element of Array[Int64]"},
      {"array_length(age) == 1", 14, "array_length operation are only supported on json or array fields"},
      {"nums[\"a\"] == 1", 1, "can only access array field nums with integer index"},
      {"age[0] == 1", 1, "Int64 field age cannot be accessed with []"},
      {"50 < age < 10", 4, "invalid range: lowerbound is greater than upperbound"},
      {"exists age", 8, "exists operations are only supported on json key"},
      {"(age > 1) == true", 6, "cannot take a boolean expression as operand"},
  };
  for (const ErrorCase& test : cases) {
    auto filter = CompileFilter(test.expression, Data().schema, Params());
    ASSERT_FALSE(filter.ok()) << test.expression;
    const Status& status = filter.status();
    EXPECT_EQ(status.code(), Code::kParameterInvalid) << test.expression;
    EXPECT_EQ(status.reason().rfind("cannot parse expression: \"" + test.expression + "\", error: ", 0), 0)
        << status.reason();
    EXPECT_NE(status.reason().find("at column " + std::to_string(test.column) + ":"), std::string::npos)
        << test.expression << " → " << status.reason();
    EXPECT_NE(status.reason().find(test.problem), std::string::npos) << test.expression << " → " << status.reason();
  }
}

TEST(FilterTest, UnknownFieldWithoutDynamicField) {
  spb::CollectionSchema schema;
  AddField(&schema, "age", spb::Int64);
  auto filter = CompileFilter("age > 1 and color == \"red\"", schema);
  ASSERT_FALSE(filter.ok());
  EXPECT_EQ(filter.status().code(), Code::kParameterInvalid);
  EXPECT_NE(filter.status().reason().find("invalid expression at column 13: field color not exist"), std::string::npos)
      << filter.status().reason();
}

TEST(FilterTest, DeepNestingIsRefusedNotCrashed) {
  const std::string parens = std::string(5000, '(') + "age > 1" + std::string(5000, ')');
  const std::string nots = [] {
    std::string text;
    for (int i = 0; i < 5000; ++i) text += "not ";
    return text + "age > 1";
  }();
  std::string sums = "age > 1";
  for (int i = 0; i < 5000; ++i) sums += " + 1";
  for (const std::string& expression : {parens, nots, sums}) {
    auto filter = CompileFilter(expression, Data().schema);
    ASSERT_FALSE(filter.ok());
    EXPECT_EQ(filter.status().code(), Code::kParameterInvalid);
    EXPECT_NE(filter.status().reason().find("nested deeper than 1000 levels"), std::string::npos);
    EXPECT_LT(filter.status().reason().size(), 400u);  // the expression is cut in the message
  }
  // Up to the limit is fine.
  EXPECT_EQ(Matching(std::string(900, '(') + "age > 70" + std::string(900, ')')), (std::vector<int64_t>{7}));
}

TEST(FilterTest, LongLogicalChainsStayShallow) {
  std::string expression = "age == 10";
  for (int i = 0; i < 20000; ++i) expression += " or age == " + std::to_string(1000 + i);
  EXPECT_EQ(Matching(expression), (std::vector<int64_t>{0}));
}

// Random token soup must compile or fail with a clean 1100 error, and whatever compiles
// must evaluate.
TEST(FilterTest, RandomInputNeverCrashes) {
  const std::vector<std::string> vocabulary = {
      "age",
      "name",
      "f",
      "b",
      "meta",
      "nums",
      "tags",
      "n_age",
      "color",
      "$meta",
      "vec",
      "id",
      "[",
      "]",
      "(",
      ")",
      "{",
      "}",
      "{x}",
      "{names}",
      ",",
      "\"a\"",
      "'r%'",
      "\"\\u00e9\"",
      "0",
      "1",
      "-3",
      "2.5",
      "1e3",
      "0x1f",
      "true",
      "False",
      "==",
      "!=",
      "<",
      "<=",
      ">",
      ">=",
      "+",
      "-",
      "*",
      "/",
      "%",
      "**",
      "and",
      "or",
      "not",
      "&&",
      "||",
      "!",
      "in",
      "not in",
      "like",
      "is null",
      "is not null",
      "exists",
      "json_contains(",
      "array_length(",
      "array_contains_all(",
      "[\"x\"]",
      "[1, 2]",
      "\"",
      "'",
      "\\",
      "=",
      "@",
      "\xff",
      "  ",
  };
  std::mt19937 random(20240611);
  std::uniform_int_distribution<size_t> pick(0, vocabulary.size() - 1);
  std::uniform_int_distribution<int> length(1, 14);
  int compiled = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string expression;
    for (int i = length(random); i > 0; --i) expression += vocabulary[pick(random)] + " ";
    auto filter = CompileFilter(expression, Data().schema, Params());
    if (!filter.ok()) {
      ASSERT_EQ(filter.status().code(), Code::kParameterInvalid) << expression;
      ASSERT_EQ(filter.status().reason().rfind("cannot parse expression: ", 0), 0) << expression;
      continue;
    }
    ++compiled;
    std::vector<uint8_t> matches;
    if (*filter) (*filter)->Evaluate(Data().columns, 0, kRows, &matches);
  }
  std::printf("random expressions that compiled: %d of 20000\n", compiled);
  EXPECT_GT(compiled, 0);

  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 5000; ++round) {
    std::string expression;
    for (int i = length(random) * 3; i > 0; --i) expression += static_cast<char>(byte(random));
    auto filter = CompileFilter(expression, Data().schema);
    if (!filter.ok()) {
      ASSERT_EQ(filter.status().code(), Code::kParameterInvalid);
    }
  }
}

// Random well-formed expressions, some of them then damaged by one edit: whatever
// compiles must evaluate to 0/1 per row, and a negation must never match a row the
// expression matches.
std::string RandomExpression(std::mt19937& random, int depth) {
  auto pick = [&](const std::vector<std::string>& options) { return options[random() % options.size()]; };
  const std::vector<std::string> operands = {"age",
                                             "i8",
                                             "f",
                                             "d",
                                             "name",
                                             "b",
                                             "meta[\"a\"]",
                                             "meta[\"arr\"][0]",
                                             "color",
                                             "size",
                                             "nums[0]",
                                             "tags[1]",
                                             "n_age",
                                             "n_json[\"k\"]",
                                             "id",
                                             "age + 1",
                                             "meta[\"a\"] * 2",
                                             "array_length(nums)",
                                             "-age",
                                             "n_age % 3"};
  const std::vector<std::string> literals = {"0", "-1", "5", "2.5", "\"red\"", "'a'", "true", "1e3", "{x}", "40"};
  const std::vector<std::string> lists = {"[1, 2]", "[]", "[\"red\", \"blue\"]", "[10, 20.5]", "{ages}", "[true]"};
  switch (depth > 3 ? 0 : random() % 5) {
    case 0:
      switch (random() % 6) {
        case 0: return pick(operands) + " " + pick({"==", "!=", "<", "<=", ">", ">="}) + " " + pick(literals);
        case 1: return pick(operands) + pick({" in ", " not in "}) + pick(lists);
        case 2: return pick(operands) + " like " + pick({"\"r%\"", "\"%a_\"", "\"\"", "{pat}"});
        case 3: return pick(operands) + pick({" is null", " is not null"});
        case 4:
          return pick({"json_contains(", "array_contains_any(", "array_contains_all("}) + pick(operands) + ", " +
                 pick(lists) + ")";
        default: return pick(literals) + " < " + pick(operands) + " <= " + pick(literals);
      }
    case 1: return "(" + RandomExpression(random, depth + 1) + ")";
    case 2: return "not " + RandomExpression(random, depth + 1);
    default:
      return RandomExpression(random, depth + 1) + pick({" and ", " or ", " && ", " || "}) +
             RandomExpression(random, depth + 1);
  }
}

TEST(FilterTest, RandomExpressionsEvaluateConsistently) {
  std::mt19937 random(7);
  const std::string damage = "()[]{}\"',=<>!&|%*-+ ";
  int compiled = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string expression = RandomExpression(random, 0);
    if (round % 3 == 0) {
      const size_t at = random() % (expression.size() + 1);
      expression.insert(at, 1, damage[random() % damage.size()]);
    }
    auto filter = CompileFilter(expression, Data().schema, Params());
    if (!filter.ok()) {
      ASSERT_EQ(filter.status().code(), Code::kParameterInvalid) << expression;
      continue;
    }
    ++compiled;
    auto negated = CompileFilter("not (" + expression + ")", Data().schema, Params());
    ASSERT_TRUE(negated.ok()) << expression << ": " << negated.status().ToString();
    std::vector<uint8_t> matches;
    std::vector<uint8_t> negated_matches;
    (*filter)->Evaluate(Data().columns, 0, kRows, &matches);
    (*negated)->Evaluate(Data().columns, 0, kRows, &negated_matches);
    for (int64_t row = 0; row < kRows; ++row) {
      ASSERT_LE(matches[row], 1);
      ASSERT_FALSE(matches[row] && negated_matches[row]) << expression << " row " << row;
    }
  }
  std::printf("random expressions that compiled: %d of 5000\n", compiled);
  EXPECT_GT(compiled, 500);
}

TEST(LikePatternTest, Wildcards) {
  struct Case {
    const char* pattern;
    const char* text;
    bool matches;
  };
  const std::vector<Case> cases = {
      {"abc", "abc", true},      {"abc", "abcd", false},     {"ab%", "abcd", true},       {"%cd", "abcd", true},
      {"%bc%", "abcd", true},    {"%x%", "abcd", false},     {"a%c%e", "abcde", true},    {"a%c%e", "abcdf", false},
      {"a_c", "abc", true},      {"a_c", "ac", false},       {"a__", "a\xc3\xa9x", true}, {"%a%b%", "xxaxxbxx", true},
      {"%%", "", true},          {"a\\%", "a%", true},       {"a\\%", "ab", false},       {"\\_x", "_x", true},
      {"%aab", "aaaab", true},   {"_%_", "a", false},        {"_%_", "ab", true},         {"%a_b", "aaxb", true},
      {"%a_b", "aaxbab", false}, {"a%b%c", "aXbYbZc", true},
  };
  for (const Case& test : cases) {
    EXPECT_EQ(LikePattern(test.pattern).Matches(test.text), test.matches) << test.pattern << " ~ " << test.text;
  }
}

// Not a timing assertion: prints throughput so regressions are visible in test logs.
TEST(FilterBenchmark, RangeAndPrefixOverAMillionRows) {
  constexpr int64_t kMillion = 1000000;
  spb::CollectionSchema schema;
  AddField(&schema, "a", spb::Int64);
  AddField(&schema, "b", spb::VarChar);
  Columns columns;
  spb::FieldData a = segment::EmptyColumn(schema.fields(0));
  spb::FieldData b = segment::EmptyColumn(schema.fields(1));
  for (int64_t i = 0; i < kMillion; ++i) {
    a.mutable_scalars()->mutable_long_data()->add_data(i % 100);
    b.mutable_scalars()->mutable_string_data()->add_data((i % 2 ? "x-" : "y-") + std::to_string(i));
  }
  columns.Add(a);
  columns.Add(b);
  auto filter = CompileFilter("a > 5 and b like \"x%\"", schema);
  ASSERT_TRUE(filter.ok());

  std::vector<uint8_t> matches;
  const auto start = std::chrono::steady_clock::now();
  (*filter)->Evaluate(columns, 0, kMillion, &matches);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int64_t count = 0;
  for (uint8_t match : matches) count += match;
  EXPECT_EQ(count, kMillion / 2 - kMillion / 100 * 3);  // odd i with i % 100 in 1, 3, 5 fail `a > 5`
  std::printf("a > 5 and b like \"x%%\": %.1f M rows/s (%.1f ms for 1M rows)\n", kMillion / seconds / 1e6,
              seconds * 1e3);
}

TEST(FilterBenchmark, DynamicKeysOverJsonRows) {
  constexpr int64_t kJsonRows = 200000;
  spb::CollectionSchema schema;
  schema.set_enable_dynamic_field(true);
  spb::FieldSchema* dynamic = AddField(&schema, "$meta", spb::JSON);
  dynamic->set_is_dynamic(true);
  Columns columns;
  spb::FieldData rows = segment::EmptyColumn(*dynamic);
  for (int64_t i = 0; i < kJsonRows; ++i) {
    rows.mutable_scalars()->mutable_json_data()->add_data(std::string(R"({"color":")") + (i % 2 ? "red" : "blue") +
                                                          R"(","size":)" + std::to_string(i % 50) + "}");
  }
  columns.Add(rows);
  auto filter = CompileFilter("color == \"red\" and size > 10", schema);
  ASSERT_TRUE(filter.ok());

  std::vector<uint8_t> matches;
  const auto start = std::chrono::steady_clock::now();
  (*filter)->Evaluate(columns, 0, kJsonRows, &matches);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int64_t count = 0;
  for (uint8_t match : matches) count += match;
  EXPECT_EQ(count, kJsonRows / 50 * 20);  // odd i with i % 50 in 11..49
  std::printf("color == \"red\" and size > 10 on JSON: %.2f M rows/s\n", kJsonRows / seconds / 1e6);
}

}  // namespace
}  // namespace quiver::expr
