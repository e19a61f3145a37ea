#include "common/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace quiver {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A fake environment, so tests never touch the real one.
EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const EnvLookup kNoEnv = FakeEnv({});

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("quiver_config_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteFile(const std::string& text) {
    std::string path = (dir_ / "quiver.yaml").string();
    std::ofstream(path) << text;
    return path;
  }

  // The error LoadConfig gives for a file with `text`.
  std::string FileError(const std::string& text) {
    Config config;
    Status status = LoadConfig(WriteFile(text), &config, kNoEnv);
    EXPECT_EQ(status.code(), Code::kParameterInvalid) << status.ToString();
    return status.reason();
  }

  std::string EnvError(std::map<std::string, std::string> vars) {
    Config config;
    Status status = LoadConfig("", &config, FakeEnv(std::move(vars)));
    EXPECT_EQ(status.code(), Code::kParameterInvalid) << status.ToString();
    return status.reason();
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigTest, DefaultsWithoutFileOrEnv) {
  Config config;
  config.proxy.port = 1;  // LoadConfig must start from the defaults, not from `out`
  ASSERT_TRUE(LoadConfig("", &config, kNoEnv).ok());
  EXPECT_EQ(config.proxy.ip, "0.0.0.0");
  EXPECT_EQ(config.proxy.port, 19530);
  EXPECT_EQ(config.proxy.max_message_size, 67108864);
  EXPECT_EQ(config.http.port, 9091);
  EXPECT_EQ(config.local_storage.path, "./volumes");
  EXPECT_THAT(config.etcd.endpoints, ElementsAre("localhost:2379"));
  EXPECT_EQ(config.etcd.root_path, "quiver");
  EXPECT_EQ(config.minio.port, 9000);
  EXPECT_EQ(config.minio.access_key_id, "minioadmin");
  EXPECT_FALSE(config.minio.use_ssl);
  EXPECT_EQ(config.mq.type, MqType::kEmbedded);
  EXPECT_THAT(config.natsmq.servers, ElementsAre("nats://127.0.0.1:4222"));
  EXPECT_EQ(config.natsmq.replicas, 3);
  EXPECT_EQ(config.natsmq.stream_prefix, "quiver");
  EXPECT_EQ(config.log.level, "info");
  EXPECT_EQ(config.common.storage_type, StorageType::kLocal);
  EXPECT_EQ(config.metastore.type, MetastoreType::kEmbedded);
}

TEST_F(ConfigTest, FileOverridesDefaultsAndKeepsTheRest) {
  std::string path = WriteFile(R"(
proxy:
  port: 19531
etcd:
  endpoints: [a:2379, b:2379]
minio:
  useSSL: true
  secretAccessKey: s3cret
mq:
  type: natsmq
log:
  level: debug
common:
  storageType: minio
metastore:
  type: etcd
http:
)");
  Config config;
  ASSERT_TRUE(LoadConfig(path, &config, kNoEnv).ok());
  EXPECT_EQ(config.proxy.port, 19531);
  EXPECT_EQ(config.proxy.ip, "0.0.0.0");
  EXPECT_THAT(config.etcd.endpoints, ElementsAre("a:2379", "b:2379"));
  EXPECT_TRUE(config.minio.use_ssl);
  EXPECT_EQ(config.minio.secret_access_key, "s3cret");
  EXPECT_EQ(config.mq.type, MqType::kNatsMq);
  EXPECT_EQ(config.log.level, "debug");
  EXPECT_EQ(config.common.storage_type, StorageType::kMinio);
  EXPECT_EQ(config.metastore.type, MetastoreType::kEtcd);
  EXPECT_EQ(config.http.port, 9091);
}

TEST_F(ConfigTest, EmptyFileMeansDefaults) {
  Config config;
  ASSERT_TRUE(LoadConfig(WriteFile("# nothing set\n"), &config, kNoEnv).ok());
  EXPECT_EQ(config.proxy.port, 19530);
}

TEST_F(ConfigTest, RepositoryQuiverYamlLoadsAsTheDefaults) {
  Config config;
  Status status = LoadConfig(QUIVER_SOURCE_DIR "/quiver.yaml", &config, kNoEnv);
  ASSERT_TRUE(status.ok()) << status.ToString();
  Config defaults;
  EXPECT_EQ(config.proxy.port, defaults.proxy.port);
  EXPECT_EQ(config.proxy.max_message_size, defaults.proxy.max_message_size);
  EXPECT_EQ(config.local_storage.path, defaults.local_storage.path);
  EXPECT_EQ(config.etcd.endpoints, defaults.etcd.endpoints);
  EXPECT_EQ(config.minio.bucket_name, defaults.minio.bucket_name);
  EXPECT_EQ(config.natsmq.servers, defaults.natsmq.servers);
  EXPECT_EQ(config.log.level, defaults.log.level);
}

