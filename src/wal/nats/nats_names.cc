#include "wal/nats/nats_names.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <random>

#include "wal/channel_name.h"

namespace quiver::wal::nats {
namespace {

constexpr char kStreamInfix[] = "_wal_";
constexpr char kSubjectInfix[] = ".wal.";

std::string Encode(std::string channel) {
  std::replace(channel.begin(), channel.end(), '.', '~');
  return channel;
}

std::optional<std::string> Decode(const std::string& prefix, const std::string& infix, const std::string& name) {
  const std::string head = prefix + infix;
  if (name.size() <= head.size() || name.compare(0, head.size(), head) != 0) return std::nullopt;
  std::string channel = name.substr(head.size());
  std::replace(channel.begin(), channel.end(), '~', '.');
  if (!ValidateChannelName(channel).ok()) return std::nullopt;
  return channel;
}

std::optional<uint64_t> ParseNumber(const std::string& text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

Status ValidateStreamPrefix(const std::string& prefix) {
  const bool safe_chars = std::all_of(prefix.begin(), prefix.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (prefix.empty() || prefix.size() > kMaxStreamPrefixLength || !safe_chars) {
    return InvalidParameter(fmt::format("NATS WAL stream prefix \"{}\" must be 1 to {} letters, digits, '_' or '-'",
                                        prefix, kMaxStreamPrefixLength));
  }
  return Status::OK();
}

std::string StreamName(const std::string& prefix, const std::string& channel) {
  return prefix + kStreamInfix + Encode(channel);
}

std::string SubjectName(const std::string& prefix, const std::string& channel) {
  return prefix + kSubjectInfix + Encode(channel);
}

std::string SubjectFilter(const std::string& prefix) { return prefix + kSubjectInfix + "*"; }

std::optional<std::string> ChannelOfStream(const std::string& prefix, const std::string& stream) {
  return Decode(prefix, kStreamInfix, stream);
}

std::optional<std::string> ChannelOfSubject(const std::string& prefix, const std::string& subject) {
  return Decode(prefix, kSubjectInfix, subject);
}

std::string FormatMessageId(const std::string& writer, uint64_t epoch, Position position) {
  return fmt::format("{}-{}-{}", writer, epoch, position);
}

std::optional<MessageId> ParseMessageId(const std::string& writer, const std::string& id) {
  if (id.size() <= writer.size() + 1 || id.compare(0, writer.size(), writer) != 0 || id[writer.size()] != '-') {
    return std::nullopt;
  }
  const std::string rest = id.substr(writer.size() + 1);
  const size_t dash = rest.find('-');
  if (dash == std::string::npos) return std::nullopt;
  auto epoch = ParseNumber(rest.substr(0, dash));
  auto position = ParseNumber(rest.substr(dash + 1));
  if (!epoch || !position) return std::nullopt;
  return MessageId{*epoch, *position};
}

std::string NewWriterId() {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::random_device random;
  std::uniform_int_distribution<size_t> pick(0, sizeof kAlphabet - 2);
  std::string id(16, '0');
  for (char& c : id) c = kAlphabet[pick(random)];
  return id;
}

}  // namespace quiver::wal::nats
