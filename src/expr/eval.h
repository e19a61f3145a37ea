// Evaluation: the compiled form of a filter (internal to quiver_expr).
//
// A filter is a tree of Predicates over Operands, evaluated a block of rows at a time: each
// node turns a whole block into plain arrays (values, validity), so the inner loops are
// tight per-type loops rather than a virtual call per row.
//
// Null semantics are Milvus's (segcore keeps a value bitmap and a valid bitmap): a
// comparison on a null row is false and its result is invalid; `a and b` / `a or b` combine
// the values and are valid when either side is valid; `not x` is false where x is invalid.
// So with a null, `a > 1` and `not (a > 1)` are both false, while `not (a > 1 and b > 1)`
// is true when b <= 1. A missing JSON key is not a null: the comparison is false (true for
// `!=`) and valid, so `not (meta["k"] > 1)` matches rows without "k". `is null` and
// `is not null` are always valid.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "expr/filter.h"
#include "expr/like_pattern.h"
#include "expr/parser.h"

namespace quiver::expr {

using Json = nlohmann::json;

// Rows per block: small enough for a block's arrays to stay in cache.
inline constexpr int64_t kBlockRows = 4096;

// The parsed JSON documents of one block, per column: a row is parsed once however many
// keys the filter reads from it.
class JsonCache {
 public:
  // Documents of rows [begin, begin + count); null, empty or malformed rows are discarded values.
  const std::vector<Json>& Documents(int64_t field_id, const spb::FieldData* column, int64_t begin, int64_t count);

 private:
  std::unordered_map<int64_t, std::vector<Json>> documents_;
};

struct Block {
  const ColumnSource* columns = nullptr;
  int64_t begin = 0;
  int64_t size = 0;
  JsonCache* json = nullptr;
};

enum class ValueKind { kBool, kInt, kFloat, kString, kJson, kArray };

// One operand's values over a block. `present` ⊆ `valid`.
struct Values {
  ValueKind kind = ValueKind::kInt;
  std::vector<int64_t> ints;                    // kBool (0/1), kInt
  std::vector<double> floats;                   // kFloat
  std::vector<std::string_view> strings;        // kString
  std::vector<const Json*> jsons;               // kJson; nullptr where the path is missing
  std::vector<const spb::ScalarField*> arrays;  // kArray: whole Array rows
  std::vector<uint8_t> valid;                   // 0 where the row is null (Milvus's valid bitmap)
  std::vector<uint8_t> present;                 // 0 where there is no value: null, missing key, index out of range

  // Sizes the arrays for `rows` rows of `kind`, every row valid and present.
  void Reset(ValueKind kind, int64_t rows);
};

// One value of any kind, for row-by-row comparisons.
struct Scalar {
  enum class Kind { kMissing, kBool, kInt, kFloat, kString, kJson, kArray };
  Kind kind = Kind::kMissing;
  int64_t i = 0;                            // kBool (0/1), kInt
  double f = 0;                             // kFloat
  std::string_view s;                       // kString
  const Json* json = nullptr;               // kJson: an array, object or null, compared whole
  const spb::ScalarField* array = nullptr;  // kArray
};

Scalar ScalarOf(const Json& value);
Scalar ScalarAt(const Values& values, int64_t row);
// Numbers compare across int and float; values of different kinds are unequal.
bool CompareScalars(const Scalar& a, CmpOp op, const Scalar& b);

// The values of a literal list, for `in` and the contains functions.
class LiteralSet {
 public:
  explicit LiteralSet(const std::vector<Json>& literals);
  bool Contains(const Scalar& value) const;

 private:
  std::vector<int64_t> ints_;  // each vector sorted
  std::vector<double> floats_;
  std::vector<std::string> strings_;
  bool has_true_ = false;
  bool has_false_ = false;
  std::vector<Json> structured_;  // arrays and objects
};

class Operand {
 public:
  virtual ~Operand() = default;
  virtual void Eval(const Block& block, Values* out) const = 0;
};

class Predicate {
 public:
  virtual ~Predicate() = default;
  // One byte per row of the block in each array: passes (0/1) and valid (0/1).
  virtual void Eval(const Block& block, uint8_t* value, uint8_t* valid) const = 0;
};

using OperandPtr = std::unique_ptr<Operand>;
using PredicatePtr = std::unique_ptr<Predicate>;

// A scalar field read whole: Bool, integers, Float/Double, VarChar, or Array rows.
OperandPtr FieldOperand(int64_t field_id, ValueKind kind);
// The value at `path` in each row's JSON document (the document itself for an empty path).
OperandPtr JsonOperand(int64_t field_id, std::vector<PathStep> path);
OperandPtr ArrayElementOperand(int64_t field_id, int64_t index, ValueKind element_kind);
// Elements in an Array row or a JSON array.
OperandPtr ArrayLengthOperand(OperandPtr container);
// A number, the same in every row.
OperandPtr ConstantOperand(const Json& number);
// `result` is kInt (integer arithmetic; division by zero gives no value) or kFloat.
OperandPtr ArithOperand(ArithOp op, OperandPtr lhs, OperandPtr rhs, ValueKind result);

// `value op constant`, or `value op operand` when `operand` is set.
struct Condition {
  CmpOp op = CmpOp::kEq;
  Json constant;
  OperandPtr operand;
};

PredicatePtr ConstantPredicate(bool value);
PredicatePtr LogicalPredicate(bool is_and, std::vector<PredicatePtr> children);
PredicatePtr NotPredicate(PredicatePtr child);
// Every condition must hold; `value` is evaluated once (a range is two conditions).
PredicatePtr ComparePredicate(OperandPtr value, std::vector<Condition> conditions);
PredicatePtr InPredicate(OperandPtr value, LiteralSet set);
PredicatePtr LikePredicate(OperandPtr value, LikePattern pattern);
// `is null` (is_null) or `is not null`; a JSON path holding null or missing counts as null.
PredicatePtr NullPredicate(OperandPtr value, bool is_null);
// Whether a JSON array / Array row holds any (kAny) or all (kAll) of `elements`.
enum class ContainsMode { kAny, kAll };
PredicatePtr ContainsPredicate(OperandPtr container, ContainsMode mode, std::vector<Json> elements);

}  // namespace quiver::expr
