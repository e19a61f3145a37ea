// Where a MetaKV key lives in etcd: under root_path + "/", so one etcd can hold several
// namespaces. Keys are byte strings throughout.
#pragma once

#include <string>
#include <string_view>

namespace quiver::meta {

// etcd's range_end for "every key starting with `prefix`": the prefix with its last byte
// below 0xff incremented (and the 0xff bytes after it dropped); "\0" (no end) if none is.
inline std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

class KeySpace {
 public:
  explicit KeySpace(const std::string& root_path) : root_path_(root_path), prefix_(root_path + "/") {}

  std::string Full(std::string_view key) const { return prefix_ + std::string(key); }
  // The caller's key of a stored key (which always starts with the prefix).
  std::string User(std::string_view full) const { return std::string(full.substr(prefix_.size())); }
  const std::string& root_path() const { return root_path_; }

 private:
  std::string root_path_;
  std::string prefix_;
};

}  // namespace quiver::meta
