#include "wal/local/local_wal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <limits>
#include <optional>
#include <unordered_map>

#include "wal/channel_name.h"

namespace quiver::wal {
namespace {

namespace fs = std::filesystem;

constexpr char kLockFileName[] = "LOCK";
constexpr char kTruncationFileName[] = "TRUNCATED_BEFORE";
constexpr char kTruncationTempFileName[] = "TRUNCATED_BEFORE.tmp";
// The writer hands a channel's encoded records to the kernel in pieces of about this size.
constexpr size_t kWriteChunkBytes = 4 << 20;
// Threads that sync segments of other channels while the writer syncs one itself.
constexpr size_t kSyncHelperThreads = 3;

std::string SegmentPath(const std::string& channel_dir, Position first) {
  return channel_dir + "/" + SegmentFileName(first);
}

StatusOr<std::vector<std::string>> ListDirectory(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return Status(Code::kIoFailed, fmt::format("WAL: cannot list {}: {}", dir, ec.message()));
  return names;
}

// The first position still readable in a channel (1 when it was never truncated).
StatusOr<Position> ReadTruncationPoint(const std::string& channel_dir) {
  const std::string path = channel_dir + "/" + kTruncationFileName;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return Position{1};
  if (fd < 0) return IoError("open", path, errno);
  UniqueFd file(fd);
  char text[32];
  ssize_t size = read(file.get(), text, sizeof text);
  if (size < 0) return IoError("read", path, errno);
  Position first_kept = 0;
  auto [end, error] = std::from_chars(text, text + size, first_kept);
  if (error != std::errc() || end == text || first_kept == 0) {
    return Status(Code::kIoFailed, fmt::format("WAL: {} is damaged: it does not hold a position", path));
  }
  return first_kept;
}

// Replaces the channel's truncation point atomically and durably.
Status WriteTruncationPoint(const std::string& channel_dir, Position first_kept) {
  const std::string temp_path = channel_dir + "/" + kTruncationTempFileName;
  const std::string path = channel_dir + "/" + kTruncationFileName;
  {
    auto file = OpenFile(temp_path, O_WRONLY | O_CREAT | O_TRUNC);
    if (!file.ok()) return file.status();
    QUIVER_RETURN_IF_ERROR(WriteAllAt(file->get(), fmt::format("{}\n", first_kept), 0, temp_path));
    QUIVER_RETURN_IF_ERROR(SyncFile(file->get(), temp_path));
  }
  if (rename(temp_path.c_str(), path.c_str()) != 0) return IoError("rename", temp_path, errno);
  return SyncDirectory(channel_dir);
}

// The segments, never the last one, whose records all lie below `first_kept`: those whose
// successor starts at or below it. Always a prefix of `segments`.
size_t CountSegmentsBelow(const std::vector<Position>& segments, Position first_kept) {
  size_t count = 0;
  while (count + 1 < segments.size() && segments[count + 1] <= first_kept) ++count;
  return count;
}

Status DeleteSegments(const std::string& channel_dir, const std::vector<Position>& firsts) {
  if (firsts.empty()) return Status::OK();
  for (Position first : firsts) {
    const std::string path = SegmentPath(channel_dir, first);
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return IoError("delete", path, errno);
  }
  return SyncDirectory(channel_dir);
}

Status ClosedError() { return Status(Code::kServiceNotReady, "WAL is closed"); }

}  // namespace

// Runs a set of tasks on a few long-lived threads plus the calling one.
class ParallelRunner {
 public:
  explicit ParallelRunner(size_t helper_threads) {
    for (size_t i = 0; i < helper_threads; ++i) helpers_.emplace_back([this] { HelperLoop(); });
  }
  ~ParallelRunner() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_available_.notify_all();
    for (auto& helper : helpers_) helper.join();
  }

  // Returns once every task has run.
  void RunAll(const std::vector<std::function<void()>>& tasks) {
    std::unique_lock lock(mu_);
    tasks_ = &tasks;
    next_task_ = 0;
    unfinished_ = tasks.size();
    for (size_t i = 1; i < tasks.size(); ++i) work_available_.notify_one();  // this thread takes one
    RunTasksLocked(lock);
    all_done_.wait(lock, [&] { return unfinished_ == 0; });
    tasks_ = nullptr;
  }

