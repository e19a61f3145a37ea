#include "expr/filter.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "expr/eval.h"
#include "expr/parser.h"

namespace quiver::expr {
namespace {

bool IsInteger(spb::DataType type) {
  return type == spb::Int8 || type == spb::Int16 || type == spb::Int32 || type == spb::Int64;
}
bool IsFloating(spb::DataType type) { return type == spb::Float || type == spb::Double; }
bool IsNumber(spb::DataType type) { return IsInteger(type) || IsFloating(type); }
bool IsString(spb::DataType type) { return type == spb::VarChar || type == spb::String; }

// The static type of a constant or an operand. Arrays carry their element type (None
// for an empty or mixed literal list).
struct ExprType {
  spb::DataType type = spb::None;
  spb::DataType element = spb::None;
};

std::string TypeName(const ExprType& type) {
  if (type.type != spb::Array || type.element == spb::None) return spb::DataType_Name(type.type);
  return "Array[" + spb::DataType_Name(type.element) + "]";
}

ValueKind KindOf(spb::DataType type) {
  if (type == spb::Bool) return ValueKind::kBool;
  if (IsInteger(type)) return ValueKind::kInt;
  if (IsFloating(type)) return ValueKind::kFloat;
  if (IsString(type)) return ValueKind::kString;
  if (type == spb::Array) return ValueKind::kArray;
  return ValueKind::kJson;
}

spb::DataType ScalarTypeOf(const Json& value) {
  if (value.is_boolean()) return spb::Bool;
  if (value.is_number_integer()) return spb::Int64;
  if (value.is_number_float()) return spb::Double;
  if (value.is_string()) return spb::VarChar;
  if (value.is_array()) return spb::Array;
  return spb::JSON;
}

ExprType TypeOfConstant(const Json& value) {
  ExprType type{ScalarTypeOf(value), spb::None};
  if (type.type != spb::Array || value.empty()) return type;
  type.element = ScalarTypeOf(value.front());
  for (const Json& element : value) {
    if (ScalarTypeOf(element) != type.element) return {spb::Array, spb::None};
  }
  return type;
}

// Whether values of these types may be compared (Milvus's canBeCompared, plus whole-array
// equality with a list).
bool Comparable(const ExprType& a, CmpOp op, const ExprType& b) {
  if (a.type == spb::JSON || b.type == spb::JSON) return true;
  if (a.type == spb::Array || b.type == spb::Array) {
    const bool equality = op == CmpOp::kEq || op == CmpOp::kNe;
    return equality && a.type == b.type &&
           (a.element == spb::None || b.element == spb::None ||
            Comparable({a.element, spb::None}, op, {b.element, spb::None}));
  }
  if (a.type == spb::Bool) return b.type == spb::Bool;
  if (IsNumber(a.type)) return IsNumber(b.type);
  if (IsString(a.type)) return IsString(b.type);
  return false;
}

// A constant that a value of `type` may hold or equal.
bool FitsType(const ExprType& type, const Json& value) {
  if (type.type == spb::JSON) return true;
  if (type.type == spb::Array) return value.is_array();
  if (type.type == spb::Bool) return value.is_boolean();
  if (IsNumber(type.type)) return value.is_number();
  if (IsString(type.type)) return value.is_string();
  return false;
}

CmpOp Flip(CmpOp op) {
  switch (op) {
    case CmpOp::kLt: return CmpOp::kGt;
    case CmpOp::kLe: return CmpOp::kGe;
    case CmpOp::kGt: return CmpOp::kLt;
    case CmpOp::kGe: return CmpOp::kLe;
    default: return op;
  }
}

// Integers parsed from JSON may be unsigned; constants keep int64 or double only.
void NormalizeNumbers(Json* value) {
  if (value->is_number_unsigned()) {
    const auto number = value->get<uint64_t>();
    if (number <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      *value = static_cast<int64_t>(number);
    } else {
      *value = static_cast<double>(number);
    }
  } else if (value->is_array()) {
    for (Json& element : *value) NormalizeNumbers(&element);
  }
}

std::optional<Json> TemplateArray(const spb::TemplateArrayValue& array) {
  Json values = Json::array();
  switch (array.data_case()) {
    case spb::TemplateArrayValue::kBoolData:
      for (bool value : array.bool_data().data()) values.push_back(value);
      break;
    case spb::TemplateArrayValue::kLongData:
      for (int64_t value : array.long_data().data()) values.push_back(value);
      break;
    case spb::TemplateArrayValue::kDoubleData:
      for (double value : array.double_data().data()) values.push_back(value);
      break;
    case spb::TemplateArrayValue::kStringData:
      for (const std::string& value : array.string_data().data()) values.push_back(value);
      break;
    case spb::TemplateArrayValue::kArrayData:
      for (const spb::TemplateArrayValue& element : array.array_data().data()) {
        std::optional<Json> nested = TemplateArray(element);
        if (!nested) return std::nullopt;
        values.push_back(std::move(*nested));
      }
      break;
    case spb::TemplateArrayValue::kJsonData:
      for (const std::string& bytes : array.json_data().data()) {
        Json value = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
        if (value.is_discarded()) return std::nullopt;
        values.push_back(std::move(value));
      }
      break;
    default: break;
  }
  return values;
}

std::optional<Json> TemplateValueOf(const spb::TemplateValue& value) {
  std::optional<Json> result;
  switch (value.val_case()) {
    case spb::TemplateValue::kBoolVal: result = value.bool_val(); break;
    case spb::TemplateValue::kInt64Val: result = value.int64_val(); break;
    case spb::TemplateValue::kFloatVal: result = value.float_val(); break;
    case spb::TemplateValue::kStringVal: result = value.string_val(); break;
    case spb::TemplateValue::kArrayVal: result = TemplateArray(value.array_val()); break;
    default: break;
  }
  if (result) NormalizeNumbers(&*result);
  return result;
}

// A compiled sub-expression: a constant (folded), an operand (values per row) or a predicate.
struct Compiled {
  enum class Form { kConstant, kOperand, kPredicate };
  Form form = Form::kConstant;
  Json constant;
  OperandPtr operand;
  PredicatePtr predicate;
  ExprType type;  // constants and operands
  int column = 0;

