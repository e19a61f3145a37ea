// Metrics: a small Prometheus-style registry (Debian has no prometheus-cpp).
//
// Usage: look the labelled series up once and keep the reference; updates are lock-free atomics.
//   static Counter& ok = MetricsRegistry::Global().Counter(
//       "quiver_proxy_requests_total", "Proxy requests.", {{"method", "Search"}, {"status", "ok"}});
//   ok.Inc();
// References stay valid for the registry's lifetime. Registering one name as two different
// types, or with an invalid metric/label name, is a programming error and throws
// std::invalid_argument. RenderPrometheusText() writes the text exposition format 0.0.4.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace quiver {

// Label name/value pairs; order does not matter (series are keyed by the sorted set).
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  // `amount` must be >= 0: a counter only goes up.
  void Inc(double amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `upper_bounds` ascending; an implicit +Inf bucket follows the last.
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative_counts;  // one per bound, then +Inf (== count)
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> bucket_counts_;  // not cumulative; last is +Inf
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, 0.5ms to 10s.
const std::vector<double>& DefaultLatencyBuckets();

class MetricsRegistry {
 public:
  // The process-wide registry that /metrics serves.
  static MetricsRegistry& Global();

  quiver::Counter& Counter(const std::string& name, const std::string& help, const Labels& labels = {});
  quiver::Gauge& Gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  // A family's buckets are fixed by its first registration.
  quiver::Histogram& Histogram(const std::string& name, const std::string& help, const Labels& labels = {},
                               const std::vector<double>& upper_bounds = DefaultLatencyBuckets());

  // All families sorted by name, followed by process_* metrics read from /proc at call time.
  std::string RenderPrometheusText() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  using LabelKey = Labels;  // sorted by name
  struct Family {
    Type type;
    std::string help;
    std::vector<double> upper_bounds;  // histograms only
    std::map<LabelKey, std::unique_ptr<quiver::Counter>> counters;
    std::map<LabelKey, std::unique_ptr<quiver::Gauge>> gauges;
    std::map<LabelKey, std::unique_ptr<quiver::Histogram>> histograms;
  };

  // Finds or creates the family; throws std::invalid_argument on a bad name or a type clash.
  Family& FamilyFor(const std::string& name, const std::string& help, Type type,
                    const std::vector<double>& upper_bounds);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace quiver