 private:
  void HelperLoop() {
    std::unique_lock lock(mu_);
    for (;;) {
      work_available_.wait(lock, [&] { return stopping_ || (tasks_ != nullptr && next_task_ < tasks_->size()); });
      if (stopping_) return;
      RunTasksLocked(lock);
    }
  }

  // Takes tasks until none is left, running each without the lock.
  void RunTasksLocked(std::unique_lock<std::mutex>& lock) {
    while (tasks_ != nullptr && next_task_ < tasks_->size()) {
      const std::function<void()>& task = (*tasks_)[next_task_++];
      lock.unlock();
      task();
      lock.lock();
      if (--unfinished_ == 0) all_done_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable work_available_;
  std::condition_variable all_done_;
  const std::vector<std::function<void()>>* tasks_ = nullptr;
  size_t next_task_ = 0;
  size_t unfinished_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> helpers_;
};

struct LocalWal::Channel {
  Channel(std::string name, std::string dir) : name(std::move(name)), dir(std::move(dir)) {}

  const std::string name;
  const std::string dir;

  std::mutex mu;  // guards the fields up to `closed`
  // Signalled when `durable` advances and when the channel fails or closes.
  std::condition_variable durable_advanced;
  bool on_disk = false;            // its directory exists
  Position next_position = 1;      // given to the next appended record
  Position durable = 0;            // every record up to here is synced
  Position durable_segment = 0;    // the segment holding record `durable`,
  uint64_t durable_end = 0;        // and the offset where that record ends in it
  Position first_kept = 1;         // records below were truncated away
  std::vector<Position> segments;  // first positions of its segment files, ascending
  std::deque<Record> tail;         // latest durable records, contiguous, ending at `durable`
  size_t tail_bytes = 0;
  Status failure;  // set once a write or sync failed; final until reopen
  bool closed = false;

  std::mutex truncate_mu;  // one Truncate at a time

  // The segment being appended to: used by the writer thread only (and by Open before it).
  UniqueFd active_fd;
  Position active_first = 0;
  uint64_t active_size = 0;

  // Keeps `record` in the tail cache, evicting the oldest records beyond `limit` bytes.
  void AddToTail(Record record, size_t limit) {
    if (limit == 0) return;
    tail_bytes += record.payload.size();
    tail.push_back(std::move(record));
    while (tail_bytes > limit) DropOldestFromTail();
  }
  void DropOldestFromTail() {
    tail_bytes -= tail.front().payload.size();
    tail.pop_front();
  }
};

struct LocalWal::PendingAppend {
  std::shared_ptr<Channel> channel;
  Position first = 0;
  std::vector<std::string> payloads;
  std::promise<Status> durable;
};

// The appends of one writer batch that go to one channel, in position order.
struct LocalWal::ChannelBatch {
  std::shared_ptr<Channel> channel;
  std::vector<PendingAppend> appends;
  Status status;
};

// Serves records from the channel's tail cache when it still holds them, otherwise from
// the segment files, keeping a cursor so a reader catching up reads each file sequentially.
class LocalWal::Reader final : public WalReader {
 public:
  Reader(std::shared_ptr<Channel> channel, Position after) : channel_(std::move(channel)), next_(after + 1) {}

  StatusOr<std::vector<Record>> Read(size_t max_records, std::chrono::milliseconds timeout) override {
    if (max_records == 0) return std::vector<Record>{};
    Channel& channel = *channel_;
    std::unique_lock lock(channel.mu);
    channel.durable_advanced.wait_for(lock, timeout, [&] {
      return channel.durable >= next_ || next_ < channel.first_kept || !channel.failure.ok() || channel.closed;
    });
    if (channel.closed) return ClosedError();
    if (next_ < channel.first_kept) return TruncatedError(next_, channel.first_kept);
    if (channel.durable < next_) {
      // A failed channel never advances: tell the reader instead of letting it wait forever.
      if (!channel.failure.ok()) return channel.failure;
      return std::vector<Record>{};
    }
    const size_t count = static_cast<size_t>(std::min<uint64_t>(channel.durable - next_ + 1, max_records));
    if (!channel.tail.empty() && channel.tail.front().position <= next_) {
      auto from = channel.tail.begin() + static_cast<std::ptrdiff_t>(next_ - channel.tail.front().position);
      std::vector<Record> records(from, from + static_cast<std::ptrdiff_t>(count));
      next_ += count;
      return records;
    }
    durable_segment_ = channel.durable_segment;
    durable_end_ = channel.durable_end;
    lock.unlock();
    return ReadFromFiles(count);
  }

 private:
  StatusOr<std::vector<Record>> ReadFromFiles(size_t count) {
    if (cursor_) LimitCursorReads();
    std::vector<Record> records;
    while (records.size() < count) {
      Status status = ReadNextFromFile(&records);
      if (!status.ok()) {
        cursor_.reset();
        // Hand out what was read; the next call meets the same error with nothing before it.
        if (records.empty()) return status;
        break;
      }
    }
    return records;
  }

  Status ReadNextFromFile(std::vector<Record>* records) {
    if (!cursor_ || cursor_->next_position() != next_) QUIVER_RETURN_IF_ERROR(OpenCursorAt(next_));
    Record record;
    auto outcome = cursor_->Next(&record);
    if (!outcome.ok()) return outcome.status();
    switch (*outcome) {
      case SegmentCursor::Outcome::kOk:
        records->push_back(std::move(record));
        ++next_;
        return Status::OK();
      case SegmentCursor::Outcome::kEnd:
        // The record is in the next segment (OpenCursorAt reports it if it is not).
        return OpenCursorAt(next_);
      case SegmentCursor::Outcome::kBad:
        break;
    }
    return CorruptRecordError();
  }

  // Points cursor_ at `position` in the segment that holds it.
  Status OpenCursorAt(Position position) {
    cursor_.reset();
    Position segment_first = 0;
    {
      std::lock_guard lock(channel_->mu);
      if (position < channel_->first_kept) return TruncatedError(position, channel_->first_kept);
      const auto& segments = channel_->segments;
      auto after = std::upper_bound(segments.begin(), segments.end(), position);
      if (after == segments.begin()) {
        return Status(Code::kIoFailed,
                      fmt::format("WAL channel {}: no segment file holds position {}", channel_->name, position));
      }
      segment_first = *std::prev(after);
    }
    const std::string path = SegmentPath(channel_->dir, segment_first);
    auto fd = OpenFile(path, O_RDONLY);
    if (!fd.ok()) {
      std::lock_guard lock(channel_->mu);  // a Truncate may have deleted it meanwhile
      if (position < channel_->first_kept) return TruncatedError(position, channel_->first_kept);
      return fd.status();
    }
    cursor_.emplace(std::move(*fd), path, segment_first);
    LimitCursorReads();
    auto header = cursor_->ReadHeader();
    if (!header.ok()) return header.status();
    if (*header == SegmentCursor::Outcome::kBad) return CorruptRecordError();
    Record skipped;
    while (cursor_->next_position() < position) {
      auto outcome = cursor_->Next(&skipped);
      if (!outcome.ok()) return outcome.status();
      if (*outcome == SegmentCursor::Outcome::kEnd) {
        return Status(Code::kIoFailed, fmt::format("WAL channel {}: {} ends at position {}, position {} is missing",
                                                   channel_->name, path, cursor_->next_position() - 1, position));
      }
      if (*outcome == SegmentCursor::Outcome::kBad) return CorruptRecordError();
    }
    return Status::OK();
  }

  // Only the segment holding the last durable record may have bytes being written past it.
  void LimitCursorReads() {
    if (cursor_->first() == durable_segment_) cursor_->LimitReadsTo(durable_end_);
  }

  Status TruncatedError(Position position, Position first_kept) const {
    return Status(Code::kIoFailed, fmt::format("WAL channel {}: position {} was truncated (records before {} are gone)",
                                               channel_->name, position, first_kept));
  }

  Status CorruptRecordError() const {
    return Status(
        Code::kIoFailed,
        fmt::format("WAL channel {}: corrupt data in {} at offset {} (position {}): {}; the records from "
                    "there on cannot be read",
                    channel_->name, cursor_->path(), cursor_->offset(), cursor_->next_position(), cursor_->problem()));
  }

  std::shared_ptr<Channel> channel_;
  Position next_;
  std::optional<SegmentCursor> cursor_;
  // The channel's durable_segment and durable_end when Read last looked.
  Position durable_segment_ = 0;
  uint64_t durable_end_ = 0;
};

LocalWal::LocalWal(std::string dir, LocalWalOptions options, std::unique_ptr<DirectoryLock> lock)
    : dir_(std::move(dir)),
      options_(options),
      lock_(std::move(lock)),
      sync_runner_(std::make_unique<ParallelRunner>(kSyncHelperThreads)) {}

StatusOr<std::unique_ptr<LocalWal>> LocalWal::Open(const std::string& dir, LocalWalOptions options) {
  if (options.max_segment_bytes == 0) return InvalidParameter("WAL max_segment_bytes must be positive");
  if (options.group_commit_delay.count() < 0) return InvalidParameter("WAL group_commit_delay must not be negative");
  std::error_code ec;
  const bool created = fs::create_directories(dir, ec);
  if (ec) return Status(Code::kIoFailed, fmt::format("WAL: cannot create directory {}: {}", dir, ec.message()));
  if (created) {
    fs::path path = fs::absolute(dir).lexically_normal();
    if (!path.has_filename()) path = path.parent_path();  // "a/b/" names b
    QUIVER_RETURN_IF_ERROR(SyncDirectory(path.parent_path().string()));
  }

  auto lock = DirectoryLock::Acquire(dir, kLockFileName);
  if (!lock.ok()) return lock.status();

  std::unique_ptr<LocalWal> wal(new LocalWal(dir, options, std::move(*lock)));
  QUIVER_RETURN_IF_ERROR(wal->RecoverChannels());
  wal->writer_ = std::thread([raw = wal.get()] { raw->WriterLoop(); });
  return wal;
}

LocalWal::~LocalWal() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();  // it drains the queue first

  std::lock_guard lock(channels_mu_);
  for (auto& [name, channel] : channels_) {
    {
      std::lock_guard channel_lock(channel->mu);
      channel->closed = true;
    }
    channel->active_fd.Reset();
    channel->durable_advanced.notify_all();
  }
}

// ---- recovery ----

Status LocalWal::RecoverChannels() {
  auto names = ListDirectory(dir_);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    std::error_code ec;
    if (!fs::is_directory(dir_ + "/" + name, ec)) continue;
    if (!ValidateChannelName(name).ok()) {
      spdlog::warn("WAL: ignoring directory {}/{}: not a channel name", dir_, name);
      continue;
    }
    auto channel = RecoverChannel(name);
    if (!channel.ok()) return channel.status();
    channels_[name] = std::move(*channel);
  }
  return Status::OK();
}

