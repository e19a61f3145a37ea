#include "storage/s3/s3_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <mutex>
#include <random>
#include <thread>

#include "storage/s3/s3_xml.h"

namespace quiver::storage::s3 {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxIdleHandles = 16;
constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// The request body, handed to curl as it asks; rewound when curl must send it again.
struct Upload {
  std::string_view data;
  size_t sent = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  size_t n = std::min(size * count, upload->data.size() - upload->sent);
  std::copy_n(upload->data.data() + upload->sent, n, buffer);
  upload->sent += n;
  return n;
}

int SeekBody(void* user, curl_off_t offset, int origin) {
  auto* upload = static_cast<Upload*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > upload->data.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  upload->sent = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<S3Response*>(user);
  if (response->body.empty()) {
    // Spares a 64 MB body its reallocations; a bogus length only costs the reserve.
    size_t length = 0;
    std::string header = response->Header("content-length");
    auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), length);
    if (ec == std::errc()) response->body.reserve(std::min<size_t>(length, size_t{1} << 32));
  }
  response->body.append(data, size * count);
  return size * count;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<S3Response*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    response->headers.clear();  // a new response (after an interim one) starts
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  std::string name = Lower(Trim(line.substr(0, colon)));
  response->headers[std::move(name)] = std::string(Trim(line.substr(colon + 1)));
  return line.size();
}

// Transport failures worth another attempt: the service may be restarting or overloaded.
// Errors of configuration (bad URL, TLS verification) would fail the same way again.
bool IsRetriableTransportError(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_ABORTED_BY_CALLBACK:
      return false;
    default:
      return true;
  }
}

bool IsRetriableResponse(const S3Response& response) {
  if (response.status >= 500 || response.status == 429) return true;
  std::string code = response.ErrorCode();
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError";
}

std::chrono::milliseconds Jittered(std::chrono::milliseconds delay) {
  thread_local std::mt19937 random(std::random_device{}());
  std::uniform_real_distribution<double> factor(0.75, 1.25);
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(delay.count()) * factor(random)));
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The signed headers plus Authorization, as curl takes them. "Expect:" stops curl from
// waiting for a 100 Continue before sending a body.
curl_slist* BuildHeaders(const std::map<std::string, std::string>& headers, const std::string& authorization) {
  curl_slist* list = nullptr;
  for (const auto& [name, value] : headers) list = curl_slist_append(list, (name + ": " + value).c_str());
  list = curl_slist_append(list, ("Authorization: " + authorization).c_str());
  return curl_slist_append(list, "Expect:");
}

// HEAD asks for no body; PUT and POST send `upload`; anything else is a plain request.
void SetMethod(CURL* curl, const std::string& method, Upload* upload) {
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method == "PUT" || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, upload);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, SeekBody);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload->data.size()));
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
}

}  // namespace

std::string S3Response::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string S3Response::ErrorCode() const { return XmlText(body, "Code").value_or(""); }

std::string Describe(const S3Request& request) {
  std::string text = request.method + " " + request.path;
  std::string query = CanonicalQuery(request.query);
  return query.empty() ? text : text + "?" + query;
}

struct S3Client::Attempt {
  CURLcode code = CURLE_OK;
  std::string error;  // curl's message when code != CURLE_OK
  S3Response response;
};

S3Client::S3Client(S3ClientOptions options)
    : options_(std::move(options)), host_(options_.endpoint.substr(options_.endpoint.find("://") + 3)) {
  InitCurlOnce();
}

S3Client::~S3Client() {
  for (void* handle : idle_handles_) curl_easy_cleanup(handle);
}

void* S3Client::AcquireHandle() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!idle_handles_.empty()) {
      void* handle = idle_handles_.back();
      idle_handles_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void S3Client::ReleaseHandle(void* handle) {
  {
    std::lock_guard lock(pool_mutex_);
    if (idle_handles_.size() < kMaxIdleHandles) {
      idle_handles_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(handle);
}

curl_slist* S3Client::SignedHeaders(const S3Request& request, const std::string& query,
                                    const std::string& payload_hash) const {
  std::map<std::string, std::string> headers = request.headers;
  const std::string date = AmzDateNow();  // per attempt: S3 refuses signatures older than 15 min
  headers["host"] = host_;
  headers["x-amz-date"] = date;
  headers["x-amz-content-sha256"] = payload_hash;
  std::string authorization =
      SigV4Authorization(options_.key, {request.method, request.path, query, &headers, payload_hash, date});
  return BuildHeaders(headers, authorization);
}

S3Client::Attempt S3Client::SendOnce(const S3Request& request, const std::string& payload_hash) {
  Attempt attempt;
  std::string query = CanonicalQuery(request.query);
  std::string url = options_.endpoint + request.path + (query.empty() ? "" : "?" + query);
  curl_slist* headers = SignedHeaders(request, query, payload_hash);
  Upload upload{request.body};
  char error[CURL_ERROR_SIZE] = "";

  CURL* curl = AcquireHandle();
  curl_easy_reset(curl);  // keeps the handle's open connections
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.stall_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &attempt.response);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &attempt.response);
  SetMethod(curl, request.method, &upload);
  attempt.code = curl_easy_perform(curl);
  if (attempt.code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &attempt.response.status);
  } else {
    attempt.error = *error != '\0' ? error : curl_easy_strerror(attempt.code);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  ReleaseHandle(curl);
  curl_slist_free_all(headers);
  return attempt;
}

StatusOr<S3Response> S3Client::Send(const S3Request& request) {
  std::string payload_hash = request.payload_hash.empty() ? Sha256Hex(request.body) : request.payload_hash;
  const auto deadline = Clock::now() + options_.retry_timeout;
  std::chrono::milliseconds backoff = kFirstBackoff;
  for (int attempt_number = 1;; ++attempt_number) {
    Attempt attempt = SendOnce(request, payload_hash);
    std::string failure;
    if (attempt.code != CURLE_OK) {
      failure = fmt::format("{} (curl error {})", attempt.error, static_cast<int>(attempt.code));
      if (!IsRetriableTransportError(attempt.code)) {
        return Status(Code::kIoFailed, fmt::format("S3 {} at {}: {}", Describe(request), options_.endpoint, failure));
      }
    } else if (IsRetriableResponse(attempt.response)) {
      failure = attempt.response.Describe();
    } else {
      return std::move(attempt.response);
    }
    auto delay = Jittered(backoff);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= delay) {
      return Status(Code::kIoFailed,
                    fmt::format("S3 {} at {} failed {} times in {:.1f} s; last: {}", Describe(request),
                                options_.endpoint, attempt_number, options_.retry_timeout.count() / 1000.0, failure));
    }
    spdlog::warn("S3 {} at {} failed (attempt {}): {}; retrying in {} ms, giving up in {} ms", Describe(request),
                 options_.endpoint, attempt_number, failure, delay.count(), left.count());
    std::this_thread::sleep_for(delay);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

std::string S3Response::Describe() const {
  std::string code = ErrorCode();
  std::string message = XmlText(body, "Message").value_or("");
  std::string text = fmt::format("HTTP {}", status);
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += ": " + message;
  return text;
}

Status S3Client::ErrorOf(const S3Request& request, const S3Response& response) const {
  return {Code::kIoFailed,
          fmt::format("S3 {} at {}: {}", s3::Describe(request), options_.endpoint, response.Describe())};
}

}  // namespace quiver::storage::s3
