// search_bench: end-to-end vector search through Quiver's Milvus gRPC API, next to the same
// index built and searched by the raw library in this process (issue #4, "Performance").
//
//   search_bench [--rows 1000000] [--dim 128] [--queries 1000] [--seed 42]
//                [--base FILE.fvecs --query FILE.fvecs] [--gt-cache FILE]
//                [--address HOST:PORT [--metrics-url URL]] [--skip-hnsw] [--skip-ivf] [--skip-raw]
//
// Run with --help for every option; bench/README.md explains the figures.
#include <dirent.h>
#include <omp.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bench/search_bench_data.h"
#include "bench/search_bench_milvus.h"
#include "bench/search_bench_raw.h"

extern "C" void openblas_set_num_threads(int threads);

namespace quiver::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kTopK = 10;
constexpr int kClientThreads[] = {1, 2};

const char kUsage[] = R"(search_bench: Quiver's end-to-end search against the raw libraries.

Data (one of):
  --rows N            synthetic clustered rows (default 1000000)
  --dim D             their dimension (default 128)
  --queries Q         query vectors (default 1000)
  --seed S            data seed (default 42)
  --base FILE --query FILE
                      SIFT-style .fvecs files instead; --rows / --queries then cap the counts
  --gt-cache FILE     keep the exact top-10 in FILE and reuse it while the data are the same
Server:
  --quiver PATH       binary to start, once per index type (default $QUIVER_BIN, else
                      build/quiver)
  --address H:P       use a running server instead: a collection search_bench_<pid>_<index>
                      per index type, dropped after it unless --keep; no restart before
                      load, so its RSS includes whatever else the server holds
  --metrics-url URL   its /metrics endpoint (default http://<host of --address>:9091)
Indexes and searches:
  --m M --ef-construction E   HNSW build (default 16, 200)
  --ef LIST           HNSW search widths (default 32,64,128)
  --nlist N           IVF_FLAT lists (default 1024)
  --nprobe LIST       IVF_FLAT probes (default 16,32)
  --skip-hnsw --skip-ivf --skip-raw
  --min-seconds S     measure each configuration at least this long (default 3), over whole
                      passes of the queries (at most 20)
  --batch LIST        query vectors per Search request (default 1; e.g. 1,10); latencies
                      are per request, QPS counts queries; the raw side answers them one by one
  --insert-batch N    rows per Insert request (default 10000)
Placement (CPU lists such as 1 or 0-1,3):
  --server-cpus LIST  run the started server on these CPUs only
  --client-cpus LIST  run this process on these CPUs while it measures Quiver (the raw side
                      always gets every CPU): with disjoint lists, client and server stop
                      sharing cores, as when the client runs on another machine
)";

struct Options {
  std::optional<int64_t> rows, queries;
  int64_t dim = 128;
  uint64_t seed = 42;
  std::string base_path, query_path, gt_cache;
  std::string quiver_binary;
  std::string address, metrics_url;
  bool keep = false;
  int m = 16, ef_construction = 200;
  std::vector<int64_t> efs = {32, 64, 128};
  int64_t nlist = 1024;
  std::vector<int64_t> nprobes = {16, 32};
  bool skip_hnsw = false, skip_ivf = false, skip_raw = false;
  double min_seconds = 3;
  int64_t insert_batch = 10000;
  std::vector<int64_t> batches = {1};  // query vectors per Search request
  std::optional<cpu_set_t> server_cpus, client_cpus;
};

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

// ---- CPU placement ----

// "1", "0,1", "0-3,6": a CPU set. Throws std::runtime_error.
cpu_set_t ParseCpus(const std::string& text) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const size_t dash = item.find('-');
    const int first = std::stoi(item.substr(0, dash));
    const int last = dash == std::string::npos ? first : std::stoi(item.substr(dash + 1));
    if (first < 0 || last < first || last >= CPU_SETSIZE) throw std::runtime_error("bad CPU list: " + text);
    for (int cpu = first; cpu <= last; ++cpu) CPU_SET(cpu, &cpus);
  }
  if (CPU_COUNT(&cpus) == 0) throw std::runtime_error("empty CPU list: " + text);
  return cpus;
}

