#include "common/elastic_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

namespace quiver {
namespace {

using namespace std::chrono_literals;

TEST(ElasticExecutorTest, RunsEveryTask) {
  std::atomic<int> done{0};
  {
    ElasticExecutor executor("test");
    for (int i = 0; i < 100; ++i) executor.Submit([&] { ++done; });
  }  // the destructor runs what is queued
  EXPECT_EQ(done.load(), 100);
}

TEST(ElasticExecutorTest, ABlockedTaskDoesNotDelayTheNext) {
  ElasticExecutor executor("test");
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  executor.Submit([released] { released.wait(); });
  std::promise<void> second;
  auto second_done = second.get_future();
  executor.Submit([&] { second.set_value(); });
  EXPECT_EQ(second_done.wait_for(10s), std::future_status::ready);
  release.set_value();
  EXPECT_EQ(executor.threads(), 2u);
}

TEST(ElasticExecutorTest, ReusesIdleThreads) {
  ElasticExecutor executor("test");
  for (int i = 0; i < 10; ++i) {
    std::promise<void> done;
    auto future = done.get_future();
    executor.Submit([&] { done.set_value(); });
    ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
    std::this_thread::sleep_for(50ms);  // the thread is back to waiting by then
  }
  // One thread serves them all; a loaded machine may rarely add one more, never one per task.
  EXPECT_LE(executor.threads(), 2u);
}

}  // namespace
}  // namespace quiver
