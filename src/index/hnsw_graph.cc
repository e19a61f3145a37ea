#include "index/hnsw_graph.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace quiver::index {

// Defined once per SIMD level by hnsw_graph_<level>.cc.
namespace avx512 {
std::unique_ptr<HnswGraph> NewGraph(const HnswGraphOptions& options);
}
namespace avx2 {
std::unique_ptr<HnswGraph> NewGraph(const HnswGraphOptions& options);
}
namespace sse {
std::unique_ptr<HnswGraph> NewGraph(const HnswGraphOptions& options);
}

namespace {

enum class SimdLevel { kAvx512, kAvx2, kSse };

SimdLevel DetectSimdLevel() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
    return SimdLevel::kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::kAvx2;
#endif
  return SimdLevel::kSse;
}

SimdLevel ActiveSimdLevel() {
  static const SimdLevel level = DetectSimdLevel();
  return level;
}

[[noreturn]] void ThrowErrno(const char* what) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

std::unique_ptr<HnswGraph> NewHnswGraph(const HnswGraphOptions& options) {
  switch (ActiveSimdLevel()) {
#if defined(__x86_64__)
    case SimdLevel::kAvx512:
      return avx512::NewGraph(options);
    case SimdLevel::kAvx2:
      return avx2::NewGraph(options);
#endif
    default:
      return sse::NewGraph(options);
  }
}

const char* HnswSimdLevel() {
  switch (ActiveSimdLevel()) {
    case SimdLevel::kAvx512:
      return "avx512";
    case SimdLevel::kAvx2:
      return "avx2";
    default:
      return "sse";
  }
}

MemoryFile::MemoryFile() : fd_(memfd_create("quiver-hnsw", MFD_CLOEXEC)) {
  if (fd_ < 0) ThrowErrno("memfd_create");
}

MemoryFile::~MemoryFile() { close(fd_); }

std::string MemoryFile::path() const { return "/proc/self/fd/" + std::to_string(fd_); }

std::string MemoryFile::ReadAll() const {
  struct stat info {};
  if (fstat(fd_, &info) != 0) ThrowErrno("fstat");
  std::string data(static_cast<size_t>(info.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = pread(fd_, data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ThrowErrno("reading the HNSW graph back");
    done += static_cast<size_t>(n);
  }
  return data;
}

void MemoryFile::WriteAll(std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ThrowErrno("writing the HNSW graph");
    done += static_cast<size_t>(n);
  }
}

}  // namespace quiver::index