// Moves every thread of this process (gRPC's own included) onto `cpus`.
void PinProcess(const cpu_set_t& cpus) {
  DIR* tasks = opendir("/proc/self/task");
  if (!tasks) throw std::runtime_error("cannot list /proc/self/task");
  while (const dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    sched_setaffinity(static_cast<pid_t>(std::atoll(entry->d_name)), sizeof(cpus), &cpus);
  }
  closedir(tasks);
}

// While alive, this process runs on `cpus` (when given), and afterwards on the CPUs it had.
class ScopedProcessCpus {
 public:
  explicit ScopedProcessCpus(const std::optional<cpu_set_t>& cpus) : active_(cpus.has_value()) {
    if (!active_) return;
    sched_getaffinity(0, sizeof(previous_), &previous_);
    PinProcess(*cpus);
  }
  ~ScopedProcessCpus() {
    if (active_) PinProcess(previous_);
  }

 private:
  bool active_;
  cpu_set_t previous_;
};

// The machine facts that move the figures: CPUs, and on a VM whether an idle vCPU polls
// before it halts (without polling, every cross-CPU wake-up of a request goes through the
// hypervisor, which costs tens of microseconds per round trip).
void PrintMachine(const Options& options) {
  std::printf("machine: %u CPUs", std::thread::hardware_concurrency());
  std::ifstream halt_poll("/sys/module/haltpoll/parameters/guest_halt_poll_ns");
  std::string value;
  if (halt_poll >> value) std::printf(", cpuidle haltpoll guest_halt_poll_ns=%s", value.c_str());
  auto list = [](const std::optional<cpu_set_t>& cpus) {
    if (!cpus) return std::string("any");
    std::string text;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &*cpus)) text += (text.empty() ? "" : ",") + std::to_string(cpu);
    }
    return text;
  };
  std::printf("; Quiver server on CPUs %s, its client on CPUs %s\n", list(options.server_cpus).c_str(),
              list(options.client_cpus).c_str());
}

// ---- measuring ----

struct Run {
  double recall = 0, qps = 0, p50_us = 0, p99_us = 0;
  double mean_us = 0;
  int64_t queries = 0;
  double client_cpu_us = 0;  // this process's CPU time per query
  // Quiver only, from /metrics: time inside the proxy's Search handler per request, server
  // CPU per query, and the query node's vector search (index or brute force) per query.
  double server_handler_us = NAN, server_cpu_us = NAN, server_search_us = NAN;
};

// search(worker, first, count, rows) answers queries first..first+count-1 (one request)
// into rows[0..count * kTopK).
using SearchFn = std::function<void(int worker, int64_t first, int64_t count, int64_t* rows)>;