StatusOr<std::shared_ptr<LocalWal::Channel>> LocalWal::RecoverChannel(const std::string& name) {
  auto channel = std::make_shared<Channel>(name, dir_ + "/" + name);
  channel->on_disk = true;
  std::error_code ec;
  fs::remove(channel->dir + "/" + kTruncationTempFileName, ec);  // left by an interrupted Truncate

  auto first_kept = ReadTruncationPoint(channel->dir);
  if (!first_kept.ok()) return first_kept.status();
  channel->first_kept = *first_kept;

  auto names = ListDirectory(channel->dir);
  if (!names.ok()) return names.status();
  for (const std::string& file_name : *names) {
    if (auto first = ParseSegmentFileName(file_name)) channel->segments.push_back(*first);
  }
  std::sort(channel->segments.begin(), channel->segments.end());

  if (channel->segments.empty()) {
    channel->durable = channel->first_kept - 1;
  } else {
    QUIVER_RETURN_IF_ERROR(RecoverLastSegment(*channel));
  }
  if (channel->first_kept > channel->durable + 1) {
    return Status(Code::kIoFailed, fmt::format("WAL channel {}: truncated before position {} but the log ends at "
                                               "position {}: acknowledged records are missing",
                                               name, channel->first_kept, channel->durable));
  }
  channel->next_position = channel->durable + 1;
  while (!channel->tail.empty() && channel->tail.front().position < channel->first_kept) channel->DropOldestFromTail();

  // Finish a Truncate that was interrupted between recording its point and deleting files.
  const size_t below = CountSegmentsBelow(channel->segments, channel->first_kept);
  std::vector<Position> doomed(channel->segments.begin(),
                               channel->segments.begin() + static_cast<std::ptrdiff_t>(below));
  QUIVER_RETURN_IF_ERROR(DeleteSegments(channel->dir, doomed));
  channel->segments.erase(channel->segments.begin(), channel->segments.begin() + static_cast<std::ptrdiff_t>(below));
  return channel;
}

