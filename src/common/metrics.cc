#include "common/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace quiver {
namespace {

bool IsValidName(const std::string& name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

Labels SortedLabels(const std::string& metric, const Labels& labels, bool is_histogram) {
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    const std::string& label = sorted[i].first;
    // "__" names are reserved for Prometheus itself; "le" is the bucket label of histograms.
    if (!IsValidName(label, false) || label.starts_with("__") || (is_histogram && label == "le")) {
      throw std::invalid_argument(fmt::format("metric {}: invalid label name \"{}\"", metric, label));
    }
    if (i > 0 && sorted[i - 1].first == label) {
      throw std::invalid_argument(fmt::format("metric {}: duplicate label \"{}\"", metric, label));
    }
  }
  return sorted;
}

std::string EscapeHelp(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string EscapeLabelValue(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

// `{a="1",b="2"}`, with `extra` (the histogram's le) last; empty when there are no labels.
std::string FormatLabels(const Labels& labels, const std::pair<std::string, std::string>* extra = nullptr) {
  if (labels.empty() && extra == nullptr) return "";
  std::string out = "{";
  auto append = [&out](const std::pair<std::string, std::string>& label) {
    if (out.size() > 1) out += ',';
    out += label.first + "=\"" + EscapeLabelValue(label.second) + "\"";
  };
  for (const auto& label : labels) append(label);
  if (extra != nullptr) append(*extra);
  return out + "}";
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, EscapeHelp(help), name, type);
}

void AppendHistogram(std::string& out, const std::string& name, const Labels& labels, const Histogram& histogram) {
  Histogram::Snapshot snapshot = histogram.Read();
  for (size_t i = 0; i <= snapshot.upper_bounds.size(); ++i) {
    double bound = i < snapshot.upper_bounds.size() ? snapshot.upper_bounds[i] : INFINITY;
    std::pair<std::string, std::string> le{"le", FormatValue(bound)};
    out += fmt::format("{}_bucket{} {}\n", name, FormatLabels(labels, &le), snapshot.cumulative_counts[i]);
  }
  out += fmt::format("{}_sum{} {}\n", name, FormatLabels(labels), FormatValue(snapshot.sum));
  out += fmt::format("{}_count{} {}\n", name, FormatLabels(labels), snapshot.cumulative_counts.back());
}

// Fields of /proc/self/stat after the parenthesised command name, which may contain spaces;
// element 0 is field 3 (state) of proc(5).
std::optional<std::vector<std::string>> ReadProcSelfStat() {
  std::ifstream file("/proc/self/stat");
  std::string line;
  if (!std::getline(file, line)) return std::nullopt;
  size_t close_paren = line.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close_paren + 1));
  std::vector<std::string> fields;
  for (std::string field; rest >> field;) fields.push_back(field);
  if (fields.size() < 20) return std::nullopt;
  return fields;
}

std::optional<double> BootTimeSeconds() {
  std::ifstream file("/proc/stat");
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with("btime ")) return std::stod(line.substr(6));
  }
  return std::nullopt;
}

