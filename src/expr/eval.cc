#include "expr/eval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "segment/field_data.h"

namespace quiver::expr {
namespace {

// Rows [begin, begin + count) of a column with `size` entries that exist.
int64_t AvailableRows(int64_t size, int64_t begin, int64_t count) {
  return std::clamp<int64_t>(size - begin, 0, count);
}

// Rows past the column's data (or all rows, when the column is missing) have no value.
void MarkAbsentFrom(int64_t first, Values* out) {
  std::fill(out->valid.begin() + first, out->valid.end(), 0);
  std::fill(out->present.begin() + first, out->present.end(), 0);
}

void ApplyValidity(const spb::FieldData& column, int64_t begin, Values* out) {
  const auto& validity = column.valid_data();
  if (validity.empty()) return;
  const int64_t rows = AvailableRows(validity.size(), begin, static_cast<int64_t>(out->valid.size()));
  if (rows == 0) return;
  const bool* flags = validity.data() + begin;
  for (int64_t i = 0; i < rows; ++i) {
    out->valid[i] &= flags[i];
    out->present[i] &= flags[i];
  }
}

template <typename T, typename Out>
int64_t CopyValues(const google::protobuf::RepeatedField<T>& data, int64_t begin, std::vector<Out>* out) {
  const int64_t rows = AvailableRows(data.size(), begin, static_cast<int64_t>(out->size()));
  if (rows > 0) std::copy(data.data() + begin, data.data() + begin + rows, out->begin());
  return rows;
}

template <typename T, typename Out, typename Convert>
int64_t CopyValues(const google::protobuf::RepeatedPtrField<T>& data, int64_t begin, std::vector<Out>* out,
                   Convert convert) {
  const int64_t rows = AvailableRows(data.size(), begin, static_cast<int64_t>(out->size()));
  for (int64_t i = 0; i < rows; ++i) (*out)[i] = convert(data.Get(static_cast<int>(begin + i)));
  return rows;
}

template <typename A, typename B>
bool Compare(const A& a, CmpOp op, const B& b) {
  switch (op) {
    case CmpOp::kEq: return a == b;
    case CmpOp::kNe: return a != b;
    case CmpOp::kLt: return a < b;
    case CmpOp::kLe: return a <= b;
    case CmpOp::kGt: return a > b;
    case CmpOp::kGe: return a >= b;
  }
  return false;
}

// The operator switch sits outside the loop so that each loop compiles to straight code.
template <typename A, typename B>
void CompareEach(const A* a, const B& b, CmpOp op, int64_t n, uint8_t* out) {
  switch (op) {
    case CmpOp::kEq:
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] == b;
      break;
    case CmpOp::kNe:
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] != b;
      break;
    case CmpOp::kLt:
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] < b;
      break;
    case CmpOp::kLe:
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] <= b;
      break;
    case CmpOp::kGt:
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] > b;
      break;
    case CmpOp::kGe:
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] >= b;
      break;
  }
}

template <typename A, typename B>
void CompareEachPair(const A* a, const B* b, CmpOp op, int64_t n, uint8_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = Compare(a[i], op, b[i]);
}

bool IsIntLike(ValueKind kind) { return kind == ValueKind::kInt || kind == ValueKind::kBool; }
bool IsIntLike(Scalar::Kind kind) { return kind == Scalar::Kind::kInt || kind == Scalar::Kind::kBool; }

double AsDouble(const Scalar& value) {
  return value.kind == Scalar::Kind::kFloat ? value.f : static_cast<double>(value.i);
}

// Rows where `x op c` holds, for present rows (others are overwritten by the caller).
void CompareToConstant(const Values& x, CmpOp op, const Scalar& c, int64_t n, uint8_t* out) {
  const bool numeric_constant = c.kind == Scalar::Kind::kInt || c.kind == Scalar::Kind::kFloat;
  if (x.kind == ValueKind::kInt && c.kind == Scalar::Kind::kInt) return CompareEach(x.ints.data(), c.i, op, n, out);
  if (x.kind == ValueKind::kInt && c.kind == Scalar::Kind::kFloat) return CompareEach(x.ints.data(), c.f, op, n, out);
  if (x.kind == ValueKind::kBool && c.kind == Scalar::Kind::kBool) return CompareEach(x.ints.data(), c.i, op, n, out);
  if (x.kind == ValueKind::kFloat && numeric_constant) return CompareEach(x.floats.data(), AsDouble(c), op, n, out);
  if (x.kind == ValueKind::kString && c.kind == Scalar::Kind::kString) {
    return CompareEach(x.strings.data(), c.s, op, n, out);
  }
  for (int64_t i = 0; i < n; ++i) out[i] = x.present[i] && CompareScalars(ScalarAt(x, i), op, c);
}

