// Just enough XML for S3's responses: the text of named elements, entities decoded.
// S3 bodies are flat and regular (no CDATA, no attributes we need, no element nested in one
// of the same name), which is what makes this small reader sufficient.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace quiver::storage::s3 {

// The raw contents of every <tag>...</tag> in `xml`, in document order (entities not decoded,
// so blocks such as <Contents> can be searched further).
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);

// The decoded text of the first <tag>...</tag>, or nullopt when there is none.
std::optional<std::string> XmlText(std::string_view xml, std::string_view tag);

// Replaces &lt; &gt; &amp; &quot; &apos; &#N; &#xN; by the characters they stand for (UTF-8).
std::string XmlDecode(std::string_view text);

// Escapes & < > " ' for element text.
std::string XmlEscape(std::string_view text);

}  // namespace quiver::storage::s3
