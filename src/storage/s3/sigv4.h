// AWS Signature Version 4 for S3 requests, and the hashing and encoding it is built from.
//
// Signed here rather than by libcurl's CURLOPT_AWS_SIGV4 because libcurl's canonical form
// changed between releases (7.88 takes the query verbatim and signs every custom header,
// later ones re-encode); one implementation keeps the wire format independent of the
// installed libcurl.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quiver::storage::s3 {

// Lowercase hex of the SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Percent-encodes every byte but A-Z a-z 0-9 - . _ ~ (and '/', when `keep_slash`), with
// uppercase hex digits: the encoding SigV4 wants for object paths and query strings.
std::string UriEncode(std::string_view text, bool keep_slash);

// "k1=v1&k2=v2": names and values URI-encoded, sorted by name then value. A parameter
// without a value ("uploads") is written "uploads=", as the canonical form has it.
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& params);

struct SigV4Key {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;
  std::string service = "s3";
};

struct SigV4Request {
  std::string_view method;           // "GET", "PUT", ...
  std::string_view canonical_uri;    // already encoded, e.g. "/bucket/a%20b"
  std::string_view canonical_query;  // CanonicalQuery()
  // Every header to sign, names lowercase, values trimmed; must include "host" and
  // "x-amz-date", and should include "x-amz-content-sha256".
  const std::map<std::string, std::string>* headers = nullptr;
  std::string_view payload_hash;  // Sha256Hex(body) or "UNSIGNED-PAYLOAD"
  std::string_view amz_date;      // "20240101T000000Z"
};

// The value of the Authorization header for `request`.
std::string SigV4Authorization(const SigV4Key& key, const SigV4Request& request);

// "YYYYMMDDTHHMMSSZ" for now (UTC), the form x-amz-date takes.
std::string AmzDateNow();

}  // namespace quiver::storage::s3
