// Opening the MetaKV a Quiver process keeps its metadata in.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "meta/meta_kv.h"

namespace quiver::meta {

// The embedded store in `dir` (created if missing). Fails with kIoFailed when the store is
// already open, in another process or in this one.
StatusOr<std::unique_ptr<MetaKV>> OpenEmbeddedMetaKV(const std::string& dir);

struct EtcdOptions {
  // Client addresses of the etcd members: "host:port" or "http://host:port" (no TLS).
  std::vector<std::string> endpoints;
  // Every key is stored as root_path + "/" + key, so several clusters (or tests) can share
  // one etcd; callers see their keys without it.
  std::string root_path;
  // Deadline of one attempt of a call.
  std::chrono::milliseconds request_timeout{2000};
  // How long a call keeps retrying while etcd is unavailable (a member down, a leader
  // election) before it fails with kIoFailed.
  std::chrono::milliseconds retry_timeout{20000};
};

// The MetaKV on an etcd v3 cluster (src/meta/etcd/etcd_meta_kv.h states how it maps the
// contract onto etcd). Fails with kIoFailed when etcd does not answer within retry_timeout.
StatusOr<std::unique_ptr<MetaKV>> OpenEtcdMetaKV(const EtcdOptions& options);

}  // namespace quiver::meta
