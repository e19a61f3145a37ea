// ElasticExecutor: runs tasks on threads of its own, starting another thread whenever a task
// arrives and none is idle, so a task that blocks for long (a store retrying through an
// outage) never delays the ones behind it. Threads stay for later tasks; the destructor
// runs what is queued and joins them all.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace quiver {

class ElasticExecutor {
 public:
  explicit ElasticExecutor(std::string thread_name);
  ~ElasticExecutor();
  ElasticExecutor(const ElasticExecutor&) = delete;
  ElasticExecutor& operator=(const ElasticExecutor&) = delete;

  void Submit(std::function<void()> task);
  size_t threads() const;

 private:
  void Work();

  const std::string thread_name_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  size_t idle_ = 0;  // threads waiting for a task
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace quiver
