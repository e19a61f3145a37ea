#include "common/http_server.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>
#include <httplib.h>

namespace quiver {
namespace {

// httplib's bind reports only true/false, so bind once more ourselves to learn why it failed.
std::string BindFailureReason(const std::string& ip, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  std::string reason;
  if (int rc = getaddrinfo(ip.c_str(), std::to_string(port).c_str(), &hints, &addresses); rc != 0) {
    reason = gai_strerror(rc);
  } else {
    int error = 0;
    for (addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
      int sock = socket(address->ai_family, address->ai_socktype, address->ai_protocol);
      if (sock < 0) {
        error = errno;
        continue;
      }
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      error = bind(sock, address->ai_addr, address->ai_addrlen) == 0 ? 0 : errno;
      close(sock);
      if (error == 0) break;
    }
    freeaddrinfo(addresses);
    reason = error != 0 ? std::strerror(error) : "bind failed";
  }
  reason[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
  return reason;
}

}  // namespace

HttpServer::HttpServer(MetricsRegistry& metrics) : metrics_(metrics) {
  HandleGet("/healthz", [this](const HttpRequest&) {
    std::lock_guard lock(mu_);
    if (ready_) return HttpResponse{200, "text/plain; charset=utf-8", "OK"};
    return HttpResponse{503, "text/plain; charset=utf-8", not_ready_reason_.empty() ? "not ready" : not_ready_reason_};
  });
  HandleGet("/metrics", [this](const HttpRequest&) {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.RenderPrometheusText()};
  });
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start(const std::string& ip, int port) {
  if (server_) return Internal("http server is already started");
  if (port < 0 || port > 65535) {
    return InvalidParameter(fmt::format("http port must be between 0 and 65535, got {}", port));
  }

  auto server = std::make_unique<httplib::Server>();
  // httplib's default options add SO_REUSEPORT, which would let a second server bind the same
  // port and silently take half of its connections instead of failing to start.
  server->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Stop waits for idle keep-alive connections (e.g. a Prometheus scraper) to time out.
  server->set_keep_alive_timeout(1);
  server->Get(".*", [this](const httplib::Request& request, httplib::Response& response) {
    HttpResponse reply = Dispatch({request.path, {request.params.begin(), request.params.end()}});
    response.status = reply.status;
    response.set_content(reply.body, reply.content_type.c_str());
  });

  int bound_port = port == 0 ? server->bind_to_any_port(ip) : (server->bind_to_port(ip, port) ? port : -1);
  if (bound_port < 0) {
    return {Code::kServiceUnavailable,
            fmt::format("cannot listen on {}:{}: {}", ip, port, BindFailureReason(ip, port))};
  }
  port_ = bound_port;
  server_ = std::move(server);
  serve_thread_ = std::thread([server = server_.get()] { server->listen_after_bind(); });
  // httplib's stop() only interrupts a server that is already running; wait until it is so
  // that a Stop right after Start cannot be lost.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status::OK();
}

void HttpServer::Stop() {
  if (!server_) return;
  server_->stop();
  serve_thread_.join();
  server_.reset();
}

void HttpServer::SetReady(bool ready, const std::string& reason) {
  std::lock_guard lock(mu_);
  ready_ = ready;
  not_ready_reason_ = reason;
}

void HttpServer::HandleGet(const std::string& path, HttpGetHandler handler) {
  std::lock_guard lock(mu_);
  handlers_[path] = std::move(handler);
}

HttpResponse HttpServer::Dispatch(const HttpRequest& request) const {
  HttpGetHandler handler;
  {
    std::lock_guard lock(mu_);
    auto it = handlers_.find(request.path);
    if (it == handlers_.end()) return {404, "text/plain; charset=utf-8", "not found"};
    handler = it->second;  // a copy, so the handler runs without holding mu_
  }
  return handler(request);
}

}  // namespace quiver