// Scans the channel's last segment, cuts off a torn tail and makes it the active segment.
Status LocalWal::RecoverLastSegment(Channel& channel) {
  const Position first = channel.segments.back();
  const std::string path = SegmentPath(channel.dir, first);
  auto write_fd = OpenFile(path, O_WRONLY);
  if (!write_fd.ok()) return write_fd.status();
  auto read_fd = OpenFile(path, O_RDONLY);
  if (!read_fd.ok()) return read_fd.status();
  struct stat file_stat {};
  if (fstat(read_fd->get(), &file_stat) != 0) return IoError("stat", path, errno);
  const auto file_size = static_cast<uint64_t>(file_stat.st_size);

  SegmentCursor cursor(std::move(*read_fd), path, first);
  uint64_t intact_end = 0;  // where appending resumes
  auto header = cursor.ReadHeader();
  if (!header.ok()) return header.status();
  if (*header == SegmentCursor::Outcome::kBad) {
    // A crash while the file was being created leaves at most a partial header; a bad header
    // in front of records is damage, and cutting it would discard acknowledged records.
    if (file_size > kSegmentHeaderBytes) {
      return Status(Code::kIoFailed, fmt::format("WAL: {} has a damaged header ({}) in front of {} bytes of "
                                                 "records; refusing to discard them",
                                                 path, cursor.problem(), file_size - kSegmentHeaderBytes));
    }
    spdlog::warn("WAL channel {}: rewriting the header of {}, left incomplete by a crash: {}", channel.name, path,
                 cursor.problem());
    QUIVER_RETURN_IF_ERROR(WriteAllAt(write_fd->get(), EncodeSegmentHeader(first), 0, path));
    if (ftruncate(write_fd->get(), kSegmentHeaderBytes) != 0) return IoError("truncate", path, errno);
    QUIVER_RETURN_IF_ERROR(SyncFile(write_fd->get(), path));
    intact_end = kSegmentHeaderBytes;
  } else {
    Record record;
    StatusOr<SegmentCursor::Outcome> outcome = SegmentCursor::Outcome::kOk;
    while ((outcome = cursor.Next(&record)).ok() && *outcome == SegmentCursor::Outcome::kOk) {
      channel.AddToTail(std::move(record), options_.tail_cache_bytes);
    }
    if (!outcome.ok()) return outcome.status();
    if (*outcome == SegmentCursor::Outcome::kBad) {
      spdlog::warn("WAL channel {}: cutting off a torn tail of {} bytes at offset {} of {} (after position {}): {}",
                   channel.name, file_size - cursor.offset(), cursor.offset(), path, cursor.next_position() - 1,
                   cursor.problem());
      if (ftruncate(write_fd->get(), static_cast<off_t>(cursor.offset())) != 0) return IoError("truncate", path, errno);
      QUIVER_RETURN_IF_ERROR(SyncFile(write_fd->get(), path));
    }
    intact_end = cursor.offset();
  }
  channel.durable = cursor.next_position() - 1;
  channel.durable_segment = first;
  channel.durable_end = intact_end;
  channel.active_fd = std::move(*write_fd);
  channel.active_first = first;
  channel.active_size = intact_end;
  return Status::OK();
}

