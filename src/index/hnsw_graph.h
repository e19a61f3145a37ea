// HnswGraph: an hnswlib graph behind a plain interface.
//
// hnswlib chooses its SIMD distance code when it is compiled, so its code is compiled once
// per SIMD level (hnsw_graph_{avx512,avx2,sse}.cc, each in its own namespace) and
// NewHnswGraph picks the widest level the CPU supports. Nothing here exposes hnswlib types.
//
// Keys follow dense_common.h: squared L2, or the negated inner product (kInnerProduct).
// Methods may throw std::exception (hnswlib reports errors that way); callers convert.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "index/dense_common.h"

namespace quiver::index {

enum class HnswSpace { kL2, kInnerProduct };

class HnswGraph {
 public:
  virtual ~HnswGraph() = default;

  // Adds `vector` as `row`; safe to call from several threads at once while building.
  virtual void Add(const float* vector, int64_t row) = 0;
  // Ends building: drops the state only insertion needs.
  virtual void FinishBuild() = 0;
  virtual int64_t size() const = 0;

  // The best `k` rows for `query` (best first), found by a best-first search of width `ef`.
  // With `allowed`, every node still guides the search but only allowed rows are returned.
  virtual std::vector<dense::Candidate> Search(const float* query, int64_t k, int64_t ef,
                                               const uint8_t* allowed) const = 0;

  // The stored vector of `row`.
  virtual const float* Vector(int64_t row) const = 0;

  virtual std::string Save() const = 0;
  virtual void Load(std::string_view blob) = 0;
  virtual size_t MemoryBytes() const = 0;
};

struct HnswGraphOptions {
  HnswSpace space = HnswSpace::kL2;
  int64_t dim = 0;
  int64_t capacity = 0;  // rows that will be added (0 when loading)
  int64_t m = 16;
  int64_t ef_construction = 200;
};

// An anonymous in-memory file (memfd) reachable by path, for hnswlib's saveIndex and
// loadIndex, which only take file paths. Throws std::runtime_error.
class MemoryFile {
 public:
  MemoryFile();
  ~MemoryFile();
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  std::string path() const;
  std::string ReadAll() const;
  void WriteAll(std::string_view data);

 private:
  int fd_;
};

std::unique_ptr<HnswGraph> NewHnswGraph(const HnswGraphOptions& options);

// The SIMD level NewHnswGraph picked: "avx512", "avx2" or "sse".
const char* HnswSimdLevel();

}  // namespace quiver::index
