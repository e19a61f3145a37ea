// LocalObjectStore: an ObjectStore whose objects are files under a root directory.
//
// Object "a/b/c" is the file <root>/a/b/c. Put writes a temp file beside the target, fsyncs
// it, renames it over the target and fsyncs the directory, so readers and crashes see either
// the old or the new object whole. Temp files are named ".tmp-<pid>-<n>"; List never shows
// them, keys may not use that name, and Open removes those whose writer process is gone.
//
// Limits of files as objects: a key cannot be both an object and a "directory" of others
// ("a" and "a/b"); such a Put fails with kIoFailed. Root directories may be shared by
// processes on one machine (one pid namespace), not across machines.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "storage/object_store.h"

namespace quiver::storage {

class LocalObjectStore final : public ObjectStore {
 public:
  // Creates `root_dir` if missing and removes temp files left by writers that died.
  static StatusOr<std::unique_ptr<LocalObjectStore>> Open(const std::string& root_dir);

  Status Put(const std::string& key, std::string_view data) override;
  StatusOr<std::string> Get(const std::string& key) override;
  StatusOr<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  StatusOr<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  // Also removes the directories the deletion left empty.
  Status Delete(const std::string& key) override;

 private:
  explicit LocalObjectStore(std::string root) : root_(std::move(root)) {}

  std::string PathOf(std::string_view key) const { return root_ + "/" + std::string(key); }
  StatusOr<std::string> WriteTempFile(const std::string& dir, std::string_view data) const;
  void RemoveEmptyParents(std::string_view key) const;

  const std::string root_;  // absolute, without a trailing '/'
};

}  // namespace quiver::storage
