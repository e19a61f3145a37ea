#include "server/standalone_server.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "meta/meta_kv_factory.h"

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

  std::error_code ec;
  std::filesystem::create_directories(config_.local_storage.path, ec);
  if (ec) return {Code::kIoFailed, "cannot create data directory " + config_.local_storage.path + ": " + ec.message()};
  auto kv = meta::OpenEmbeddedMetaKV((std::filesystem::path(config_.local_storage.path) / "meta").string());
  if (!kv.ok()) return kv.status();
  meta_kv_ = std::move(*kv);

  root_coord_ = std::make_unique<rootcoord::RootCoordImpl>(meta_kv_.get());
  QUIVER_RETURN_IF_ERROR(root_coord_->Init());
  proxy_ = std::make_unique<proxy::Proxy>(root_coord_.get());
  grpc_service_ = std::make_unique<proxy::MilvusGrpcService>(proxy_.get());
  QUIVER_RETURN_IF_ERROR(StartGrpc());

  http_.SetReady(true);
  spdlog::info("quiver standalone ready: gRPC on {}:{}, HTTP on {}:{}, data in {}", config_.proxy.ip,
               config_.proxy.port, config_.http.ip, http_.port(), config_.local_storage.path);
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
  root_coord_.reset();
  meta_kv_.reset();
  http_.Stop();
}

}  // namespace quiver
