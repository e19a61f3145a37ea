#include "storage/s3/s3_object_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>
#include <thread>

#include "storage/object_key.h"
#include "storage/s3/s3_xml.h"

namespace quiver::storage::s3 {
namespace {

constexpr uint64_t kMinPartSize = 5 * 1024 * 1024;  // S3's minimum for every part but the last
constexpr char kChecksumHeader[] = "x-amz-meta-quiver-sha256";

Status KeyNotFound(const std::string& key) { return {Code::kIoKeyNotFound, "key not found[key=" + key + "]"}; }

bool Is2xx(long status) { return status >= 200 && status < 300; }

// "http://host:port", with an IPv6 address in brackets.
std::string Endpoint(const S3Options& options) {
  bool ipv6 = options.address.find(':') != std::string::npos && options.address.front() != '[';
  std::string host = ipv6 ? "[" + options.address + "]" : options.address;
  return fmt::format("{}://{}:{}", options.use_ssl ? "https" : "http", host, options.port);
}

Status ValidateOptions(const S3Options& options) {
  if (options.address.empty()) return InvalidParameter("S3 address is empty");
  if (options.port < 1 || options.port > 65535) return InvalidParameter(fmt::format("S3 port {}", options.port));
  if (options.bucket.empty()) return InvalidParameter("S3 bucket name is empty");
  if (options.part_size < kMinPartSize) {
    return InvalidParameter(fmt::format("S3 part size {} is below S3's minimum of 5 MiB", options.part_size));
  }
  if (options.parallel_parts < 1) return InvalidParameter("S3 parallel parts must be at least 1");
  return ValidateListPrefix(options.key_prefix);
}

uint64_t ParseUint(std::string_view text, bool* ok) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  *ok = *ok && ec == std::errc() && end == text.data() + text.size() && !text.empty();
  return value;
}

struct ContentRange {
  uint64_t first = 0, last = 0, total = 0;
};

// "bytes 2-4/10"; nullopt when the header is missing or malformed.
std::optional<ContentRange> ParseContentRange(std::string_view header) {
  if (!header.starts_with("bytes ")) return std::nullopt;
  header.remove_prefix(6);
  size_t dash = header.find('-'), slash = header.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash) return std::nullopt;
  bool ok = true;
  ContentRange range{ParseUint(header.substr(0, dash), &ok), ParseUint(header.substr(dash + 1, slash - dash - 1), &ok),
                     ParseUint(header.substr(slash + 1), &ok)};
  if (!ok || range.last < range.first) return std::nullopt;
  return range;
}

Status Corrupt(const std::string& key, const std::string& detail) {
  return {Code::kIoFailed, fmt::format("S3 object {} failed its check: {}", key, detail)};
}

// Checks a whole object against the checksum Put stored with it.
Status VerifyWhole(const std::string& key, const S3Response& response) {
  std::string expected = response.Header(kChecksumHeader);
  if (expected.empty()) return Status::OK();  // not written by Quiver
  std::string actual = Sha256Hex(response.body);
  if (actual != expected) {
    return Corrupt(
        key, fmt::format("SHA-256 of its {} bytes is {}, stored with it {}", response.body.size(), actual, expected));
  }
  return Status::OK();
}

// Checks that a 206 answer holds exactly bytes [offset, offset + length) clipped to the size.
Status VerifyRange(const std::string& key, const S3Response& response, uint64_t offset, uint64_t length) {
  auto range = ParseContentRange(response.Header("content-range"));
  if (!range) return Corrupt(key, "bad Content-Range '" + response.Header("content-range") + "'");
  uint64_t expected = std::min(length, range->total - std::min(offset, range->total));
  if (range->first != offset || range->last - range->first + 1 != expected || response.body.size() != expected) {
    return Corrupt(key, fmt::format("asked for {} bytes at {}, got {} bytes as range {}", expected, offset,
                                    response.body.size(), response.Header("content-range")));
  }
  return Status::OK();
}

std::string CompletionBody(const std::vector<std::string>& etags) {
  std::string body = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1, XmlEscape(etags[i]));
  }
  return body + "</CompleteMultipartUpload>";
}

}  // namespace