  bool is_constant() const { return form == Form::kConstant; }
  bool is_operand() const { return form == Form::kOperand; }
  bool is_predicate() const { return form == Form::kPredicate; }
};

Compiled Constant(Json value, int column) {
  Compiled compiled;
  compiled.type = TypeOfConstant(value);
  compiled.constant = std::move(value);
  compiled.column = column;
  return compiled;
}

Compiled FromOperand(OperandPtr operand, ExprType type, int column) {
  Compiled compiled;
  compiled.form = Compiled::Form::kOperand;
  compiled.operand = std::move(operand);
  compiled.type = type;
  compiled.column = column;
  return compiled;
}

Compiled FromPredicate(PredicatePtr predicate, int column) {
  Compiled compiled;
  compiled.form = Compiled::Form::kPredicate;
  compiled.predicate = std::move(predicate);
  compiled.type = {spb::Bool, spb::None};
  compiled.column = column;
  return compiled;
}

// A field named in the expression: the schema field and the subscripts into it.
struct FieldRef {
  const spb::FieldSchema* field = nullptr;
  std::vector<PathStep> path;
};

class Compiler {
 public:
  Compiler(const spb::CollectionSchema& schema, const TemplateValues& params) : params_(params) {
    for (const auto& field : schema.fields()) {
      fields_.emplace(field.name(), &field);
      if (field.is_dynamic() && schema.enable_dynamic_field()) dynamic_ = &field;
      if (field.is_primary_key()) primary_ = &field;
    }
  }

  PredicatePtr CompileRoot(const Ast& root) {
    Compiled compiled = Compile(root);
    if (compiled.is_predicate()) return std::move(compiled.predicate);
    if (compiled.is_constant() && compiled.constant.is_boolean())
      return ConstantPredicate(compiled.constant.get<bool>());
    Fail(root.column, "predicate is not a boolean expression, data type: " + TypeName(compiled.type));
  }

