#include "expr/parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace quiver::expr {
namespace {

using Json = nlohmann::json;

enum class Tok {
  kEnd,
  kIdent,
  kInt,
  kFloat,
  kString,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kComma,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kPow,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kNot,
  kIn,
  kLike,
  kIs,
  kNull,
  kTrue,
  kFalse,
  kExists,
};

struct Token {
  Tok type = Tok::kEnd;
  int column = 0;
  std::string_view text;  // as written
  std::string value;      // identifier name or decoded string literal
};

[[noreturn]] void SyntaxError(int column, std::string message) { throw CompileError{true, column, std::move(message)}; }

std::string Quote(std::string_view text) {
  constexpr size_t kShown = 40;
  if (text.size() > kShown) return "'" + std::string(text.substr(0, kShown)) + "...'";
  return "'" + std::string(text) + "'";
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }
int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Milvus spells each keyword in lower or in upper case only.
bool IsKeyword(std::string_view word, std::string_view keyword) {
  if (word.size() != keyword.size()) return false;
  bool lower = true;
  bool upper = true;
  for (size_t i = 0; i < word.size(); ++i) {
    lower = lower && word[i] == keyword[i];
    upper = upper && word[i] == static_cast<char>(keyword[i] - ('a' <= keyword[i] && keyword[i] <= 'z' ? 32 : 0));
  }
  return lower || upper;
}

Tok WordToken(std::string_view word) {
  static constexpr std::pair<std::string_view, Tok> kKeywords[] = {
      {"and", Tok::kAnd}, {"or", Tok::kOr},     {"not", Tok::kNot},   {"in", Tok::kIn},       {"like", Tok::kLike},
      {"is", Tok::kIs},   {"null", Tok::kNull}, {"true", Tok::kTrue}, {"false", Tok::kFalse}, {"exists", Tok::kExists},
  };
  for (const auto& [keyword, token] : kKeywords) {
    if (IsKeyword(word, keyword)) return token;
  }
  if (word == "True") return Tok::kTrue;
  if (word == "False") return Tok::kFalse;
  return Tok::kIdent;
}

void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    *out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    *out += static_cast<char>(0xC0 | (code_point >> 6));
    *out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    *out += static_cast<char>(0xE0 | (code_point >> 12));
    *out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (code_point >> 18));
    *out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

