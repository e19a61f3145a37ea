#include "common/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

namespace quiver {
namespace {

// A setting as found in the YAML file or the environment, before it is given a type.
struct RawValue {
  enum class Shape { kScalar, kList, kOther };
  Shape shape = Shape::kScalar;
  std::string scalar;              // when kScalar
  std::vector<std::string> items;  // when kList
  std::string source;              // where it came from, for error messages
};

// Parses `value` into the Config field it names; `name` is "section.key".
using Setter = std::function<Status(const std::string& name, const RawValue& value, Config& config)>;

struct Field {
  std::string section;
  std::string key;
  Setter set;
};

Status Invalid(const RawValue& value, const std::string& message) {
  return {Code::kParameterInvalid, message + " in " + value.source};
}

Status ScalarOf(const std::string& name, const RawValue& value, const char* expected, std::string* out) {
  if (value.shape != RawValue::Shape::kScalar) return Invalid(value, name + " must be " + expected);
  *out = value.scalar;
  return Status::OK();
}

// `ref` maps a Config to the member being set, e.g. [](Config& c) -> auto& { return c.proxy.ip; }.
template <typename Ref>
Field StringField(const char* section, const char* key, Ref ref) {
  return {section, key, [ref](const std::string& name, const RawValue& value, Config& config) {
            return ScalarOf(name, value, "a string", &ref(config));
          }};
}

template <typename Ref>
Field IntField(const char* section, const char* key, int64_t min, int64_t max, Ref ref) {
  return {section, key, [=](const std::string& name, const RawValue& value, Config& config) {
            std::string text;
            QUIVER_RETURN_IF_ERROR(ScalarOf(name, value, "an integer", &text));
            int64_t number = 0;
            auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
            if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
              return Invalid(value, fmt::format("{} must be an integer, got \"{}\"", name, text));
            }
            if (number < min || number > max) {
              return Invalid(value, fmt::format("{} must be between {} and {}, got {}", name, min, max, number));
            }
            ref(config) = static_cast<std::remove_reference_t<decltype(ref(config))>>(number);
            return Status::OK();
          }};
}

template <typename Ref>
Field PortField(const char* section, const char* key, Ref ref) {
  return IntField(section, key, 1, 65535, ref);
}

template <typename Ref>
Field BoolField(const char* section, const char* key, Ref ref) {
  return {section, key, [ref](const std::string& name, const RawValue& value, Config& config) {
            std::string text;
            QUIVER_RETURN_IF_ERROR(ScalarOf(name, value, "true or false", &text));
            for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (text != "true" && text != "false") {
              return Invalid(value, fmt::format("{} must be true or false, got \"{}\"", name, value.scalar));
            }
            ref(config) = text == "true";
            return Status::OK();
          }};
}

std::vector<std::string> SplitCommaList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    items.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
  }
  return items;
}

// Takes a YAML sequence, or a comma-separated string (the only form an env variable has).
template <typename Ref>
Field ListField(const char* section, const char* key, Ref ref) {
  return {section, key, [ref](const std::string& name, const RawValue& value, Config& config) {
            std::vector<std::string> items;
            switch (value.shape) {
              case RawValue::Shape::kList: items = value.items; break;
              case RawValue::Shape::kScalar: items = SplitCommaList(value.scalar); break;
              case RawValue::Shape::kOther: return Invalid(value, name + " must be a list of strings");
            }
            if (items.empty()) return Invalid(value, name + " must not be empty");
            ref(config) = std::move(items);
            return Status::OK();
          }};
}

template <typename T, typename Ref>
Field EnumField(const char* section, const char* key, std::vector<std::pair<std::string, T>> choices, Ref ref) {
  return {section, key, [=](const std::string& name, const RawValue& value, Config& config) {
            std::string text;
            QUIVER_RETURN_IF_ERROR(ScalarOf(name, value, "a string", &text));
            std::string names;
            for (const auto& [choice, enum_value] : choices) {
              if (choice == text) {
                ref(config) = enum_value;
                return Status::OK();
              }
              names += (names.empty() ? "" : ", ") + choice;
            }
            return Invalid(value, fmt::format("{} must be one of {}, got \"{}\"", name, names, text));
          }};
}