  // Keys of `pk == v` / `pk in [...]`; call after CompileRoot succeeded.
  std::optional<spb::IDs> PrimaryKeys(const Ast& root) {
    if (!primary_ || root.children.size() != 2) return std::nullopt;
    const Ast* key_side = nullptr;
    if (root.kind == AstKind::kIn && !root.negated && IsPrimaryField(*root.children[0])) {
      key_side = root.children[1].get();
    } else if (root.kind == AstKind::kCompare && root.cmp == CmpOp::kEq) {
      if (IsPrimaryField(*root.children[0])) key_side = root.children[1].get();
      if (IsPrimaryField(*root.children[1])) key_side = root.children[0].get();
    }
    if (!key_side) return std::nullopt;
    Compiled keys = Compile(*key_side);
    if (!keys.is_constant()) return std::nullopt;
    Json list = root.kind == AstKind::kIn ? keys.constant : Json::array({keys.constant});
    if (!list.is_array()) return std::nullopt;
    spb::IDs ids;
    for (const Json& key : list) {
      if (primary_->data_type() == spb::Int64 && key.is_number_integer()) {
        ids.mutable_int_id()->add_data(key.get<int64_t>());
      } else if (IsString(primary_->data_type()) && key.is_string()) {
        ids.mutable_str_id()->add_data(key.get<std::string>());
      } else {
        return std::nullopt;
      }
    }
    return ids;
  }

  std::vector<int64_t> field_ids() const { return field_ids_; }

 private:
  [[noreturn]] static void Fail(int column, std::string message) {
    throw CompileError{false, column, std::move(message)};
  }

  bool IsPrimaryField(const Ast& node) const {
    return node.kind == AstKind::kField && node.path.empty() && node.name == primary_->name();
  }

  Compiled Compile(const Ast& node) {
    switch (node.kind) {
      case AstKind::kLiteral: return Constant(node.literal, node.column);
      case AstKind::kArray: return ArrayLiteral(node);
      case AstKind::kTemplate: return Template(node);
      case AstKind::kField: return FieldValue(Resolve(node), node.column);
      case AstKind::kCall: return Call(node);
      case AstKind::kNot: return Not(node);
      case AstKind::kNegate: return Negate(node);
      case AstKind::kLogical: return Logical(node);
      case AstKind::kCompare: return Compare(node);
      case AstKind::kRange: return Range(node);
      case AstKind::kArith: return Arith(node);
      case AstKind::kIn: return In(node);
      case AstKind::kLike: return Like(node);
      case AstKind::kIsNull: return IsNull(node);
      case AstKind::kExists: return Exists(node);
    }
    Fail(node.column, "unsupported expression");
  }

  // --- names ---

  FieldRef Resolve(const Ast& node) {
    FieldRef ref{nullptr, node.path};
    auto it = fields_.find(node.name);
    if (it != fields_.end() && (!it->second->is_dynamic() || dynamic_)) {
      ref.field = it->second;
    } else if (dynamic_) {
      ref.field = dynamic_;  // an undeclared name is a key of the dynamic field
      ref.path.insert(ref.path.begin(), PathStep{false, node.name, 0});
    } else {
      Fail(node.column, "field " + node.name + " not exist");
    }
    const spb::FieldSchema& field = *ref.field;
    const ExprType type{field.data_type(), field.element_type()};
    if (!Filterable(field.data_type())) {
      Fail(node.column, "filter on " + TypeName(type) + " field (" + field.name() + ") is not supported");
    }
    if (!node.path.empty() && field.data_type() != spb::JSON && field.data_type() != spb::Array) {
      Fail(node.column, TypeName(type) + " field " + field.name() + " cannot be accessed with []");
    }
    if (field.data_type() == spb::Array && !ref.path.empty()) {
      if (ref.path.size() > 1) Fail(node.column, "array field " + field.name() + " takes a single index");
      if (!ref.path[0].is_index)
        Fail(node.column, "can only access array field " + field.name() + " with integer index");
      if (!Filterable(field.element_type()) || field.element_type() == spb::Array ||
          field.element_type() == spb::JSON) {
        Fail(node.column, "filter on " + TypeName(type) + " elements is not supported");
      }
    }
    if (std::find(field_ids_.begin(), field_ids_.end(), field.fieldid()) == field_ids_.end()) {
      field_ids_.push_back(field.fieldid());
    }
    return ref;
  }

