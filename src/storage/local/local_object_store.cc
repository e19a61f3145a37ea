#include "storage/local/local_object_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <system_error>
#include <utility>

#include "storage/object_key.h"

namespace quiver::storage {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTempPrefix = ".tmp-";
// A concurrent Delete may remove the directory a Put is about to write into; Put then
// recreates it. More retries than this means something else keeps removing it.
constexpr int kMaxPutAttempts = 8;

Status IoError(std::string_view what, const std::string& path, int err) {
  return {Code::kIoFailed, std::string(what) + " " + path + ": " + std::generic_category().message(err)};
}

Status KeyNotFound(const std::string& key) { return {Code::kIoKeyNotFound, "key not found[key=" + key + "]"}; }

// Closes the descriptor when it goes out of scope.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now so the caller sees close()'s error, which can report a failed write.
  int Close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_ = -1;
};

// Temp file names are reserved: a key using one could be mistaken for a write in progress.
Status RejectTempNames(std::string_view segment, const std::string& key) {
  if (!segment.starts_with(kTempPrefix)) return Status::OK();
  return InvalidParameter("object key segment may not start with '" + std::string(kTempPrefix) +
                          "' (reserved for writes in progress): '" + key + "'");
}

Status ValidateKey(const std::string& key) { return ValidateObjectKey(key, RejectTempNames); }

std::string ParentOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Makes a directory's entries (a rename, a new file or directory) survive power loss.
Status FsyncDirectory(const std::string& dir) {
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return IoError("open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return IoError("fsync directory", dir, errno);
  return Status::OK();
}

// Creates `dir` and its missing ancestors, each made durable in its parent.
Status EnsureDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) return FsyncDirectory(ParentOf(dir));
  if (errno == EEXIST) return Status::OK();
  if (errno != ENOENT) return IoError("create directory", dir, errno);
  QUIVER_RETURN_IF_ERROR(EnsureDirectory(ParentOf(dir)));
  if (::mkdir(dir.c_str(), 0755) == 0) return FsyncDirectory(ParentOf(dir));
  if (errno == EEXIST) return Status::OK();
  return IoError("create directory", dir, errno);
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("write", path, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// Reads up to `length` bytes at `offset`; fewer only at end of file.
Status ReadAt(int fd, uint64_t offset, uint64_t length, const std::string& path, std::string* out) {
  out->resize(length);
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out->data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("read", path, errno);
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  out->resize(done);
  return Status::OK();
}

struct OpenedObject {
  FileDescriptor fd;
  uint64_t size = 0;
};

// Opens an object for reading; a missing file, or a directory in its place, is a missing key.
StatusOr<OpenedObject> OpenObject(const std::string& path, const std::string& key) {
  OpenedObject object{FileDescriptor(::open(path.c_str(), O_RDONLY | O_CLOEXEC))};
  if (!object.fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) return KeyNotFound(key);
    return IoError("open", path, errno);
  }
  struct stat st {};
  if (::fstat(object.fd.get(), &st) != 0) return IoError("stat", path, errno);
  if (!S_ISREG(st.st_mode)) return KeyNotFound(key);
  object.size = static_cast<uint64_t>(st.st_size);
  return object;
}

// The process that wrote temp file `name` (".tmp-<pid>-<n>"), or 0 if the name is not ours.
pid_t TempFileWriter(std::string_view name) {
  if (!name.starts_with(kTempPrefix)) return 0;
  name.remove_prefix(kTempPrefix.size());
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (ec != std::errc() || end == name.data() + name.size() || *end != '-') return 0;
  return pid;
}

bool ProcessIsGone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

// Best effort: a temp file nobody can finish only wastes space, so errors are ignored.
void RemoveAbandonedTempFiles(const std::string& root) {
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    pid_t writer = TempFileWriter(it->path().filename().native());
    if (writer > 0 && writer != ::getpid() && ProcessIsGone(writer)) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

// Appends the objects under directory `dir` (whose keys start with `dir_key`) that match
// `prefix`. Entries that vanish during the walk were deleted concurrently and are skipped.
Status ListDirectory(const fs::path& dir, const std::string& dir_key, const std::string& prefix,
                     std::vector<ObjectInfo>* out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) return Status::OK();
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().native();
    if (name.starts_with(kTempPrefix)) continue;
    std::string key = dir_key + name;
    std::error_code entry_ec;
    fs::file_status status = it->symlink_status(entry_ec);
    if (entry_ec) continue;
    if (fs::is_directory(status)) {
      std::string sub_key = key + "/";
      if (sub_key.starts_with(prefix) || prefix.starts_with(sub_key)) {
        QUIVER_RETURN_IF_ERROR(ListDirectory(it->path(), sub_key, prefix, out));
      }
    } else if (fs::is_regular_file(status) && key.starts_with(prefix)) {
      uint64_t size = it->file_size(entry_ec);
      if (!entry_ec) out->push_back({std::move(key), size});
    }
  }
  if (ec && ec != std::errc::no_such_file_or_directory) return IoError("list", dir.native(), ec.value());
  return Status::OK();
}

}  // namespace

