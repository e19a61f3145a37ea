#include "node/proxy/milvus_grpc_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/impl/codegen/method_handler.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

#include "common/metrics.h"
#include "milvus.grpc.pb.h"

namespace quiver::proxy {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

template <typename Resp>
void WriteStatus(const Status& status, Resp* resp) {
  if constexpr (std::is_same_v<Resp, cpb::Status>) {
    status.ToProto(resp);
  } else {
    status.ToProto(resp->mutable_status());
  }
}

// Fills the `status` field of any Milvus response (or the response itself when it is a
// Status) through reflection, for methods that have no typed handler.
void WriteStatusReflectively(const Status& status, Message* resp) {
  if (resp->GetDescriptor() == cpb::Status::descriptor()) {
    status.ToProto(static_cast<cpb::Status*>(resp));
    return;
  }
  const auto* field = resp->GetDescriptor()->FindFieldByName("status");
  if (field && field->message_type() == cpb::Status::descriptor()) {
    status.ToProto(static_cast<cpb::Status*>(resp->GetReflection()->MutableMessage(resp, field)));
  }
}

void Serialize(const Message& msg, grpc::ByteBuffer* out) {
  bool own_buffer = false;
  grpc::Status st = grpc::GenericSerialize<grpc::ProtoBufferWriter, Message>(msg, out, &own_buffer);
  if (!st.ok()) spdlog::error("cannot serialize {}: {}", msg.GetTypeName(), st.error_message());
}

// A response of the method's own type carrying only a status.
void WriteStatusOnly(const MethodDescriptor* method, const Status& status, grpc::ByteBuffer* out) {
  std::unique_ptr<Message> resp(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(method->output_type())->New());
  WriteStatusReflectively(status, resp.get());
  Serialize(*resp, out);
}

// Per-method request counts (by Milvus status code) and latencies for /metrics; the
// common case (a successful call) uses handles resolved once per method.
MethodMetrics ResolveMetrics(const std::string& method) {
  auto& registry = MetricsRegistry::Global();
  return {&registry.Histogram("quiver_proxy_request_duration_seconds",
                              "Milvus API request latency at the proxy, by method.", {{"method", method}}),
          &registry.Counter("quiver_proxy_requests_total",
                            "Milvus API requests handled by the proxy, by method and status code.",
                            {{"method", method}, {"code", "0"}})};
}

void RecordRequestMetrics(const std::string& method, const MethodMetrics& handles, const Status& status,
                          double seconds) {
  handles.latency->Observe(seconds);
  if (status.ok()) {
    handles.ok->Inc();
    return;
  }
  MetricsRegistry::Global()
      .Counter("quiver_proxy_requests_total", "Milvus API requests handled by the proxy, by method and status code.",
               {{"method", method}, {"code", std::to_string(static_cast<int>(status.code()))}})
      .Inc();
}

std::string DatabaseFromMetadata(const grpc::ServerContextBase* ctx) {
  auto it = ctx->client_metadata().find("dbname");
  if (it == ctx->client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// Served as gRPC callbacks, on gRPC's own threads: reads that normally need no waiting, for
// which the sync server's thread hand-offs cost about a third of the throughput with two
// clients on a 2-core machine (bench/README.md). The rest stay synchronous.
const std::set<std::string> kCallbackMethods = {"Search", "HybridSearch", "Query", "GetVersion"};

// gRPC 1.51 runs callbacks on two threads of its own. Calls there never wait for the stores
// (CallContext::may_wait is false; such a call moves to the executor), so they only take CPU
// time; beyond two at once (a gRPC with more such threads) they go to the executor too.
constexpr int kInlineCalls = 2;

}  // namespace

MilvusGrpcService::MilvusGrpcService(Proxy* proxy) : proxy_(proxy), executor_("quiver-read") {
  RegisterHandlers();
  RegisterMethods();
}

template <typename Req, typename Resp>
void MilvusGrpcService::Handle(const std::string& method,
                               Status (Proxy::*handler)(const CallContext&, const Req&, Resp*)) {
  handlers_[method] = [this, handler, method](const CallContext& ctx, grpc::ByteBuffer* request,
                                              grpc::ByteBuffer* response) {
    Req req;
    Resp resp;
    grpc::Status parsed = grpc::GenericDeserialize<grpc::ProtoBufferReader, Req>(request, &req);
    Status status = parsed.ok() ? (proxy_->*handler)(ctx, req, &resp)
                                : InvalidParameter("cannot parse " + method + " request: " + parsed.error_message());
    if (!status.ok()) spdlog::debug("{} failed: {}", method, status.ToString());
    WriteStatus(status, &resp);
    Serialize(resp, response);
    return status;
  };
}

void MilvusGrpcService::RegisterHandlers() {
  Handle("Connect", &Proxy::Connect);
  Handle("GetVersion", &Proxy::GetVersion);
  Handle("CheckHealth", &Proxy::CheckHealth);
  Handle("CreateDatabase", &Proxy::CreateDatabase);
  Handle("DropDatabase", &Proxy::DropDatabase);
  Handle("AlterDatabase", &Proxy::AlterDatabase);
  Handle("ListDatabases", &Proxy::ListDatabases);
  Handle("DescribeDatabase", &Proxy::DescribeDatabase);
  Handle("CreateCollection", &Proxy::CreateCollection);
  Handle("DropCollection", &Proxy::DropCollection);
  Handle("HasCollection", &Proxy::HasCollection);
  Handle("DescribeCollection", &Proxy::DescribeCollection);
  Handle("ShowCollections", &Proxy::ShowCollections);
  Handle("RenameCollection", &Proxy::RenameCollection);
  Handle("AlterCollection", &Proxy::AlterCollection);
  Handle("GetCollectionStatistics", &Proxy::GetCollectionStatistics);
  Handle("CreatePartition", &Proxy::CreatePartition);
  Handle("DropPartition", &Proxy::DropPartition);
  Handle("HasPartition", &Proxy::HasPartition);
  Handle("ShowPartitions", &Proxy::ShowPartitions);
  Handle("GetPartitionStatistics", &Proxy::GetPartitionStatistics);
  Handle("CreateAlias", &Proxy::CreateAlias);
  Handle("DropAlias", &Proxy::DropAlias);
  Handle("AlterAlias", &Proxy::AlterAlias);
  Handle("DescribeAlias", &Proxy::DescribeAlias);
  Handle("ListAliases", &Proxy::ListAliases);
  Handle("Insert", &Proxy::Insert);
  Handle("Upsert", &Proxy::Upsert);
  Handle("Delete", &Proxy::Delete);
  Handle("Flush", &Proxy::Flush);
  Handle("GetFlushState", &Proxy::GetFlushState);
  Handle("Query", &Proxy::Query);
  Handle("LoadCollection", &Proxy::LoadCollection);
  Handle("ReleaseCollection", &Proxy::ReleaseCollection);
  Handle("LoadPartitions", &Proxy::LoadPartitions);
  Handle("ReleasePartitions", &Proxy::ReleasePartitions);
  Handle("GetLoadState", &Proxy::GetLoadState);
  Handle("GetLoadingProgress", &Proxy::GetLoadingProgress);
  Handle("ManualCompaction", &Proxy::ManualCompaction);
  Handle("CreateIndex", &Proxy::CreateIndex);
  Handle("DescribeIndex", &Proxy::DescribeIndex);
  Handle("DropIndex", &Proxy::DropIndex);
  Handle("GetIndexState", &Proxy::GetIndexState);
  Handle("GetIndexBuildProgress", &Proxy::GetIndexBuildProgress);
  Handle("Search", &Proxy::Search);
  Handle("HybridSearch", &Proxy::HybridSearch);
  Handle("GetCompactionState", &Proxy::GetCompactionState);
}

// Registers every unary method of MilvusService as a raw (ByteBuffer) method, in
// descriptor order, which is the order the generated stubs use.
void MilvusGrpcService::RegisterMethods() {
  // Touching a generated message guarantees milvus.proto's descriptors are registered.
  mpb::ConnectRequest::descriptor();
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("milvus.proto.milvus.MilvusService");
  for (int i = 0; i < service->method_count(); ++i) {
    const MethodDescriptor* method = service->method(i);
    if (method->client_streaming() || method->server_streaming()) continue;  // none in scope
    std::string path = "/" + service->full_name() + "/" + method->name();
    metrics_[method->name()] = ResolveMetrics(method->name());
    const bool callback = kCallbackMethods.count(method->name()) > 0;
    grpc::internal::MethodHandler* handler;
    if (callback) {
      handler = new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
          [this, method](grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req, grpc::ByteBuffer* resp) {
            return RunCallback(method, ctx, req, resp);
          });
    } else {
      handler = new grpc::internal::RpcMethodHandler<MilvusGrpcService, grpc::ByteBuffer, grpc::ByteBuffer>(
          [method](MilvusGrpcService* self, grpc::ServerContext* ctx, const grpc::ByteBuffer* req,
                   grpc::ByteBuffer* resp) {
            self->Dispatch(method, ctx, /*may_wait=*/true, req, resp);
            return grpc::Status::OK;
          },
          this);
    }
    auto* rpc = new grpc::internal::RpcServiceMethod(
        strdup(path.c_str()),  // gRPC keeps the pointer for the service's lifetime
        grpc::internal::RpcMethod::NORMAL_RPC, handler);
    if (callback) rpc->SetServerApiType(grpc::internal::RpcServiceMethod::ApiType::CALL_BACK);
    AddMethod(rpc);
  }
}

grpc::ServerUnaryReactor* MilvusGrpcService::RunCallback(const MethodDescriptor* method, grpc::CallbackServerContext* ctx,
                                                          const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish_here = [=, this] {
    Dispatch(method, ctx, /*may_wait=*/true, request, response);
    reactor->Finish(grpc::Status::OK);
  };
  // Beyond kInlineCalls at once, or when it would have had to wait: again, where it may.
  bool answered = false;
  if (inline_calls_.fetch_add(1) < kInlineCalls) answered = Dispatch(method, ctx, /*may_wait=*/false, request, response);
  inline_calls_.fetch_sub(1);
  if (answered) {
    reactor->Finish(grpc::Status::OK);
  } else {
    executor_.Submit(std::move(finish_here));
  }
  return reactor;
}

bool MilvusGrpcService::Dispatch(const MethodDescriptor* method, grpc::ServerContextBase* ctx, bool may_wait,
                                 const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  auto start = std::chrono::steady_clock::now();
  CallContext call{DatabaseFromMetadata(ctx), may_wait};
  grpc::ByteBuffer req_copy(*request);  // deserializing consumes the buffer
  Status status;
  auto it = handlers_.find(method->name());
  try {
    if (it != handlers_.end()) {
      status = it->second(call, &req_copy, response);
    } else {
      status = NotImplemented(method->name());
      WriteStatusOnly(method, status, response);
    }
  } catch (const std::exception& e) {
    // A bug must cost one request, never the server.
    spdlog::error("{} threw: {}", method->name(), e.what());
    status = Internal(e.what());
    WriteStatusOnly(method, status, response);
  }
  if (status.code() == Code::kWouldWait) {
    response->Clear();
    return false;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordRequestMetrics(method->name(), metrics_.at(method->name()), status, seconds);
  return true;
}

}  // namespace quiver::proxy