  static bool Filterable(spb::DataType type) {
    return type == spb::Bool || IsNumber(type) || IsString(type) || type == spb::JSON || type == spb::Array;
  }

  static Compiled FieldValue(const FieldRef& ref, int column) {
    const spb::FieldSchema& field = *ref.field;
    if (field.data_type() == spb::JSON) {
      return FromOperand(JsonOperand(field.fieldid(), ref.path), {spb::JSON, spb::None}, column);
    }
    if (field.data_type() == spb::Array && !ref.path.empty()) {
      return FromOperand(ArrayElementOperand(field.fieldid(), ref.path[0].index, KindOf(field.element_type())),
                         {field.element_type(), spb::None}, column);
    }
    return FromOperand(FieldOperand(field.fieldid(), KindOf(field.data_type())),
                       {field.data_type(), field.element_type()}, column);
  }

  Compiled Template(const Ast& node) {
    auto it = params_.find(node.name);
    if (it == params_.end()) {
      Fail(node.column, "the value of expression template variable name {" + node.name + "} is not found");
    }
    std::optional<Json> value = TemplateValueOf(it->second);
    if (!value) Fail(node.column, "the value of expression template variable name {" + node.name + "} is invalid");
    return Constant(std::move(*value), node.column);
  }

  Compiled ArrayLiteral(const Ast& node) {
    Json values = Json::array();
    for (const auto& child : node.children) {
      Compiled element = Compile(*child);
      if (!element.is_constant()) Fail(child->column, "array elements must be constants");
      values.push_back(std::move(element.constant));
    }
    return Constant(std::move(values), node.column);
  }

  // --- boolean structure ---

  PredicatePtr AsPredicate(Compiled compiled, std::string_view requirement) {
    if (compiled.is_predicate()) return std::move(compiled.predicate);
    if (compiled.is_constant() && compiled.constant.is_boolean())
      return ConstantPredicate(compiled.constant.get<bool>());
    Fail(compiled.column, std::string(requirement) + ", got " + TypeName(compiled.type));
  }

  Compiled Logical(const Ast& node) {
    const std::string requirement =
        std::string(node.is_and ? "'and'" : "'or'") + " can only be used between boolean expressions";
    std::vector<PredicatePtr> operands;
    bool decided = false;  // a constant false under `and` (true under `or`) decides the result
    for (const auto& child : node.children) {
      Compiled operand = Compile(*child);
      if (operand.is_constant() && operand.constant.is_boolean()) {
        decided = decided || operand.constant.get<bool>() != node.is_and;
        continue;
      }
      operands.push_back(AsPredicate(std::move(operand), requirement));
    }
    if (decided) return Constant(!node.is_and, node.column);
    if (operands.empty()) return Constant(node.is_and, node.column);
    if (operands.size() == 1) return FromPredicate(std::move(operands.front()), node.column);
    return FromPredicate(LogicalPredicate(node.is_and, std::move(operands)), node.column);
  }

  Compiled Not(const Ast& node) {
    Compiled operand = Compile(*node.children[0]);
    if (operand.is_constant() && operand.constant.is_boolean())
      return Constant(!operand.constant.get<bool>(), node.column);
    return FromPredicate(
        NotPredicate(AsPredicate(std::move(operand), "'not' can only be applied to a boolean expression")),
        node.column);
  }

  // --- comparisons ---

  void RequireValue(const Compiled& operand, std::string_view what) {
    if (operand.is_predicate())
      Fail(operand.column, std::string(what) + " cannot take a boolean expression as operand");
  }

  void RequireComparable(const Compiled& a, CmpOp op, const Compiled& b, int column) {
    if (!Comparable(a.type, op, b.type)) {
      Fail(column, "comparisons between " + TypeName(a.type) + " and " + TypeName(b.type) + " are not supported");
    }
  }

