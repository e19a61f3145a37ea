// Config: every setting a Quiver process reads at startup, in milvus.yaml-style sections.
//
// Precedence, lowest to highest: built-in defaults, the YAML file, QUIVER_<SECTION>_<KEY>
// environment variables, command-line flags (applied by the caller, see server/command_line.h).
// Anything that does not parse or validate is a startup error (kParameterInvalid) that names
// the key and where the bad value came from; Quiver never silently ignores a setting.
// quiver.yaml at the repository root documents every key.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace quiver {

enum class MqType { kEmbedded, kNatsMq };
enum class StorageType { kLocal, kMinio };
enum class MetastoreType { kEmbedded, kEtcd };

struct Config {
  struct Proxy {  // gRPC listen address of the Milvus API
    std::string ip = "0.0.0.0";
    int port = 19530;
    int64_t max_message_size = 64 * 1024 * 1024;
  } proxy;
  struct Http {  // /healthz and /metrics
    std::string ip = "0.0.0.0";
    int port = 9091;
  } http;
  struct LocalStorage {  // data directory of the embedded backends
    std::string path = "./volumes";
  } local_storage;
  struct Etcd {
    std::vector<std::string> endpoints = {"localhost:2379"};
    std::string root_path = "quiver";
  } etcd;
  struct Minio {
    std::string address = "localhost";
    int port = 9000;
    std::string access_key_id = "minioadmin";
    std::string secret_access_key = "minioadmin";
    bool use_ssl = false;
    std::string bucket_name = "quiver";
    std::string root_path = "files";
  } minio;
  struct Mq {
    MqType type = MqType::kEmbedded;
  } mq;
  struct NatsMq {
    std::vector<std::string> servers = {"nats://127.0.0.1:4222"};
    int replicas = 3;
    std::string stream_prefix = "quiver";  // JetStream stream names start with it
  } natsmq;
  struct Log {
    std::string level = "info";  // trace | debug | info | warn | error
  } log;
  struct Common {
    StorageType storage_type = StorageType::kLocal;  // object storage backend
  } common;
  struct Metastore {
    MetastoreType type = MetastoreType::kEmbedded;
  } metastore;
};

// Returns the value of an environment variable, or nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the process environment (std::getenv).
std::optional<std::string> ProcessEnv(const std::string& name);

// Overlays the YAML file at `path` onto `config`. Fails if the file cannot be read, is not
// valid YAML, or holds an unknown section/key or an invalid value.
Status ApplyConfigFile(const std::string& path, Config* config);

// Overlays QUIVER_<SECTION>_<KEY> variables (uppercased, e.g. QUIVER_PROXY_PORT,
// QUIVER_MINIO_ACCESSKEYID); list keys take comma-separated values.
Status ApplyConfigEnv(const EnvLookup& env, Config* config);

// Defaults, then the file at `path` (skipped when empty), then the environment.
Status LoadConfig(const std::string& path, Config* out, const EnvLookup& env = ProcessEnv);

}  // namespace quiver
