#include "bench/search_bench_milvus.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "milvus.grpc.pb.h"

namespace quiver::bench {
namespace {

namespace cpb = milvus::proto::common;
namespace mpb = milvus::proto::milvus;
namespace spb = milvus::proto::schema;
using Clock = std::chrono::steady_clock;

constexpr char kPrimaryField[] = "id";
constexpr char kVectorField[] = "vector";

// A port nobody listens on now: the kernel's pick for a throwaway socket.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  close(fd);
  return ntohs(address.sin_port);
}

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

// host:port and path of an http://host:port URL.
std::pair<std::string, int> HostPort(const std::string& url) {
  std::string rest = url.rfind("http://", 0) == 0 ? url.substr(7) : url;
  rest = rest.substr(0, rest.find('/'));
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return {rest, 80};
  return {rest.substr(0, colon), std::stoi(rest.substr(colon + 1))};
}

template <typename Response>
const cpb::Status& StatusOf(const Response& response) {
  if constexpr (std::is_same_v<Response, cpb::Status>) {
    return response;
  } else {
    return response.status();
  }
}

// Throws unless both the RPC and the Milvus status in its response succeeded.
template <typename Response>
void Check(const char* call, const grpc::Status& rpc, const Response& response) {
  if (!rpc.ok()) throw std::runtime_error(std::string(call) + ": gRPC error " + rpc.error_message());
  const cpb::Status& status = StatusOf(response);
  if (status.code() != 0 || status.error_code() != cpb::Success) {
    throw std::runtime_error(std::string(call) + ": code " + std::to_string(status.code()) + ": " + status.reason());
  }
}

std::unique_ptr<grpc::ClientContext> Context(std::chrono::seconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

cpb::KeyValuePair Pair(const std::string& key, const std::string& value) {
  cpb::KeyValuePair pair;
  pair.set_key(key);
  pair.set_value(value);
  return pair;
}

}  // namespace

// ---- server ----

QuiverServer::QuiverServer(std::string binary, std::optional<cpu_set_t> cpus)
    : binary_(std::move(binary)), cpus_(cpus) {
  if (access(binary_.c_str(), X_OK) != 0) {
    throw std::runtime_error("no quiver binary at " + binary_ + " (build it, or pass --quiver / --address)");
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "quiver-search-bench-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary directory");
  work_dir_ = pattern;
  std::filesystem::create_directory(work_dir_ + "/data");
  // Another process may take a port between FreePort() and the server's bind: retry.
  for (int attempt = 1;; ++attempt) {
    grpc_port_ = FreePort();
    do http_port_ = FreePort();
    while (http_port_ == grpc_port_);
    try {
      Launch();
      return;
    } catch (const std::exception&) {
      if (attempt == 3) {
        std::filesystem::remove_all(work_dir_);
        throw;
      }
    }
  }
}

QuiverServer::~QuiverServer() {
  Stop();
  std::error_code ignored;
  std::filesystem::remove_all(work_dir_, ignored);
}

void QuiverServer::Restart() {
  Stop();
  Launch();
}

void QuiverServer::Launch() {
  const std::string log = log_path();
  const std::vector<std::string> args = {binary_, "run", "standalone", "--data-dir", work_dir_ + "/data",
                                         "--port", std::to_string(grpc_port_), "--http-port",
                                         std::to_string(http_port_)};
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    // Inherited by every thread the server starts.
    if (cpus_ && sched_setaffinity(0, sizeof(*cpus_), &*cpus_) != 0) _exit(126);
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(binary_.c_str(), argv.data());
    _exit(127);
  }
  httplib::Client http("127.0.0.1", http_port_);
  http.set_connection_timeout(1);
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("quiver exited before becoming healthy; its log ends:\n" + Tail(log, 3000));
    }
    auto response = http.Get("/healthz");
    if (response && response->status == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Stop();
  throw std::runtime_error("quiver not healthy after 60 s; its log ends:\n" + Tail(log, 3000));
}

void QuiverServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  pid_ = -1;
}

std::string QuiverServer::LogTail(size_t bytes) const { return Tail(log_path(), bytes); }

ServerMetrics ReadServerMetrics(const std::string& metrics_url) {
  const auto [host, port] = HostPort(metrics_url);
  httplib::Client http(host, port);
  http.set_read_timeout(10);
  auto response = http.Get("/metrics");
  if (!response || response->status != 200) throw std::runtime_error("GET " + metrics_url + "/metrics failed");
  ServerMetrics metrics;
  std::istringstream lines(response->body);
  for (std::string line; std::getline(lines, line);) {
    const size_t space = line.rfind(' ');
    if (line.empty() || line[0] == '#' || space == std::string::npos) continue;
    const std::string name = line.substr(0, space);
    const double value = std::strtod(line.c_str() + space + 1, nullptr);
    if (name == "process_resident_memory_bytes") metrics.rss_bytes = value;
    else if (name == "process_cpu_seconds_total") metrics.cpu_seconds = value;
    else if (name == "quiver_proxy_request_duration_seconds_count{method=\"Search\"}") metrics.search_count = value;
    else if (name == "quiver_proxy_request_duration_seconds_sum{method=\"Search\"}") metrics.search_seconds_sum = value;
    else if (name.rfind("quiver_querynode_segment_search_seconds_sum{", 0) == 0) {
      metrics.segment_search_seconds_sum += value;  // every kind
    } else if (name.rfind("quiver_querynode_segment_search_queries_total{", 0) == 0) {
      metrics.segment_search_queries += value;
    }
  }
  return metrics;
}

// ---- client ----

class MilvusClient::Impl {
 public:
  explicit Impl(const std::string& address) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    // Channels with equal arguments would otherwise share one connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channel_ = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    if (!channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      throw std::runtime_error("cannot connect to " + address);
    }
    stub_ = mpb::MilvusService::NewStub(channel_);
  }

  mpb::MilvusService::Stub& stub() { return *stub_; }

  // The request's parts that stay the same from query to query, built once.
  mpb::SearchRequest& SearchTemplate(const SearchSettings& settings) {
    if (search_settings_.collection == settings.collection && search_settings_.params_json == settings.params_json &&
        search_settings_.k == settings.k) {
      return search_request_;
    }
    search_settings_ = settings;
    search_request_.Clear();
    search_request_.set_collection_name(settings.collection);
    search_request_.set_dsl_type(cpb::BoolExprV1);
    search_request_.set_use_default_consistency(true);
    auto* params = search_request_.mutable_search_params();
    *params->Add() = Pair("anns_field", kVectorField);
    *params->Add() = Pair("topk", std::to_string(settings.k));
    *params->Add() = Pair("metric_type", "L2");
    *params->Add() = Pair("params", settings.params_json);
    *params->Add() = Pair("round_decimal", "-1");
    return search_request_;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<mpb::MilvusService::Stub> stub_;
  SearchSettings search_settings_;
  mpb::SearchRequest search_request_;
};

MilvusClient::MilvusClient(const std::string& address) : impl_(std::make_unique<Impl>(address)) {}
MilvusClient::~MilvusClient() = default;

void MilvusClient::CreateCollection(const std::string& name, int64_t dim) {
  spb::CollectionSchema schema;
  schema.set_name(name);
  auto* pk = schema.add_fields();
  pk->set_fieldid(100);
  pk->set_name(kPrimaryField);
  pk->set_is_primary_key(true);
  pk->set_data_type(spb::Int64);
  auto* vector = schema.add_fields();
  vector->set_fieldid(101);
  vector->set_name(kVectorField);
  vector->set_data_type(spb::FloatVector);
  *vector->add_type_params() = Pair("dim", std::to_string(dim));
  mpb::CreateCollectionRequest request;
  request.set_collection_name(name);
  request.set_schema(schema.SerializeAsString());
  request.set_shards_num(1);
  request.set_consistency_level(cpb::Bounded);  // pymilvus's default
  cpb::Status response;
  auto context = Context(std::chrono::seconds(60));
  Check("CreateCollection", impl_->stub().CreateCollection(context.get(), request, &response), response);
}