  // Float fields hold float32: constants compare at that precision, as in Milvus.
  static Json AdaptConstant(const ExprType& type, const Json& constant) {
    if (type.type == spb::Float && constant.is_number())
      return static_cast<double>(static_cast<float>(constant.get<double>()));
    return constant;
  }

  Compiled Compare(const Ast& node) {
    Compiled lhs = Compile(*node.children[0]);
    Compiled rhs = Compile(*node.children[1]);
    return CompareCompiled(std::move(lhs), node.cmp, std::move(rhs), node.column);
  }

  Compiled CompareCompiled(Compiled lhs, CmpOp op, Compiled rhs, int column) {
    RequireValue(lhs, "comparison");
    RequireValue(rhs, "comparison");
    RequireComparable(lhs, op, rhs, column);
    if (lhs.is_constant() && rhs.is_constant()) {
      return Constant(CompareScalars(ScalarOf(lhs.constant), op, ScalarOf(rhs.constant)), column);
    }
    if (lhs.is_constant()) {
      std::swap(lhs, rhs);
      op = Flip(op);
    }
    std::vector<Condition> conditions;
    conditions.push_back(ConditionOn(lhs.type, op, std::move(rhs)));
    return FromPredicate(ComparePredicate(std::move(lhs.operand), std::move(conditions)), column);
  }

  static Condition ConditionOn(const ExprType& value_type, CmpOp op, Compiled bound) {
    Condition condition;
    condition.op = op;
    if (bound.is_constant()) {
      condition.constant = AdaptConstant(value_type, bound.constant);
    } else {
      condition.operand = std::move(bound.operand);
    }
    return condition;
  }

  // `lower < x <= upper` (children lower, x, upper) or `upper > x >= lower` (upper, x, lower).
  Compiled Range(const Ast& node) {
    Compiled first = Compile(*node.children[0]);
    Compiled middle = Compile(*node.children[1]);
    Compiled last = Compile(*node.children[2]);
    for (const Compiled* part : {&first, &middle, &last}) RequireValue(*part, "comparison");
    RequireComparable(first, Flip(node.cmp), middle, node.column);
    RequireComparable(middle, node.cmp2, last, node.column);
    const bool ascending = node.cmp == CmpOp::kLt || node.cmp == CmpOp::kLe;
    const Compiled& lower = ascending ? first : last;
    const Compiled& upper = ascending ? last : first;
    const bool inclusive =
        (node.cmp == CmpOp::kLe || node.cmp == CmpOp::kGe) && (node.cmp2 == CmpOp::kLe || node.cmp2 == CmpOp::kGe);
    if (lower.is_constant() && upper.is_constant() &&
        CompareScalars(ScalarOf(lower.constant), inclusive ? CmpOp::kGt : CmpOp::kGe, ScalarOf(upper.constant))) {
      Fail(node.column, "invalid range: lowerbound is greater than upperbound");
    }
    if (!middle.is_operand()) {
      Json value = middle.constant;
      std::vector<PredicatePtr> both;
      both.push_back(AsPredicate(CompareCompiled(std::move(first), node.cmp, std::move(middle), node.column), ""));
      both.push_back(
          AsPredicate(CompareCompiled(Constant(value, node.column), node.cmp2, std::move(last), node.column), ""));
      return FromPredicate(LogicalPredicate(/*is_and=*/true, std::move(both)), node.column);
    }
    std::vector<Condition> conditions;
    conditions.push_back(ConditionOn(middle.type, Flip(node.cmp), std::move(first)));
    conditions.push_back(ConditionOn(middle.type, node.cmp2, std::move(last)));
    return FromPredicate(ComparePredicate(std::move(middle.operand), std::move(conditions)), node.column);
  }

  Compiled In(const Ast& node) {
    Compiled value = Compile(*node.children[0]);
    Compiled list = Compile(*node.children[1]);
    if (!value.is_operand()) Fail(value.column, "'in' can only be applied to a field, got " + TypeName(value.type));
    if (!list.is_constant() || !list.constant.is_array())
      Fail(list.column, "the right-hand side of 'in' must be a list");
    std::vector<Json> elements;
    for (const Json& element : list.constant) {
      if (!FitsType(value.type, element)) {
        Fail(list.column, "value " + element.dump() + " in list cannot be casted to " + TypeName(value.type));
      }
      elements.push_back(AdaptConstant(value.type, element));
    }
    PredicatePtr membership = InPredicate(std::move(value.operand), LiteralSet(elements));
    return FromPredicate(node.negated ? NotPredicate(std::move(membership)) : std::move(membership), node.column);
  }

