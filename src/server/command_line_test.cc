#include "server/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace quiver {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

CommandLine Parse(const std::vector<std::string>& args) {
  StatusOr<CommandLine> parsed = ParseCommandLine(args);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return *parsed;
}

std::string ParseError(const std::vector<std::string>& args) {
  StatusOr<CommandLine> parsed = ParseCommandLine(args);
  EXPECT_EQ(parsed.status().code(), Code::kParameterInvalid);
  return parsed.status().reason();
}

TEST(CommandLineTest, RunWithSeparateFlagValues) {
  CommandLine command_line =
      Parse({"run", "standalone", "--config", "q.yaml", "--data-dir", "/data", "--port", "19531", "--http-port",
             "9092"});
  EXPECT_EQ(command_line.action, CommandLine::Action::kRun);
  EXPECT_EQ(command_line.role, "standalone");
  EXPECT_EQ(command_line.config_path, "q.yaml");
  EXPECT_EQ(command_line.data_dir, "/data");
  EXPECT_EQ(command_line.port, 19531);
  EXPECT_EQ(command_line.http_port, 9092);
}

TEST(CommandLineTest, RunWithEqualsForm) {
  CommandLine command_line = Parse({"run", "proxy", "--config=q.yaml", "--port=1", "--http-port=65535"});
  EXPECT_EQ(command_line.role, "proxy");
  EXPECT_EQ(command_line.config_path, "q.yaml");
  EXPECT_EQ(command_line.port, 1);
  EXPECT_EQ(command_line.http_port, 65535);
  EXPECT_FALSE(command_line.data_dir.has_value());
}

TEST(CommandLineTest, EveryRoleIsAccepted) {
  for (const std::string& role : Roles()) EXPECT_EQ(Parse({"run", role}).role, role);
  EXPECT_EQ(Roles().size(), 10u);
}

TEST(CommandLineTest, VersionAndHelp) {
  EXPECT_EQ(Parse({"version"}).action, CommandLine::Action::kVersion);
  EXPECT_EQ(Parse({"--version"}).action, CommandLine::Action::kVersion);
  EXPECT_EQ(Parse({"help"}).action, CommandLine::Action::kHelp);
  EXPECT_EQ(Parse({"--help"}).action, CommandLine::Action::kHelp);
  EXPECT_EQ(Parse({"-h"}).action, CommandLine::Action::kHelp);
  EXPECT_EQ(Parse({"run", "standalone", "--help"}).action, CommandLine::Action::kHelp);
  EXPECT_THAT(VersionText(), HasSubstr("quiver 0."));
}

TEST(CommandLineTest, ErrorsNameTheProblemAndTheChoices) {
  EXPECT_THAT(ParseError({}), HasSubstr("missing command; valid commands: run, version, help"));
  EXPECT_THAT(ParseError({"start"}), HasSubstr("unknown command \"start\""));
  EXPECT_THAT(ParseError({"run"}), AllOf(HasSubstr("missing role"), HasSubstr("standalone, rootcoord")));
  EXPECT_THAT(ParseError({"run", "--port", "1"}), HasSubstr("missing role"));
  EXPECT_THAT(ParseError({"run", "coordinator"}),
              AllOf(HasSubstr("unknown role \"coordinator\""), HasSubstr("mixcoord"), HasSubstr("indexnode")));
  EXPECT_THAT(ParseError({"run", "standalone", "--prot", "1"}),
              AllOf(HasSubstr("unknown flag \"--prot\""), HasSubstr("--config, --data-dir, --port, --http-port")));
  EXPECT_THAT(ParseError({"run", "standalone", "--port"}), HasSubstr("missing value for --port"));
  EXPECT_THAT(ParseError({"run", "standalone", "--config", "--port", "1"}), HasSubstr("missing value for --config"));
  EXPECT_THAT(ParseError({"run", "standalone", "--data-dir="}), HasSubstr("missing value for --data-dir"));
  EXPECT_THAT(ParseError({"run", "standalone", "--port", "abc"}),
              HasSubstr("--port must be a port number between 1 and 65535, got \"abc\""));
  EXPECT_THAT(ParseError({"run", "standalone", "--http-port=70000"}), HasSubstr("--http-port must be a port number"));
  EXPECT_THAT(ParseError({"run", "standalone", "--port=0"}), HasSubstr("--port must be a port number"));
  EXPECT_THAT(ParseError({"run", "standalone", "extra"}), HasSubstr("unexpected argument \"extra\""));
  EXPECT_THAT(ParseError({"version", "now"}), HasSubstr("unexpected argument \"now\""));
}

TEST(CommandLineTest, FlagsWinOverFileAndEnv) {
  Config config;
  ASSERT_TRUE(ApplyConfigEnv(
                  [](const std::string& name) -> std::optional<std::string> {
                    if (name == "QUIVER_PROXY_PORT") return "19531";
                    if (name == "QUIVER_HTTP_PORT") return "9092";
                    return std::nullopt;
                  },
                  &config)
                  .ok());
  ApplyCommandLine(Parse({"run", "standalone", "--port", "19600", "--data-dir", "/srv/quiver"}), &config);
  EXPECT_EQ(config.proxy.port, 19600);
  EXPECT_EQ(config.local_storage.path, "/srv/quiver");
  EXPECT_EQ(config.http.port, 9092);  // not given on the command line, so env still holds
}

TEST(CommandLineTest, UsageListsCommandsRolesAndFlags) {
  std::string usage = UsageText();
  EXPECT_THAT(usage, AllOf(HasSubstr("quiver run <role>"), HasSubstr("quiver version"), HasSubstr("querynode"),
                           HasSubstr("--config FILE"), HasSubstr("--data-dir DIR"), HasSubstr("--http-port N")));
}

}  // namespace
}  // namespace quiver