void MilvusClient::DropCollection(const std::string& name) {
  mpb::DropCollectionRequest request;
  request.set_collection_name(name);
  cpb::Status response;
  auto context = Context(std::chrono::seconds(60));
  Check("DropCollection", impl_->stub().DropCollection(context.get(), request, &response), response);
}

void MilvusClient::Insert(const std::string& name, const Dataset& data, int64_t begin, int64_t end) {
  mpb::InsertRequest request;
  request.set_collection_name(name);
  request.set_num_rows(static_cast<uint32_t>(end - begin));
  auto* keys = request.add_fields_data();
  keys->set_type(spb::Int64);
  keys->set_field_name(kPrimaryField);
  auto* key_data = keys->mutable_scalars()->mutable_long_data()->mutable_data();
  key_data->Reserve(static_cast<int>(end - begin));
  for (int64_t row = begin; row < end; ++row) key_data->Add(row);
  auto* vectors = request.add_fields_data();
  vectors->set_type(spb::FloatVector);
  vectors->set_field_name(kVectorField);
  vectors->mutable_vectors()->set_dim(data.dim);
  auto* floats = vectors->mutable_vectors()->mutable_float_vector()->mutable_data();
  floats->Add(data.row(begin), data.row(end));
  mpb::MutationResult response;
  auto context = Context(std::chrono::seconds(120));
  Check("Insert", impl_->stub().Insert(context.get(), request, &response), response);
  if (response.insert_cnt() != end - begin) {
    throw std::runtime_error("Insert: " + std::to_string(response.insert_cnt()) + " rows inserted of " +
                             std::to_string(end - begin));
  }
}

