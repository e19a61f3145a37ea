#include "segment/row_index.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>

#include "segment/field_data.h"

namespace quiver::segment {
namespace {

bool HasStringKeys(const spb::FieldData& keys) {
  return keys.scalars().data_case() == spb::ScalarField::kStringData;
}

// Rows [0, rows) ordered by (key, row). Integer keys are sorted as (key, row) pairs, which
// sorts faster than row numbers compared through the column.
std::vector<uint32_t> SortedRows(const spb::FieldData& keys, int64_t rows) {
  std::vector<uint32_t> sorted(static_cast<size_t>(rows));
  if (HasStringKeys(keys)) {
    std::iota(sorted.begin(), sorted.end(), 0u);
    std::sort(sorted.begin(), sorted.end(), [&](uint32_t a, uint32_t b) {
      const std::string_view ka = StringAt(keys, a), kb = StringAt(keys, b);
      return ka < kb || (ka == kb && a < b);
    });
    return sorted;
  }
  std::vector<std::pair<int64_t, uint32_t>> pairs(static_cast<size_t>(rows));
  for (int64_t row = 0; row < rows; ++row) pairs[static_cast<size_t>(row)] = {IntAt(keys, row), static_cast<uint32_t>(row)};
  std::sort(pairs.begin(), pairs.end());
  for (size_t i = 0; i < pairs.size(); ++i) sorted[i] = pairs[i].second;
  return sorted;
}

// Appends the rows of `sorted` whose key equals `key` (`key_at(row)` reads a row's key).
template <typename Key, typename KeyAt>
void FindSorted(const std::vector<uint32_t>& sorted, const Key& key, KeyAt key_at, std::vector<int64_t>* rows) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), key,
                             [&](uint32_t row, const Key& k) { return key_at(row) < k; });
  for (; it != sorted.end() && key_at(*it) == key; ++it) rows->push_back(*it);
}

}  // namespace

void PrimaryKeyIndex::Add(const spb::FieldData& keys, int64_t first_row, int64_t end_row) {
  const bool strings = HasStringKeys(keys);
  for (int64_t row = first_row; row < end_row; ++row) {
    if (strings) {
      str_added_[std::string(StringAt(keys, row))].push_back(row);
    } else {
      int_added_[IntAt(keys, row)].push_back(row);
    }
  }
  rows_ = std::max(rows_, end_row);
}

void PrimaryKeyIndex::Freeze(const spb::FieldData& keys) {
  // Row numbers are stored in 32 bits; a bigger segment (none is) keeps the hash map.
  if (rows_ > std::numeric_limits<uint32_t>::max()) return;
  sorted_ = SortedRows(keys, rows_);
  sorted_.shrink_to_fit();
  std::unordered_map<int64_t, std::vector<int64_t>>().swap(int_added_);
  std::unordered_map<std::string, std::vector<int64_t>>().swap(str_added_);
}

void PrimaryKeyIndex::Find(const spb::FieldData& keys, int64_t key, std::vector<int64_t>* rows) const {
  FindSorted(sorted_, key, [&](uint32_t row) { return IntAt(keys, row); }, rows);
  auto it = int_added_.find(key);
  if (it != int_added_.end()) rows->insert(rows->end(), it->second.begin(), it->second.end());
}

void PrimaryKeyIndex::Find(const spb::FieldData& keys, std::string_view key, std::vector<int64_t>* rows) const {
  FindSorted(sorted_, key, [&](uint32_t row) { return StringAt(keys, row); }, rows);
  auto it = str_added_.find(std::string(key));
  if (it != str_added_.end()) rows->insert(rows->end(), it->second.begin(), it->second.end());
}

bool DeleteMarks::Mark(int64_t row, uint64_t ts) {
  uint64_t& word = bits_[static_cast<size_t>(row >> 6)];
  const uint64_t bit = uint64_t{1} << (row & 63);
  if (!(word & bit)) {
    word |= bit;
    timestamps_.emplace(row, ts);
    return true;
  }
  uint64_t& existing = timestamps_.at(row);
  existing = std::min(existing, ts);
  return false;
}

}  // namespace quiver::segment
