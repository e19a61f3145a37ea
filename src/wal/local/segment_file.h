// Segment files of the local WAL: naming, on-disk format, file helpers and a checked reader.
//
// A channel's log is a series of append-only segment files, each named by the position of
// its first record ("00000000000000000001.log"). Format, every integer little-endian:
//   file header: magic "QWAL" (u32) | format version (u32) | first position (u64)
//   record:      payload length (u32) | CRC-32 (u32) | position (u64) | payload
// The CRC (zlib's CRC-32) covers length, position and payload, so a torn, overwritten or
// misplaced record is detected whichever of its bytes is damaged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "wal/wal.h"

namespace quiver::wal {

inline constexpr size_t kSegmentHeaderBytes = 16;
inline constexpr size_t kRecordHeaderBytes = 16;
// Appends of larger payloads are refused; on recovery a larger length marks garbage.
inline constexpr uint32_t kMaxPayloadBytes = 256u << 20;

std::string SegmentFileName(Position first);
// The first position a segment file name stands for; nullopt if it is no segment name.
std::optional<Position> ParseSegmentFileName(std::string_view name);

std::string EncodeSegmentHeader(Position first);
void AppendEncodedRecord(Position position, std::string_view payload, std::string* out);

// Owns a file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Reset();

 private:
  int fd_ = -1;
};

// kIoFailed naming the operation, the file and the system error.
Status IoError(const std::string& operation, const std::string& path, int error_number);
StatusOr<UniqueFd> OpenFile(const std::string& path, int flags);
Status WriteAllAt(int fd, std::string_view data, uint64_t offset, const std::string& path);
Status SyncFile(int fd, const std::string& path);
// Makes creations, renames and removals of entries in `dir` durable.
Status SyncDirectory(const std::string& dir);

// Reads one segment's records in order, checking framing, checksum and position of each.
// Damage is reported as Outcome::kBad with a description, I/O failures as a Status.
class SegmentCursor {
 public:
  enum class Outcome { kOk, kEnd, kBad };

  SegmentCursor(UniqueFd fd, std::string path, Position first);

  // Checks the file header; kBad when it is incomplete or belongs to another segment.
  StatusOr<Outcome> ReadHeader();
  // The record at offset(): kOk with *record filled, kEnd at a clean end of the file, or
  // kBad when the bytes there are not a complete, intact record with next_position().
  StatusOr<Outcome> Next(Record* record);
  // Reads no byte at or past `end`: bytes a writer may still be writing are never buffered
  // (and so never mistaken for damage). The limit may only grow.
  void LimitReadsTo(uint64_t end) { read_limit_ = end; }

  const std::string& problem() const { return problem_; }
  const std::string& path() const { return path_; }
  Position first() const { return first_; }
  Position next_position() const { return next_position_; }
  uint64_t offset() const { return offset_; }  // end of the header or last good record

 private:
  // Buffers at least `needed` bytes from offset_ unless the file ends first; returns how
  // many bytes from offset_ are buffered.
  StatusOr<size_t> Fill(size_t needed);
  Outcome Bad(std::string problem);

  UniqueFd fd_;
  std::string path_;
  Position first_;
  Position next_position_;
  uint64_t offset_ = 0;
  std::string buffer_;
  uint64_t buffer_start_ = 0;  // file offset of buffer_[0]
  uint64_t read_limit_ = UINT64_MAX;
  std::string problem_;
};

}  // namespace quiver::wal
