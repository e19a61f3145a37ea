// wal_bench: append throughput of the WAL for 1 KB records.
//
//   wal_bench [dir] [seconds] [channels]                 the local WAL in a scratch directory
//                                                        under `dir` (default: the current one;
//                                                        use a real disk, not tmpfs)
//   wal_bench --nats <url>[,<url>...] [seconds] [channels]  the NATS JetStream WAL (3 replicas)
//
// For 1, 4 and 16 concurrent appenders, each appending one record at a time and waiting
// until it is durable, prints appends/s and MB/s (and, locally, fdatasync calls/s). The
// appenders take turns over `channels` channels (default 1). For NATS it then reads one
// channel back from the start and prints records/s.
#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "wal/local/local_wal.h"
#include "wal/wal_factory.h"

namespace {

using Clock = std::chrono::steady_clock;
using quiver::wal::Wal;

struct RunResult {
  uint64_t appends = 0;
  double seconds = 0;
};

[[noreturn]] void Fail(const std::string& what) {
  fmt::print(stderr, "{}\n", what);
  exit(1);
}

RunResult Run(Wal& wal, int appenders, int channels, std::chrono::duration<double> duration) {
  const std::string payload(1024, 'x');
  std::atomic<uint64_t> appends{0};
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(duration);
  std::vector<std::thread> threads;
  for (int t = 0; t < appenders; ++t) {
    threads.emplace_back([&, t] {
      const std::string channel = fmt::format("bench_{}", t % channels);
      while (Clock::now() < deadline) {
        auto result = wal.Append(channel, {payload});
        if (!result.ok()) Fail("append failed: " + result.status().ToString());
        quiver::Status durable = result->durable.get();
        if (!durable.ok()) Fail("append failed: " + durable.ToString());
        appends.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return {appends.load(), std::chrono::duration<double>(Clock::now() - start).count()};
}

void PrintRun(int appenders, const RunResult& r, const std::string& extra) {
  fmt::print("{:2} appenders: {:9.0f} appends/s {:7.2f} MB/s{}\n", appenders, r.appends / r.seconds,
             r.appends * 1024.0 / r.seconds / 1e6, extra);
}

int RunLocal(int argc, char** argv) {
  const std::string parent = argc > 1 ? argv[1] : ".";
  const double seconds = argc > 2 ? atof(argv[2]) : 3.0;
  const int channels = argc > 3 ? std::max(1, atoi(argv[3])) : 1;
  std::string scratch = parent + "/wal_bench-XXXXXX";
  if (mkdtemp(scratch.data()) == nullptr) Fail(fmt::format("cannot create a directory under {}", parent));
  fmt::print("1 KB records on {} channel(s), each appender waits for durability; WAL in {}\n", channels, scratch);
  for (int appenders : {1, 4, 16}) {
    const std::string dir = fmt::format("{}/run_{}", scratch, appenders);
    uint64_t syncs = 0;
    RunResult r;
    {
      auto wal = quiver::wal::LocalWal::Open(dir, {});
      if (!wal.ok()) Fail("cannot open WAL: " + wal.status().ToString());
      r = Run(**wal, appenders, channels, std::chrono::duration<double>(seconds));
      syncs = (*wal)->SyncCount();
    }
    PrintRun(appenders, r,
             fmt::format(" {:8.0f} syncs/s ({:.1f} appends per sync)", syncs / r.seconds,
                         syncs ? static_cast<double>(r.appends) / syncs : 0.0));
    std::filesystem::remove_all(dir);
  }
  std::filesystem::remove_all(scratch);
  return 0;
}

// Reads channel bench_0 from the start and prints how fast.
void ReadBack(Wal& wal) {
  auto last = wal.LastPosition("bench_0");
  auto reader = wal.OpenReader("bench_0", 0);
  if (!last.ok() || !reader.ok()) Fail("cannot read bench_0");
  const auto start = Clock::now();
  uint64_t read = 0;
  while (read < *last) {
    auto records = (*reader)->Read(1024, std::chrono::seconds(5));
    if (!records.ok()) Fail("read failed: " + records.status().ToString());
    if (records->empty()) Fail("read stalled");
    read += records->size();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  fmt::print("   read back: {:9.0f} records/s ({} records of bench_0)\n", read / seconds, read);
}

int RunNats(int argc, char** argv) {
  if (argc < 3) Fail("usage: wal_bench --nats <url>[,<url>...] [seconds] [channels]");
  quiver::wal::NatsWalOptions options;
  std::stringstream urls(argv[2]);
  for (std::string url; std::getline(urls, url, ',');) options.servers.push_back(url);
  const double seconds = argc > 3 ? atof(argv[3]) : 3.0;
  const int channels = argc > 4 ? std::max(1, atoi(argv[4])) : 1;
  const auto run_id = std::random_device{}() % 1000000;
  fmt::print("1 KB records on {} channel(s) of NATS JetStream ({} replicas), each appender waits for durability\n",
             channels, options.replicas);
  for (int appenders : {1, 4, 16}) {
    options.stream_prefix = fmt::format("bench_{}_{}", run_id, appenders);
    auto wal = quiver::wal::OpenNatsWal(options);
    if (!wal.ok()) Fail("cannot open WAL: " + wal.status().ToString());
    PrintRun(appenders, Run(**wal, appenders, channels, std::chrono::duration<double>(seconds)), "");
    if (appenders == 16) ReadBack(**wal);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--nats") return RunNats(argc, argv);
  return RunLocal(argc, argv);
}
