// MilvusGrpcService: serves milvus.proto.milvus.MilvusService over gRPC for a Proxy.
//
// Every unary method of the service is registered from the protocol's descriptor, so a
// method Quiver does not implement yet still answers with a Milvus status ("service
// unimplemented") in its own response type instead of a transport error the SDKs would
// retry or misreport. Implemented methods are typed handlers on Proxy. This is also the
// one place that records per-method metrics and turns exceptions into statuses.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <functional>
#include <map>
#include <string>

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
  grpc::Status Dispatch(const google::protobuf::MethodDescriptor* method, grpc::ServerContext* ctx,
                        const grpc::ByteBuffer* request, grpc::ByteBuffer* response);

  Proxy* proxy_;
  std::map<std::string, RawHandler> handlers_;
  std::map<std::string, MethodMetrics> metrics_;  // filled once, read-only afterwards
};

}  // namespace quiver::proxy
