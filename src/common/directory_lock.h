// DirectoryLock: one process at a time per data directory.
//
// Holds an exclusive flock on `<dir>/<name>` for its lifetime. The kernel drops it when the
// process dies, even by SIGKILL, so a restart after a crash never finds a stale lock.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace quiver {

class DirectoryLock {
 public:
  // Creates `dir` if missing. Fails with kIoFailed, naming the directory, when another
  // process (or another lock in this one) holds it.
  static StatusOr<std::unique_ptr<DirectoryLock>> Acquire(const std::string& dir, const std::string& name = "LOCK");
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace quiver