// ---- channels ----

std::shared_ptr<LocalWal::Channel> LocalWal::FindChannel(const std::string& name) {
  std::lock_guard lock(channels_mu_);
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : it->second;
}

std::shared_ptr<LocalWal::Channel> LocalWal::FindOrAddChannel(const std::string& name) {
  std::lock_guard lock(channels_mu_);
  auto& channel = channels_[name];
  if (!channel) channel = std::make_shared<Channel>(name, dir_ + "/" + name);
  return channel;
}

Status LocalWal::CreateChannelDirectory(Channel& channel) {
  if (mkdir(channel.dir.c_str(), 0755) != 0 && errno != EEXIST) return IoError("create directory", channel.dir, errno);
  QUIVER_RETURN_IF_ERROR(SyncDirectory(dir_));
  channel.on_disk = true;
  return Status::OK();
}

// ---- the Wal interface ----

StatusOr<AppendResult> LocalWal::Append(const std::string& channel_name, const std::vector<std::string>& payloads) {
  QUIVER_RETURN_IF_ERROR(ValidateChannelName(channel_name));
  if (payloads.empty()) return InvalidParameter("a WAL append needs at least one record");
  for (const std::string& payload : payloads) {
    if (payload.size() > kMaxPayloadBytes) {
      return Status(Code::kParameterTooLarge, fmt::format("WAL record of {} bytes exceeds the limit of {} bytes",
                                                          payload.size(), kMaxPayloadBytes));
    }
  }
  auto channel = FindOrAddChannel(channel_name);
  PendingAppend pending{channel, 0, payloads, {}};
  AppendResult result;
  result.durable = pending.durable.get_future().share();
  {
    std::lock_guard channel_lock(channel->mu);
    if (!channel->failure.ok()) return channel->failure;
    if (!channel->on_disk) QUIVER_RETURN_IF_ERROR(CreateChannelDirectory(*channel));
    // Positions are taken and queued under both locks, so queue order is position order.
    std::lock_guard queue_lock(queue_mu_);
    if (stopping_) return ClosedError();
    pending.first = channel->next_position;
    channel->next_position += payloads.size();
    result.first = pending.first;
    result.last = channel->next_position - 1;
    queue_.push_back(std::move(pending));
  }
  queue_cv_.notify_one();
  return result;
}