  Compiled Like(const Ast& node) {
    Compiled value = Compile(*node.children[0]);
    Compiled pattern = Compile(*node.children[1]);
    if (!value.is_operand() || !(IsString(value.type.type) || value.type.type == spb::JSON)) {
      Fail(value.column, "like operation on non-string or no-json field is unsupported");
    }
    if (!pattern.is_constant() || !pattern.constant.is_string())
      Fail(pattern.column, "the pattern of like must be a string");
    return FromPredicate(LikePredicate(std::move(value.operand), LikePattern(pattern.constant.get<std::string>())),
                         node.column);
  }

  Compiled IsNull(const Ast& node) {
    const Ast& child = *node.children[0];
    if (child.kind != AstKind::kField) Fail(child.column, "'is null' can only be applied to a field");
    Compiled value = FieldValue(Resolve(child), child.column);
    return FromPredicate(NullPredicate(std::move(value.operand), !node.negated), node.column);
  }

  Compiled Exists(const Ast& node) {
    const Ast& child = *node.children[0];
    if (child.kind != AstKind::kField) Fail(child.column, "exists operations are only supported on json key");
    FieldRef ref = Resolve(child);
    if (ref.field->data_type() != spb::JSON || ref.path.empty()) {
      Fail(child.column, "exists operations are only supported on json key");
    }
    return FromPredicate(NullPredicate(FieldValue(ref, child.column).operand, /*is_null=*/false), node.column);
  }

  // --- arithmetic ---

  void RequireNumber(const Compiled& operand, ArithOp op) {
    const bool number = operand.is_constant()
                            ? operand.constant.is_number()
                            : operand.is_operand() && (IsNumber(operand.type.type) || operand.type.type == spb::JSON);
    if (!number) {
      Fail(operand.column, "arithmetic operator '" + std::string(ArithOpText(op)) + "' cannot be applied to " +
                               (operand.is_predicate() ? "a boolean expression" : TypeName(operand.type)));
    }
  }

  static bool IsIntegral(const Compiled& operand) {
    return operand.is_constant() ? operand.constant.is_number_integer() : IsInteger(operand.type.type);
  }

  Compiled Arith(const Ast& node) {
    Compiled lhs = Compile(*node.children[0]);
    Compiled rhs = Compile(*node.children[1]);
    const ArithOp op = node.arith;
    RequireNumber(lhs, op);
    RequireNumber(rhs, op);
    if (lhs.is_constant() && rhs.is_constant())
      return Constant(Fold(op, lhs.constant, rhs.constant, node.column), node.column);
    if (op == ArithOp::kPow) Fail(node.column, "power can only apply on constants");
    if (op == ArithOp::kMod && (IsFloating(lhs.type.type) || IsFloating(rhs.type.type))) {
      Fail(node.column, "modulo can only apply on integer types");
    }
    if ((op == ArithOp::kDiv || op == ArithOp::kMod) && rhs.is_constant() && rhs.constant.get<double>() == 0) {
      Fail(rhs.column, "division or modulus by zero");
    }
    // JSON values take integer arithmetic for % and floating point otherwise.
    const bool integral = op == ArithOp::kMod || (IsIntegral(lhs) && IsIntegral(rhs));
    const ExprType type{integral ? spb::Int64 : spb::Double, spb::None};
    return FromOperand(ArithOperand(op, ToOperand(std::move(lhs)), ToOperand(std::move(rhs)),
                                    integral ? ValueKind::kInt : ValueKind::kFloat),
                       type, node.column);
  }

  static OperandPtr ToOperand(Compiled compiled) {
    return compiled.is_constant() ? ConstantOperand(compiled.constant) : std::move(compiled.operand);
  }

