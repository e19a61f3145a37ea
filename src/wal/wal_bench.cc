// wal_bench [dir] [seconds] [channels]: append throughput of the local WAL for 1 KB records.
//
// For 1, 4 and 16 concurrent appenders, each appending one record at a time and waiting
// until it is durable, prints appends/s, MB/s and fdatasync calls/s. The appenders take
// turns over `channels` channels (default 1); each channel touched by a batch costs one
// sync. Runs in a scratch directory under `dir` (default: the current directory; use a
// real disk, not tmpfs).
#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "wal/local/local_wal.h"

namespace {

using Clock = std::chrono::steady_clock;

struct RunResult {
  uint64_t appends = 0;
  uint64_t syncs = 0;
  double seconds = 0;
};

RunResult Run(const std::string& dir, int appenders, int channels, std::chrono::duration<double> duration) {
  auto wal = quiver::wal::LocalWal::Open(dir, {});
  if (!wal.ok()) {
    fmt::print(stderr, "cannot open WAL: {}\n", wal.status().ToString());
    exit(1);
  }
  const std::string payload(1024, 'x');
  std::atomic<uint64_t> appends{0};
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(duration);
  std::vector<std::thread> threads;
  for (int t = 0; t < appenders; ++t) {
    threads.emplace_back([&, t] {
      const std::string channel = fmt::format("bench_{}", t % channels);
      while (Clock::now() < deadline) {
        auto result = (*wal)->Append(channel, {payload});
        if (!result.ok() || !result->durable.get().ok()) {
          fmt::print(stderr, "append failed\n");
          exit(1);
        }
        appends.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  RunResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.appends = appends.load();
  result.syncs = (*wal)->SyncCount();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string parent = argc > 1 ? argv[1] : ".";
  const double seconds = argc > 2 ? atof(argv[2]) : 3.0;
  const int channels = argc > 3 ? std::max(1, atoi(argv[3])) : 1;
  std::string scratch = parent + "/wal_bench-XXXXXX";
  if (mkdtemp(scratch.data()) == nullptr) {
    fmt::print(stderr, "cannot create a directory under {}\n", parent);
    return 1;
  }
  fmt::print("1 KB records on {} channel(s), each appender waits for durability; WAL in {}\n", channels, scratch);
  for (int appenders : {1, 4, 16}) {
    const std::string dir = fmt::format("{}/run_{}", scratch, appenders);
    RunResult r = Run(dir, appenders, channels, std::chrono::duration<double>(seconds));
    fmt::print("{:2} appenders: {:9.0f} appends/s {:7.2f} MB/s {:8.0f} syncs/s ({:.1f} appends per sync)\n", appenders,
               r.appends / r.seconds, r.appends * 1024.0 / r.seconds / 1e6, r.syncs / r.seconds,
               r.syncs ? static_cast<double>(r.appends) / r.syncs : 0.0);
    std::filesystem::remove_all(dir);
  }
  std::filesystem::remove_all(scratch);
  return 0;
}
