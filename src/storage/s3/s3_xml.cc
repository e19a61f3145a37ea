#include "storage/s3/s3_xml.h"

#include <charconv>
#include <cstdint>
#include <utility>

namespace quiver::storage::s3 {
namespace {

void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    *out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    *out += static_cast<char>(0xc0 | (code_point >> 6));
    *out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else if (code_point < 0x10000) {
    *out += static_cast<char>(0xe0 | (code_point >> 12));
    *out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else {
    *out += static_cast<char>(0xf0 | (code_point >> 18));
    *out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3f));
    *out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (code_point & 0x3f));
  }
}

// Decodes the entity `name` (between '&' and ';'); false when it is not one we know.
bool DecodeEntity(std::string_view name, std::string* out) {
  static constexpr std::pair<std::string_view, char> kNamed[] = {
      {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
  for (const auto& [entity, c] : kNamed) {
    if (name == entity) {
      *out += c;
      return true;
    }
  }
  if (name.size() < 2 || name[0] != '#') return false;
  bool hex = name[1] == 'x' || name[1] == 'X';
  std::string_view digits = name.substr(hex ? 2 : 1);
  uint32_t code_point = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code_point, hex ? 16 : 10);
  if (ec != std::errc() || end != digits.data() + digits.size() || code_point > 0x10ffff) return false;
  AppendUtf8(code_point, out);
  return true;
}

}  // namespace

std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag) {
  std::string open = "<" + std::string(tag) + ">";
  std::string close = "</" + std::string(tag) + ">";
  std::vector<std::string_view> elements;
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    size_t start = pos + open.size();
    size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    elements.push_back(xml.substr(start, end - start));
    pos = end + close.size();
  }
  return elements;
}

std::optional<std::string> XmlText(std::string_view xml, std::string_view tag) {
  auto elements = XmlElements(xml, tag);
  if (elements.empty()) return std::nullopt;
  return XmlDecode(elements.front());
}

std::string XmlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t amp = text.find('&', pos);
    if (amp == std::string_view::npos) amp = text.size();
    out.append(text.substr(pos, amp - pos));
    if (amp == text.size()) break;
    size_t semi = text.find(';', amp);
    if (semi == std::string_view::npos || !DecodeEntity(text.substr(amp + 1, semi - amp - 1), &out)) {
      out += '&';  // not an entity: keep the text as it is
      pos = amp + 1;
    } else {
      pos = semi + 1;
    }
  }
  return out;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace quiver::storage::s3