StatusOr<std::unique_ptr<WalReader>> LocalWal::OpenReader(const std::string& channel, Position after) {
  QUIVER_RETURN_IF_ERROR(ValidateChannelName(channel));
  if (after == std::numeric_limits<Position>::max()) return InvalidParameter("WAL reader position out of range");
  return std::unique_ptr<WalReader>(new Reader(FindOrAddChannel(channel), after));
}

StatusOr<Position> LocalWal::LastPosition(const std::string& channel_name) {
  QUIVER_RETURN_IF_ERROR(ValidateChannelName(channel_name));
  auto channel = FindChannel(channel_name);
  if (!channel) return Position{0};
  std::lock_guard lock(channel->mu);
  return channel->durable;
}

Status LocalWal::Truncate(const std::string& channel_name, Position before) {
  QUIVER_RETURN_IF_ERROR(ValidateChannelName(channel_name));
  auto channel = FindChannel(channel_name);
  if (!channel) return Status::OK();
  std::lock_guard truncate_lock(channel->truncate_mu);
  std::vector<Position> doomed;
  {
    std::lock_guard lock(channel->mu);
    // Records not yet durable cannot be given up; positions past the end do not exist yet.
    before = std::min(before, channel->durable + 1);
    if (before <= channel->first_kept) return Status::OK();
    const size_t below = CountSegmentsBelow(channel->segments, before);
    doomed.assign(channel->segments.begin(), channel->segments.begin() + static_cast<std::ptrdiff_t>(below));
  }
  // Recorded first, so a crash before the deletions cannot make truncated records readable.
  QUIVER_RETURN_IF_ERROR(WriteTruncationPoint(channel->dir, before));
  {
    std::lock_guard lock(channel->mu);
    channel->first_kept = before;
    // Only the writer changes `segments` meanwhile, and only at the back.
    channel->segments.erase(channel->segments.begin(),
                            channel->segments.begin() + static_cast<std::ptrdiff_t>(doomed.size()));
    while (!channel->tail.empty() && channel->tail.front().position < before) channel->DropOldestFromTail();
  }
  return DeleteSegments(channel->dir, doomed);
}

StatusOr<std::vector<std::string>> LocalWal::Channels() {
  std::vector<std::shared_ptr<Channel>> all;
  {
    std::lock_guard lock(channels_mu_);
    for (const auto& [name, channel] : channels_) all.push_back(channel);
  }
  std::vector<std::string> names;
  for (const auto& channel : all) {
    std::lock_guard lock(channel->mu);
    if (channel->on_disk) names.push_back(channel->name);
  }
  return names;
}

// ---- the writer thread ----

void LocalWal::WriterLoop() {
  for (;;) {
    std::vector<PendingAppend> batch;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;                                   // stopping, and everything appended is written
      if (options_.group_commit_delay.count() > 0 && !stopping_) {  // let more appends join
        queue_cv_.wait_for(lock, options_.group_commit_delay, [&] { return stopping_; });
      }
      batch.swap(queue_);
    }
    CommitBatch(std::move(batch));
  }
}

