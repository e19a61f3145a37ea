// MilvusGrpcService: serves milvus.proto.milvus.MilvusService over gRPC for a Proxy.
//
// Every unary method of the service is registered from the protocol's descriptor, so a
// method Quiver does not implement yet still answers with a Milvus status ("service
// unimplemented") in its own response type instead of a transport error the SDKs would
// retry or misreport. Implemented methods are typed handlers on Proxy. This is also the
// one place that records per-method metrics and turns exceptions into statuses.
// Search, HybridSearch, Query and GetVersion are gRPC callbacks: answered on gRPC's own
// thread when they need not wait, else on an executor where they may; the rest are sync.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "common/elastic_executor.h"
#include "common/metrics.h"
#include "node/proxy/proxy.h"

namespace google::protobuf {
class MethodDescriptor;
}

namespace quiver::proxy {

// A method's metric series, resolved once (registry lookups take a lock).
struct MethodMetrics {
  Histogram* latency = nullptr;
  Counter* ok = nullptr;  // calls that returned code 0
};

class MilvusGrpcService final : public grpc::Service {
 public:
  explicit MilvusGrpcService(Proxy* proxy);

 private:
  // Parses the request, runs the handler, serializes the response; returns the Milvus status.
  using RawHandler = std::function<Status(const CallContext&, grpc::ByteBuffer*, grpc::ByteBuffer*)>;

  template <typename Req, typename Resp>
  void Handle(const std::string& method, Status (Proxy::*handler)(const CallContext&, const Req&, Resp*));
  void RegisterHandlers();
  void RegisterMethods();
  // Serves a callback method: on gRPC's thread without waiting when it can, else on executor_.
  grpc::ServerUnaryReactor* RunCallback(const google::protobuf::MethodDescriptor* method,
                                        grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response);
  // Runs the method's handler into `response`. False (and nothing written or counted) when
  // `may_wait` is false and the call would have had to wait.
  bool Dispatch(const google::protobuf::MethodDescriptor* method, grpc::ServerContextBase* ctx, bool may_wait,
                const grpc::ByteBuffer* request, grpc::ByteBuffer* response);

  Proxy* proxy_;
  std::map<std::string, RawHandler> handlers_;
  std::map<std::string, MethodMetrics> metrics_;  // filled once, read-only afterwards
  std::atomic<int> inline_calls_{0};              // callback calls running on gRPC's threads
  ElasticExecutor executor_;  // last member: destroyed first, once the calls it runs are done
};

}  // namespace quiver::proxy