const std::vector<Field>& Fields() {
  static const std::vector<Field> fields = {
      StringField("proxy", "ip", [](Config& c) -> auto& { return c.proxy.ip; }),
      PortField("proxy", "port", [](Config& c) -> auto& { return c.proxy.port; }),
      IntField("proxy", "maxMessageSize", 1, INT32_MAX, [](Config& c) -> auto& { return c.proxy.max_message_size; }),
      StringField("http", "ip", [](Config& c) -> auto& { return c.http.ip; }),
      PortField("http", "port", [](Config& c) -> auto& { return c.http.port; }),
      StringField("localStorage", "path", [](Config& c) -> auto& { return c.local_storage.path; }),
      ListField("etcd", "endpoints", [](Config& c) -> auto& { return c.etcd.endpoints; }),
      StringField("etcd", "rootPath", [](Config& c) -> auto& { return c.etcd.root_path; }),
      StringField("minio", "address", [](Config& c) -> auto& { return c.minio.address; }),
      PortField("minio", "port", [](Config& c) -> auto& { return c.minio.port; }),
      StringField("minio", "accessKeyID", [](Config& c) -> auto& { return c.minio.access_key_id; }),
      StringField("minio", "secretAccessKey", [](Config& c) -> auto& { return c.minio.secret_access_key; }),
      BoolField("minio", "useSSL", [](Config& c) -> auto& { return c.minio.use_ssl; }),
      StringField("minio", "bucketName", [](Config& c) -> auto& { return c.minio.bucket_name; }),
      StringField("minio", "rootPath", [](Config& c) -> auto& { return c.minio.root_path; }),
      EnumField<MqType>("mq", "type", {{"embedded", MqType::kEmbedded}, {"natsmq", MqType::kNatsMq}},
                        [](Config& c) -> auto& { return c.mq.type; }),
      ListField("natsmq", "servers", [](Config& c) -> auto& { return c.natsmq.servers; }),
      IntField("natsmq", "replicas", 1, 5, [](Config& c) -> auto& { return c.natsmq.replicas; }),
      StringField("natsmq", "streamPrefix", [](Config& c) -> auto& { return c.natsmq.stream_prefix; }),
      EnumField<std::string>("log", "level",
                             {{"trace", "trace"}, {"debug", "debug"}, {"info", "info"}, {"warn", "warn"},
                              {"error", "error"}},
                             [](Config& c) -> auto& { return c.log.level; }),
      EnumField<StorageType>("common", "storageType", {{"local", StorageType::kLocal}, {"minio", StorageType::kMinio}},
                             [](Config& c) -> auto& { return c.common.storage_type; }),
      EnumField<MetastoreType>("metastore", "type",
                               {{"embedded", MetastoreType::kEmbedded}, {"etcd", MetastoreType::kEtcd}},
                               [](Config& c) -> auto& { return c.metastore.type; }),
  };
  return fields;
}

const Field* FindField(const std::string& section, const std::string& key) {
  for (const Field& field : Fields()) {
    if (field.section == section && field.key == key) return &field;
  }
  return nullptr;
}

bool IsSection(const std::string& name) {
  for (const Field& field : Fields()) {
    if (field.section == name) return true;
  }
  return false;
}

// Comma-separated section names, or the keys of `section` when it is given; in table order.
std::string ValidNames(const std::string& section = {}) {
  std::string names;
  std::string last;
  for (const Field& field : Fields()) {
    const std::string& name = section.empty() ? field.section : field.key;
    if (!section.empty() && field.section != section) continue;
    if (name == last) continue;
    names += (names.empty() ? "" : ", ") + name;
    last = name;
  }
  return names;
}