StatusOr<std::unique_ptr<S3ObjectStore>> S3ObjectStore::Open(const S3Options& options) {
  QUIVER_RETURN_IF_ERROR(ValidateOptions(options));
  std::string key_prefix = options.key_prefix;
  if (!key_prefix.empty() && key_prefix.back() != '/') key_prefix += '/';
  S3ClientOptions client{Endpoint(options), SigV4Key{options.access_key_id, options.secret_access_key, options.region},
                         options.connect_timeout, options.retry_timeout};
  std::unique_ptr<S3ObjectStore> store(new S3ObjectStore(options, std::move(key_prefix), std::move(client)));
  QUIVER_RETURN_IF_ERROR(store->EnsureBucket());
  return store;
}

S3ObjectStore::S3ObjectStore(const S3Options& options, std::string key_prefix, S3ClientOptions client_options)
    : options_(options), key_prefix_(std::move(key_prefix)), client_(std::move(client_options)) {}

std::string S3ObjectStore::BucketPath() const { return "/" + UriEncode(options_.bucket, false); }

std::string S3ObjectStore::PathOf(const std::string& key) const {
  return BucketPath() + "/" + UriEncode(key_prefix_ + key, /*keep_slash=*/true);
}

// Listing checks the credentials as well as the bucket, with an error body S3 explains.
Status S3ObjectStore::EnsureBucket() {
  S3Request request{.path = BucketPath(), .query = {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", key_prefix_}}};
  auto response = client_.Send(request);
  if (!response.ok()) return response.status();
  if (Is2xx(response->status)) return Status::OK();
  if (response->status == 404 && response->ErrorCode() == "NoSuchBucket") return CreateBucket();
  if (response->status == 403) {
    return {Code::kIoFailed,
            fmt::format("S3 at {} refused access key '{}' for bucket '{}' (check the access key and secret): {}",
                        client_.endpoint(), options_.access_key_id, options_.bucket, response->Describe())};
  }
  return client_.ErrorOf(request, *response);
}

Status S3ObjectStore::CreateBucket() {
  std::string body;
  if (options_.region != "us-east-1") {  // S3 wants no location for its default region
    body = "<CreateBucketConfiguration><LocationConstraint>" + XmlEscape(options_.region) +
           "</LocationConstraint></CreateBucketConfiguration>";
  }
  S3Request request{.method = "PUT", .path = BucketPath(), .body = body};
  auto response = client_.Send(request);
  if (!response.ok()) return response.status();
  // Another store may have created it meanwhile.
  if (Is2xx(response->status) || response->ErrorCode() == "BucketAlreadyOwnedByYou") {
    spdlog::info("created S3 bucket {} at {}", options_.bucket, client_.endpoint());
    return Status::OK();
  }
  return client_.ErrorOf(request, *response);
}

Status S3ObjectStore::Failure(const std::string& key, const S3Request& request, const S3Response& response) const {
  // The bucket was there at open; a 404 for anything but a missing bucket is a missing key.
  if (response.status == 404 && response.ErrorCode() != "NoSuchBucket") return KeyNotFound(key);
  return client_.ErrorOf(request, response);
}

Status S3ObjectStore::Put(const std::string& key, std::string_view data) {
  QUIVER_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string checksum = Sha256Hex(data);
  if (data.size() > options_.multipart_threshold) return PutInParts(key, data, checksum);
  return PutWhole(key, data, checksum);
}

Status S3ObjectStore::PutWhole(const std::string& key, std::string_view data, const std::string& checksum) {
  S3Request request{.method = "PUT",
                    .path = PathOf(key),
                    .headers = {{"content-type", "application/octet-stream"}, {kChecksumHeader, checksum}},
                    .body = data,
                    .payload_hash = checksum};
  auto response = client_.Send(request);
  if (!response.ok()) return response.status();
  return Is2xx(response->status) ? Status::OK() : Failure(key, request, *response);
}

StatusOr<std::string> S3ObjectStore::Get(const std::string& key) {
  QUIVER_RETURN_IF_ERROR(ValidateObjectKey(key));
  S3Request request{.path = PathOf(key)};
  auto response = client_.Send(request);
  if (!response.ok()) return response.status();
  if (response->status != 200) return Failure(key, request, *response);
  QUIVER_RETURN_IF_ERROR(VerifyWhole(key, *response));
  return std::move(response->body);
}

StatusOr<std::string> S3ObjectStore::GetRange(const std::string& key, uint64_t offset, uint64_t length) {
  QUIVER_RETURN_IF_ERROR(ValidateObjectKey(key));
  if (length == 0) {
    QUIVER_RETURN_IF_ERROR(Exists(key));
    return std::string();
  }
  // An open-ended range ("bytes=5-") when the end would overflow.
  std::string last = length - 1 > UINT64_MAX - offset ? "" : std::to_string(offset + length - 1);
  S3Request request{.path = PathOf(key), .headers = {{"range", fmt::format("bytes={}-{}", offset, last)}}};
  auto response = client_.Send(request);
  if (!response.ok()) return response.status();
  switch (response->status) {
    case 206:
      QUIVER_RETURN_IF_ERROR(VerifyRange(key, *response, offset, length));
      return std::move(response->body);
    case 200: {  // the whole object: the service ignored the range
      QUIVER_RETURN_IF_ERROR(VerifyWhole(key, *response));
      if (offset >= response->body.size()) return std::string();
      return response->body.substr(offset, length);
    }
    case 416:  // the object exists, and ends at or before `offset`
      return std::string();
    default:
      return Failure(key, request, *response);
  }
}

Status S3ObjectStore::Exists(const std::string& key) {
  S3Request request{.method = "HEAD", .path = PathOf(key)};
  auto response = client_.Send(request);
  if (!response.ok()) return response.status();
  return Is2xx(response->status) ? Status::OK() : Failure(key, request, *response);
}

StatusOr<std::string> S3ObjectStore::Checksum(const std::string& key) {
  S3Request request{.method = "HEAD", .path = PathOf(key)};
  auto response = client_.Send(request);
  if (!response.ok()) return response.status();
  if (!Is2xx(response->status)) return Failure(key, request, *response);
  return response->Header(kChecksumHeader);
}

StatusOr<std::vector<ObjectInfo>> S3ObjectStore::List(const std::string& prefix) {
  QUIVER_RETURN_IF_ERROR(ValidateListPrefix(prefix));
  std::vector<ObjectInfo> objects;
  std::string token;
  do {
    auto next = ListPage(prefix, token, &objects);
    if (!next.ok()) return next.status();
    token = std::move(*next);
  } while (!token.empty());
  // S3 promises UTF-8 binary order; sorting keeps the contract with services that differ.
  std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return objects;
}

StatusOr<std::string> S3ObjectStore::ListPage(const std::string& prefix, const std::string& token,
                                              std::vector<ObjectInfo>* out) {
  S3Request request{.path = BucketPath(), .query = {{"list-type", "2"}, {"prefix", key_prefix_ + prefix}}};
  if (!token.empty()) request.query.emplace_back("continuation-token", token);
  auto response = client_.Send(request);
  if (!response.ok()) return response.status();
  if (response->status != 200) return client_.ErrorOf(request, *response);
  for (std::string_view contents : XmlElements(response->body, "Contents")) {
    std::string key = XmlText(contents, "Key").value_or("");
    bool ok = key.starts_with(key_prefix_);
    uint64_t size = ParseUint(XmlText(contents, "Size").value_or(""), &ok);
    if (!ok) return Status(Code::kIoFailed, "S3 listing has a malformed entry: " + std::string(contents));
    out->push_back({key.substr(key_prefix_.size()), size});
  }
  if (XmlText(response->body, "IsTruncated").value_or("false") != "true") return std::string();
  std::string next = XmlText(response->body, "NextContinuationToken").value_or("");
  if (next.empty()) return Status(Code::kIoFailed, "S3 listing is truncated but has no continuation token");
  return next;
}

Status S3ObjectStore::Delete(const std::string& key) {
  QUIVER_RETURN_IF_ERROR(ValidateObjectKey(key));
  S3Request request{.method = "DELETE", .path = PathOf(key)};
  auto response = client_.Send(request);
  if (!response.ok()) return response.status();
  if (Is2xx(response->status)) return Status::OK();
  Status failure = Failure(key, request, *response);
  return failure.code() == Code::kIoKeyNotFound ? Status::OK() : failure;
}

// ---- Multipart upload ------------------------------------------------------------------------

Status S3ObjectStore::PutInParts(const std::string& key, std::string_view data, const std::string& checksum) {
  auto upload_id = StartUpload(key, checksum);
  if (!upload_id.ok()) return upload_id.status();
  auto etags = UploadParts(key, *upload_id, data);
  Status status = etags.ok() ? CompleteUpload(key, *upload_id, *etags, checksum) : etags.status();
  if (!status.ok()) AbortUpload(key, *upload_id);
  return status;
}

StatusOr<std::string> S3ObjectStore::StartUpload(const std::string& key, const std::string& checksum) {
  S3Request request{.method = "POST",
                    .path = PathOf(key),
                    .query = {{"uploads", ""}},
                    .headers = {{"content-type", "application/octet-stream"}, {kChecksumHeader, checksum}}};
  auto response = client_.Send(request);
  if (!response.ok()) return response.status();
  if (!Is2xx(response->status)) return Failure(key, request, *response);
  auto upload_id = XmlText(response->body, "UploadId");
  if (!upload_id || upload_id->empty()) return Status(Code::kIoFailed, "S3 " + Describe(request) + ": no UploadId");
  return *upload_id;
}

StatusOr<std::vector<std::string>> S3ObjectStore::UploadParts(const std::string& key, const std::string& upload_id,
                                                              std::string_view data) {
  const size_t part_size = options_.part_size;
  const size_t parts = (data.size() + part_size - 1) / part_size;
  std::vector<std::string> etags(parts);
  std::atomic<size_t> next{0};
  std::mutex mutex;
  Status failure;
  auto work = [&] {
    for (size_t i = next++; i < parts; i = next++) {
      auto etag = UploadPart(key, upload_id, static_cast<int>(i + 1), data.substr(i * part_size, part_size));
      std::lock_guard lock(mutex);
      if (etag.ok()) {
        etags[i] = std::move(*etag);
        continue;
      }
      if (failure.ok()) failure = etag.status();
      next = parts;  // the others stop after their current part
    }
  };
  std::vector<std::thread> workers;
  for (size_t w = 1; w < std::min<size_t>(parts, options_.parallel_parts); ++w) workers.emplace_back(work);
  work();
  for (auto& worker : workers) worker.join();
  if (!failure.ok()) return failure;
  return etags;
}

StatusOr<std::string> S3ObjectStore::UploadPart(const std::string& key, const std::string& upload_id, int number,
                                                std::string_view part) {
  S3Request request{.method = "PUT",
                    .path = PathOf(key),
                    .query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
                    .body = part};
  auto response = client_.Send(request);
  if (!response.ok()) return response.status();
  if (!Is2xx(response->status)) return client_.ErrorOf(request, *response);
  std::string etag = response->Header("etag");
  if (etag.empty()) return Status(Code::kIoFailed, "S3 " + Describe(request) + ": no ETag");
  return etag;
}

Status S3ObjectStore::CompleteUpload(const std::string& key, const std::string& upload_id,
                                     const std::vector<std::string>& etags, const std::string& checksum) {
  std::string body = CompletionBody(etags);
  S3Request request{.method = "POST", .path = PathOf(key), .query = {{"uploadId", upload_id}}, .body = body};
  auto response = client_.Send(request);
  if (!response.ok()) return response.status();
  // S3 may report a failed completion with 200 and an <Error> body.
  if (Is2xx(response->status) && response->body.find("<Error>") == std::string::npos) return Status::OK();
  if (response->ErrorCode() == "NoSuchUpload") {
    // A retried completion whose first attempt succeeded unseen: the object is ours if it
    // carries our checksum.
    auto stored = Checksum(key);
    if (stored.ok() && *stored == checksum) return Status::OK();
  }
  return client_.ErrorOf(request, *response);
}

void S3ObjectStore::AbortUpload(const std::string& key, const std::string& upload_id) {
  S3Request request{.method = "DELETE", .path = PathOf(key), .query = {{"uploadId", upload_id}}};
  auto response = client_.Send(request);
  if (!response.ok() || !(Is2xx(response->status) || response->status == 404)) {
    // The parts stay until a bucket lifecycle rule removes them; nothing reads them.
    spdlog::warn("cannot abort S3 multipart upload {} of {}: {}", upload_id, key,
                 response.ok() ? client_.ErrorOf(request, *response).ToString() : response.status().ToString());
  }
}

}  // namespace quiver::storage::s3
