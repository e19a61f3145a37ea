// LikePattern: Milvus's LIKE patterns (internal to quiver_expr).
//
// `%` matches any run of characters, `_` exactly one character (a UTF-8 code point), and a
// backslash makes the next character literal. Prefix ("abc%"), suffix ("%abc"), infix
// ("%abc%") and exact patterns are matched without the general matcher.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace quiver::expr {

class LikePattern {
 public:
  explicit LikePattern(std::string_view pattern);
  bool Matches(std::string_view text) const;

 private:
  enum class Shape { kExact, kPrefix, kSuffix, kInfix, kGeneral };
  struct Piece {
    enum class Kind { kLiteral, kAnyRun, kAnyChar };
    Kind kind;
    std::string literal;
  };

  bool MatchesGeneral(std::string_view text) const;

  Shape shape_ = Shape::kGeneral;
  std::string literal_;  // for every shape but kGeneral
  std::vector<Piece> pieces_;
};

}  // namespace quiver::expr
