// StorageBackends: the three stores every role keeps its state in, opened as quiver.yaml
// chooses — embedded (RocksDB, local WAL, files under localStorage.path) or the real
// services (etcd, NATS JetStream, S3-compatible storage), in any mix.
//
// Standalone opens all three; in a cluster each role opens the ones it uses, the same way.
#pragma once

#include <memory>

#include "common/config.h"
#include "common/status.h"
#include "meta/meta_kv.h"
#include "storage/object_store.h"
#include "wal/wal.h"

namespace quiver {

struct StorageBackends {
  std::unique_ptr<meta::MetaKV> meta_kv;
  std::unique_ptr<wal::Wal> wal;
  std::unique_ptr<storage::ObjectStore> object_store;
};

// Fails with the backend's own error (unreachable etcd, bad S3 credentials, a data
// directory in use) naming what it tried to open.
StatusOr<StorageBackends> OpenStorageBackends(const Config& config);

}  // namespace quiver