// Runs the queries in requests of `batch` on `threads` threads, each taking the next request
// as it finishes one: a warm-up, then whole passes until `min_seconds` have gone by.
// Latencies are per request; recall is scored on the first pass.
Run Measure(const Dataset& data, const std::vector<int64_t>& truth, int threads, int64_t batch, double min_seconds,
            const SearchFn& search) {
  const int64_t requests = (data.nq + batch - 1) / batch;  // per pass
  auto count_of = [&](int64_t request) { return std::min(batch, data.nq - request * batch); };
  const int64_t warmup = std::min<int64_t>(requests, 50 * threads);
  {
    std::atomic<int64_t> next{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < threads; ++w) {
      workers.emplace_back([&, w] {
        std::vector<int64_t> rows(static_cast<size_t>(batch * kTopK));
        for (int64_t r = next++; r < warmup; r = next++) search(w, r * batch, count_of(r), rows.data());
      });
    }
    for (auto& worker : workers) worker.join();
  }
  constexpr int64_t kMaxPasses = 20;
  std::vector<int64_t> first_pass(static_cast<size_t>(data.nq * kTopK), -1);
  std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
  std::atomic<int64_t> next{0};
  std::atomic<bool> enough{false};
  std::atomic<int64_t> queries{0};
  const double cpu_before = ProcessCpuSeconds();
  const auto start = Clock::now();
  {
    std::vector<std::thread> workers;
    for (int w = 0; w < threads; ++w) {
      workers.emplace_back([&, w] {
        std::vector<int64_t> rows(static_cast<size_t>(batch * kTopK));
        for (int64_t ticket = next++; ticket < kMaxPasses * requests; ticket = next++) {
          // Stop at a pass boundary once the time is up, so every query counts equally.
          if (ticket % requests == 0 && ticket > 0 && Seconds(start) >= min_seconds) enough = true;
          if (enough) break;
          const int64_t request = ticket % requests;
          const auto begin = Clock::now();
          search(w, request * batch, count_of(request),
                 ticket < requests ? first_pass.data() + request * batch * kTopK : rows.data());
          latencies[static_cast<size_t>(w)].push_back(Seconds(begin) * 1e6);
          queries += count_of(request);
        }
      });
    }
    for (auto& worker : workers) worker.join();
  }
  const double wall = Seconds(start);
  Run run;
  std::vector<double> all;
  for (const auto& list : latencies) all.insert(all.end(), list.begin(), list.end());
  std::sort(all.begin(), all.end());
  run.queries = queries;
  run.qps = static_cast<double>(run.queries) / wall;
  run.p50_us = all[all.size() / 2];
  run.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  double sum = 0;
  for (double latency : all) sum += latency;
  run.mean_us = sum / static_cast<double>(all.size());
  run.client_cpu_us = (ProcessCpuSeconds() - cpu_before) * 1e6 / static_cast<double>(run.queries);
  int64_t found = 0;
  for (int64_t q = 0; q < data.nq; ++q) {
    const std::set<int64_t> expected(truth.begin() + q * kTopK, truth.begin() + (q + 1) * kTopK);
    for (int i = 0; i < kTopK; ++i) found += expected.count(first_pass[static_cast<size_t>(q * kTopK + i)]);
  }
  run.recall = static_cast<double>(found) / static_cast<double>(data.nq * kTopK);
  return run;
}

// ---- one index type, both sides ----

struct SearchConfig {
  std::string label;        // "ef=64"
  std::string params_json;  // {"ef": 64}
  int64_t width;            // the raw library's ef or nprobe
};

struct IndexPlan {
  std::string name;        // "HNSW", "IVF_FLAT"
  std::string index_type;  // Milvus's index_type
  std::map<std::string, int64_t> build_params;
  std::vector<SearchConfig> searches;
  std::function<std::unique_ptr<RawIndex>()> build_raw;
};

struct SideResult {
  double build_seconds = NAN;
  double load_seconds = NAN;
  double memory_bytes = NAN;
  Run runs[std::size(kClientThreads)];
  bool measured = false;
};

struct ConfigResult {
  std::string index, search;
  int64_t batch = 1;  // query vectors per request
  SideResult quiver, raw;
};

// Where Quiver is measured for one index type: a fresh server, or with --address a fresh
// collection on the running one, holding the data inserted and flushed, so that no index
// type inherits another's state (and no collection is loaded twice).
struct Target {
  std::unique_ptr<QuiverServer> server;  // null with --address
  std::string address, metrics_url;
  std::string collection;
  std::unique_ptr<MilvusClient> admin;
};