void AppendProcessMetrics(std::string& out) {
  const double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (auto stat = ReadProcSelfStat()) {
    // proc(5): utime and stime are fields 14 and 15, starttime is field 22, all in clock ticks.
    double cpu_ticks = std::stod((*stat)[14 - 3]) + std::stod((*stat)[15 - 3]);
    AppendHeader(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter");
    out += "process_cpu_seconds_total " + FormatValue(cpu_ticks / ticks_per_second) + "\n";
    if (auto boot_time = BootTimeSeconds()) {
      double start = *boot_time + std::stod((*stat)[22 - 3]) / ticks_per_second;
      AppendHeader(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                   "gauge");
      out += "process_start_time_seconds " + FormatValue(start) + "\n";
    }
  }
  std::ifstream statm("/proc/self/statm");
  uint64_t total_pages = 0;
  uint64_t resident_pages = 0;
  if (statm >> total_pages >> resident_pages) {
    AppendHeader(out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
    out += fmt::format("process_resident_memory_bytes {}\n", resident_pages * sysconf(_SC_PAGESIZE));
  }
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      bucket_counts_(std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() + 1)) {}

void Histogram::Observe(double value) {
  size_t bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  bucket_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot{upper_bounds_, {}, sum_.load(std::memory_order_relaxed)};
  uint64_t running = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += bucket_counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(running);
  }
  return snapshot;
}

const std::vector<double>& DefaultLatencyBuckets() {
  static const std::vector<double> buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return buckets;
}

MetricsRegistry& MetricsRegistry::Global() {
  static MetricsRegistry* registry = new MetricsRegistry();  // never destroyed: metrics outlive statics
  return *registry;
}

MetricsRegistry::Family& MetricsRegistry::FamilyFor(const std::string& name, const std::string& help, Type type,
                                                    const std::vector<double>& upper_bounds) {
  if (!IsValidName(name, true)) throw std::invalid_argument(fmt::format("invalid metric name \"{}\"", name));
  if (auto it = families_.find(name); it != families_.end()) {
    if (it->second.type != type) {
      throw std::invalid_argument(fmt::format("metric {} is already registered with another type", name));
    }
    return it->second;
  }
  if (type == Type::kHistogram &&
      (upper_bounds.empty() || std::adjacent_find(upper_bounds.begin(), upper_bounds.end(),
                                                  std::greater_equal<>()) != upper_bounds.end())) {
    throw std::invalid_argument(fmt::format("metric {}: histogram buckets must be ascending", name));
  }
  Family& family = families_[name];
  family.type = type;
  family.help = help;
  family.upper_bounds = upper_bounds;
  return family;
}

quiver::Counter& MetricsRegistry::Counter(const std::string& name, const std::string& help, const Labels& labels) {
  Labels key = SortedLabels(name, labels, false);
  std::lock_guard lock(mu_);
  auto& series = FamilyFor(name, help, Type::kCounter, {}).counters[key];
  if (!series) series = std::make_unique<quiver::Counter>();
  return *series;
}

quiver::Gauge& MetricsRegistry::Gauge(const std::string& name, const std::string& help, const Labels& labels) {
  Labels key = SortedLabels(name, labels, false);
  std::lock_guard lock(mu_);
  auto& series = FamilyFor(name, help, Type::kGauge, {}).gauges[key];
  if (!series) series = std::make_unique<quiver::Gauge>();
  return *series;
}

quiver::Histogram& MetricsRegistry::Histogram(const std::string& name, const std::string& help, const Labels& labels,
                                              const std::vector<double>& upper_bounds) {
  Labels key = SortedLabels(name, labels, true);
  std::lock_guard lock(mu_);
  Family& family = FamilyFor(name, help, Type::kHistogram, upper_bounds);
  auto& series = family.histograms[key];
  if (!series) series = std::make_unique<quiver::Histogram>(family.upper_bounds);
  return *series;
}

std::string MetricsRegistry::RenderPrometheusText() const {
  std::string out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, family] : families_) {
      switch (family.type) {
        case Type::kCounter:
          AppendHeader(out, name, family.help, "counter");
          for (const auto& [labels, counter] : family.counters) {
            out += name + FormatLabels(labels) + " " + FormatValue(counter->Value()) + "\n";
          }
          break;
        case Type::kGauge:
          AppendHeader(out, name, family.help, "gauge");
          for (const auto& [labels, gauge] : family.gauges) {
            out += name + FormatLabels(labels) + " " + FormatValue(gauge->Value()) + "\n";
          }
          break;
        case Type::kHistogram:
          AppendHeader(out, name, family.help, "histogram");
          for (const auto& [labels, histogram] : family.histograms) AppendHistogram(out, name, labels, *histogram);
          break;
      }
    }
  }
  AppendProcessMetrics(out);
  return out;
}

}  // namespace quiver
