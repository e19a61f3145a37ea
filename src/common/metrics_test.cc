#include "common/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <stdexcept>
#include <thread>
#include <vector>

namespace quiver {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, CounterRendersHelpTypeAndLabelledSeries) {
  MetricsRegistry registry;
  registry.Counter("quiver_requests_total", "Requests served.", {{"method", "Search"}, {"status", "ok"}}).Inc();
  registry.Counter("quiver_requests_total", "Requests served.", {{"method", "Search"}, {"status", "ok"}}).Inc(2);
  registry.Counter("quiver_requests_total", "Requests served.", {{"method", "Insert"}, {"status", "ok"}}).Inc();

  std::string text = registry.RenderPrometheusText();
  EXPECT_THAT(text, HasSubstr("# HELP quiver_requests_total Requests served.\n"
                              "# TYPE quiver_requests_total counter\n"
                              "quiver_requests_total{method=\"Insert\",status=\"ok\"} 1\n"
                              "quiver_requests_total{method=\"Search\",status=\"ok\"} 3\n"));
}

TEST(MetricsTest, LabelOrderDoesNotMakeANewSeries) {
  MetricsRegistry registry;
  Counter& a = registry.Counter("c_total", "h", {{"b", "2"}, {"a", "1"}});
  Counter& b = registry.Counter("c_total", "h", {{"a", "1"}, {"b", "2"}});
  EXPECT_EQ(&a, &b);
  a.Inc();
  EXPECT_THAT(registry.RenderPrometheusText(), HasSubstr("c_total{a=\"1\",b=\"2\"} 1\n"));
}

TEST(MetricsTest, UnlabelledGaugeAndFractionalValues) {
  MetricsRegistry registry;
  Gauge& gauge = registry.Gauge("quiver_loaded_collections", "Collections loaded.");
  gauge.Set(5);
  gauge.Dec();
  gauge.Add(0.5);
  EXPECT_EQ(gauge.Value(), 4.5);
  EXPECT_THAT(registry.RenderPrometheusText(), HasSubstr("# TYPE quiver_loaded_collections gauge\n"
                                                         "quiver_loaded_collections 4.5\n"));
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry registry;
  registry.Counter("e_total", "a \\ b\nc", {{"path", "C:\\dir \"x\"\n"}}).Inc();
  std::string text = registry.RenderPrometheusText();
  EXPECT_THAT(text, HasSubstr("# HELP e_total a \\\\ b\\nc\n"));
  EXPECT_THAT(text, HasSubstr("e_total{path=\"C:\\\\dir \\\"x\\\"\\n\"} 1\n"));
}

TEST(MetricsTest, HistogramRendersCumulativeBucketsSumAndCount) {
  MetricsRegistry registry;
  Histogram& histogram =
      registry.Histogram("quiver_latency_seconds", "Latency.", {{"method", "Search"}}, {0.01, 0.1, 1});
  histogram.Observe(0.005);
  histogram.Observe(0.01);  // a bound is inclusive (le)
  histogram.Observe(0.5);
  histogram.Observe(3);

  std::string text = registry.RenderPrometheusText();
  EXPECT_THAT(text, HasSubstr("# TYPE quiver_latency_seconds histogram\n"
                              "quiver_latency_seconds_bucket{method=\"Search\",le=\"0.01\"} 2\n"
                              "quiver_latency_seconds_bucket{method=\"Search\",le=\"0.1\"} 2\n"
                              "quiver_latency_seconds_bucket{method=\"Search\",le=\"1\"} 3\n"
                              "quiver_latency_seconds_bucket{method=\"Search\",le=\"+Inf\"} 4\n"
                              "quiver_latency_seconds_sum{method=\"Search\"} 3.515\n"
                              "quiver_latency_seconds_count{method=\"Search\"} 4\n"));
}

TEST(MetricsTest, DefaultHistogramBucketsSpanHalfAMillisecondToTenSeconds) {
  MetricsRegistry registry;
  registry.Histogram("h_seconds", "h").Observe(0.0001);
  std::string text = registry.RenderPrometheusText();
  EXPECT_THAT(text, HasSubstr("h_seconds_bucket{le=\"0.0005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("h_seconds_bucket{le=\"10\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("h_seconds_count 1\n"));
}

TEST(MetricsTest, FamiliesAreRenderedOnceAndSorted) {
  MetricsRegistry registry;
  registry.Counter("b_total", "B.", {{"x", "1"}}).Inc();
  registry.Counter("a_total", "A.").Inc();
  registry.Counter("b_total", "B.", {{"x", "2"}}).Inc();
  std::string text = registry.RenderPrometheusText();
  EXPECT_LT(text.find("# HELP a_total"), text.find("# HELP b_total"));
  EXPECT_EQ(text.find("# HELP b_total"), text.rfind("# HELP b_total"));
}

TEST(MetricsTest, ProcessMetricsAreIncluded) {
  MetricsRegistry registry;
  std::string text = registry.RenderPrometheusText();
  EXPECT_THAT(text, HasSubstr("# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes "));
  EXPECT_THAT(text, HasSubstr("# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds "));
  EXPECT_THAT(text, HasSubstr("process_cpu_seconds_total "));
  EXPECT_THAT(text, Not(HasSubstr("process_resident_memory_bytes 0\n")));

  // The start time is this process's, so it lies in the recent past.
  const std::string sample = "\nprocess_start_time_seconds ";
  size_t at = text.find(sample) + sample.size();
  double start = std::stod(text.substr(at));
  double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 3600);
}

TEST(MetricsTest, MisuseThrows) {
  MetricsRegistry registry;
  registry.Counter("x_total", "x");
  EXPECT_THROW(registry.Gauge("x_total", "x"), std::invalid_argument);
  EXPECT_THROW(registry.Counter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(registry.Counter("y_total", "y", {{"0bad", "v"}}), std::invalid_argument);
  EXPECT_THROW(registry.Counter("y_total", "y", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(registry.Histogram("h", "h", {{"le", "1"}}), std::invalid_argument);
  EXPECT_THROW(registry.Histogram("h2", "h", {}, {1, 0.5}), std::invalid_argument);
}

TEST(MetricsTest, ConcurrentUpdatesAreAllCounted) {
  MetricsRegistry registry;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&registry, t] {
      // Each thread looks the series up itself, racing the first registration.
      Counter& counter = registry.Counter("race_total", "r", {{"k", "v"}});
      Histogram& histogram = registry.Histogram("race_seconds", "r");
      for (int i = 0; i < kPerThread; ++i) {
        counter.Inc();
        histogram.Observe(0.001 * (i % 3));
        if (i % 1000 == 0) registry.Gauge("race_gauge", "r", {{"t", std::to_string(t)}}).Inc();
      }
    });
  }
  // Rendering while writers run must be safe too.
  for (int i = 0; i < 20; ++i) (void)registry.RenderPrometheusText();
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(registry.Counter("race_total", "r", {{"k", "v"}}).Value(), kThreads * kPerThread);
  std::string text = registry.RenderPrometheusText();
  EXPECT_THAT(text, HasSubstr("race_seconds_count " + std::to_string(kThreads * kPerThread) + "\n"));
  EXPECT_THAT(text, HasSubstr("race_gauge{t=\"3\"} 20\n"));
}

}  // namespace
}  // namespace quiver
