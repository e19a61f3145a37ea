// HttpServer: the small HTTP endpoint every Quiver process exposes next to gRPC.
//
// Built-in routes:
//   GET /healthz  200 "OK" once SetReady(true), else 503 with the not-ready reason
//   GET /metrics  200, the registry in Prometheus text format 0.0.4
// Roles add their own GET routes with HandleGet, before or after Start. Start binds
// synchronously, so a taken port is reported by Start itself, then serves on a background
// thread until Stop (or destruction).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/metrics.h"
#include "common/status.h"

namespace httplib {
class Server;
}

namespace quiver {

struct HttpRequest {
  std::string path;
  std::multimap<std::string, std::string> query;  // decoded ?key=value pairs
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpGetHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  explicit HttpServer(MetricsRegistry& metrics = MetricsRegistry::Global());
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds ip:port (port 0 picks a free one, see port()) and starts serving. Fails with a
  // message like "cannot listen on 0.0.0.0:9091: address already in use".
  Status Start(const std::string& ip, int port);
  // Stops serving and waits for the server thread; safe to call more than once.
  void Stop();
  // The bound port once Start succeeded.
  int port() const { return port_; }

  // /healthz answers 200 when ready; otherwise 503 with `reason` ("not ready" when empty).
  void SetReady(bool ready, const std::string& reason = "");

  // Serves GET `path` (exact match) with `handler`, replacing any earlier handler for it.
  void HandleGet(const std::string& path, HttpGetHandler handler);

 private:
  HttpResponse Dispatch(const HttpRequest& request) const;

  MetricsRegistry& metrics_;
  mutable std::mutex mu_;
  std::map<std::string, HttpGetHandler> handlers_;
  bool ready_ = false;
  std::string not_ready_reason_;

  std::unique_ptr<httplib::Server> server_;
  std::thread serve_thread_;
  int port_ = 0;
};

}  // namespace quiver