void InsertAll(const Options& options, const Target& target, const Dataset& data) {
  auto start = Clock::now();
  for (int64_t begin = 0; begin < data.rows; begin += options.insert_batch) {
    target.admin->Insert(target.collection, data, begin, std::min(data.rows, begin + options.insert_batch));
  }
  const double insert = Seconds(start);
  start = Clock::now();
  target.admin->FlushAndWait(target.collection);
  std::printf("quiver insert %lld rows in %.1f s (%.0f rows/s, batches of %lld), flush %.1f s\n",
              static_cast<long long>(data.rows), insert, static_cast<double>(data.rows) / insert,
              static_cast<long long>(options.insert_batch), Seconds(start));
  std::fflush(stdout);
}

Target OpenTarget(const Options& options, const std::string& plan_name, const Dataset& data) {
  Target target;
  if (options.address.empty()) {
    target.server = std::make_unique<QuiverServer>(options.quiver_binary, options.server_cpus);
    target.address = target.server->grpc_address();
    target.metrics_url = target.server->metrics_url();
    target.collection = "search_bench";
    std::printf("quiver server %s (pid %d), log %s\n", options.quiver_binary.c_str(),
                static_cast<int>(target.server->pid()), target.server->log_path().c_str());
    std::fflush(stdout);
  } else {
    target.address = options.address;
    target.metrics_url = options.metrics_url;
    target.collection = "search_bench_" + std::to_string(getpid()) + "_" + plan_name;
    std::printf("quiver server %s (metrics %s), collection %s\n", target.address.c_str(), target.metrics_url.c_str(),
                target.collection.c_str());
  }
  target.admin = std::make_unique<MilvusClient>(target.address);
  target.admin->CreateCollection(target.collection, data.dim);
  InsertAll(options, target, data);
  return target;
}

void PrintRun(const char* side, const SearchConfig& config, int64_t batch, int threads, const Run& run) {
  std::printf("  %-6s %-11s nq=%-3lld %d thread%s  recall %.4f  %8.0f QPS  p50 %7.0f us  p99 %7.0f us  bench CPU %5.0f us/q",
              side, config.label.c_str(), static_cast<long long>(batch), threads, threads > 1 ? "s" : " ", run.recall,
              run.qps, run.p50_us, run.p99_us, run.client_cpu_us);
  if (!std::isnan(run.server_handler_us)) {
    std::printf("  | mean %5.0f us, in proxy handler %5.0f us, server CPU %5.0f us/q, index search %5.0f us/q",
                run.mean_us, run.server_handler_us, run.server_cpu_us, run.server_search_us);
  }
  std::printf("\n");
  std::fflush(stdout);
}

Run MeasureQuiver(const Options& options, const Target& target, const Dataset& data, const std::vector<int64_t>& truth,
                  int threads, int64_t batch, const SearchConfig& config) {
  const ScopedProcessCpus placement(options.client_cpus);
  std::vector<std::unique_ptr<MilvusClient>> clients;
  for (int t = 0; t < threads; ++t) clients.push_back(std::make_unique<MilvusClient>(target.address));
  const SearchSettings settings{target.collection, config.params_json, kTopK};
  const ServerMetrics before = ReadServerMetrics(target.metrics_url);
  Run run = Measure(data, truth, threads, batch, options.min_seconds, [&](int worker, int64_t first, int64_t count,
                                                                          int64_t* rows) {
    clients[static_cast<size_t>(worker)]->Search(settings, data.query(first), count, data.dim, rows);
  });
  const ServerMetrics after = ReadServerMetrics(target.metrics_url);
  // The counters include the warm-up's requests: per-request and per-query figures over all.
  const double requests = after.search_count - before.search_count;
  if (requests > 0) {
    const double queries_per_request = static_cast<double>(batch);  // all but a pass's last request
    run.server_handler_us = (after.search_seconds_sum - before.search_seconds_sum) * 1e6 / requests;
    run.server_cpu_us = (after.cpu_seconds - before.cpu_seconds) * 1e6 / (requests * queries_per_request);
  }
  const double searched = after.segment_search_queries - before.segment_search_queries;
  if (searched > 0) {
    run.server_search_us = (after.segment_search_seconds_sum - before.segment_search_seconds_sum) * 1e6 / searched;
  }
  return run;
}

