// How WAL channels map onto JetStream: one stream per channel.
//
// Channel "quiver-dml_3" with prefix "quiver" is stream "quiver_wal_quiver-dml_3" holding
// subject "quiver.wal.quiver-dml_3". Stream names and subject tokens cannot hold '.', so the
// dots a channel name may contain become '~' (which a channel name never holds), keeping the
// mapping reversible. Each record is published with the message id
// "<writer>-<epoch>-<position>", unique per record and per writer incarnation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "wal/wal.h"

namespace quiver::wal::nats {

inline constexpr size_t kMaxStreamPrefixLength = 64;

// 1 to kMaxStreamPrefixLength letters, digits, '_' or '-'.
Status ValidateStreamPrefix(const std::string& prefix);

std::string StreamName(const std::string& prefix, const std::string& channel);
std::string SubjectName(const std::string& prefix, const std::string& channel);
// Matches the subject of every channel with this prefix, and nothing else.
std::string SubjectFilter(const std::string& prefix);
// The channel whose stream (or subject) this is, if it belongs to `prefix`.
std::optional<std::string> ChannelOfStream(const std::string& prefix, const std::string& stream);
std::optional<std::string> ChannelOfSubject(const std::string& prefix, const std::string& subject);

struct MessageId {
  uint64_t epoch = 0;
  Position position = 0;
};
std::string FormatMessageId(const std::string& writer, uint64_t epoch, Position position);
// The epoch and position of an id that `writer` formatted; nullopt for anyone else's.
std::optional<MessageId> ParseMessageId(const std::string& writer, const std::string& id);

// A random writer id: letters and digits.
std::string NewWriterId();

}  // namespace quiver::wal::nats