RawValue FromYaml(const YAML::Node& node, std::string source) {
  RawValue value;
  value.source = std::move(source);
  if (node.IsScalar()) {
    value.scalar = node.Scalar();
  } else if (node.IsNull()) {
    value.scalar = "";
  } else if (node.IsSequence()) {
    value.shape = RawValue::Shape::kList;
    for (const YAML::Node& item : node) {
      if (!item.IsScalar()) {
        value.shape = RawValue::Shape::kOther;
        break;
      }
      value.items.push_back(item.Scalar());
    }
  } else {
    value.shape = RawValue::Shape::kOther;
  }
  return value;
}

std::string Location(const std::string& path, const YAML::Node& node) {
  return fmt::format("{} line {}", path, node.Mark().line + 1);
}

Status ApplySection(const std::string& path, const std::string& section, const YAML::Node& body, Config* config) {
  for (const auto& entry : body) {
    const std::string key = entry.first.Scalar();
    const std::string name = section + "." + key;
    const Field* field = FindField(section, key);
    if (field == nullptr) {
      return {Code::kParameterInvalid,
              fmt::format("unknown config key \"{}\" in {} (valid keys of {}: {})", name, Location(path, entry.first),
                          section, ValidNames(section))};
    }
    QUIVER_RETURN_IF_ERROR(field->set(name, FromYaml(entry.second, Location(path, entry.first)), *config));
  }
  return Status::OK();
}

std::string EnvName(const Field& field) {
  std::string name = "QUIVER_" + field.section + "_" + field.key;
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Status ApplyConfigFile(const std::string& path, Config* config) {
  std::ifstream file(path);
  if (!file) {
    return {Code::kParameterInvalid, fmt::format("cannot read config file {}: {}", path, std::strerror(errno))};
  }
  // A directory opens fine and reads as empty, which would silently mean "all defaults".
  if (std::filesystem::is_directory(path)) {
    return {Code::kParameterInvalid, fmt::format("cannot read config file {}: it is a directory", path)};
  }
  std::stringstream text;
  text << file.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::ParserException& e) {
    return {Code::kParameterInvalid,
            fmt::format("invalid YAML in {} line {}, column {}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg)};
  }
  if (root.IsNull()) return Status::OK();
  if (!root.IsMap()) {
    return {Code::kParameterInvalid, fmt::format("config file {} must be a mapping of sections", path)};
  }
  for (const auto& section : root) {
    const std::string name = section.first.Scalar();
    if (!IsSection(name)) {
      return {Code::kParameterInvalid, fmt::format("unknown config section \"{}\" in {} (valid sections: {})", name,
                                                   Location(path, section.first), ValidNames())};
    }
    if (section.second.IsNull()) continue;
    if (!section.second.IsMap()) {
      return {Code::kParameterInvalid,
              fmt::format("config section \"{}\" must be a mapping of keys in {}", name,
                          Location(path, section.first))};
    }
    QUIVER_RETURN_IF_ERROR(ApplySection(path, name, section.second, config));
  }
  return Status::OK();
}

Status ApplyConfigEnv(const EnvLookup& env, Config* config) {
  for (const Field& field : Fields()) {
    const std::string env_name = EnvName(field);
    std::optional<std::string> text = env(env_name);
    if (!text) continue;
    RawValue value{RawValue::Shape::kScalar, *text, {}, "environment variable " + env_name};
    QUIVER_RETURN_IF_ERROR(field.set(field.section + "." + field.key, value, *config));
  }
  return Status::OK();
}

Status LoadConfig(const std::string& path, Config* out, const EnvLookup& env) {
  Config config;
  if (!path.empty()) QUIVER_RETURN_IF_ERROR(ApplyConfigFile(path, &config));
  QUIVER_RETURN_IF_ERROR(ApplyConfigEnv(env, &config));
  *out = std::move(config);
  return Status::OK();
}

}  // namespace quiver
