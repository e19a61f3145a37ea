// PUT / GET latency of 1 KB objects and throughput of 64 MB objects against the S3 service
// of scripts/backends.sh (QUIVER_BACKENDS_CONFIG names its config). Run by hand:
//   scripts/backends.sh up
//   QUIVER_BACKENDS_CONFIG=build/backends/quiver.yaml build/src/storage/s3_object_store_bench
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "common/config.h"
#include "storage/object_store_factory.h"

namespace {

using Clock = std::chrono::steady_clock;
using quiver::storage::ObjectStore;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Runs `op` `count` times; returns each run's duration in seconds, sorted.
std::vector<double> Time(int count, const std::function<bool(int)>& op) {
  std::vector<double> times;
  for (int i = 0; i < count; ++i) {
    auto start = Clock::now();
    if (!op(i)) {
      std::fprintf(stderr, "operation %d failed\n", i);
      std::exit(1);
    }
    times.push_back(Seconds(Clock::now() - start));
  }
  std::sort(times.begin(), times.end());
  return times;
}

void ReportLatency(const char* what, const std::vector<double>& times) {
  auto at = [&](double q) { return times[static_cast<size_t>(q * (times.size() - 1))] * 1000; };
  fmt::print("{:<14} p50 {:6.2f} ms  p90 {:6.2f} ms  p99 {:6.2f} ms  ({} runs)\n", what, at(0.5), at(0.9), at(0.99),
             times.size());
}

void ReportThroughput(const char* what, const std::vector<double>& times, size_t bytes) {
  fmt::print("{:<14} median {:7.1f} MB/s  best {:7.1f} MB/s  ({} runs of {} MB)\n", what,
             bytes / 1e6 / times[times.size() / 2], bytes / 1e6 / times.front(), times.size(), bytes / 1000000);
}

}  // namespace

int main() {
  const char* path = std::getenv("QUIVER_BACKENDS_CONFIG");
  quiver::Config config;
  if (path == nullptr || !quiver::ApplyConfigFile(path, &config).ok()) {
    std::fprintf(stderr, "set QUIVER_BACKENDS_CONFIG to the quiver.yaml scripts/backends.sh wrote\n");
    return 2;
  }
  quiver::storage::S3Options options;
  options.address = config.minio.address;
  options.port = config.minio.port;
  options.access_key_id = config.minio.access_key_id;
  options.secret_access_key = config.minio.secret_access_key;
  options.bucket = "quiver-bench";
  options.key_prefix = fmt::format("run-{}", Clock::now().time_since_epoch().count());
  auto opened = quiver::storage::OpenS3ObjectStore(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  ObjectStore& store = **opened;

  const std::string small(1000, 'x');
  ReportLatency("PUT 1 KB", Time(300, [&](int i) { return store.Put("small/" + std::to_string(i), small).ok(); }));
  ReportLatency("GET 1 KB", Time(300, [&](int i) { return store.Get("small/" + std::to_string(i)).ok(); }));

  const std::string big(64 * 1000 * 1000, 'y');
  ReportThroughput("PUT 64 MB", Time(5, [&](int i) { return store.Put("big/" + std::to_string(i), big).ok(); }),
                   big.size());
  ReportThroughput("GET 64 MB", Time(5, [&](int i) { return store.Get("big/" + std::to_string(i)).ok(); }), big.size());

  for (int i = 0; i < 300; ++i) (void)store.Delete("small/" + std::to_string(i));
  for (int i = 0; i < 5; ++i) (void)store.Delete("big/" + std::to_string(i));
  return 0;
}
