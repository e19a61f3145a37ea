// S3Client: signed S3 requests over libcurl, retried while the service is unavailable.
//
// Thread-safe. Each request borrows a curl handle from a small pool and gives it back, so
// keep-alive connections are reused across requests and threads.
//
// Retried, with exponential backoff up to `retry_timeout` in total: network failures
// (connection refused or reset while a gateway restarts, stalls), HTTP 5xx, 429 and S3's
// SlowDown / RequestTimeout. Each retry logs a warning. Everything else (403 for bad
// credentials, 404, ...) is returned at once for the caller to interpret.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "storage/s3/sigv4.h"

struct curl_slist;

namespace quiver::storage::s3 {

struct S3ClientOptions {
  std::string endpoint;  // "http://127.0.0.1:9000"
  SigV4Key key;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds retry_timeout{30000};
  // An attempt that moves no byte for this long is abandoned (and retried).
  std::chrono::seconds stall_timeout{20};
};

struct S3Request {
  std::string method = "GET";
  std::string path{};                                        // encoded, e.g. "/bucket/a%20b"
  std::vector<std::pair<std::string, std::string>> query{};  // not encoded
  std::map<std::string, std::string> headers{};              // signed too; lowercase names
  std::string_view body{};
  std::string payload_hash{};  // Sha256Hex(body), computed when left empty
};

struct S3Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;

  // The header's value, or "" when absent.
  std::string Header(const std::string& name) const;
  // S3's error <Code> from the body, or "" when there is none (as for HEAD).
  std::string ErrorCode() const;
  // "HTTP 403 SignatureDoesNotMatch: <S3's message>", for error messages.
  std::string Describe() const;
};

class S3Client {
 public:
  explicit S3Client(S3ClientOptions options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // The first response that is not retried, whatever its status; kIoFailed when every
  // attempt failed until the retry time ran out, or the request cannot be sent at all.
  StatusOr<S3Response> Send(const S3Request& request);

  // kIoFailed naming the request, the HTTP status and S3's error Code and Message.
  Status ErrorOf(const S3Request& request, const S3Response& response) const;

  const std::string& endpoint() const { return options_.endpoint; }

 private:
  struct Attempt;

  Attempt SendOnce(const S3Request& request, const std::string& payload_hash);
  // Every header to send (a curl_slist*), signed with SigV4 as of now.
  curl_slist* SignedHeaders(const S3Request& request, const std::string& query, const std::string& payload_hash) const;
  void* AcquireHandle();
  void ReleaseHandle(void* handle);

  const S3ClientOptions options_;
  const std::string host_;  // the Host header: endpoint without the scheme
  std::mutex pool_mutex_;
  std::vector<void*> idle_handles_;  // CURL*
};

// "PUT /bucket/key" for messages.
std::string Describe(const S3Request& request);

}  // namespace quiver::storage::s3
