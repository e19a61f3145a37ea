#include "server/standalone_server.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "common/directory_lock.h"
#include "server/storage_backends.h"

namespace quiver {

StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(const std::string& ip, int port, int64_t max_message_size,
                                                        const std::vector<grpc::Service*>& services) {
  grpc::ServerBuilder builder;
  std::string address = ip + ":" + std::to_string(port);
  int bound_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound_port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // SDKs ping idle connections every few seconds (pymilvus, the Node SDK); gRPC's default
  // policy would answer with GOAWAY "too_many_pings" and drop them.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(max_message_size));
  builder.SetMaxSendMessageSize(static_cast<int>(max_message_size));
  for (auto* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    return Status(Code::kServiceUnavailable,
                  "cannot listen on " + address + " (gRPC): address already in use or not available");
  }
  return server;
}

StandaloneServer::StandaloneServer(Config config) : config_(std::move(config)) {}

StandaloneServer::~StandaloneServer() { Shutdown(); }

Status StandaloneServer::Start() {
  QUIVER_RETURN_IF_ERROR(http_.Start(config_.http.ip, config_.http.port));
  http_.SetReady(false, "starting");
  QUIVER_RETURN_IF_ERROR(OpenStorage());
  QUIVER_RETURN_IF_ERROR(StartRoles());
  QUIVER_RETURN_IF_ERROR(StartGrpc());
  http_.SetReady(true);
  spdlog::info("quiver standalone ready: gRPC on {}:{}, HTTP on {}:{}, data in {}", config_.proxy.ip,
               config_.proxy.port, config_.http.ip, http_.port(), config_.local_storage.path);
  return Status::OK();
}

// The three storage interfaces, embedded or on the real services as the config says.
Status StandaloneServer::OpenStorage() {
  // Locked even when every store is a remote service: two instances on one data directory
  // are a mistake, and the embedded stores would find it out later and less clearly.
  auto lock = DirectoryLock::Acquire(config_.local_storage.path, "quiver.lock");
  if (!lock.ok()) return lock.status();
  data_dir_lock_ = std::move(*lock);
  auto backends = OpenStorageBackends(config_);
  if (!backends.ok()) return backends.status();
  meta_kv_ = std::move(backends->meta_kv);
  wal_ = std::move(backends->wal);
  object_store_ = std::move(backends->object_store);
  return Status::OK();
}

Status StandaloneServer::StartRoles() {
  rootcoord::RootCoordOptions root_options;
  root_coord_ = std::make_unique<rootcoord::RootCoordImpl>(meta_kv_.get(), root_options);
  QUIVER_RETURN_IF_ERROR(root_coord_->Init());
  data_coord_ = std::make_unique<datacoord::DataCoordImpl>(meta_kv_.get());
  index_node_ = std::make_unique<indexnode::IndexNode>(object_store_.get(), config_.minio.root_path);
  index_coord_ = std::make_unique<indexcoord::IndexCoord>(meta_kv_.get(), data_coord_.get(), root_coord_.get(),
                                                          index_node_.get(), object_store_.get());
  // Built before the streaming node: the WAL's retention asks it how far it has read.
  query_node_ = std::make_unique<querynode::QueryNode>(
      wal_.get(), object_store_.get(), data_coord_.get(), config_.minio.root_path,
      [this](int64_t collection_id, int64_t segment_id) {
        return index_coord_->FinishedIndexes(collection_id, segment_id);
      });
  index_coord_->AddListener([this](int64_t collection_id, int64_t segment_id, const segment::IndexFiles& files) {
    query_node_->OnIndexBuilt(collection_id, segment_id, files);
  });

  std::vector<std::string> pchannels;
  for (int i = 0; i < root_options.dml_channels; ++i) pchannels.push_back(root_options.channel_prefix + "_" + std::to_string(i));
  streaming::StreamingNodeOptions streaming_options;
  streaming_options.pchannels = pchannels;
  streaming_options.retention_floor = [this](const std::string& pchannel) -> wal::Position {
    auto stored = data_coord_->GetCheckpoint(pchannel);
    if (!stored.ok()) return 0;
    wal::Position floor = stored->position();
    if (auto consumed = query_node_->ConsumedFloor(pchannel)) floor = std::min(floor, *consumed);
    return floor;
  };
  streaming_node_ = std::make_unique<streaming::StreamingNode>(wal_.get(), root_coord_.get(), data_coord_.get(),
                                                               streaming_options);
  QUIVER_RETURN_IF_ERROR(streaming_node_->Start());

  datanode::DataNodeOptions data_options;
  data_options.pchannels = pchannels;
  data_options.storage_root = config_.minio.root_path;
  data_node_ = std::make_unique<datanode::DataNode>(wal_.get(), object_store_.get(), data_coord_.get(),
                                                    root_coord_.get(), data_options);
  QUIVER_RETURN_IF_ERROR(data_node_->Start());
  datanode::CompactorOptions compactor_options;
  compactor_options.storage_root = config_.minio.root_path;
  compactor_ = std::make_unique<datanode::Compactor>(object_store_.get(), data_coord_.get(), root_coord_.get(),
                                                     compactor_options);
  compactor_->Start();

  QUIVER_RETURN_IF_ERROR(index_coord_->Start());
  QUIVER_RETURN_IF_ERROR(query_node_->Start());
  query_coord_ = std::make_unique<querycoord::QueryCoord>(meta_kv_.get(), root_coord_.get(), query_node_.get());
  QUIVER_RETURN_IF_ERROR(query_coord_->Start());

  proxy_ = std::make_unique<proxy::Proxy>(proxy::ProxyDependencies{
      root_coord_.get(), data_coord_.get(), query_coord_.get(), query_node_.get(), streaming_node_.get(),
      compactor_.get(), index_coord_.get()});
  grpc_service_ = std::make_unique<proxy::MilvusGrpcService>(proxy_.get());
  return Status::OK();
}

Status StandaloneServer::StartGrpc() {
  auto server = StartGrpcServer(config_.proxy.ip, config_.proxy.port, config_.proxy.max_message_size,
                                {grpc_service_.get()});
  if (!server.ok()) return server.status();
  grpc_server_ = std::move(*server);
  return Status::OK();
}

void StandaloneServer::Shutdown() {
  http_.SetReady(false, "shutting down");
  if (grpc_server_) {
    grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc_server_->Wait();
    grpc_server_.reset();
  }
  grpc_service_.reset();
  proxy_.reset();
  if (streaming_node_) streaming_node_->Stop();  // its ticker asks the query node for retention
  if (index_coord_) index_coord_->Stop();         // its builds notify the query node
  query_coord_.reset();
  query_node_.reset();
  compactor_.reset();
  data_node_.reset();
  streaming_node_.reset();
  index_coord_.reset();
  index_node_.reset();
  data_coord_.reset();
  root_coord_.reset();
  object_store_.reset();
  wal_.reset();
  meta_kv_.reset();
  http_.Stop();
}

}  // namespace quiver
