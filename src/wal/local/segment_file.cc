#include "wal/local/segment_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace quiver::wal {
namespace {

static_assert(std::endian::native == std::endian::little, "the WAL format is little-endian");

constexpr uint32_t kMagic = 0x4C415751;  // "QWAL"
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kReadChunkBytes = 256 << 10;
constexpr std::string_view kSegmentSuffix = ".log";
constexpr size_t kSegmentDigits = 20;

template <typename T>
void PutInt(T value, std::string* out) {
  out->append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
T GetInt(const char* data) {
  T value;
  std::memcpy(&value, data, sizeof value);
  return value;
}

// CRC-32 over the record's length, position and payload (everything but the CRC itself).
uint32_t RecordCrc(uint32_t length, Position position, std::string_view payload) {
  char fields[12];
  std::memcpy(fields, &length, 4);
  std::memcpy(fields + 4, &position, 8);
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(fields), sizeof fields);
  return static_cast<uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<z_size_t>(payload.size())));
}

}  // namespace

std::string SegmentFileName(Position first) { return fmt::format("{:020d}{}", first, kSegmentSuffix); }

std::optional<Position> ParseSegmentFileName(std::string_view name) {
  if (name.size() != kSegmentDigits + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) return std::nullopt;
  Position value = 0;
  for (char c : name.substr(0, kSegmentDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    const Position digit = static_cast<Position>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (value == 0) return std::nullopt;
  return value;
}

std::string EncodeSegmentHeader(Position first) {
  std::string header;
  PutInt(kMagic, &header);
  PutInt(kFormatVersion, &header);
  PutInt(first, &header);
  return header;
}

void AppendEncodedRecord(Position position, std::string_view payload, std::string* out) {
  const auto length = static_cast<uint32_t>(payload.size());
  PutInt(length, out);
  PutInt(RecordCrc(length, position, payload), out);
  PutInt(position, out);
  out->append(payload);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

int UniqueFd::Release() { return std::exchange(fd_, -1); }

void UniqueFd::Reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

Status IoError(const std::string& operation, const std::string& path, int error_number) {
  return Status(Code::kIoFailed, fmt::format("WAL: cannot {} {}: {}", operation, path,
                                             std::error_code(error_number, std::generic_category()).message()));
}

StatusOr<UniqueFd> OpenFile(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("open", path, errno);
  return UniqueFd(fd);
}

Status WriteAllAt(int fd, std::string_view data, uint64_t offset, const std::string& path) {
  while (!data.empty()) {
    ssize_t written = pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(written));
    offset += static_cast<uint64_t>(written);
  }
  return Status::OK();
}

Status SyncFile(int fd, const std::string& path) {
  if (fdatasync(fd) != 0) return IoError("sync", path, errno);
  return Status::OK();
}

Status SyncDirectory(const std::string& dir) {
  auto fd = OpenFile(dir, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return fd.status();
  if (fsync(fd->get()) != 0) return IoError("sync directory", dir, errno);
  return Status::OK();
}

SegmentCursor::SegmentCursor(UniqueFd fd, std::string path, Position first)
    : fd_(std::move(fd)), path_(std::move(path)), first_(first), next_position_(first) {}

StatusOr<SegmentCursor::Outcome> SegmentCursor::ReadHeader() {
  auto buffered = Fill(kSegmentHeaderBytes);
  if (!buffered.ok()) return buffered.status();
  if (*buffered < kSegmentHeaderBytes) return Bad(fmt::format("incomplete file header ({} bytes)", *buffered));
  const char* header = buffer_.data() + (offset_ - buffer_start_);
  if (GetInt<uint32_t>(header) != kMagic) return Bad("not a WAL segment (bad magic)");
  if (auto version = GetInt<uint32_t>(header + 4); version != kFormatVersion) {
    return Bad(fmt::format("unsupported format version {}", version));
  }
  if (auto first = GetInt<Position>(header + 8); first != first_) {
    return Bad(fmt::format("header names first position {}, file name {}", first, first_));
  }
  offset_ += kSegmentHeaderBytes;
  return Outcome::kOk;
}

StatusOr<SegmentCursor::Outcome> SegmentCursor::Next(Record* record) {
  auto buffered = Fill(kRecordHeaderBytes);
  if (!buffered.ok()) return buffered.status();
  if (*buffered == 0) return Outcome::kEnd;
  if (*buffered < kRecordHeaderBytes) {
    return Bad(fmt::format("incomplete record header ({} bytes) at the end of the file", *buffered));
  }
  const char* header = buffer_.data() + (offset_ - buffer_start_);
  const auto length = GetInt<uint32_t>(header);
  const auto crc = GetInt<uint32_t>(header + 4);
  const auto position = GetInt<Position>(header + 8);
  if (length > kMaxPayloadBytes) return Bad(fmt::format("implausible record length {}", length));

  buffered = Fill(kRecordHeaderBytes + length);
  if (!buffered.ok()) return buffered.status();
  if (*buffered < kRecordHeaderBytes + length) {
    return Bad(fmt::format("incomplete record: {} payload bytes announced, {} present", length,
                           *buffered - kRecordHeaderBytes));
  }
  std::string_view payload(buffer_.data() + (offset_ - buffer_start_) + kRecordHeaderBytes, length);
  if (RecordCrc(length, position, payload) != crc) return Bad("checksum mismatch");
  if (position != next_position_) {
    return Bad(fmt::format("record has position {} where {} was expected", position, next_position_));
  }
  record->position = position;
  record->payload.assign(payload);
  offset_ += kRecordHeaderBytes + length;
  ++next_position_;
  return Outcome::kOk;
}

StatusOr<size_t> SegmentCursor::Fill(size_t needed) {
  const size_t consumed = offset_ - buffer_start_;
  if (buffer_.size() - consumed >= needed) return buffer_.size() - consumed;
  buffer_.erase(0, consumed);
  buffer_start_ = offset_;
  size_t have = buffer_.size();
  const uint64_t readable = read_limit_ > buffer_start_ ? read_limit_ - buffer_start_ : 0;
  buffer_.resize(std::max(have, static_cast<size_t>(std::min<uint64_t>(std::max(needed, kReadChunkBytes), readable))));
  while (have < needed && have < buffer_.size()) {
    ssize_t n =
        pread(fd_.get(), buffer_.data() + have, buffer_.size() - have, static_cast<off_t>(buffer_start_ + have));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error_number = errno;
      buffer_.resize(have);
      return IoError("read", path_, error_number);
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  buffer_.resize(have);
  return have;
}

SegmentCursor::Outcome SegmentCursor::Bad(std::string problem) {
  problem_ = std::move(problem);
  return Outcome::kBad;
}

}  // namespace quiver::wal