// Calls per second and median round trip of GetVersion on `threads` threads for `seconds`:
// the floor under every Search through gRPC on this machine, which bounds the ratio a
// one-query Search can reach to raw_us / (raw_us + floor_us).
void PrintRpcFloor(const Options& options, const std::string& address, int threads, double seconds) {
  const ScopedProcessCpus placement(options.client_cpus);
  std::vector<std::unique_ptr<MilvusClient>> clients;
  for (int t = 0; t < threads; ++t) clients.push_back(std::make_unique<MilvusClient>(address));
  std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
  const double cpu_before = ProcessCpuSeconds();
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      while (Seconds(start) < seconds) {
        const auto begin = Clock::now();
        clients[static_cast<size_t>(t)]->GetVersion();
        latencies[static_cast<size_t>(t)].push_back(Seconds(begin) * 1e6);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  const double wall = Seconds(start);
  std::vector<double> all;
  for (const auto& list : latencies) all.insert(all.end(), list.begin(), list.end());
  std::sort(all.begin(), all.end());
  std::printf("  empty RPC (GetVersion) %d thread%s: %8.0f calls/s  p50 %5.0f us  bench CPU %4.0f us/call\n", threads,
              threads > 1 ? "s" : " ", static_cast<double>(all.size()) / wall, all[all.size() / 2],
              (ProcessCpuSeconds() - cpu_before) * 1e6 / static_cast<double>(all.size()));
  std::fflush(stdout);
}

// Builds the raw index, then Quiver's, and measures every search configuration on both.
std::vector<ConfigResult> BenchIndex(const Options& options, const IndexPlan& plan, const Dataset& data,
                                     const std::vector<int64_t>& truth) {
  std::printf("\n== %s ==\n", plan.name.c_str());
  std::vector<ConfigResult> results;
  for (const SearchConfig& config : plan.searches) {
    for (int64_t batch : options.batches) results.push_back({plan.name, config.label, batch, {}, {}});
  }

  std::unique_ptr<RawIndex> raw;
  double raw_build = NAN, raw_memory = NAN;
  if (!options.skip_raw) {
    const auto start = Clock::now();
    raw = plan.build_raw();
    raw_build = Seconds(start);
    raw_memory = static_cast<double>(raw->MemoryBytes());
    std::printf("raw    build %.1f s, index %.1f MB\n", raw_build, raw_memory / 1e6);
    std::fflush(stdout);
  }

  Target target = OpenTarget(options, plan.name, data);
  try {
    auto start = Clock::now();
    target.admin->CreateIndex(target.collection, plan.index_type, plan.build_params);
    target.admin->WaitIndexBuilt(target.collection, data.rows, std::chrono::hours(2));
    const double quiver_build = Seconds(start);
    std::printf("quiver build %.1f s (CreateIndex until DescribeIndex says Finished for all %lld rows)\n",
                quiver_build, static_cast<long long>(data.rows));
    std::fflush(stdout);
    double rss_before_load = NAN;
    if (target.server) {
      // A fresh process: what building left on the heap does not count as search memory.
      target.server->Restart();
      target.admin = std::make_unique<MilvusClient>(target.address);
      rss_before_load = ReadServerMetrics(target.metrics_url).rss_bytes;
    }
    start = Clock::now();
    target.admin->LoadAndWait(target.collection);
    const double load = Seconds(start);
    const double rss_after_load = ReadServerMetrics(target.metrics_url).rss_bytes;
    std::printf("quiver load %.1f s; server RSS %.1f MB after load", load, rss_after_load / 1e6);
    if (target.server) std::printf(" (restarted after the build: %.1f MB before load)", rss_before_load / 1e6);
    std::printf("\n");
    std::fflush(stdout);
    for (int threads : kClientThreads) {
      PrintRpcFloor(options, target.address, threads, std::min(options.min_seconds, 3.0));
    }

    for (size_t i = 0; i < results.size(); ++i) {
      const SearchConfig& config = plan.searches[i / options.batches.size()];
      ConfigResult& result = results[i];
      const int64_t batch = result.batch;
      result.quiver = {quiver_build, load, rss_after_load, {}, true};
      result.raw.build_seconds = raw_build;
      result.raw.memory_bytes = raw_memory;
      if (raw) raw->SetSearchWidth(config.width);
      // Alternating raw and Quiver keeps a burst of someone else's work from hitting one side only.
      for (size_t t = 0; t < std::size(kClientThreads); ++t) {
        const int threads = kClientThreads[t];
        if (raw) {
          result.raw.runs[t] = Measure(data, truth, threads, batch, options.min_seconds,
                                       [&](int, int64_t first, int64_t count, int64_t* rows) {
                                         for (int64_t q = 0; q < count; ++q) {
                                           raw->Search(data.query(first + q), kTopK, rows + q * kTopK);
                                         }
                                       });
          result.raw.measured = true;
          PrintRun("raw", config, batch, threads, result.raw.runs[t]);
        }
        result.quiver.runs[t] = MeasureQuiver(options, target, data, truth, threads, batch, config);
        PrintRun("quiver", config, batch, threads, result.quiver.runs[t]);
      }
    }
    std::printf("server RSS after the searches: %.1f MB\n", ReadServerMetrics(target.metrics_url).rss_bytes / 1e6);
  } catch (const std::exception&) {
    // The server's directory goes with it: show the end of its log now.
    if (target.server) std::fprintf(stderr, "--- end of the server log ---\n%s\n", target.server->LogTail(4000).c_str());
    if (!target.server && !options.keep) {
      try {
        target.admin->DropCollection(target.collection);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "cannot drop %s: %s\n", target.collection.c_str(), e.what());
      }
    }
    throw;
  }
  if (!target.server && !options.keep) target.admin->DropCollection(target.collection);
  return results;
}