// Writes every channel's records, then syncs each touched segment once, then publishes.
void LocalWal::CommitBatch(std::vector<PendingAppend> appends) {
  std::vector<ChannelBatch> batches;
  std::unordered_map<const Channel*, size_t> batch_of_channel;
  for (PendingAppend& append : appends) {
    auto [it, added] = batch_of_channel.try_emplace(append.channel.get(), batches.size());
    if (added) batches.push_back({append.channel, {}, Status::OK()});
    batches[it->second].appends.push_back(std::move(append));
  }
  for (ChannelBatch& batch : batches) batch.status = WriteBatch(batch);
  std::vector<std::function<void()>> syncs;
  for (ChannelBatch& batch : batches) {
    if (batch.status.ok()) {
      syncs.push_back([this, target = &batch] { target->status = SyncActiveSegment(*target->channel); });
    }
  }
  sync_runner_->RunAll(syncs);
  for (ChannelBatch& batch : batches) Publish(batch);
}

Status LocalWal::WriteBatch(ChannelBatch& batch) {
  Channel& channel = *batch.channel;
  {
    std::lock_guard lock(channel.mu);
    if (!channel.failure.ok()) return channel.failure;
  }
  std::string buffer;
  auto flush = [&]() -> Status {
    Status written = WriteAllAt(channel.active_fd.get(), buffer, channel.active_size,
                                SegmentPath(channel.dir, channel.active_first));
    channel.active_size += buffer.size();
    buffer.clear();
    return written;
  };
  for (const PendingAppend& append : batch.appends) {
    const uint64_t segment_size = channel.active_size + buffer.size();
    if (!channel.active_fd.valid() ||
        (segment_size >= options_.max_segment_bytes && segment_size > kSegmentHeaderBytes)) {
      if (!buffer.empty()) QUIVER_RETURN_IF_ERROR(flush());
      QUIVER_RETURN_IF_ERROR(StartSegment(channel, append.first));
    }
    for (size_t i = 0; i < append.payloads.size(); ++i) {
      AppendEncodedRecord(append.first + i, append.payloads[i], &buffer);
    }
    if (buffer.size() >= kWriteChunkBytes) QUIVER_RETURN_IF_ERROR(flush());
  }
  return buffer.empty() ? Status::OK() : flush();
}

Status LocalWal::StartSegment(Channel& channel, Position first) {
  if (channel.active_fd.valid()) {
    // The new segment's records may count as durable only once this one is synced whole.
    QUIVER_RETURN_IF_ERROR(SyncActiveSegment(channel));
    channel.active_fd.Reset();
  }
  const std::string path = SegmentPath(channel.dir, first);
  auto fd = OpenFile(path, O_WRONLY | O_CREAT | O_EXCL);
  if (!fd.ok()) return fd.status();
  QUIVER_RETURN_IF_ERROR(WriteAllAt(fd->get(), EncodeSegmentHeader(first), 0, path));
  QUIVER_RETURN_IF_ERROR(SyncDirectory(channel.dir));
  channel.active_fd = std::move(*fd);
  channel.active_first = first;
  channel.active_size = kSegmentHeaderBytes;
  std::lock_guard lock(channel.mu);
  channel.segments.push_back(first);
  return Status::OK();
}

Status LocalWal::SyncActiveSegment(Channel& channel) {
  sync_count_.fetch_add(1);
  return SyncFile(channel.active_fd.get(), SegmentPath(channel.dir, channel.active_first));
}

// Makes the batch visible to readers (or fails the channel), then completes its futures.
void LocalWal::Publish(ChannelBatch& batch) {
  Channel& channel = *batch.channel;
  Status outcome;
  {
    std::lock_guard lock(channel.mu);
    if (batch.status.ok()) {
      for (PendingAppend& append : batch.appends) {
        for (size_t i = 0; i < append.payloads.size(); ++i) {
          channel.AddToTail({append.first + i, std::move(append.payloads[i])}, options_.tail_cache_bytes);
        }
      }
      const PendingAppend& last = batch.appends.back();
      channel.durable = last.first + last.payloads.size() - 1;
      channel.durable_segment = channel.active_first;
      channel.durable_end = channel.active_size;
    } else if (channel.failure.ok()) {
      channel.failure = Status(batch.status.code(),
                               fmt::format("WAL channel {} failed and takes no appends until the WAL is reopened: {}",
                                           channel.name, batch.status.reason()));
      spdlog::error("{}", channel.failure.reason());
    }
    outcome = channel.failure.ok() ? Status::OK() : channel.failure;
  }
  channel.durable_advanced.notify_all();
  for (PendingAppend& append : batch.appends) append.durable.set_value(outcome);
}

}  // namespace quiver::wal
