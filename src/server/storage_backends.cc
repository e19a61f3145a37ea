#include "server/storage_backends.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "meta/meta_kv_factory.h"
#include "storage/object_store_factory.h"
#include "wal/wal_factory.h"

namespace quiver {
namespace {

std::string Join(const std::vector<std::string>& items) { return fmt::format("{}", fmt::join(items, ",")); }

// The embedded stores share one data directory, created on first use.
StatusOr<std::filesystem::path> DataDir(const Config& config) {
  const std::filesystem::path dir(config.local_storage.path);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(Code::kIoFailed, "cannot create data directory " + dir.string() + ": " + ec.message());
  return dir;
}

StatusOr<std::unique_ptr<meta::MetaKV>> OpenMetaKV(const Config& config) {
  if (config.metastore.type == MetastoreType::kEmbedded) {
    auto dir = DataDir(config);
    if (!dir.ok()) return dir.status();
    return meta::OpenEmbeddedMetaKV((*dir / "meta").string());
  }
  meta::EtcdOptions options;
  options.endpoints = config.etcd.endpoints;
  options.root_path = config.etcd.root_path;
  spdlog::info("metadata in etcd at {} under {}", Join(options.endpoints), options.root_path);
  return meta::OpenEtcdMetaKV(options);
}

StatusOr<std::unique_ptr<wal::Wal>> OpenWal(const Config& config) {
  if (config.mq.type == MqType::kEmbedded) {
    auto dir = DataDir(config);
    if (!dir.ok()) return dir.status();
    return wal::OpenLocalWal((*dir / "wal").string());
  }
  wal::NatsWalOptions options;
  options.servers = config.natsmq.servers;
  options.replicas = config.natsmq.replicas;
  options.stream_prefix = config.natsmq.stream_prefix;
  spdlog::info("write-ahead log in NATS JetStream at {} ({} replicas, streams {}*)", Join(options.servers),
               options.replicas, options.stream_prefix);
  return wal::OpenNatsWal(options);
}

StatusOr<std::unique_ptr<storage::ObjectStore>> OpenObjectStore(const Config& config) {
  if (config.common.storage_type == StorageType::kLocal) {
    auto dir = DataDir(config);
    if (!dir.ok()) return dir.status();
    return storage::OpenLocalObjectStore((*dir / "objects").string());
  }
  storage::S3Options options;
  options.address = config.minio.address;
  options.port = config.minio.port;
  options.access_key_id = config.minio.access_key_id;
  options.secret_access_key = config.minio.secret_access_key;
  options.use_ssl = config.minio.use_ssl;
  options.bucket = config.minio.bucket_name;
  // minio.rootPath is already the first part of every key the roles write.
  spdlog::info("objects in S3 bucket {} at {}://{}:{}", options.bucket, options.use_ssl ? "https" : "http",
               options.address, options.port);
  return storage::OpenS3ObjectStore(options);
}

}  // namespace

StatusOr<StorageBackends> OpenStorageBackends(const Config& config) {
  StorageBackends backends;
  auto kv = OpenMetaKV(config);
  if (!kv.ok()) return kv.status();
  backends.meta_kv = std::move(*kv);
  auto wal = OpenWal(config);
  if (!wal.ok()) return wal.status();
  backends.wal = std::move(*wal);
  auto store = OpenObjectStore(config);
  if (!store.ok()) return store.status();
  backends.object_store = std::move(*store);
  return backends;
}

}  // namespace quiver
