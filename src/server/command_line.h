// Command line of the `quiver` binary:
//   quiver run <role> [--config FILE] [--data-dir DIR] [--port N] [--http-port N]
//   quiver version | --version
//   quiver help | --help | -h
// Flags also take the --flag=value form. Flags win over the config file and the environment:
// load the Config first (LoadConfig with config_path), then ApplyCommandLine.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace quiver {

struct CommandLine {
  enum class Action { kRun, kVersion, kHelp };
  Action action = Action::kHelp;
  std::string role;  // one of Roles(), for kRun
  std::optional<std::string> config_path;
  std::optional<std::string> data_dir;  // overrides localStorage.path
  std::optional<int> port;              // overrides proxy.port
  std::optional<int> http_port;         // overrides http.port
};

// The roles `quiver run` accepts, in the order the usage text lists them.
const std::vector<std::string>& Roles();

// Parses the arguments after the program name. Errors (kParameterInvalid) name the offending
// argument and list the valid choices.
StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

// Writes the flags that were given onto `config`.
void ApplyCommandLine(const CommandLine& command_line, Config* config);

std::string UsageText();
// "quiver <version> (Milvus API <version>)", from common/version.h.
std::string VersionText();

}  // namespace quiver
