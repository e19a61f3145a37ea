// Opening the ObjectStore that holds segment binlogs and index files.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "storage/object_store.h"

namespace quiver::storage {

// Objects as files under `root_dir` (created if missing). Several stores, in this process
// or others, may share a root.
StatusOr<std::unique_ptr<ObjectStore>> OpenLocalObjectStore(const std::string& root_dir);

// Where and how to reach an S3-compatible service (AWS S3, Ceph radosgw, MinIO).
struct S3Options {
  std::string address = "localhost";  // host name or IP, without scheme or port
  int port = 9000;
  std::string access_key_id;
  std::string secret_access_key;
  bool use_ssl = false;
  std::string bucket;  // created on open when missing
  // Prepended to every key (a '/' is added when it does not end with one) and stripped from
  // List results, so that several stores can share a bucket. Quiver itself passes "".
  std::string key_prefix;
  std::string region = "us-east-1";

  // Objects larger than this are uploaded in parts of `part_size` (S3's minimum is 5 MiB),
  // up to `parallel_parts` at a time.
  uint64_t multipart_threshold = 16 * 1024 * 1024;
  uint64_t part_size = 16 * 1024 * 1024;
  int parallel_parts = 4;

  std::chrono::milliseconds connect_timeout{5000};
  // How long one operation keeps retrying while the service is unreachable or answers 5xx.
  std::chrono::milliseconds retry_timeout{30000};
};

// Objects in an S3 bucket (path-style addressing, SigV4). Checks the credentials and creates
// the bucket if it is missing; fails with kIoFailed, naming S3's error, when it cannot.
StatusOr<std::unique_ptr<ObjectStore>> OpenS3ObjectStore(const S3Options& options);

}  // namespace quiver::storage
