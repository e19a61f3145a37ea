#include "common/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>

namespace quiver {
namespace {

using ::testing::HasSubstr;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status status = server_.Start("127.0.0.1", 0);
    ASSERT_TRUE(status.ok()) << status.ToString();
    ASSERT_GT(server_.port(), 0);
  }

  httplib::Result Get(const std::string& path) {
    httplib::Client client("127.0.0.1", server_.port());
    client.set_connection_timeout(5);
    client.set_read_timeout(5);
    return client.Get(path.c_str());
  }

  MetricsRegistry metrics_;
  HttpServer server_{metrics_};
};

TEST_F(HttpServerTest, HealthzIs503UntilReady) {
  auto response = Get("/healthz");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "not ready");

  server_.SetReady(false, "starting");
  response = Get("/healthz");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "starting");

  server_.SetReady(true);
  response = Get("/healthz");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "OK");
}

TEST_F(HttpServerTest, MetricsServesTheRegistry) {
  metrics_.Counter("quiver_test_requests_total", "Test requests.", {{"method", "Search"}}).Inc(7);
  auto response = Get("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->get_header_value("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(response->body, HasSubstr("# TYPE quiver_test_requests_total counter\n"
                                        "quiver_test_requests_total{method=\"Search\"} 7\n"));
  EXPECT_THAT(response->body, HasSubstr("process_resident_memory_bytes "));
}

TEST_F(HttpServerTest, ExtraRoutesAndUnknownPaths) {
  server_.HandleGet("/debug/echo", [](const HttpRequest& request) {
    auto it = request.query.find("word");
    std::string word = it == request.query.end() ? "" : it->second;
    return HttpResponse{200, "application/json", "{\"word\":\"" + word + "\"}"};
  });
  auto response = Get("/debug/echo?word=hi%20there");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(response->body, "{\"word\":\"hi there\"}");

  response = Get("/nope");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
}

TEST_F(HttpServerTest, SecondServerOnTheSamePortFailsClearly) {
  HttpServer second(metrics_);
  Status status = second.Start("127.0.0.1", server_.port());
  EXPECT_EQ(status.code(), Code::kServiceUnavailable);
  EXPECT_EQ(status.reason(),
            "cannot listen on 127.0.0.1:" + std::to_string(server_.port()) + ": address already in use");

  // The first server is unaffected.
  auto response = Get("/healthz");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
}

TEST_F(HttpServerTest, StopReleasesThePortAndIsIdempotent) {
  int port = server_.port();
  server_.Stop();
  server_.Stop();
  EXPECT_FALSE(Get("/healthz"));

  HttpServer again(metrics_);
  Status status = again.Start("127.0.0.1", port);
  ASSERT_TRUE(status.ok()) << status.ToString();
  again.SetReady(true);
  httplib::Client client("127.0.0.1", port);
  auto response = client.Get("/healthz");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST(HttpServerStartTest, RejectsOutOfRangePortAndForeignAddress) {
  MetricsRegistry metrics;
  HttpServer server(metrics);
  EXPECT_EQ(server.Start("127.0.0.1", 70000).code(), Code::kParameterInvalid);
  // 192.0.2.1 is a documentation address that no local interface has.
  EXPECT_EQ(server.Start("192.0.2.1", 9091).reason(),
            "cannot listen on 192.0.2.1:9091: cannot assign requested address");
}

}  // namespace
}  // namespace quiver
