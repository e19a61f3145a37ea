#include "expr/like_pattern.h"

#include <algorithm>
#include <initializer_list>

namespace quiver::expr {
namespace {

size_t CharLength(std::string_view text, size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  const size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return std::min(length, text.size() - pos);
}

}  // namespace

LikePattern::LikePattern(std::string_view pattern) {
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '%') {
      if (pieces_.empty() || pieces_.back().kind != Piece::Kind::kAnyRun) pieces_.push_back({Piece::Kind::kAnyRun, {}});
    } else if (c == '_') {
      pieces_.push_back({Piece::Kind::kAnyChar, {}});
    } else {
      const char literal = (c == '\\' && i + 1 < pattern.size()) ? pattern[++i] : c;
      if (pieces_.empty() || pieces_.back().kind != Piece::Kind::kLiteral)
        pieces_.push_back({Piece::Kind::kLiteral, {}});
      pieces_.back().literal += literal;
    }
  }

  using Kind = Piece::Kind;
  auto kinds_are = [&](std::initializer_list<Kind> kinds) {
    if (pieces_.size() != kinds.size()) return false;
    size_t i = 0;
    for (Kind kind : kinds) {
      if (pieces_[i++].kind != kind) return false;
    }
    return true;
  };
  auto literal_at = [&](size_t i) { return pieces_[i].literal; };
  if (pieces_.empty()) {
    shape_ = Shape::kExact;
  } else if (kinds_are({Kind::kLiteral})) {
    shape_ = Shape::kExact;
    literal_ = literal_at(0);
  } else if (kinds_are({Kind::kAnyRun})) {
    shape_ = Shape::kPrefix;  // with an empty prefix: everything
  } else if (kinds_are({Kind::kLiteral, Kind::kAnyRun})) {
    shape_ = Shape::kPrefix;
    literal_ = literal_at(0);
  } else if (kinds_are({Kind::kAnyRun, Kind::kLiteral})) {
    shape_ = Shape::kSuffix;
    literal_ = literal_at(1);
  } else if (kinds_are({Kind::kAnyRun, Kind::kLiteral, Kind::kAnyRun})) {
    shape_ = Shape::kInfix;
    literal_ = literal_at(1);
  }
}

bool LikePattern::Matches(std::string_view text) const {
  switch (shape_) {
    case Shape::kExact: return text == literal_;
    case Shape::kPrefix: return text.starts_with(literal_);
    case Shape::kSuffix: return text.ends_with(literal_);
    case Shape::kInfix: return text.find(literal_) != std::string_view::npos;
    case Shape::kGeneral: return MatchesGeneral(text);
  }
  return false;
}

// Wildcard matching that backtracks only to the latest `%`: O(len(text) * pieces).
bool LikePattern::MatchesGeneral(std::string_view text) const {
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t piece = 0;
  size_t pos = 0;
  size_t run_piece = kNone;  // the latest `%` and where its run currently ends
  size_t run_end = 0;
  for (;;) {
    bool advanced = false;
    if (piece == pieces_.size()) {
      if (pos == text.size()) return true;
    } else if (pieces_[piece].kind == Piece::Kind::kAnyRun) {
      run_piece = piece++;
      run_end = pos;
      continue;
    } else if (pieces_[piece].kind == Piece::Kind::kAnyChar) {
      if (pos < text.size()) {
        pos += CharLength(text, pos);
        ++piece;
        advanced = true;
      }
    } else if (text.substr(pos).starts_with(pieces_[piece].literal)) {
      pos += pieces_[piece].literal.size();
      ++piece;
      advanced = true;
    }
    if (advanced) continue;
    // Mismatch: let the latest `%` swallow one more character and retry after it.
    if (run_piece == kNone || run_end >= text.size()) return false;
    run_end += CharLength(text, run_end);
    pos = run_end;
    piece = run_piece + 1;
  }
}

}  // namespace quiver::expr