  Json Fold(ArithOp op, const Json& a, const Json& b, int column) {
    if (a.is_number_integer() && b.is_number_integer() && op != ArithOp::kPow) {
      const auto x = a.get<int64_t>();
      const auto y = b.get<int64_t>();
      int64_t result = 0;
      bool overflow = false;
      switch (op) {
        case ArithOp::kAdd: overflow = __builtin_add_overflow(x, y, &result); break;
        case ArithOp::kSub: overflow = __builtin_sub_overflow(x, y, &result); break;
        case ArithOp::kMul: overflow = __builtin_mul_overflow(x, y, &result); break;
        case ArithOp::kDiv:
        case ArithOp::kMod:
          if (y == 0) Fail(column, "division or modulus by zero");
          overflow = x == std::numeric_limits<int64_t>::min() && y == -1;
          if (!overflow) result = op == ArithOp::kDiv ? x / y : x % y;
          break;
        case ArithOp::kPow: break;
      }
      if (overflow) Fail(column, "integer overflow in constant arithmetic");
      return result;
    }
    const auto x = a.get<double>();
    const auto y = b.get<double>();
    double result = 0;
    switch (op) {
      case ArithOp::kAdd: result = x + y; break;
      case ArithOp::kSub: result = x - y; break;
      case ArithOp::kMul: result = x * y; break;
      case ArithOp::kDiv:
        if (y == 0) Fail(column, "division or modulus by zero");
        result = x / y;
        break;
      case ArithOp::kMod: Fail(column, "modulo can only apply on integer types");
      case ArithOp::kPow: result = std::pow(x, y); break;
    }
    if (!std::isfinite(result)) Fail(column, "constant arithmetic gives no finite number");
    return result;
  }

  Compiled Negate(const Ast& node) {
    Compiled operand = Compile(*node.children[0]);
    if (operand.is_constant() && operand.constant.is_number_integer()) {
      const auto value = operand.constant.get<int64_t>();
      if (value == std::numeric_limits<int64_t>::min()) Fail(node.column, "integer overflow in constant arithmetic");
      return Constant(-value, node.column);
    }
    if (operand.is_constant() && operand.constant.is_number())
      return Constant(-operand.constant.get<double>(), node.column);
    RequireNumber(operand, ArithOp::kSub);
    const bool integral = IsInteger(operand.type.type);
    return FromOperand(ArithOperand(ArithOp::kSub, ConstantOperand(Json(0)), std::move(operand.operand),
                                    integral ? ValueKind::kInt : ValueKind::kFloat),
                       {integral ? spb::Int64 : spb::Double, spb::None}, node.column);
  }

  // --- functions ---

  static std::string Lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
  }

  void RequireArguments(const Ast& node, size_t count) {
    if (node.children.size() != count) {
      Fail(node.column, node.name + " takes " + std::to_string(count) + " argument" + (count == 1 ? "" : "s") +
                            ", got " + std::to_string(node.children.size()));
    }
  }

  Compiled Call(const Ast& node) {
    const std::string name = Lower(node.name);
    if (name == "array_length") {
      RequireArguments(node, 1);
      Compiled container = Compile(*node.children[0]);
      if (!container.is_operand() || (container.type.type != spb::Array && container.type.type != spb::JSON)) {
        Fail(container.column, "array_length operation are only supported on json or array fields");
      }
      return FromOperand(ArrayLengthOperand(std::move(container.operand)), {spb::Int64, spb::None}, node.column);
    }
    static const std::unordered_map<std::string, std::pair<ContainsMode, bool>> kContains = {
        {"json_contains", {ContainsMode::kAny, false}},    {"array_contains", {ContainsMode::kAny, false}},
        {"json_contains_any", {ContainsMode::kAny, true}}, {"array_contains_any", {ContainsMode::kAny, true}},
        {"json_contains_all", {ContainsMode::kAll, true}}, {"array_contains_all", {ContainsMode::kAll, true}},
    };
    auto it = kContains.find(name);
    if (it == kContains.end()) Fail(node.column, "function " + node.name + "() is not supported");
    const auto [mode, takes_list] = it->second;
    RequireArguments(node, 2);
    Compiled container = Compile(*node.children[0]);
    Compiled wanted = Compile(*node.children[1]);
    if (!container.is_operand() || (container.type.type != spb::Array && container.type.type != spb::JSON)) {
      Fail(container.column, "contains operation are only supported on json or array fields");
    }
    if (!wanted.is_constant())
      Fail(wanted.column, "contains operation are only supported explicitly specified element");
    if (takes_list && !wanted.constant.is_array()) Fail(wanted.column, name + " operation element must be an array");
    std::vector<Json> elements;
    if (takes_list) {
      elements.assign(wanted.constant.begin(), wanted.constant.end());
    } else {
      elements.push_back(wanted.constant);
    }
    if (container.type.type == spb::Array) {
      const ExprType element_type{container.type.element, spb::None};
      for (Json& element : elements) {
        if (!FitsType(element_type, element)) {
          Fail(wanted.column, "value " + element.dump() + " cannot be an element of " + TypeName(container.type));
        }
        element = AdaptConstant(element_type, element);
      }
    }
    return FromPredicate(ContainsPredicate(std::move(container.operand), mode, std::move(elements)), node.column);
  }

