// Parser: the text of a Milvus filter expression → a syntax tree (internal to quiver_expr).
//
// A hand-written lexer and a Pratt parser for the grammar of Milvus's Plan.g4. Binding,
// loosest first:
//   or ||  <  and &&  <  not !  <  == !=  <  < <= > >= (and chained ranges)  <  in, not in
//   <  + -  <  * / %  <  unary + -  <  **  <  like  <  is [not] null
// `not` binds looser than comparisons (`not a > 1` is `not (a > 1)`), as in SQL; Milvus
// binds it tighter, which only accepts that form for boolean fields, where both mean the
// same. Keywords are accepted in lower or upper case (`and`/`AND`; booleans also `True`).
// Subscripts (`meta["a"][0]`) follow a name; a name followed by `(` is a function call.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace quiver::expr {

// Deepest nesting of parentheses, operators and calls accepted; deeper input is refused
// rather than allowed to exhaust the stack.
inline constexpr int kMaxDepth = 1000;

// A compile failure; thrown by the parser and compiler, caught by CompileFilter.
struct CompileError {
  bool syntax = true;  // malformed text, as opposed to a name or type problem
  int column = 0;      // 1-based byte column in the expression
  std::string message;
};

enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe };
enum class ArithOp { kAdd, kSub, kMul, kDiv, kMod, kPow };

std::string_view CmpOpText(CmpOp op);
std::string_view ArithOpText(ArithOp op);

// One subscript after a name: a JSON key or an index.
struct PathStep {
  bool is_index = false;
  std::string key;
  int64_t index = 0;
};

enum class AstKind {
  kLiteral,   // bool, int64, double or string in `literal`
  kArray,     // [children...]
  kTemplate,  // {name}
  kField,     // name + path
  kCall,      // name(children...)
  kNot,       // not child
  kNegate,    // -child
  kLogical,   // children joined by `and` (is_and) or `or`
  kCompare,   // child0 cmp child1
  kRange,     // child0 cmp child1 cmp2 child2, both operators pointing the same way
  kArith,     // child0 arith child1
  kIn,        // child0 [not] in child1
  kLike,      // child0 like child1
  kIsNull,    // child0 is [not] null
  kExists,    // exists child0
};

struct Ast {
  AstKind kind = AstKind::kLiteral;
  int column = 0;  // where the node's text starts; for operators, the operator
  int depth = 1;   // height of the subtree
  nlohmann::json literal;
  std::string name;
  std::vector<PathStep> path;
  bool is_and = false;   // kLogical
  bool negated = false;  // kIn: `not in`; kIsNull: `is not null`
  CmpOp cmp = CmpOp::kEq;
  CmpOp cmp2 = CmpOp::kEq;
  ArithOp arith = ArithOp::kAdd;
  std::vector<std::unique_ptr<Ast>> children;
};
using AstPtr = std::unique_ptr<Ast>;

// Parses a whole expression; throws CompileError (syntax = true) on malformed text.
AstPtr Parse(std::string_view text);

}  // namespace quiver::expr