TEST_F(ConfigTest, EnvOverridesFile) {
  std::string path = WriteFile("proxy:\n  port: 19531\n  ip: 10.0.0.1\n");
  Config config;
  ASSERT_TRUE(LoadConfig(path, &config,
                         FakeEnv({{"QUIVER_PROXY_PORT", "19532"},
                                  {"QUIVER_ETCD_ENDPOINTS", "a:2379, b:2379"},
                                  {"QUIVER_MINIO_ACCESSKEYID", "AKIA"},
                                  {"QUIVER_MINIO_USESSL", "TRUE"},
                                  {"QUIVER_LOCALSTORAGE_PATH", "/data"}}))
                  .ok());
  EXPECT_EQ(config.proxy.port, 19532);
  EXPECT_EQ(config.proxy.ip, "10.0.0.1");
  EXPECT_THAT(config.etcd.endpoints, ElementsAre("a:2379", "b:2379"));
  EXPECT_EQ(config.minio.access_key_id, "AKIA");
  EXPECT_TRUE(config.minio.use_ssl);
  EXPECT_EQ(config.local_storage.path, "/data");
}

TEST_F(ConfigTest, MissingFileNamesThePath) {
  Config config;
  Status status = LoadConfig((dir_ / "absent.yaml").string(), &config, kNoEnv);
  EXPECT_EQ(status.code(), Code::kParameterInvalid);
  EXPECT_THAT(status.reason(), AllOf(HasSubstr("absent.yaml"), HasSubstr("No such file")));
}

TEST_F(ConfigTest, DirectoryIsNotAConfigFile) {
  Config config;
  Status status = LoadConfig(dir_.string(), &config, kNoEnv);
  EXPECT_THAT(status.reason(), HasSubstr("is a directory"));
}

TEST_F(ConfigTest, YamlSyntaxErrorNamesPathAndLine) {
  EXPECT_THAT(FileError("proxy:\n  port: 1\n  ip: [unclosed\n"),
              AllOf(HasSubstr("invalid YAML"), HasSubstr("quiver.yaml line"),
                    HasSubstr((dir_ / "quiver.yaml").string())));
}

TEST_F(ConfigTest, UnknownKeyNamesKeyFileAndLine) {
  EXPECT_THAT(FileError("proxy:\n  ip: 0.0.0.0\n  prot: 1\n"),
              AllOf(HasSubstr("unknown config key \"proxy.prot\""), HasSubstr("quiver.yaml line 3"),
                    HasSubstr("ip, port, maxMessageSize")));
}

TEST_F(ConfigTest, UnknownSectionIsAnError) {
  EXPECT_THAT(FileError("proxi:\n  port: 1\n"),
              AllOf(HasSubstr("unknown config section \"proxi\""), HasSubstr("quiver.yaml line 1")));
}

TEST_F(ConfigTest, WrongTypesAreErrors) {
  EXPECT_THAT(FileError("proxy:\n  port: abc\n"),
              AllOf(HasSubstr("proxy.port must be an integer"), HasSubstr("\"abc\""), HasSubstr("line 2")));
  EXPECT_THAT(FileError("proxy:\n  port: [1]\n"), HasSubstr("proxy.port must be an integer"));
  EXPECT_THAT(FileError("minio:\n  useSSL: maybe\n"), HasSubstr("minio.useSSL must be true or false"));
  EXPECT_THAT(FileError("etcd:\n  endpoints: {a: 1}\n"), HasSubstr("etcd.endpoints must be a list of strings"));
  EXPECT_THAT(FileError("proxy: 19530\n"), HasSubstr("config section \"proxy\" must be a mapping"));
  EXPECT_THAT(FileError("- proxy\n"), HasSubstr("must be a mapping of sections"));
}

TEST_F(ConfigTest, PortsMustBeInRange) {
  EXPECT_THAT(FileError("proxy:\n  port: 0\n"), HasSubstr("proxy.port must be between 1 and 65535, got 0"));
  EXPECT_THAT(FileError("http:\n  port: 65536\n"), HasSubstr("http.port must be between 1 and 65535, got 65536"));
  EXPECT_THAT(FileError("minio:\n  port: -1\n"), HasSubstr("minio.port must be between 1 and 65535"));
}

TEST_F(ConfigTest, EnumValuesListTheChoices) {
  EXPECT_THAT(FileError("mq:\n  type: kafka\n"), HasSubstr("mq.type must be one of embedded, natsmq, got \"kafka\""));
  EXPECT_THAT(FileError("log:\n  level: verbose\n"),
              HasSubstr("log.level must be one of trace, debug, info, warn, error"));
  EXPECT_THAT(FileError("common:\n  storageType: s3\n"), HasSubstr("common.storageType must be one of local, minio"));
  EXPECT_THAT(FileError("metastore:\n  type: zk\n"), HasSubstr("metastore.type must be one of embedded, etcd"));
}

TEST_F(ConfigTest, BadEnvValueNamesTheVariable) {
  EXPECT_THAT(EnvError({{"QUIVER_PROXY_PORT", "19530x"}}),
              AllOf(HasSubstr("proxy.port must be an integer"), HasSubstr("environment variable QUIVER_PROXY_PORT")));
  EXPECT_THAT(EnvError({{"QUIVER_MQ_TYPE", "pulsar"}}), HasSubstr("mq.type must be one of embedded, natsmq"));
  EXPECT_THAT(EnvError({{"QUIVER_ETCD_ENDPOINTS", " , "}}), HasSubstr("etcd.endpoints must not be empty"));
}

TEST_F(ConfigTest, FailedLoadLeavesOutputUntouched) {
  Config config;
  config.proxy.port = 1234;
  EXPECT_FALSE(LoadConfig(WriteFile("proxy:\n  port: 1\n  ip: [\n"), &config, kNoEnv).ok());
  EXPECT_EQ(config.proxy.port, 1234);
}

}  // namespace
}  // namespace quiver
