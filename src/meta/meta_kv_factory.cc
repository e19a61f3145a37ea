#include "meta/meta_kv_factory.h"

#include "meta/etcd/etcd_meta_kv.h"
#include "meta/rocksdb/rocksdb_meta_kv.h"

namespace quiver::meta {

StatusOr<std::unique_ptr<MetaKV>> OpenEmbeddedMetaKV(const std::string& dir) {
  auto store = RocksDbMetaKV::Open(dir);
  if (!store.ok()) return store.status();
  return std::unique_ptr<MetaKV>(std::move(*store));
}

StatusOr<std::unique_ptr<MetaKV>> OpenEtcdMetaKV(const EtcdOptions& options) {
  auto store = EtcdMetaKV::Open(options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<MetaKV>(std::move(*store));
}

}  // namespace quiver::meta
