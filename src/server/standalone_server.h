// StandaloneServer: every role of Quiver in one process, on the backends quiver.yaml chooses
// (embedded by default; see storage_backends.h).
//
// Start order is what makes /healthz truthful: HTTP first (503 while starting), then
// storage and the coordinators, then the gRPC API, and only then ready (200).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "common/config.h"
#include "common/directory_lock.h"
#include "common/http_server.h"
#include "common/status.h"
#include "coord/datacoord/data_coord_impl.h"
#include "coord/indexcoord/index_coord.h"
#include "coord/querycoord/query_coord.h"
#include "coord/rootcoord/root_coord_impl.h"
#include "meta/meta_kv.h"
#include "node/datanode/compactor.h"
#include "node/datanode/data_node.h"
#include "node/indexnode/index_node.h"
#include "node/proxy/milvus_grpc_service.h"
#include "node/proxy/proxy.h"
#include "node/querynode/query_node.h"
#include "node/streamingnode/streaming_node.h"
#include "storage/object_store.h"
#include "wal/wal.h"

namespace quiver {

class StandaloneServer {
 public:
  explicit StandaloneServer(Config config);
  ~StandaloneServer();

  Status Start();
  // Stops accepting calls, lets running ones finish (bounded), then closes storage.
  void Shutdown();

 private:
  Status StartGrpc();
  Status OpenStorage();
  Status StartRoles();

  Config config_;
  HttpServer http_;
  // Declared in start order; Shutdown stops them in reverse.
  std::unique_ptr<DirectoryLock> data_dir_lock_;
  std::unique_ptr<meta::MetaKV> meta_kv_;
  std::unique_ptr<wal::Wal> wal_;
  std::unique_ptr<storage::ObjectStore> object_store_;
  std::unique_ptr<rootcoord::RootCoordImpl> root_coord_;
  std::unique_ptr<datacoord::DataCoordImpl> data_coord_;
  std::unique_ptr<indexnode::IndexNode> index_node_;
  std::unique_ptr<indexcoord::IndexCoord> index_coord_;
  std::unique_ptr<streaming::StreamingNode> streaming_node_;
  std::unique_ptr<datanode::DataNode> data_node_;
  std::unique_ptr<datanode::Compactor> compactor_;
  std::unique_ptr<querynode::QueryNode> query_node_;
  std::unique_ptr<querycoord::QueryCoord> query_coord_;
  std::unique_ptr<proxy::Proxy> proxy_;
  std::unique_ptr<proxy::MilvusGrpcService> grpc_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
};

// Binds a gRPC server for `services` on ip:port with Quiver's channel settings; fails
// clearly when the address is taken (SO_REUSEPORT is off so a second instance cannot
// silently share the port).
StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(const std::string& ip, int port, int64_t max_message_size,
                                                        const std::vector<grpc::Service*>& services);

}  // namespace quiver
