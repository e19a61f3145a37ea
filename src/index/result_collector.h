// Per-query result selection shared by the binary and sparse indexes: a bounded top-k, the
// range-search bounds, and the checks every Search makes on k and the filter.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "index/vector_index.h"

namespace quiver::index {

// Which of two candidates ranks first: the better score, then the smaller row, so results
// are deterministic and comparable with a naive sort.
struct RankOrder {
  bool larger_is_better;
  template <typename Candidate>
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.score != b.score) return larger_is_better ? a.score > b.score : a.score < b.score;
    return a.row < b.row;
  }
};

// Range search bounds as Milvus defines them: distances in [range_filter, radius),
// similarities in (radius, range_filter]. Without a radius every score qualifies.
class ScoreRange {
 public:
  ScoreRange(bool larger_is_better, const SearchParams& params)
      : larger_is_better_(larger_is_better), radius_(params.radius), range_filter_(params.range_filter) {}

  bool Contains(float score) const {
    if (!radius_) return true;
    if (larger_is_better_) {
      return score > *radius_ && (!range_filter_ || score <= *range_filter_);
    }
    return score < *radius_ && (!range_filter_ || score >= *range_filter_);
  }

 private:
  bool larger_is_better_;
  std::optional<double> radius_;
  std::optional<double> range_filter_;
};

// The k best (row, score) pairs offered so far.
class TopK {
 public:
  TopK(int64_t k, bool larger_is_better) : k_(static_cast<size_t>(k)), order_{larger_is_better} { heap_.reserve(k_); }

  void Offer(int64_t row, float score) {
    Candidate candidate{row, score};
    if (heap_.size() < k_) {
      heap_.push_back(candidate);
      std::push_heap(heap_.begin(), heap_.end(), order_);
    } else if (order_(candidate, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), order_);
      heap_.back() = candidate;
      std::push_heap(heap_.begin(), heap_.end(), order_);
    }
  }

  size_t size() const { return heap_.size(); }
  void Clear() { heap_.clear(); }

  // Writes the k slots of one query best first, padding with row -1, and empties the heap.
  void Drain(int64_t* rows, float* scores) {
    std::sort_heap(heap_.begin(), heap_.end(), order_);
    const float missing =
        order_.larger_is_better ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < k_; ++i) {
      rows[i] = i < heap_.size() ? heap_[i].row : -1;
      scores[i] = i < heap_.size() ? heap_[i].score : missing;
    }
    heap_.clear();
  }

 private:
  struct Candidate {
    int64_t row;
    float score;
  };
  size_t k_;
  RankOrder order_;
  std::vector<Candidate> heap_;  // a max-heap under order_: the worst kept candidate on top
};

inline bool RowAllowed(const RowFilter& filter, int64_t row) {
  return filter.allowed == nullptr || filter.allowed[row] != 0;
}

inline SearchResult AllocateResult(int64_t nq, int64_t k) {
  SearchResult result;
  result.nq = nq;
  result.k = k;
  result.rows.assign(static_cast<size_t>(nq * k), -1);
  result.scores.assign(static_cast<size_t>(nq * k), 0.0f);
  return result;
}

inline Status CheckTopK(int64_t k) {
  if (k < 1) return InvalidParameter("topk [" + std::to_string(k) + "] is invalid, it should be at least 1");
  return Status::OK();
}

}  // namespace quiver::index