void MilvusClient::FlushAndWait(const std::string& name) {
  mpb::FlushRequest request;
  request.add_collection_names(name);
  mpb::FlushResponse response;
  auto context = Context(std::chrono::seconds(600));
  Check("Flush", impl_->stub().Flush(context.get(), request, &response), response);
  mpb::GetFlushStateRequest state_request;
  state_request.set_collection_name(name);
  if (auto it = response.coll_segids().find(name); it != response.coll_segids().end()) {
    *state_request.mutable_segmentids() = it->second.data();
  }
  if (auto it = response.coll_flush_ts().find(name); it != response.coll_flush_ts().end()) {
    state_request.set_flush_ts(it->second);
  }
  const auto deadline = Clock::now() + std::chrono::minutes(30);
  while (true) {
    mpb::GetFlushStateResponse state;
    auto state_context = Context(std::chrono::seconds(60));
    Check("GetFlushState", impl_->stub().GetFlushState(state_context.get(), state_request, &state), state);
    if (state.flushed()) return;
    if (Clock::now() > deadline) throw std::runtime_error("Flush: segments not persisted after 30 minutes");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void MilvusClient::CreateIndex(const std::string& name, const std::string& index_type,
                               const std::map<std::string, int64_t>& params) {
  std::string json = "{";
  for (const auto& [key, value] : params) {
    json += (json.size() > 1 ? ", \"" : "\"") + key + "\": " + std::to_string(value);
  }
  json += "}";
  mpb::CreateIndexRequest request;
  request.set_collection_name(name);
  request.set_field_name(kVectorField);
  *request.add_extra_params() = Pair("index_type", index_type);
  *request.add_extra_params() = Pair("metric_type", "L2");
  *request.add_extra_params() = Pair("params", json);
  cpb::Status response;
  auto context = Context(std::chrono::seconds(60));
  Check("CreateIndex", impl_->stub().CreateIndex(context.get(), request, &response), response);
}

void MilvusClient::WaitIndexBuilt(const std::string& name, int64_t rows, std::chrono::seconds timeout) {
  mpb::DescribeIndexRequest request;
  request.set_collection_name(name);
  request.set_field_name(kVectorField);
  const auto deadline = Clock::now() + timeout;
  while (true) {
    mpb::DescribeIndexResponse response;
    auto context = Context(std::chrono::seconds(60));
    Check("DescribeIndex", impl_->stub().DescribeIndex(context.get(), request, &response), response);
    if (response.index_descriptions_size() != 1) throw std::runtime_error("DescribeIndex: expected one index");
    const auto& index = response.index_descriptions(0);
    if (index.state() == cpb::Failed) throw std::runtime_error("index build failed: " + index.index_state_fail_reason());
    if (index.state() == cpb::Finished && index.indexed_rows() == rows && index.total_rows() == rows) return;
    if (Clock::now() > deadline) {
      throw std::runtime_error("index not built after " + std::to_string(timeout.count()) + " s: " +
                               std::to_string(index.indexed_rows()) + " of " + std::to_string(index.total_rows()) +
                               " rows, state " + cpb::IndexState_Name(index.state()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void MilvusClient::GetVersion() {
  mpb::GetVersionRequest request;
  mpb::GetVersionResponse response;
  auto context = Context(std::chrono::seconds(10));
  Check("GetVersion", impl_->stub().GetVersion(context.get(), request, &response), response);
}

void MilvusClient::LoadAndWait(const std::string& name) {
  mpb::LoadCollectionRequest request;
  request.set_collection_name(name);
  cpb::Status response;
  auto context = Context(std::chrono::seconds(600));
  Check("LoadCollection", impl_->stub().LoadCollection(context.get(), request, &response), response);
  mpb::GetLoadingProgressRequest progress_request;
  progress_request.set_collection_name(name);
  const auto deadline = Clock::now() + std::chrono::minutes(30);
  while (true) {
    mpb::GetLoadingProgressResponse progress;
    auto progress_context = Context(std::chrono::seconds(60));
    Check("GetLoadingProgress", impl_->stub().GetLoadingProgress(progress_context.get(), progress_request, &progress),
          progress);
    if (progress.progress() >= 100) return;
    if (Clock::now() > deadline) throw std::runtime_error("LoadCollection: not loaded after 30 minutes");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void MilvusClient::Search(const SearchSettings& settings, const float* queries, int64_t count, int64_t dim,
                          int64_t* rows) {
  mpb::SearchRequest& request = impl_->SearchTemplate(settings);
  cpb::PlaceholderGroup group;
  auto* placeholder = group.add_placeholders();
  placeholder->set_tag("$0");
  placeholder->set_type(cpb::PlaceholderType::FloatVector);
  for (int64_t q = 0; q < count; ++q) {
    placeholder->add_values(reinterpret_cast<const char*>(queries + q * dim), static_cast<size_t>(dim) * sizeof(float));
  }
  request.set_placeholder_group(group.SerializeAsString());
  request.set_nq(count);
  mpb::SearchResults response;
  auto context = Context(std::chrono::seconds(60));
  Check("Search", impl_->stub().Search(context.get(), request, &response), response);
  const auto& results = response.results();
  if (results.topks_size() != count) {
    throw std::runtime_error("Search: " + std::to_string(results.topks_size()) + " result lists for " +
                             std::to_string(count) + " queries");
  }
  const auto& ids = results.ids().int_id().data();
  int64_t hit = 0;
  for (int64_t q = 0; q < count; ++q) {
    const int64_t found = results.topks(static_cast<int>(q));
    for (int64_t i = 0; i < settings.k; ++i) rows[q * settings.k + i] = i < found ? ids[static_cast<int>(hit + i)] : -1;
    hit += found;
  }
}

}  // namespace quiver::bench
