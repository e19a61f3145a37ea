#include "common/elastic_executor.h"

#include <pthread.h>

namespace quiver {

ElasticExecutor::ElasticExecutor(std::string thread_name) : thread_name_(std::move(thread_name)) {}

ElasticExecutor::~ElasticExecutor() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void ElasticExecutor::Submit(std::function<void()> task) {
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(task));
  // An idle thread already woken for an earlier task is still counted idle until it takes
  // one: compare against every queued task, not only this one.
  if (idle_ >= queue_.size()) {
    ready_.notify_one();
    return;
  }
  threads_.emplace_back([this] { Work(); });
  pthread_setname_np(threads_.back().native_handle(), thread_name_.substr(0, 15).c_str());
}

size_t ElasticExecutor::threads() const {
  std::lock_guard lock(mu_);
  return threads_.size();
}

void ElasticExecutor::Work() {
  std::unique_lock lock(mu_);
  while (true) {
    ++idle_;
    ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (queue_.empty()) return;  // stopping, and nothing left to run
    auto task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace quiver
