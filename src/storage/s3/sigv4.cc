#include "storage/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>

namespace quiver::storage::s3 {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

std::string Hex(const unsigned char* bytes, size_t size) {
  std::string hex(size * 2, '\0');
  for (size_t i = 0; i < size; ++i) {
    hex[2 * i] = kHexDigits[bytes[i] >> 4];
    hex[2 * i + 1] = kHexDigits[bytes[i] & 0xf];
  }
  return hex;
}

// Raw (binary) HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// The key that signs one day's requests in one region for one service.
std::string SigningKey(const SigV4Key& key, std::string_view date) {
  std::string k_date = HmacSha256("AWS4" + key.secret_access_key, date);
  std::string k_region = HmacSha256(k_date, key.region);
  std::string k_service = HmacSha256(k_region, key.service);
  return HmacSha256(k_service, "aws4_request");
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return Hex(digest, sizeof(digest));
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kUpperHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out += c;
    } else {
      auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kUpperHex[byte >> 4];
      out += kUpperHex[byte & 0xf];
    }
  }
  return out;
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string query;
  for (const auto& [name, value] : encoded) {
    if (!query.empty()) query += '&';
    query += name + "=" + value;
  }
  return query;
}

std::string SigV4Authorization(const SigV4Key& key, const SigV4Request& request) {
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : *request.headers) {  // std::map: sorted by name
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  std::string canonical_request;
  canonical_request.append(request.method).append("\n");
  canonical_request.append(request.canonical_uri).append("\n");
  canonical_request.append(request.canonical_query).append("\n");
  canonical_request.append(canonical_headers).append("\n");
  canonical_request.append(signed_headers).append("\n");
  canonical_request.append(request.payload_hash);

  std::string_view date = request.amz_date.substr(0, 8);
  std::string scope = std::string(date) + "/" + key.region + "/" + key.service + "/aws4_request";
  std::string string_to_sign =
      "AWS4-HMAC-SHA256\n" + std::string(request.amz_date) + "\n" + scope + "\n" + Sha256Hex(canonical_request);
  std::string signature = HmacSha256(SigningKey(key, date), string_to_sign);
  return "AWS4-HMAC-SHA256 Credential=" + key.access_key_id + "/" + scope + ", SignedHeaders=" + signed_headers +
         ", Signature=" + Hex(reinterpret_cast<const unsigned char*>(signature.data()), signature.size());
}

std::string AmzDateNow() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[17];
  std::strftime(text, sizeof(text), "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

}  // namespace quiver::storage::s3
