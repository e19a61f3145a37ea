#include "server/command_line.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "common/version.h"

namespace quiver {
namespace {

const std::vector<std::string> kFlags = {"--config", "--data-dir", "--port", "--http-port"};

Status UsageError(const std::string& message) { return {Code::kParameterInvalid, message}; }

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

StatusOr<int> ParsePort(const std::string& flag, const std::string& text) {
  int port = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
    return UsageError(fmt::format("{} must be a port number between 1 and 65535, got \"{}\"", flag, text));
  }
  return port;
}

// `flag` is one of kFlags.
Status SetFlag(const std::string& flag, const std::string& value, CommandLine* out) {
  if (flag == "--config") {
    out->config_path = value;
  } else if (flag == "--data-dir") {
    out->data_dir = value;
  } else {  // --port or --http-port
    StatusOr<int> port = ParsePort(flag, value);
    if (!port.ok()) return port.status();
    (flag == "--port" ? out->port : out->http_port) = *port;
  }
  return Status::OK();
}

// Parses `quiver run <role> [flags]`; `args` starts at the role.
StatusOr<CommandLine> ParseRun(const std::vector<std::string>& args) {
  CommandLine command_line;
  command_line.action = CommandLine::Action::kRun;
  if (args.empty() || args[0].starts_with("-")) {
    return UsageError(fmt::format("missing role after \"run\"; valid roles: {}", Join(Roles())));
  }
  if (std::find(Roles().begin(), Roles().end(), args[0]) == Roles().end()) {
    return UsageError(fmt::format("unknown role \"{}\"; valid roles: {}", args[0], Join(Roles())));
  }
  command_line.role = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      command_line = {};
      command_line.action = CommandLine::Action::kHelp;
      return command_line;
    }
    if (!arg.starts_with("--")) return UsageError(fmt::format("unexpected argument \"{}\"", arg));
    std::string flag = arg;
    std::string value;
    size_t equals = arg.find('=');
    if (equals != std::string::npos) {
      flag = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    }
    if (std::find(kFlags.begin(), kFlags.end(), flag) == kFlags.end()) {
      return UsageError(fmt::format("unknown flag \"{}\"; valid flags: {}", flag, Join(kFlags)));
    }
    if (equals == std::string::npos && i + 1 < args.size() && !args[i + 1].starts_with("--")) value = args[++i];
    if (value.empty()) return UsageError(fmt::format("missing value for {}", flag));
    QUIVER_RETURN_IF_ERROR(SetFlag(flag, value, &command_line));
  }
  return command_line;
}

}  // namespace

const std::vector<std::string>& Roles() {
  static const std::vector<std::string> roles = {"standalone", "rootcoord", "querycoord", "datacoord", "indexcoord",
                                                 "mixcoord",   "proxy",     "querynode",  "datanode",  "indexnode"};
  return roles;
}

StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  if (args.empty()) return UsageError("missing command; valid commands: run, version, help");
  const std::string& command = args[0];
  if (command == "run") return ParseRun({args.begin() + 1, args.end()});
  CommandLine command_line;
  if (command == "version" || command == "--version") {
    command_line.action = CommandLine::Action::kVersion;
  } else if (command == "help" || command == "--help" || command == "-h") {
    command_line.action = CommandLine::Action::kHelp;
  } else {
    return UsageError(fmt::format("unknown command \"{}\"; valid commands: run, version, help", command));
  }
  if (args.size() > 1) return UsageError(fmt::format("unexpected argument \"{}\" after {}", args[1], command));
  return command_line;
}

void ApplyCommandLine(const CommandLine& command_line, Config* config) {
  if (command_line.data_dir) config->local_storage.path = *command_line.data_dir;
  if (command_line.port) config->proxy.port = *command_line.port;
  if (command_line.http_port) config->http.port = *command_line.http_port;
}

std::string UsageText() {
  return fmt::format(
      "Usage:\n"
      "  quiver run <role> [flags]   start a Quiver process\n"
      "  quiver version              print the version\n"
      "  quiver help                 print this help\n"
      "\n"
      "Roles:\n"
      "  {}\n"
      "\n"
      "Flags (also --flag=value; they override the config file and QUIVER_* variables):\n"
      "  --config FILE     YAML config file (see quiver.yaml)\n"
      "  --data-dir DIR    data directory (localStorage.path)\n"
      "  --port N          gRPC port of the Milvus API (proxy.port, default 19530)\n"
      "  --http-port N     port of /healthz and /metrics (http.port, default 9091)\n",
      Join(Roles()));
}

std::string VersionText() { return fmt::format("quiver {} (Milvus API {})", kQuiverVersion, kMilvusApiVersion); }

}  // namespace quiver