StatusOr<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Open(const std::string& root_dir) {
  if (root_dir.empty()) return InvalidParameter("object store root directory is empty");
  std::error_code ec;
  fs::path root = fs::absolute(root_dir, ec).lexically_normal();
  if (ec) return IoError("resolve", root_dir, ec.value());
  std::string root_path = root.native();
  while (root_path.size() > 1 && root_path.back() == '/') root_path.pop_back();
  QUIVER_RETURN_IF_ERROR(EnsureDirectory(root_path));
  RemoveAbandonedTempFiles(root_path);
  return std::unique_ptr<LocalObjectStore>(new LocalObjectStore(std::move(root_path)));
}

StatusOr<std::string> LocalObjectStore::WriteTempFile(const std::string& dir, std::string_view data) const {
  // Shared by every store in the process: two stores on one root must not pick one name.
  static std::atomic<uint64_t> next_temp_id{0};
  for (int attempt = 0; attempt < kMaxPutAttempts; ++attempt) {
    QUIVER_RETURN_IF_ERROR(EnsureDirectory(dir));
    std::string temp = dir + "/" + std::string(kTempPrefix) + std::to_string(::getpid()) + "-" +
                       std::to_string(next_temp_id.fetch_add(1));
    FileDescriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd.valid()) {
      if (errno == ENOENT) continue;  // a concurrent Delete removed `dir`
      return IoError("create", temp, errno);
    }
    Status written = WriteAll(fd.get(), data, temp);
    if (written.ok() && ::fsync(fd.get()) != 0) written = IoError("fsync", temp, errno);
    if (written.ok() && fd.Close() != 0) written = IoError("close", temp, errno);
    if (!written.ok()) {
      ::unlink(temp.c_str());
      return written;
    }
    return temp;
  }
  return IoError("create temp file in", dir, ENOENT);
}

Status LocalObjectStore::Put(const std::string& key, std::string_view data) {
  QUIVER_RETURN_IF_ERROR(ValidateKey(key));
  std::string path = PathOf(key);
  std::string dir = ParentOf(path);
  auto temp = WriteTempFile(dir, data);
  if (!temp.ok()) return temp.status();
  if (::rename(temp->c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp->c_str());
    return IoError("rename onto", path, err);
  }
  return FsyncDirectory(dir);
}

StatusOr<std::string> LocalObjectStore::Get(const std::string& key) {
  return GetRange(key, 0, UINT64_MAX);
}

StatusOr<std::string> LocalObjectStore::GetRange(const std::string& key, uint64_t offset, uint64_t length) {
  QUIVER_RETURN_IF_ERROR(ValidateKey(key));
  std::string path = PathOf(key);
  auto object = OpenObject(path, key);
  if (!object.ok()) return object.status();
  if (offset >= object->size) return std::string();
  // The file cannot change under us (Put replaces it by rename), so its size bounds the read.
  std::string out;
  QUIVER_RETURN_IF_ERROR(ReadAt(object->fd.get(), offset, std::min(length, object->size - offset), path, &out));
  return out;
}

StatusOr<std::vector<ObjectInfo>> LocalObjectStore::List(const std::string& prefix) {
  QUIVER_RETURN_IF_ERROR(ValidateListPrefix(prefix, RejectTempNames));
  // Start at the deepest directory the prefix names in full rather than walking the root.
  std::string dir_key = prefix.substr(0, prefix.rfind('/') + 1);
  std::vector<ObjectInfo> objects;
  QUIVER_RETURN_IF_ERROR(ListDirectory(PathOf(dir_key), dir_key, prefix, &objects));
  std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return objects;
}

Status LocalObjectStore::Delete(const std::string& key) {
  QUIVER_RETURN_IF_ERROR(ValidateKey(key));
  std::string path = PathOf(key);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return Status::OK();  // no such object
  // Not fsynced: a delete that a crash undoes leaves garbage the next GC pass removes again.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return IoError("delete", path, errno);
  RemoveEmptyParents(key);
  return Status::OK();
}

void LocalObjectStore::RemoveEmptyParents(std::string_view key) const {
  for (size_t slash = key.rfind('/'); slash != std::string_view::npos && slash > 0; slash = key.rfind('/', slash - 1)) {
    // Fails, and stops the climb, once a directory still holds something.
    if (::rmdir(PathOf(key.substr(0, slash)).c_str()) != 0) return;
  }
}

}  // namespace quiver::storage