size_t Utf8Length(char lead) {
  const auto byte = static_cast<unsigned char>(lead);
  if (byte >= 0xF0) return 4;
  if (byte >= 0xE0) return 3;
  if (byte >= 0xC0) return 2;
  return 1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  std::vector<Token> Tokenize() {
    std::vector<Token> tokens;
    for (;;) {
      SkipSpace();
      tokens.push_back(Next());
      if (tokens.back().type == Tok::kEnd) return tokens;
    }
  }

 private:
  int Column(size_t pos) const { return static_cast<int>(pos) + 1; }
  bool At(size_t pos, char c) const { return pos < text_.size() && text_[pos] == c; }
  bool DigitAt(size_t pos) const { return pos < text_.size() && IsDigit(text_[pos]); }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  Token Make(Tok type, size_t start, std::string value = {}) const {
    return Token{type, Column(start), text_.substr(start, pos_ - start), std::move(value)};
  }

  Token Next() {
    const size_t start = pos_;
    if (pos_ >= text_.size()) return Make(Tok::kEnd, start);
    const char c = text_[pos_];
    if ((c == 'r' || c == 'R') && (At(pos_ + 1, '"') || At(pos_ + 1, '\''))) return RawString();
    if (IsIdentStart(c)) {
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      std::string_view word = text_.substr(start, pos_ - start);
      return Make(WordToken(word), start, std::string(word));
    }
    if (c == '$' && text_.substr(pos_, 5) == "$meta" && !(pos_ + 5 < text_.size() && IsIdentChar(text_[pos_ + 5]))) {
      pos_ += 5;
      return Make(Tok::kIdent, start, "$meta");
    }
    if (IsDigit(c) || (c == '.' && DigitAt(pos_ + 1))) return Number();
    if (c == '"' || c == '\'') return String();
    return Punctuation();
  }

  Token Punctuation() {
    static constexpr std::pair<std::string_view, Tok> kSymbols[] = {
        {"**", Tok::kPow},     {"==", Tok::kEq},    {"!=", Tok::kNe},    {"<=", Tok::kLe},     {">=", Tok::kGe},
        {"&&", Tok::kAnd},     {"||", Tok::kOr},    {"(", Tok::kLParen}, {")", Tok::kRParen},  {"[", Tok::kLBracket},
        {"]", Tok::kRBracket}, {"{", Tok::kLBrace}, {"}", Tok::kRBrace}, {",", Tok::kComma},   {"+", Tok::kPlus},
        {"-", Tok::kMinus},    {"*", Tok::kStar},   {"/", Tok::kSlash},  {"%", Tok::kPercent}, {"<", Tok::kLt},
        {">", Tok::kGt},       {"!", Tok::kNot},
    };
    const size_t start = pos_;
    for (const auto& [symbol, token] : kSymbols) {
      if (text_.substr(pos_).starts_with(symbol)) {
        pos_ += symbol.size();
        return Make(token, start);
      }
    }
    SyntaxError(Column(start), "unexpected character " + Quote(text_.substr(start, Utf8Length(text_[start]))));
  }

  Token Number() {
    const size_t start = pos_;
    bool is_float = false;
    const bool prefixed = text_[pos_] == '0' && pos_ + 1 < text_.size() &&
                          std::string_view("xXbB").find(text_[pos_ + 1]) != std::string_view::npos;
    if (prefixed) {
      pos_ += 2;
      while (pos_ < text_.size() && HexValue(text_[pos_]) >= 0) ++pos_;
    } else {
      while (DigitAt(pos_)) ++pos_;
      if (At(pos_, '.')) {
        is_float = true;
        ++pos_;
        while (DigitAt(pos_)) ++pos_;
      }
      if (At(pos_, 'e') || At(pos_, 'E')) {
        const size_t digits = pos_ + ((At(pos_ + 1, '+') || At(pos_ + 1, '-')) ? 2 : 1);
        if (DigitAt(digits)) {
          is_float = true;
          pos_ = digits;
          while (DigitAt(pos_)) ++pos_;
        }
      }
    }
    if (pos_ < text_.size() && (IsIdentChar(text_[pos_]) || text_[pos_] == '.')) {
      while (pos_ < text_.size() && (IsIdentChar(text_[pos_]) || text_[pos_] == '.')) ++pos_;
      SyntaxError(Column(start), "malformed number " + Quote(text_.substr(start, pos_ - start)));
    }
    return Make(is_float ? Tok::kFloat : Tok::kInt, start);
  }

  Token String() {
    const size_t start = pos_;
    const char quote = text_[pos_++];
    std::string value;
    for (;;) {
      if (pos_ >= text_.size()) SyntaxError(Column(start), "unterminated string");
      const char c = text_[pos_];
      if (c == quote) break;
      if (c == '\n' || c == '\r') SyntaxError(Column(pos_), "line break inside a string");
      if (c == '\\') {
        Escape(&value);
      } else {
        value += c;
        ++pos_;
      }
    }
    ++pos_;
    return Make(Tok::kString, start, std::move(value));
  }

  // Raw strings keep backslashes; a backslash only stops the next character from ending it.
  Token RawString() {
    const size_t start = pos_++;
    const char quote = text_[pos_++];
    std::string value;
    for (;;) {
      if (pos_ >= text_.size()) SyntaxError(Column(start), "unterminated string");
      const char c = text_[pos_];
      if (c == quote) break;
      if (c == '\n' || c == '\r') SyntaxError(Column(pos_), "line break inside a string");
      value += c;
      ++pos_;
      if (c == '\\' && pos_ < text_.size() && text_[pos_] != '\n' && text_[pos_] != '\r') value += text_[pos_++];
    }
    ++pos_;
    return Make(Tok::kString, start, std::move(value));
  }

  uint32_t HexDigits(size_t count, size_t escape_start) {
    uint32_t value = 0;
    for (size_t i = 0; i < count; ++i, ++pos_) {
      const int digit = pos_ < text_.size() ? HexValue(text_[pos_]) : -1;
      if (digit < 0) SyntaxError(Column(escape_start), "malformed escape sequence in string");
      value = value * 16 + static_cast<uint32_t>(digit);
    }
    return value;
  }

  void UnicodeEscape(size_t digits, size_t escape_start, std::string* out) {
    uint32_t code_point = HexDigits(digits, escape_start);
    if (code_point >= 0xD800 && code_point <= 0xDBFF && text_.substr(pos_, 2) == "\\u") {
      pos_ += 2;
      const uint32_t low = HexDigits(4, escape_start);
      if (low < 0xDC00 || low > 0xDFFF) SyntaxError(Column(escape_start), "invalid unicode escape in string");
      code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
    } else if ((code_point >= 0xD800 && code_point <= 0xDFFF) || code_point > 0x10FFFF) {
      SyntaxError(Column(escape_start), "invalid unicode escape in string");
    }
    AppendUtf8(code_point, out);
  }

  // C escapes as Milvus (Go's strconv.Unquote) reads them. Unknown ones such as `\%` are
  // kept with their backslash, so that LIKE patterns can escape `%` and `_`.
  void Escape(std::string* out) {
    const size_t escape_start = pos_++;
    if (pos_ >= text_.size()) SyntaxError(Column(escape_start), "unterminated string");
    const char c = text_[pos_++];
    switch (c) {
      case 'a': *out += '\a'; break;
      case 'b': *out += '\b'; break;
      case 'f': *out += '\f'; break;
      case 'n': *out += '\n'; break;
      case 'r': *out += '\r'; break;
      case 't': *out += '\t'; break;
      case 'v': *out += '\v'; break;
      case '\\':
      case '\'':
      case '"':
      case '?': *out += c; break;
      case 'x': *out += static_cast<char>(HexDigits(2, escape_start)); break;
      case 'u': UnicodeEscape(4, escape_start, out); break;
      case 'U': UnicodeEscape(8, escape_start, out); break;
      default:
        if (c >= '0' && c <= '7') {
          uint32_t value = static_cast<uint32_t>(c - '0');
          for (int i = 0; i < 2 && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '7'; ++i) {
            value = value * 8 + static_cast<uint32_t>(text_[pos_++] - '0');
          }
          if (value > 0xFF) SyntaxError(Column(escape_start), "octal escape out of range in string");
          *out += static_cast<char>(value);
        } else {
          *out += '\\';
          *out += c;
        }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

Json ParseInteger(const Token& token) {
  std::string_view digits = token.text;
  int base = 10;
  if (digits.size() > 1 && digits[0] == '0') {
    if (digits[1] == 'x' || digits[1] == 'X') {
      base = 16;
      digits.remove_prefix(2);
    } else if (digits[1] == 'b' || digits[1] == 'B') {
      base = 2;
      digits.remove_prefix(2);
    } else {
      base = 8;  // a leading 0 means octal, as in Milvus (Go's ParseInt with base 0)
      digits.remove_prefix(1);
    }
  }
  uint64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (error == std::errc() && end == digits.data() + digits.size() && !digits.empty()) {
    if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Json(static_cast<int64_t>(value));
    error = std::errc::result_out_of_range;
  }
  if (error == std::errc::result_out_of_range) {
    throw CompileError{false, token.column, "integer " + std::string(token.text) + " is out of the int64 range"};
  }
  SyntaxError(token.column, "malformed number " + Quote(token.text));
}

Json ParseFloat(const Token& token) {
  double value = 0;
  auto [end, error] = std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
  if (error == std::errc::result_out_of_range || !std::isfinite(value)) {
    throw CompileError{false, token.column, "number " + std::string(token.text) + " is out of the double range"};
  }
  if (error != std::errc() || end != token.text.data() + token.text.size()) {
    SyntaxError(token.column, "malformed number " + Quote(token.text));
  }
  return Json(value);
}

bool IsRelational(Tok type) { return type == Tok::kLt || type == Tok::kLe || type == Tok::kGt || type == Tok::kGe; }

CmpOp CmpOf(Tok type) {
  switch (type) {
    case Tok::kEq: return CmpOp::kEq;
    case Tok::kNe: return CmpOp::kNe;
    case Tok::kLt: return CmpOp::kLt;
    case Tok::kLe: return CmpOp::kLe;
    case Tok::kGt: return CmpOp::kGt;
    default: return CmpOp::kGe;
  }
}

ArithOp ArithOf(Tok type) {
  switch (type) {
    case Tok::kPlus: return ArithOp::kAdd;
    case Tok::kMinus: return ArithOp::kSub;
    case Tok::kStar: return ArithOp::kMul;
    case Tok::kSlash: return ArithOp::kDiv;
    case Tok::kPercent: return ArithOp::kMod;
    default: return ArithOp::kPow;
  }
}

// Binding powers; larger binds tighter.
constexpr int kOrPower = 1;
constexpr int kAndPower = 2;
constexpr int kNotPower = 3;
constexpr int kEqualityPower = 4;
constexpr int kRelationalPower = 5;
constexpr int kInPower = 6;
constexpr int kAddPower = 7;
constexpr int kMulPower = 8;
constexpr int kUnaryPower = 9;
constexpr int kPowPower = 10;
constexpr int kLikePower = 11;
constexpr int kPostfixPower = 12;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  AstPtr ParseAll() {
    AstPtr root = ParseExpr(kOrPower);
    if (Peek().type != Tok::kEnd) Unexpected(Peek());
    return root;
  }

 private:
  class DepthGuard {
   public:
    DepthGuard(int* depth, int column) : depth_(depth) {
      if (++*depth_ > kMaxDepth) SyntaxError(column, TooDeep());
    }
    ~DepthGuard() { --*depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    int* depth_;
  };

  static std::string TooDeep() { return "expression is nested deeper than " + std::to_string(kMaxDepth) + " levels"; }

  const Token& Peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  const Token& Take() {
    const Token& token = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return token;
  }
  bool Accept(Tok type) {
    if (Peek().type != type) return false;
    Take();
    return true;
  }
  const Token& Expect(Tok type, std::string_view what) {
    if (Peek().type != type) Unexpected(Peek(), what);
    return Take();
  }
  [[noreturn]] static void Unexpected(const Token& token, std::string_view expected = {}) {
    std::string message =
        token.type == Tok::kEnd ? std::string("unexpected end of expression") : "unexpected " + Quote(token.text);
    if (!expected.empty()) message += ", expected " + std::string(expected);
    SyntaxError(token.column, std::move(message));
  }

  static AstPtr Node(AstKind kind, int column) {
    auto node = std::make_unique<Ast>();
    node->kind = kind;
    node->column = column;
    return node;
  }
  static void AddChild(Ast* parent, AstPtr child) {
    parent->depth = std::max(parent->depth, child->depth + 1);
    if (parent->depth > kMaxDepth) SyntaxError(parent->column, TooDeep());
    parent->children.push_back(std::move(child));
  }
  static AstPtr Binary(AstKind kind, int column, AstPtr lhs, AstPtr rhs) {
    AstPtr node = Node(kind, column);
    AddChild(node.get(), std::move(lhs));
    AddChild(node.get(), std::move(rhs));
    return node;
  }

  int InfixPower() const {
    switch (Peek().type) {
      case Tok::kOr: return kOrPower;
      case Tok::kAnd: return kAndPower;
      case Tok::kEq:
      case Tok::kNe: return kEqualityPower;
      case Tok::kLt:
      case Tok::kLe:
      case Tok::kGt:
      case Tok::kGe: return kRelationalPower;
      case Tok::kIn: return kInPower;
      case Tok::kNot: return Peek(1).type == Tok::kIn ? kInPower : 0;
      case Tok::kPlus:
      case Tok::kMinus: return kAddPower;
      case Tok::kStar:
      case Tok::kSlash:
      case Tok::kPercent: return kMulPower;
      case Tok::kPow: return kPowPower;
      case Tok::kLike: return kLikePower;
      case Tok::kIs: return kPostfixPower;
      default: return 0;
    }
  }

  AstPtr ParseExpr(int min_power) {
    DepthGuard guard(&depth_, Peek().column);
    AstPtr lhs = ParsePrefix();
    for (int power = InfixPower(); power != 0 && power >= min_power; power = InfixPower()) {
      lhs = ParseInfix(std::move(lhs), power);
    }
    return lhs;
  }

  AstPtr ParsePrefix() {
    const Token& token = Take();
    switch (token.type) {
      case Tok::kInt: return Literal(token.column, ParseInteger(token));
      case Tok::kFloat: return Literal(token.column, ParseFloat(token));
      case Tok::kString: return Literal(token.column, Json(token.value));
      case Tok::kTrue: return Literal(token.column, Json(true));
      case Tok::kFalse: return Literal(token.column, Json(false));
      case Tok::kIdent: return Peek().type == Tok::kLParen ? Call(token) : Field(token);
      case Tok::kLParen: {
        AstPtr inner = ParseExpr(kOrPower);
        Expect(Tok::kRParen, "')'");
        return inner;
      }
      case Tok::kLBracket: return ArrayLiteral(token);
      case Tok::kLBrace: {
        AstPtr node = Node(AstKind::kTemplate, token.column);
        node->name = Expect(Tok::kIdent, "a template variable name").value;
        Expect(Tok::kRBrace, "'}'");
        return node;
      }
      case Tok::kNot: return Unary(AstKind::kNot, token, kNotPower);
      case Tok::kMinus: return Unary(AstKind::kNegate, token, kUnaryPower);
      case Tok::kPlus: return ParseExpr(kUnaryPower);
      case Tok::kExists: return Unary(AstKind::kExists, token, kPostfixPower);
      default: Unexpected(token);
    }
  }

  AstPtr ParseInfix(AstPtr lhs, int power) {
    const Token& op = Take();
    switch (op.type) {
      case Tok::kOr:
      case Tok::kAnd: return Logical(std::move(lhs), op, ParseExpr(power + 1));
      case Tok::kEq:
      case Tok::kNe: {
        AstPtr node = Binary(AstKind::kCompare, op.column, std::move(lhs), ParseExpr(power + 1));
        node->cmp = CmpOf(op.type);
        return node;
      }
      case Tok::kLt:
      case Tok::kLe:
      case Tok::kGt:
      case Tok::kGe: return Relational(std::move(lhs), op, power);
      case Tok::kNot:
      case Tok::kIn: {
        const bool negated = op.type == Tok::kNot;
        if (negated) Expect(Tok::kIn, "'in'");
        AstPtr node = Binary(AstKind::kIn, op.column, std::move(lhs), ParseExpr(power + 1));
        node->negated = negated;
        return node;
      }
      case Tok::kLike: return Binary(AstKind::kLike, op.column, std::move(lhs), ParseExpr(power + 1));
      case Tok::kIs: {
        AstPtr node = Node(AstKind::kIsNull, op.column);
        node->negated = Accept(Tok::kNot);
        Expect(Tok::kNull, "'null'");
        AddChild(node.get(), std::move(lhs));
        return node;
      }
      default: {  // arithmetic; ** is left-associative as in Milvus
        AstPtr node = Binary(AstKind::kArith, op.column, std::move(lhs), ParseExpr(power + 1));
        node->arith = ArithOf(op.type);
        return node;
      }
    }
  }

  static AstPtr Literal(int column, Json value) {
    AstPtr node = Node(AstKind::kLiteral, column);
    node->literal = std::move(value);
    return node;
  }

  AstPtr Unary(AstKind kind, const Token& op, int power) {
    AstPtr node = Node(kind, op.column);
    AddChild(node.get(), ParseExpr(power));
    return node;
  }

  // `a and b and c` becomes one node with three children, so that long chains stay shallow.
  static AstPtr Logical(AstPtr lhs, const Token& op, AstPtr rhs) {
    const bool is_and = op.type == Tok::kAnd;
    if (lhs->kind == AstKind::kLogical && lhs->is_and == is_and) {
      AddChild(lhs.get(), std::move(rhs));
      return lhs;
    }
    AstPtr node = Binary(AstKind::kLogical, op.column, std::move(lhs), std::move(rhs));
    node->is_and = is_and;
    return node;
  }

  // `a < b`, or the chained range `lower < x <= upper` / `upper > x >= lower`.
  AstPtr Relational(AstPtr lhs, const Token& op, int power) {
    AstPtr middle = ParseExpr(power + 1);
    if (!IsRelational(Peek().type)) {
      AstPtr node = Binary(AstKind::kCompare, op.column, std::move(lhs), std::move(middle));
      node->cmp = CmpOf(op.type);
      return node;
    }
    const Token& op2 = Take();
    const bool ascending = op.type == Tok::kLt || op.type == Tok::kLe;
    if (ascending != (op2.type == Tok::kLt || op2.type == Tok::kLe)) {
      SyntaxError(op2.column, "a chained comparison must point one way: 'lower < x < upper' or 'upper > x > lower'");
    }
    AstPtr node = Binary(AstKind::kRange, op.column, std::move(lhs), std::move(middle));
    AddChild(node.get(), ParseExpr(power + 1));
    node->cmp = CmpOf(op.type);
    node->cmp2 = CmpOf(op2.type);
    return node;
  }

  AstPtr Field(const Token& name) {
    AstPtr node = Node(AstKind::kField, name.column);
    node->name = name.value;
    while (Accept(Tok::kLBracket)) {
      const Token& key = Take();
      PathStep step;
      if (key.type == Tok::kString) {
        if (key.value.empty()) SyntaxError(key.column, "a JSON key cannot be empty");
        step.key = key.value;
      } else if (key.type == Tok::kInt) {
        step.is_index = true;
        step.index = ParseInteger(key).get<int64_t>();
      } else {
        Unexpected(key, "a quoted JSON key or an array index");
      }
      Expect(Tok::kRBracket, "']'");
      node->path.push_back(std::move(step));
    }
    return node;
  }

  // Comma-separated expressions up to `close`, a trailing comma allowed.
  void List(Ast* node, Tok close, std::string_view close_text) {
    if (Accept(close)) return;
    do {
      if (Peek().type == close) break;
      AddChild(node, ParseExpr(kOrPower));
    } while (Accept(Tok::kComma));
    Expect(close, close_text);
  }

  AstPtr Call(const Token& name) {
    AstPtr node = Node(AstKind::kCall, name.column);
    node->name = name.value;
    Take();  // (
    List(node.get(), Tok::kRParen, "')'");
    return node;
  }

  AstPtr ArrayLiteral(const Token& open) {
    AstPtr node = Node(AstKind::kArray, open.column);
    List(node.get(), Tok::kRBracket, "']'");
    return node;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

std::string_view CmpOpText(CmpOp op) {
  switch (op) {
    case CmpOp::kEq: return "==";
    case CmpOp::kNe: return "!=";
    case CmpOp::kLt: return "<";
    case CmpOp::kLe: return "<=";
    case CmpOp::kGt: return ">";
    case CmpOp::kGe: return ">=";
  }
  return "?";
}

std::string_view ArithOpText(ArithOp op) {
  switch (op) {
    case ArithOp::kAdd: return "+";
    case ArithOp::kSub: return "-";
    case ArithOp::kMul: return "*";
    case ArithOp::kDiv: return "/";
    case ArithOp::kMod: return "%";
    case ArithOp::kPow: return "**";
  }
  return "?";
}

AstPtr Parse(std::string_view text) { return Parser(Lexer(text).Tokenize()).ParseAll(); }

}  // namespace quiver::expr
