#include "storage/object_store_factory.h"

#include "storage/local/local_object_store.h"
#include "storage/s3/s3_object_store.h"

namespace quiver::storage {

StatusOr<std::unique_ptr<ObjectStore>> OpenLocalObjectStore(const std::string& root_dir) {
  auto store = LocalObjectStore::Open(root_dir);
  if (!store.ok()) return store.status();
  return std::unique_ptr<ObjectStore>(std::move(*store));
}

StatusOr<std::unique_ptr<ObjectStore>> OpenS3ObjectStore(const S3Options& options) {
  auto store = s3::S3ObjectStore::Open(options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<ObjectStore>(std::move(*store));
}

}  // namespace quiver::storage