// ---- report ----

std::string Fixed(double value, int decimals) {
  if (std::isnan(value)) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  return text;
}

std::string Ratio(double a, double b) { return std::isnan(a) || std::isnan(b) || b == 0 ? "-" : Fixed(a / b, 2); }

void PrintTable(const std::vector<ConfigResult>& results) {
  const char* format = "%-9s %-11s %4s %-11s %8s %7s %8s %8s %8s %8s %8s %8s %9s\n";
  std::printf("\n");
  std::printf(format, "index", "search", "nq", "side", "build_s", "recall", "QPS_1t", "p50_1t", "p99_1t", "QPS_2t",
              "p50_2t", "p99_2t", "memory_MB");
  for (const auto& r : results) {
    auto row = [&](const char* side, const SideResult& s) {
      if (!s.measured) return;
      std::printf(format, r.index.c_str(), r.search.c_str(), std::to_string(r.batch).c_str(), side,
                  Fixed(s.build_seconds, 1).c_str(),
                  Fixed(s.runs[0].recall, 4).c_str(), Fixed(s.runs[0].qps, 0).c_str(), Fixed(s.runs[0].p50_us, 0).c_str(),
                  Fixed(s.runs[0].p99_us, 0).c_str(), Fixed(s.runs[1].qps, 0).c_str(), Fixed(s.runs[1].p50_us, 0).c_str(),
                  Fixed(s.runs[1].p99_us, 0).c_str(), Fixed(s.memory_bytes / 1e6, 0).c_str());
    };
    row("quiver", r.quiver);
    row("raw", r.raw);
    if (r.raw.measured) {
      const SideResult &q = r.quiver, &w = r.raw;
      std::printf(format, r.index.c_str(), r.search.c_str(), std::to_string(r.batch).c_str(), "quiver/raw",
                  Ratio(q.build_seconds, w.build_seconds).c_str(),
                  "", Ratio(q.runs[0].qps, w.runs[0].qps).c_str(), Ratio(q.runs[0].p50_us, w.runs[0].p50_us).c_str(),
                  Ratio(q.runs[0].p99_us, w.runs[0].p99_us).c_str(), Ratio(q.runs[1].qps, w.runs[1].qps).c_str(),
                  Ratio(q.runs[1].p50_us, w.runs[1].p50_us).c_str(), Ratio(q.runs[1].p99_us, w.runs[1].p99_us).c_str(),
                  Ratio(q.memory_bytes, w.memory_bytes).c_str());
    }
  }
  std::printf("\nlatencies in microseconds; memory: Quiver = server RSS after load, raw = the index structure\n");
  std::printf("issue #4 targets: recall@10 >= 0.95, Quiver QPS >= 0.80 x raw, Quiver memory <= 1.3 x raw\n");
  for (const auto& r : results) {
    if (!r.raw.measured) continue;
    std::printf("  %-9s %-11s nq=%-3lld recall %s, QPS ratio %s / %s (1 / 2 threads), memory ratio %s\n",
                r.index.c_str(), r.search.c_str(), static_cast<long long>(r.batch),
                r.quiver.runs[0].recall >= 0.95 ? "ok" : "BELOW",
                Ratio(r.quiver.runs[0].qps, r.raw.runs[0].qps).c_str(),
                Ratio(r.quiver.runs[1].qps, r.raw.runs[1].qps).c_str(),
                Ratio(r.quiver.memory_bytes, r.raw.memory_bytes).c_str());
  }
}