  const TemplateValues& params_;
  std::unordered_map<std::string, const spb::FieldSchema*> fields_;
  const spb::FieldSchema* dynamic_ = nullptr;
  const spb::FieldSchema* primary_ = nullptr;
  std::vector<int64_t> field_ids_;
};

class CompiledFilter final : public Filter {
 public:
  CompiledFilter(PredicatePtr root, std::vector<int64_t> field_ids, std::optional<spb::IDs> primary_keys)
      : root_(std::move(root)), field_ids_(std::move(field_ids)), primary_keys_(std::move(primary_keys)) {}

  const std::vector<int64_t>& field_ids() const override { return field_ids_; }

  void Evaluate(const ColumnSource& columns, int64_t begin, int64_t end, std::vector<uint8_t>* matches) const override {
    const int64_t rows = std::max<int64_t>(end - begin, 0);
    matches->assign(rows, 0);
    std::vector<uint8_t> valid(std::min(rows, kBlockRows));
    for (int64_t offset = 0; offset < rows; offset += kBlockRows) {
      JsonCache json;
      const Block block{&columns, begin + offset, std::min(kBlockRows, rows - offset), &json};
      root_->Eval(block, matches->data() + offset, valid.data());
    }
  }

  const std::optional<spb::IDs>& primary_keys() const { return primary_keys_; }

 private:
  PredicatePtr root_;
  std::vector<int64_t> field_ids_;
  std::optional<spb::IDs> primary_keys_;
};

// Long expressions are cut in messages; the column still points into the full text.
std::string Excerpt(std::string_view expression) {
  constexpr size_t kShown = 200;
  if (expression.size() <= kShown) return std::string(expression);
  return std::string(expression.substr(0, kShown)) + "...";
}

}  // namespace

StatusOr<std::unique_ptr<Filter>> CompileFilter(std::string_view expression, const spb::CollectionSchema& schema,
                                                const TemplateValues& params) {
  if (expression.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::unique_ptr<Filter>();
  try {
    AstPtr ast = Parse(expression);
    Compiler compiler(schema, params);
    PredicatePtr root = compiler.CompileRoot(*ast);
    std::optional<spb::IDs> primary_keys = compiler.PrimaryKeys(*ast);
    return std::unique_ptr<Filter>(
        std::make_unique<CompiledFilter>(std::move(root), compiler.field_ids(), std::move(primary_keys)));
  } catch (const CompileError& error) {
    return Status(Code::kParameterInvalid, "cannot parse expression: \"" + Excerpt(expression) +
                                               "\", error: " + (error.syntax ? "syntax error" : "invalid expression") +
                                               " at column " + std::to_string(error.column) + ": " + error.message);
  }
}

std::optional<spb::IDs> PrimaryKeyTerms(const Filter& filter) {
  const auto* compiled = dynamic_cast<const CompiledFilter*>(&filter);
  return compiled ? compiled->primary_keys() : std::nullopt;
}

}  // namespace quiver::expr