void CompareToValues(const Values& x, CmpOp op, const Values& y, int64_t n, uint8_t* out) {
  if (IsIntLike(x.kind) && IsIntLike(y.kind)) return CompareEachPair(x.ints.data(), y.ints.data(), op, n, out);
  if (x.kind == ValueKind::kFloat && y.kind == ValueKind::kFloat) {
    return CompareEachPair(x.floats.data(), y.floats.data(), op, n, out);
  }
  if (x.kind == ValueKind::kString && y.kind == ValueKind::kString) {
    return CompareEachPair(x.strings.data(), y.strings.data(), op, n, out);
  }
  for (int64_t i = 0; i < n; ++i) {
    out[i] = x.present[i] && y.present[i] && CompareScalars(ScalarAt(x, i), op, ScalarAt(y, i));
  }
}

Scalar ElementOf(const spb::ScalarField& array, int index) {
  Scalar element;
  switch (array.data_case()) {
    case spb::ScalarField::kBoolData:
      element.kind = Scalar::Kind::kBool;
      element.i = array.bool_data().data(index);
      break;
    case spb::ScalarField::kIntData:
      element.kind = Scalar::Kind::kInt;
      element.i = array.int_data().data(index);
      break;
    case spb::ScalarField::kLongData:
      element.kind = Scalar::Kind::kInt;
      element.i = array.long_data().data(index);
      break;
    case spb::ScalarField::kFloatData:
      element.kind = Scalar::Kind::kFloat;
      element.f = array.float_data().data(index);
      break;
    case spb::ScalarField::kDoubleData:
      element.kind = Scalar::Kind::kFloat;
      element.f = array.double_data().data(index);
      break;
    case spb::ScalarField::kStringData:
      element.kind = Scalar::Kind::kString;
      element.s = array.string_data().data(index);
      break;
    default: break;
  }
  return element;
}

bool ArrayEqualsJson(const spb::ScalarField& array, const Json& json) {
  const int64_t size = segment::ScalarFieldSize(array);
  if (!json.is_array() || static_cast<int64_t>(json.size()) != size) return false;
  for (int i = 0; i < size; ++i) {
    if (!CompareScalars(ElementOf(array, i), CmpOp::kEq, ScalarOf(json[i]))) return false;
  }
  return true;
}

