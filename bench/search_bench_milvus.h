// search_bench's side of Quiver: starting a standalone server, and the Milvus gRPC calls the
// benchmark makes through our generated stubs, as any Milvus client would make them.
// Every failure throws std::runtime_error naming the call and the server's reason.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/search_bench_data.h"

namespace quiver::bench {

// `quiver run standalone` on free ports with a fresh data directory; stopped (SIGTERM) and
// its directory removed on destruction. With `cpus`, the server runs on those CPUs only.
class QuiverServer {
 public:
  QuiverServer(std::string binary, std::optional<cpu_set_t> cpus);
  ~QuiverServer();
  QuiverServer(const QuiverServer&) = delete;
  QuiverServer& operator=(const QuiverServer&) = delete;

  // Stops the server and starts it again on the same ports and data: the next measurement
  // sees a fresh process, without what building indexes left on its heap.
  void Restart();

  std::string grpc_address() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  std::string metrics_url() const { return "http://127.0.0.1:" + std::to_string(http_port_); }
  pid_t pid() const { return pid_; }
  std::string log_path() const { return work_dir_ + "/quiver.log"; }
  std::string LogTail(size_t bytes) const;

 private:
  void Launch();
  void Stop();

  std::string binary_;
  std::optional<cpu_set_t> cpus_;
  std::string work_dir_;
  int grpc_port_ = 0;
  int http_port_ = 0;
  pid_t pid_ = -1;
};

// Figures from the server's GET /metrics.
struct ServerMetrics {
  double rss_bytes = 0;
  double cpu_seconds = 0;
  double search_count = 0;        // quiver_proxy_request_duration_seconds_count{method="Search"}
  double search_seconds_sum = 0;  // ..._sum{method="Search"}: time inside the proxy's handler
  // The query node's vector searches, one segment at a time (index or brute force): their
  // time and the query vectors they answered.
  double segment_search_seconds_sum = 0;
  double segment_search_queries = 0;
};
ServerMetrics ReadServerMetrics(const std::string& metrics_url);

struct SearchSettings {
  std::string collection;
  std::string params_json;  // {"ef": 64} or {"nprobe": 16}
  int k = 10;
};

// One client with its own gRPC channel (its own TCP connection), for one thread at a time.
class MilvusClient {
 public:
  explicit MilvusClient(const std::string& address);
  ~MilvusClient();

  void CreateCollection(const std::string& name, int64_t dim);
  void DropCollection(const std::string& name);
  // Rows `begin`..`end` of `data` with primary keys equal to their row numbers.
  void Insert(const std::string& name, const Dataset& data, int64_t begin, int64_t end);
  // Flush, then GetFlushState on the returned segments until they are persisted.
  void FlushAndWait(const std::string& name);
  // CreateIndex on the vector field with `params` (e.g. {"M": "16"}), L2.
  void CreateIndex(const std::string& name, const std::string& index_type,
                   const std::map<std::string, int64_t>& params);
  // Polls DescribeIndex until indexed_rows == total_rows == `rows` and the state is Finished.
  void WaitIndexBuilt(const std::string& name, int64_t rows, std::chrono::seconds timeout);
  // LoadCollection, then GetLoadingProgress until 100.
  void LoadAndWait(const std::string& name);
  // One Search with `count` query vectors (consecutive rows of `queries`); each query's hits'
  // primary keys (row numbers) into rows[q * k .. q * k + k), -1 where fewer came back.
  void Search(const SearchSettings& settings, const float* queries, int64_t count, int64_t dim, int64_t* rows);
  // GetVersion, the cheapest call of the API: its round trip is what every Search pays on
  // top of the search itself.
  void GetVersion();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quiver::bench