// ---- options and main ----

std::vector<int64_t> ParseList(const std::string& text) {
  std::vector<int64_t> values;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) values.push_back(std::stoll(item));
  if (values.empty()) throw std::runtime_error("empty list: " + text);
  return values;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto text = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(flag + " needs a value");
      return argv[++i];
    };
    auto number = [&]() -> int64_t {
      const std::string value = text();
      size_t used = 0;
      const int64_t parsed = std::stoll(value, &used);
      if (used != value.size() || parsed < 0) throw std::runtime_error(flag + ": not a count: " + value);
      return parsed;
    };
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (flag == "--rows") options.rows = number();
    else if (flag == "--dim") options.dim = number();
    else if (flag == "--queries") options.queries = number();
    else if (flag == "--seed") options.seed = static_cast<uint64_t>(number());
    else if (flag == "--base") options.base_path = text();
    else if (flag == "--query") options.query_path = text();
    else if (flag == "--gt-cache") options.gt_cache = text();
    else if (flag == "--quiver") options.quiver_binary = text();
    else if (flag == "--address") options.address = text();
    else if (flag == "--metrics-url") options.metrics_url = text();
    else if (flag == "--keep") options.keep = true;
    else if (flag == "--m") options.m = static_cast<int>(number());
    else if (flag == "--ef-construction") options.ef_construction = static_cast<int>(number());
    else if (flag == "--ef") options.efs = ParseList(text());
    else if (flag == "--nlist") options.nlist = number();
    else if (flag == "--nprobe") options.nprobes = ParseList(text());
    else if (flag == "--skip-hnsw") options.skip_hnsw = true;
    else if (flag == "--skip-ivf") options.skip_ivf = true;
    else if (flag == "--skip-raw") options.skip_raw = true;
    else if (flag == "--min-seconds") options.min_seconds = std::stod(text());
    else if (flag == "--insert-batch") options.insert_batch = number();
    else if (flag == "--batch") options.batches = ParseList(text());
    else if (flag == "--server-cpus") options.server_cpus = ParseCpus(text());
    else if (flag == "--client-cpus") options.client_cpus = ParseCpus(text());
    else throw std::runtime_error("unknown flag " + flag + " (see --help)");
  }
  if (options.base_path.empty() != options.query_path.empty()) {
    throw std::runtime_error("--base and --query go together");
  }
  const bool bad_batch = std::any_of(options.batches.begin(), options.batches.end(), [](int64_t b) { return b <= 0; });
  if (options.insert_batch <= 0 || options.dim <= 0 || bad_batch) {
    throw std::runtime_error("--insert-batch, --batch and --dim must be > 0");
  }
  if (options.quiver_binary.empty()) {
    const char* env = std::getenv("QUIVER_BIN");
    options.quiver_binary = env && *env ? env : "build/quiver";
  }
  if (!options.address.empty() && options.server_cpus) {
    throw std::runtime_error("--server-cpus applies to a server search_bench starts, not to --address");
  }
  if (!options.address.empty() && options.metrics_url.empty()) {
    options.metrics_url = "http://" + options.address.substr(0, options.address.rfind(':')) + ":9091";
  }
  return options;
}