const Json* Walk(const Json& document, const std::vector<PathStep>& path) {
  const Json* node = &document;
  for (const PathStep& step : path) {
    if (step.is_index && node->is_array()) {
      if (step.index >= static_cast<int64_t>(node->size())) return nullptr;
      node = &(*node)[static_cast<size_t>(step.index)];
      continue;
    }
    // An index into an object reads the key of that name, as a JSON pointer does.
    if (!node->is_object()) return nullptr;
    auto it = node->find(step.is_index ? std::to_string(step.index) : step.key);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

class FieldValues final : public Operand {
 public:
  FieldValues(int64_t field_id, ValueKind kind) : field_id_(field_id), kind_(kind) {}

  void Eval(const Block& block, Values* out) const override {
    out->Reset(kind_, block.size);
    const spb::FieldData* column = block.columns->Column(field_id_);
    const int64_t rows = column ? Copy(column->scalars(), block.begin, out) : 0;
    MarkAbsentFrom(rows, out);
    if (column) ApplyValidity(*column, block.begin, out);
  }

 private:
  // Copies the block's values; returns how many rows the column had (0 for another layout).
  int64_t Copy(const spb::ScalarField& data, int64_t begin, Values* out) const {
    switch (data.data_case()) {
      case spb::ScalarField::kBoolData:
        return kind_ == ValueKind::kBool ? CopyValues(data.bool_data().data(), begin, &out->ints) : 0;
      case spb::ScalarField::kIntData:
        return kind_ == ValueKind::kInt ? CopyValues(data.int_data().data(), begin, &out->ints) : 0;
      case spb::ScalarField::kLongData:
        return kind_ == ValueKind::kInt ? CopyValues(data.long_data().data(), begin, &out->ints) : 0;
      case spb::ScalarField::kFloatData:
        return kind_ == ValueKind::kFloat ? CopyValues(data.float_data().data(), begin, &out->floats) : 0;
      case spb::ScalarField::kDoubleData:
        return kind_ == ValueKind::kFloat ? CopyValues(data.double_data().data(), begin, &out->floats) : 0;
      case spb::ScalarField::kStringData:
        if (kind_ != ValueKind::kString) return 0;
        return CopyValues(data.string_data().data(), begin, &out->strings,
                          [](const std::string& value) { return std::string_view(value); });
      case spb::ScalarField::kArrayData:
        if (kind_ != ValueKind::kArray) return 0;
        return CopyValues(data.array_data().data(), begin, &out->arrays,
                          [](const spb::ScalarField& value) { return &value; });
      default: return 0;
    }
  }

  int64_t field_id_;
  ValueKind kind_;
};

class JsonValues final : public Operand {
 public:
  JsonValues(int64_t field_id, std::vector<PathStep> path) : field_id_(field_id), path_(std::move(path)) {}

  void Eval(const Block& block, Values* out) const override {
    out->Reset(ValueKind::kJson, block.size);
    const spb::FieldData* column = block.columns->Column(field_id_);
    const std::vector<Json>& documents = block.json->Documents(field_id_, column, block.begin, block.size);
    for (int64_t i = 0; i < block.size; ++i) {
      const Json* value = documents[i].is_discarded() ? nullptr : Walk(documents[i], path_);
      out->jsons[i] = value;
      out->present[i] = value != nullptr;
    }
    const int64_t rows = column ? AvailableRows(column->scalars().json_data().data_size(), block.begin, block.size) : 0;
    std::fill(out->valid.begin() + rows, out->valid.end(), 0);
    if (column) ApplyValidity(*column, block.begin, out);
  }

 private:
  int64_t field_id_;
  std::vector<PathStep> path_;
};

class ArrayElementValues final : public Operand {
 public:
  ArrayElementValues(int64_t field_id, int64_t index, ValueKind element_kind)
      : arrays_(field_id, ValueKind::kArray), index_(index), kind_(element_kind) {}

  void Eval(const Block& block, Values* out) const override {
    Values rows;
    arrays_.Eval(block, &rows);
    out->Reset(kind_, block.size);
    out->valid = rows.valid;
    for (int64_t i = 0; i < block.size; ++i) {
      out->present[i] = rows.present[i] && index_ < segment::ScalarFieldSize(*rows.arrays[i]);
      if (!out->present[i]) continue;
      const Scalar element = ElementOf(*rows.arrays[i], static_cast<int>(index_));
      // Rows whose elements are not of the schema's element type have no value.
      if (IsIntLike(kind_) && IsIntLike(element.kind)) {
        out->ints[i] = element.i;
      } else if (kind_ == ValueKind::kFloat && element.kind == Scalar::Kind::kFloat) {
        out->floats[i] = element.f;
      } else if (kind_ == ValueKind::kString && element.kind == Scalar::Kind::kString) {
        out->strings[i] = element.s;
      } else {
        out->present[i] = 0;
      }
    }
  }

 private:
  FieldValues arrays_;
  int64_t index_;
  ValueKind kind_;
};

class ArrayLength final : public Operand {
 public:
  explicit ArrayLength(OperandPtr container) : container_(std::move(container)) {}

  void Eval(const Block& block, Values* out) const override {
    Values container;
    container_->Eval(block, &container);
    out->Reset(ValueKind::kInt, block.size);
    out->valid = container.valid;
    out->present = container.present;
    for (int64_t i = 0; i < block.size; ++i) {
      if (!out->present[i]) continue;
      if (container.kind == ValueKind::kArray) {
        out->ints[i] = segment::ScalarFieldSize(*container.arrays[i]);
      } else if (container.jsons[i]->is_array()) {
        out->ints[i] = static_cast<int64_t>(container.jsons[i]->size());
      } else {
        out->present[i] = 0;
      }
    }
  }

 private:
  OperandPtr container_;
};

class Constant final : public Operand {
 public:
  explicit Constant(const Json& number) : number_(number) {}

  void Eval(const Block& block, Values* out) const override {
    if (number_.is_number_integer()) {
      out->Reset(ValueKind::kInt, block.size);
      std::fill(out->ints.begin(), out->ints.end(), number_.get<int64_t>());
    } else {
      out->Reset(ValueKind::kFloat, block.size);
      std::fill(out->floats.begin(), out->floats.end(), number_.get<double>());
    }
  }

 private:
  Json number_;
};

bool IntValue(const Values& values, int64_t row, int64_t* out) {
  if (IsIntLike(values.kind)) {
    *out = values.ints[row];
    return true;
  }
  if (values.kind != ValueKind::kJson) return false;
  const Scalar scalar = ScalarOf(*values.jsons[row]);
  *out = scalar.i;
  return scalar.kind == Scalar::Kind::kInt;
}

bool FloatValue(const Values& values, int64_t row, double* out) {
  if (values.kind == ValueKind::kFloat) {
    *out = values.floats[row];
    return true;
  }
  if (values.kind != ValueKind::kJson) {
    *out = static_cast<double>(values.ints[row]);
    return true;
  }
  const Scalar scalar = ScalarOf(*values.jsons[row]);
  *out = AsDouble(scalar);
  return scalar.kind == Scalar::Kind::kInt || scalar.kind == Scalar::Kind::kFloat;
}

// Wraps around on overflow, as C++ engines do; false when dividing by zero.
bool IntArith(ArithOp op, int64_t x, int64_t y, int64_t* out) {
  const auto ux = static_cast<uint64_t>(x);
  const auto uy = static_cast<uint64_t>(y);
  switch (op) {
    case ArithOp::kAdd: *out = static_cast<int64_t>(ux + uy); return true;
    case ArithOp::kSub: *out = static_cast<int64_t>(ux - uy); return true;
    case ArithOp::kMul: *out = static_cast<int64_t>(ux * uy); return true;
    case ArithOp::kDiv:
      if (y == 0) return false;
      *out = y == -1 ? static_cast<int64_t>(0 - ux) : x / y;
      return true;
    case ArithOp::kMod:
      if (y == 0) return false;
      *out = y == -1 ? 0 : x % y;
      return true;
    case ArithOp::kPow: break;  // folded at compile time: ** only takes constants
  }
  return false;
}

double FloatArith(ArithOp op, double x, double y) {
  switch (op) {
    case ArithOp::kAdd: return x + y;
    case ArithOp::kSub: return x - y;
    case ArithOp::kMul: return x * y;
    case ArithOp::kDiv: return x / y;
    case ArithOp::kMod:         // integer-only
    case ArithOp::kPow: break;  // constant-only, folded at compile time
  }
  return std::nan("");
}

class Arith final : public Operand {
 public:
  Arith(ArithOp op, OperandPtr lhs, OperandPtr rhs, ValueKind result)
      : op_(op), lhs_(std::move(lhs)), rhs_(std::move(rhs)), result_(result) {}

  void Eval(const Block& block, Values* out) const override {
    Values x;
    Values y;
    lhs_->Eval(block, &x);
    rhs_->Eval(block, &y);
    out->Reset(result_, block.size);
    for (int64_t i = 0; i < block.size; ++i) {
      out->valid[i] = x.valid[i] & y.valid[i];
      bool present = x.present[i] && y.present[i];
      if (result_ == ValueKind::kInt) {
        int64_t a = 0;
        int64_t b = 0;
        present = present && IntValue(x, i, &a) && IntValue(y, i, &b) && IntArith(op_, a, b, &out->ints[i]);
      } else {
        double a = 0;
        double b = 0;
        present = present && FloatValue(x, i, &a) && FloatValue(y, i, &b);
        if (present) out->floats[i] = FloatArith(op_, a, b);
      }
      out->present[i] = present;
    }
  }

 private:
  ArithOp op_;
  OperandPtr lhs_;
  OperandPtr rhs_;
  ValueKind result_;
};

class ConstantResult final : public Predicate {
 public:
  explicit ConstantResult(bool value) : value_(value) {}
  void Eval(const Block& block, uint8_t* value, uint8_t* valid) const override {
    std::fill(value, value + block.size, value_);
    std::fill(valid, valid + block.size, 1);
  }

 private:
  bool value_;
};

class Logical final : public Predicate {
 public:
  Logical(bool is_and, std::vector<PredicatePtr> children) : is_and_(is_and), children_(std::move(children)) {}

  void Eval(const Block& block, uint8_t* value, uint8_t* valid) const override {
    const int64_t n = block.size;
    children_.front()->Eval(block, value, valid);
    std::vector<uint8_t> next_value(n);
    std::vector<uint8_t> next_valid(n);
    for (size_t k = 1; k < children_.size() && !Settled(value, valid, n); ++k) {
      children_[k]->Eval(block, next_value.data(), next_valid.data());
      for (int64_t i = 0; i < n; ++i) {
        value[i] = is_and_ ? (value[i] & next_value[i]) : (value[i] | next_value[i]);
        valid[i] |= next_valid[i];
      }
    }
  }

 private:
  // No later operand can change the block: every row valid and decided (false for and, true for or).
  bool Settled(const uint8_t* value, const uint8_t* valid, int64_t n) const {
    const uint8_t decided = is_and_ ? 0 : 1;
    for (int64_t i = 0; i < n; ++i) {
      if (value[i] != decided || !valid[i]) return false;
    }
    return true;
  }

  bool is_and_;
  std::vector<PredicatePtr> children_;
};

class Not final : public Predicate {
 public:
  explicit Not(PredicatePtr child) : child_(std::move(child)) {}
  void Eval(const Block& block, uint8_t* value, uint8_t* valid) const override {
    child_->Eval(block, value, valid);
    for (int64_t i = 0; i < block.size; ++i) value[i] = (value[i] ^ 1) & valid[i];
  }

 private:
  PredicatePtr child_;
};

class Comparison final : public Predicate {
 public:
  Comparison(OperandPtr value, std::vector<Condition> conditions)
      : value_(std::move(value)), conditions_(std::move(conditions)) {}

  void Eval(const Block& block, uint8_t* value, uint8_t* valid) const override {
    const int64_t n = block.size;
    Values x;
    value_->Eval(block, &x);
    std::copy(x.valid.begin(), x.valid.end(), valid);
    std::copy(x.present.begin(), x.present.end(), value);
    std::vector<uint8_t> hits(n);
    for (const Condition& condition : conditions_) {
      if (condition.operand) {
        Values y;
        condition.operand->Eval(block, &y);
        CompareToValues(x, condition.op, y, n, hits.data());
        for (int64_t i = 0; i < n; ++i) {
          value[i] &= hits[i] & y.present[i];
          valid[i] &= y.valid[i];
        }
      } else {
        CompareToConstant(x, condition.op, ScalarOf(condition.constant), n, hits.data());
        // Milvus: `!=` holds for a JSON value that is missing (but the row is not null).
        const bool missing_differs = condition.op == CmpOp::kNe && x.kind == ValueKind::kJson;
        for (int64_t i = 0; i < n; ++i) {
          value[i] = x.present[i] ? (value[i] & hits[i]) : (missing_differs & x.valid[i]);
        }
      }
    }
  }

 private:
  OperandPtr value_;
  std::vector<Condition> conditions_;
};

class Membership final : public Predicate {
 public:
  Membership(OperandPtr value, LiteralSet set) : value_(std::move(value)), set_(std::move(set)) {}

  void Eval(const Block& block, uint8_t* value, uint8_t* valid) const override {
    Values x;
    value_->Eval(block, &x);
    for (int64_t i = 0; i < block.size; ++i) {
      value[i] = x.present[i] && set_.Contains(ScalarAt(x, i));
      valid[i] = x.valid[i];
    }
  }

 private:
  OperandPtr value_;
  LiteralSet set_;
};

class Like final : public Predicate {
 public:
  Like(OperandPtr value, LikePattern pattern) : value_(std::move(value)), pattern_(std::move(pattern)) {}

  void Eval(const Block& block, uint8_t* value, uint8_t* valid) const override {
    Values x;
    value_->Eval(block, &x);
    for (int64_t i = 0; i < block.size; ++i) {
      valid[i] = x.valid[i];
      if (!x.present[i]) {
        value[i] = 0;
      } else if (x.kind == ValueKind::kString) {
        value[i] = pattern_.Matches(x.strings[i]);
      } else {
        value[i] = x.jsons[i]->is_string() && pattern_.Matches(x.jsons[i]->get_ref<const std::string&>());
      }
    }
  }

 private:
  OperandPtr value_;
  LikePattern pattern_;
};

class NullCheck final : public Predicate {
 public:
  NullCheck(OperandPtr value, bool is_null) : value_(std::move(value)), is_null_(is_null) {}

  void Eval(const Block& block, uint8_t* value, uint8_t* valid) const override {
    Values x;
    value_->Eval(block, &x);
    for (int64_t i = 0; i < block.size; ++i) {
      const bool null = !x.present[i] || (x.kind == ValueKind::kJson && x.jsons[i]->is_null());
      value[i] = null == is_null_;
      valid[i] = 1;
    }
  }

 private:
  OperandPtr value_;
  bool is_null_;
};

class Contains final : public Predicate {
 public:
  Contains(OperandPtr container, ContainsMode mode, std::vector<Json> elements)
      : container_(std::move(container)), mode_(mode), elements_(std::move(elements)), set_(elements_) {}

  void Eval(const Block& block, uint8_t* value, uint8_t* valid) const override {
    Values x;
    container_->Eval(block, &x);
    std::vector<Scalar> wanted;
    for (const Json& element : elements_) wanted.push_back(ScalarOf(element));
    std::vector<Scalar> row;
    for (int64_t i = 0; i < block.size; ++i) {
      valid[i] = x.valid[i];
      value[i] = x.present[i] && RowElements(x, i, &row) && Holds(row, wanted);
    }
  }

 private:
  // The elements of row i; false when it is not an array.
  static bool RowElements(const Values& x, int64_t i, std::vector<Scalar>* row) {
    row->clear();
    if (x.kind == ValueKind::kArray) {
      const spb::ScalarField& array = *x.arrays[i];
      const int64_t size = segment::ScalarFieldSize(array);
      for (int index = 0; index < size; ++index) row->push_back(ElementOf(array, index));
      return true;
    }
    if (!x.jsons[i]->is_array()) return false;
    for (const Json& element : *x.jsons[i]) row->push_back(ScalarOf(element));
    return true;
  }

  bool Holds(const std::vector<Scalar>& row, const std::vector<Scalar>& wanted) const {
    if (mode_ == ContainsMode::kAny) {
      return std::any_of(row.begin(), row.end(), [&](const Scalar& element) { return set_.Contains(element); });
    }
    return std::all_of(wanted.begin(), wanted.end(), [&](const Scalar& target) {
      return std::any_of(row.begin(), row.end(),
                         [&](const Scalar& element) { return CompareScalars(element, CmpOp::kEq, target); });
    });
  }

  OperandPtr container_;
  ContainsMode mode_;
  std::vector<Json> elements_;
  LiteralSet set_;
};

}  // namespace

const std::vector<Json>& JsonCache::Documents(int64_t field_id, const spb::FieldData* column, int64_t begin,
                                              int64_t count) {
  auto [it, inserted] = documents_.try_emplace(field_id);
  std::vector<Json>& documents = it->second;
  if (!inserted) return documents;
  documents.assign(count, Json(Json::value_t::discarded));
  if (!column) return documents;
  const auto& data = column->scalars().json_data().data();
  const int64_t rows = AvailableRows(data.size(), begin, count);
  for (int64_t i = 0; i < rows; ++i) {
    const std::string& bytes = data.Get(static_cast<int>(begin + i));
    if (bytes.empty() || segment::IsNull(*column, begin + i)) continue;
    documents[i] = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  }
  return documents;
}

void Values::Reset(ValueKind new_kind, int64_t rows) {
  kind = new_kind;
  switch (kind) {
    case ValueKind::kBool:
    case ValueKind::kInt: ints.assign(rows, 0); break;
    case ValueKind::kFloat: floats.assign(rows, 0); break;
    case ValueKind::kString: strings.assign(rows, {}); break;
    case ValueKind::kJson: jsons.assign(rows, nullptr); break;
    case ValueKind::kArray: arrays.assign(rows, nullptr); break;
  }
  valid.assign(rows, 1);
  present.assign(rows, 1);
}

Scalar ScalarOf(const Json& value) {
  Scalar scalar;
  switch (value.type()) {
    case Json::value_t::boolean:
      scalar.kind = Scalar::Kind::kBool;
      scalar.i = value.get<bool>();
      break;
    case Json::value_t::number_integer:
      scalar.kind = Scalar::Kind::kInt;
      scalar.i = value.get<int64_t>();
      break;
    case Json::value_t::number_unsigned:
      if (value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        scalar.kind = Scalar::Kind::kInt;
        scalar.i = value.get<int64_t>();
      } else {
        scalar.kind = Scalar::Kind::kFloat;
        scalar.f = value.get<double>();
      }
      break;
    case Json::value_t::number_float:
      scalar.kind = Scalar::Kind::kFloat;
      scalar.f = value.get<double>();
      break;
    case Json::value_t::string:
      scalar.kind = Scalar::Kind::kString;
      scalar.s = value.get_ref<const std::string&>();
      break;
    default:
      scalar.kind = Scalar::Kind::kJson;
      scalar.json = &value;
      break;
  }
  return scalar;
}

Scalar ScalarAt(const Values& values, int64_t row) {
  Scalar scalar;
  switch (values.kind) {
    case ValueKind::kBool:
      scalar.kind = Scalar::Kind::kBool;
      scalar.i = values.ints[row];
      break;
    case ValueKind::kInt:
      scalar.kind = Scalar::Kind::kInt;
      scalar.i = values.ints[row];
      break;
    case ValueKind::kFloat:
      scalar.kind = Scalar::Kind::kFloat;
      scalar.f = values.floats[row];
      break;
    case ValueKind::kString:
      scalar.kind = Scalar::Kind::kString;
      scalar.s = values.strings[row];
      break;
    case ValueKind::kJson:
      if (values.jsons[row]) scalar = ScalarOf(*values.jsons[row]);
      break;
    case ValueKind::kArray:
      scalar.kind = Scalar::Kind::kArray;
      scalar.array = values.arrays[row];
      break;
  }
  return scalar;
}

bool CompareScalars(const Scalar& a, CmpOp op, const Scalar& b) {
  using Kind = Scalar::Kind;
  if (a.kind == Kind::kMissing || b.kind == Kind::kMissing) return false;
  const bool a_number = a.kind == Kind::kInt || a.kind == Kind::kFloat;
  const bool b_number = b.kind == Kind::kInt || b.kind == Kind::kFloat;
  if (a.kind == Kind::kInt && b.kind == Kind::kInt) return Compare(a.i, op, b.i);
  if (a_number && b_number) return Compare(AsDouble(a), op, AsDouble(b));
  if (a.kind == Kind::kString && b.kind == Kind::kString) return Compare(a.s, op, b.s);
  if (a.kind == Kind::kBool && b.kind == Kind::kBool) return Compare(a.i, op, b.i);
  if (op == CmpOp::kEq || op == CmpOp::kNe) {
    bool equal = false;
    if (a.kind == Kind::kJson && b.kind == Kind::kJson) equal = *a.json == *b.json;
    if (a.kind == Kind::kArray && b.kind == Kind::kJson) equal = ArrayEqualsJson(*a.array, *b.json);
    if (a.kind == Kind::kJson && b.kind == Kind::kArray) equal = ArrayEqualsJson(*b.array, *a.json);
    return equal == (op == CmpOp::kEq);
  }
  return false;
}

LiteralSet::LiteralSet(const std::vector<Json>& literals) {
  for (const Json& literal : literals) {
    const Scalar scalar = ScalarOf(literal);
    switch (scalar.kind) {
      case Scalar::Kind::kInt: ints_.push_back(scalar.i); break;
      case Scalar::Kind::kFloat: floats_.push_back(scalar.f); break;
      case Scalar::Kind::kString: strings_.emplace_back(scalar.s); break;
      case Scalar::Kind::kBool: (scalar.i ? has_true_ : has_false_) = true; break;
      default:
        if (!literal.is_null()) structured_.push_back(literal);
    }
  }
  std::sort(ints_.begin(), ints_.end());
  std::sort(floats_.begin(), floats_.end());
  std::sort(strings_.begin(), strings_.end());
}

bool LiteralSet::Contains(const Scalar& value) const {
  switch (value.kind) {
    case Scalar::Kind::kInt:
      return std::binary_search(ints_.begin(), ints_.end(), value.i) ||
             std::binary_search(floats_.begin(), floats_.end(), static_cast<double>(value.i));
    case Scalar::Kind::kFloat: {
      if (std::binary_search(floats_.begin(), floats_.end(), value.f)) return true;
      const bool integral = std::trunc(value.f) == value.f && std::abs(value.f) < 9.2e18;
      return integral && std::binary_search(ints_.begin(), ints_.end(), static_cast<int64_t>(value.f));
    }
    case Scalar::Kind::kString: return std::binary_search(strings_.begin(), strings_.end(), value.s);
    case Scalar::Kind::kBool: return value.i ? has_true_ : has_false_;
    case Scalar::Kind::kJson:
    case Scalar::Kind::kArray: {
      Scalar literal;
      literal.kind = Scalar::Kind::kJson;
      return std::any_of(structured_.begin(), structured_.end(), [&](const Json& candidate) {
        literal.json = &candidate;
        return CompareScalars(value, CmpOp::kEq, literal);
      });
    }
    case Scalar::Kind::kMissing: return false;
  }
  return false;
}

OperandPtr FieldOperand(int64_t field_id, ValueKind kind) { return std::make_unique<FieldValues>(field_id, kind); }
OperandPtr JsonOperand(int64_t field_id, std::vector<PathStep> path) {
  return std::make_unique<JsonValues>(field_id, std::move(path));
}
OperandPtr ArrayElementOperand(int64_t field_id, int64_t index, ValueKind element_kind) {
  return std::make_unique<ArrayElementValues>(field_id, index, element_kind);
}
OperandPtr ArrayLengthOperand(OperandPtr container) { return std::make_unique<ArrayLength>(std::move(container)); }
OperandPtr ConstantOperand(const Json& number) { return std::make_unique<Constant>(number); }
OperandPtr ArithOperand(ArithOp op, OperandPtr lhs, OperandPtr rhs, ValueKind result) {
  return std::make_unique<Arith>(op, std::move(lhs), std::move(rhs), result);
}

PredicatePtr ConstantPredicate(bool value) { return std::make_unique<ConstantResult>(value); }
PredicatePtr LogicalPredicate(bool is_and, std::vector<PredicatePtr> children) {
  return std::make_unique<Logical>(is_and, std::move(children));
}
PredicatePtr NotPredicate(PredicatePtr child) { return std::make_unique<Not>(std::move(child)); }
PredicatePtr ComparePredicate(OperandPtr value, std::vector<Condition> conditions) {
  return std::make_unique<Comparison>(std::move(value), std::move(conditions));
}
PredicatePtr InPredicate(OperandPtr value, LiteralSet set) {
  return std::make_unique<Membership>(std::move(value), std::move(set));
}
PredicatePtr LikePredicate(OperandPtr value, LikePattern pattern) {
  return std::make_unique<Like>(std::move(value), std::move(pattern));
}
PredicatePtr NullPredicate(OperandPtr value, bool is_null) {
  return std::make_unique<NullCheck>(std::move(value), is_null);
}
PredicatePtr ContainsPredicate(OperandPtr container, ContainsMode mode, std::vector<Json> elements) {
  return std::make_unique<Contains>(std::move(container), mode, std::move(elements));
}

}  // namespace quiver::expr
