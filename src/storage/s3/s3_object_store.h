// S3ObjectStore: an ObjectStore in a bucket of an S3-compatible service.
//
// Object "a/b" is "<key_prefix>a/b" in the bucket, addressed path-style
// (http://host:port/bucket/key). S3 gives the contract's atomic, durable replacing Put.
//
// - Put sends objects up to `multipart_threshold` in one request, larger ones as a multipart
//   upload (parts in parallel; the upload is aborted when a part or the completion fails).
// - Integrity: each request body is signed with its SHA-256, which the service checks; the
//   whole object's SHA-256 is stored as metadata (x-amz-meta-quiver-sha256) and Get checks
//   it (kIoFailed on a mismatch). GetRange checks the range it got is the one it asked for.
//   Objects written by other tools, without that metadata, are read unchecked.
// - Retries: see S3Client. Keys follow ValidateObjectKey (object_key.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object_store.h"
#include "storage/object_store_factory.h"
#include "storage/s3/s3_client.h"

namespace quiver::storage::s3 {

class S3ObjectStore final : public ObjectStore {
 public:
  static StatusOr<std::unique_ptr<S3ObjectStore>> Open(const S3Options& options);

  Status Put(const std::string& key, std::string_view data) override;
  StatusOr<std::string> Get(const std::string& key) override;
  StatusOr<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  StatusOr<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status Delete(const std::string& key) override;

 private:
  S3ObjectStore(const S3Options& options, std::string key_prefix, S3ClientOptions client_options);

  std::string BucketPath() const;
  std::string PathOf(const std::string& key) const;
  Status EnsureBucket();
  Status CreateBucket();
  // OK when the object exists, kIoKeyNotFound when it does not.
  Status Exists(const std::string& key);
  StatusOr<std::string> Checksum(const std::string& key);
  Status PutWhole(const std::string& key, std::string_view data, const std::string& checksum);
  Status PutInParts(const std::string& key, std::string_view data, const std::string& checksum);
  StatusOr<std::string> StartUpload(const std::string& key, const std::string& checksum);
  StatusOr<std::vector<std::string>> UploadParts(const std::string& key, const std::string& upload_id,
                                                 std::string_view data);
  StatusOr<std::string> UploadPart(const std::string& key, const std::string& upload_id, int number,
                                   std::string_view part);
  Status CompleteUpload(const std::string& key, const std::string& upload_id, const std::vector<std::string>& etags,
                        const std::string& checksum);
  void AbortUpload(const std::string& key, const std::string& upload_id);
  StatusOr<std::string> ListPage(const std::string& prefix, const std::string& token, std::vector<ObjectInfo>* out);
  // The failure `response` to `request` stands for: kIoKeyNotFound for a missing key.
  Status Failure(const std::string& key, const S3Request& request, const S3Response& response) const;

  const S3Options options_;
  const std::string key_prefix_;  // empty or ending in '/'
  S3Client client_;
};

}  // namespace quiver::storage::s3
