// quiver: one binary for every role. `quiver run standalone` runs them all in one process.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "common/config.h"
#include "common/log.h"
#include "server/command_line.h"
#include "server/standalone_server.h"

namespace {

// Blocks the stop signals in every thread (threads inherit the mask), so the main thread
// alone receives them through sigwait and shutdown runs in ordinary code.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int RunStandalone(const quiver::Config& config) {
  sigset_t signals = BlockStopSignals();
  quiver::StandaloneServer server(config);
  quiver::Status status = server.Start();
  if (!status.ok()) {
    spdlog::error("quiver cannot start: {}", status.reason());
    return 1;
  }
  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("received {}, shutting down", strsignal(signal));
  server.Shutdown();
  spdlog::info("quiver stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto command_line = quiver::ParseCommandLine(args);
  if (!command_line.ok()) {
    std::cerr << "quiver: " << command_line.status().reason() << "\n\n" << quiver::UsageText();
    return 2;
  }
  switch (command_line->action) {
    case quiver::CommandLine::Action::kHelp:
      std::cout << quiver::UsageText();
      return 0;
    case quiver::CommandLine::Action::kVersion:
      std::cout << quiver::VersionText() << "\n";
      return 0;
    case quiver::CommandLine::Action::kRun:
      break;
  }
  quiver::Config config;
  quiver::Status status = quiver::LoadConfig(command_line->config_path.value_or(""), &config);
  if (!status.ok()) {
    std::cerr << "quiver: bad configuration: " << status.reason() << "\n";
    return 2;
  }
  quiver::ApplyCommandLine(*command_line, &config);
  quiver::InitLogging(config.log.level);
  if (command_line->role != "standalone") {
    std::cerr << "quiver: role '" << command_line->role
              << "' cannot run as its own process yet (cluster mode comes in a later release); "
                 "run `quiver run standalone`\n";
    return 2;
  }
  return RunStandalone(config);
}