std::vector<IndexPlan> Plans(const Options& options, const Dataset& data) {
  std::vector<IndexPlan> plans;
  if (!options.skip_hnsw) {
    IndexPlan plan{"HNSW", "HNSW", {{"M", options.m}, {"efConstruction", options.ef_construction}}, {}, {}};
    for (int64_t ef : options.efs) {
      plan.searches.push_back({"ef=" + std::to_string(ef), "{\"ef\": " + std::to_string(ef) + "}", ef});
    }
    // Quiver builds HNSW on up to 2 threads; so does the reference.
    const int threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 2u));
    plan.build_raw = [&options, &data, threads] {
      return BuildRawHnsw(data, options.m, options.ef_construction, threads);
    };
    plans.push_back(std::move(plan));
  }
  if (!options.skip_ivf) {
    IndexPlan plan{"IVF_FLAT", "IVF_FLAT", {{"nlist", options.nlist}}, {}, {}};
    for (int64_t nprobe : options.nprobes) {
      plan.searches.push_back(
          {"nprobe=" + std::to_string(nprobe), "{\"nprobe\": " + std::to_string(nprobe) + "}", nprobe});
    }
    plan.build_raw = [&options, &data] { return BuildRawIvfFlat(data, options.nlist); };
    plans.push_back(std::move(plan));
  }
  return plans;
}

int Run(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  // FAISS's k-means calls OpenBLAS, whose spinning threads fight OpenMP's; Quiver runs FAISS
  // on one thread per search and build, and so does the reference.
  openblas_set_num_threads(1);
  omp_set_num_threads(1);

  auto start = Clock::now();
  const Dataset data = options.base_path.empty()
                           ? GenerateClustered(options.rows.value_or(1000000), options.dim,
                                               options.queries.value_or(1000), options.seed)
                           : ReadFvecs(options.base_path, options.query_path, options.rows.value_or(0),
                                       options.queries.value_or(0));
  std::printf("data: %s, %lld rows x %lld dims, %lld queries, top-%d (%.1f s)\n", data.name.c_str(),
              static_cast<long long>(data.rows), static_cast<long long>(data.dim), static_cast<long long>(data.nq),
              kTopK, Seconds(start));
  if (data.rows < kTopK || data.nq == 0) throw std::runtime_error("need at least " + std::to_string(kTopK) + " rows and a query");
  start = Clock::now();
  const std::vector<int64_t> truth = ExactTopK(data, kTopK, options.gt_cache);
  std::printf("exact top-%d: %.1f s%s\n", kTopK, Seconds(start),
              options.gt_cache.empty() ? "" : (" (cache " + options.gt_cache + ")").c_str());
  PrintMachine(options);
  std::fflush(stdout);

  std::vector<ConfigResult> results;
  for (const IndexPlan& plan : Plans(options, data)) {
    auto part = BenchIndex(options, plan, data, truth);
    results.insert(results.end(), part.begin(), part.end());
  }
  PrintTable(results);
  return 0;
}

}  // namespace
}  // namespace quiver::bench

int main(int argc, char** argv) {
  try {
    return quiver::bench::Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "search_bench: %s\n", e.what());
    return 1;
  }
}
