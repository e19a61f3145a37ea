#include "common/test_util.h"
#include "storage/object_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <stdexcept>
#include <thread>

#include "storage/object_store_factory.h"
#include "storage/s3/s3_test_util.h"

namespace quiver::storage {
namespace {

using quiver::test::IsOk;

namespace fs = std::filesystem;

using quiver::test::TempDir;

std::vector<std::string> Keys(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> keys;
  for (const auto& object : objects) keys.push_back(object.key);
  return keys;
}

// Object contents that name their version in the first 8 bytes and fill the rest from it,
// so a reader can tell a whole object from a torn or mixed one.
std::string VersionedPayload(uint64_t version, size_t size) {
  std::string payload(std::max<size_t>(size, 8), '\0');
  std::memcpy(payload.data(), &version, sizeof(version));
  std::mt19937_64 fill(version);
  for (size_t i = 8; i < payload.size(); ++i) payload[i] = static_cast<char>(fill());
  return payload;
}

// The version of a whole VersionedPayload of `size`, or -1 when the bytes are not one.
int64_t WholeVersion(const std::string& payload, size_t size) {
  if (payload.size() != size || size < 8) return -1;
  uint64_t version = 0;
  std::memcpy(&version, payload.data(), sizeof(version));
  return payload == VersionedPayload(version, size) ? static_cast<int64_t>(version) : -1;
}

// ---- Conformance suite: every ObjectStore backend must pass it ------------------------------

// One backend under test. `open` gets a fresh empty directory it may use as its namespace
// (a local root); the S3 backend takes a fresh key prefix in a shared bucket instead.
struct Backend {
  std::string name;
  std::function<StatusOr<std::unique_ptr<ObjectStore>>(const std::string& dir)> open;
  // Needs the services of scripts/backends.sh. Listed even when they are absent, so that
  // ctest (which lists the tests without them) knows the test, and skipped then.
  bool needs_services = false;
};

class ObjectStoreConformance : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().needs_services && !quiver::test::BackendsConfig()) {
      GTEST_SKIP() << "QUIVER_BACKENDS_CONFIG is not set (run with ctest, or scripts/backends.sh up)";
    }
    auto store = GetParam().open(dir_.path());
    ASSERT_TRUE(IsOk(store));
    store_ = std::move(*store);
  }

  TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(ObjectStoreConformance, GetReturnsWhatPutStored) {
  std::string binary("\0\x01\xff zero and high bytes\n", 24);
  ASSERT_TRUE(IsOk(store_->Put("files/insert_log/1/2/3/100/1", binary)));
  ASSERT_TRUE(IsOk(store_->Put("empty", "")));

  auto got = store_->Get("files/insert_log/1/2/3/100/1");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, binary);
  auto empty = store_->Get("empty");
  ASSERT_TRUE(IsOk(empty));
  EXPECT_EQ(*empty, "");
}

TEST_P(ObjectStoreConformance, PutReplacesTheObject) {
  ASSERT_TRUE(IsOk(store_->Put("k", std::string(1000, 'a'))));
  ASSERT_TRUE(IsOk(store_->Put("k", "short")));
  auto got = store_->Get("k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, "short");
  auto listed = store_->List("");
  ASSERT_TRUE(IsOk(listed));
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].size, 5u);
}

TEST_P(ObjectStoreConformance, MissingKeyIsKeyNotFound) {
  ASSERT_TRUE(IsOk(store_->Put("a/present", "x")));
  for (const std::string key : {"absent", "a/absent", "a/present/below", "a"}) {
    SCOPED_TRACE(key);
    EXPECT_EQ(store_->Get(key).status().code(), Code::kIoKeyNotFound);
    EXPECT_EQ(store_->GetRange(key, 0, 1).status().code(), Code::kIoKeyNotFound);
  }
}

TEST_P(ObjectStoreConformance, GetRangeReturnsTheBytesInRangeAndFewerAtTheEnd) {
  ASSERT_TRUE(IsOk(store_->Put("r", "0123456789")));
  struct Case {
    uint64_t offset, length;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{{0, 10, "0123456789"},
                                         {2, 3, "234"},
                                         {7, 100, "789"},
                                         {9, 1, "9"},
                                         {0, UINT64_MAX, "0123456789"},
                                         {5, 0, ""},
                                         {10, 5, ""},
                                         {1000, 5, ""}}) {
    SCOPED_TRACE(testing::Message() << "offset " << c.offset << " length " << c.length);
    auto got = store_->GetRange("r", c.offset, c.length);
    ASSERT_TRUE(IsOk(got));
    EXPECT_EQ(*got, c.expected);
  }
}

TEST_P(ObjectStoreConformance, ListReturnsMatchingKeysInAscendingOrderWithSizes) {
  // Put out of order; "seg/10/…" sorts between "seg/1/…" and "seg/2/…" as bytes do.
  for (const std::string key : {"seg/2/x", "seg/1/101/1", "other/y", "seg/10/1", "seg/1/100/2", "seg/1/100/10"}) {
    ASSERT_TRUE(IsOk(store_->Put(key, key + "!")));
  }
  auto all = store_->List("");
  ASSERT_TRUE(IsOk(all));
  EXPECT_EQ(Keys(*all), (std::vector<std::string>{"other/y", "seg/1/100/10", "seg/1/100/2", "seg/1/101/1",
                                                  "seg/10/1", "seg/2/x"}));
  for (const auto& object : *all) EXPECT_EQ(object.size, object.key.size() + 1) << object.key;

  auto by_string_prefix = store_->List("seg/1");
  ASSERT_TRUE(IsOk(by_string_prefix));
  EXPECT_EQ(Keys(*by_string_prefix), (std::vector<std::string>{"seg/1/100/10", "seg/1/100/2", "seg/1/101/1", "seg/10/1"}));

  auto by_directory = store_->List("seg/1/");
  ASSERT_TRUE(IsOk(by_directory));
  EXPECT_EQ(Keys(*by_directory), (std::vector<std::string>{"seg/1/100/10", "seg/1/100/2", "seg/1/101/1"}));

  auto partial_segment = store_->List("seg/1/100/1");
  ASSERT_TRUE(IsOk(partial_segment));
  EXPECT_EQ(Keys(*partial_segment), (std::vector<std::string>{"seg/1/100/10"}));

  auto exact_key = store_->List("other/y");
  ASSERT_TRUE(IsOk(exact_key));
  EXPECT_EQ(Keys(*exact_key), (std::vector<std::string>{"other/y"}));

  for (const std::string prefix : {"nothing/", "seg/3", "seg/2/x/"}) {
    auto none = store_->List(prefix);
    ASSERT_TRUE(IsOk(none));
    EXPECT_TRUE(none->empty()) << prefix;
  }
}

TEST_P(ObjectStoreConformance, DeleteRemovesOnlyThatObjectAndIgnoresMissingKeys) {
  ASSERT_TRUE(IsOk(store_->Put("d/1", "one")));
  ASSERT_TRUE(IsOk(store_->Put("d/2", "two")));
  ASSERT_TRUE(IsOk(store_->Delete("d/1")));
  EXPECT_EQ(store_->Get("d/1").status().code(), Code::kIoKeyNotFound);
  auto listed = store_->List("");
  ASSERT_TRUE(IsOk(listed));
  EXPECT_EQ(Keys(*listed), std::vector<std::string>{"d/2"});

  EXPECT_TRUE(IsOk(store_->Delete("d/1")));
  EXPECT_TRUE(IsOk(store_->Delete("never/there")));
  EXPECT_TRUE(IsOk(store_->Delete("d")));  // a "directory" is not an object
  auto two = store_->Get("d/2");
  ASSERT_TRUE(IsOk(two));
  EXPECT_EQ(*two, "two");

  // A deleted key can be written again.
  ASSERT_TRUE(IsOk(store_->Delete("d/2")));
  ASSERT_TRUE(IsOk(store_->Put("d/2", "again")));
  EXPECT_EQ(*store_->Get("d/2"), "again");
}

TEST_P(ObjectStoreConformance, MalformedKeysAreRejected) {
  for (const std::string& key : std::vector<std::string>{"", "/abs", "a/../b", "..", "../up", "a/..", ".", "a/./b",
                                                         "a//b", "a/", std::string("nul\0byte", 8)}) {
    SCOPED_TRACE(testing::Message() << "key '" << key << "'");
    EXPECT_EQ(store_->Put(key, "x").code(), Code::kParameterInvalid);
    EXPECT_EQ(store_->Get(key).status().code(), Code::kParameterInvalid);
    EXPECT_EQ(store_->GetRange(key, 0, 1).status().code(), Code::kParameterInvalid);
    EXPECT_EQ(store_->Delete(key).code(), Code::kParameterInvalid);
  }
  for (const std::string prefix : {"/abs", "../", "a/../", "a//"}) {
    EXPECT_EQ(store_->List(prefix).status().code(), Code::kParameterInvalid) << prefix;
  }
  auto listed = store_->List("");
  ASSERT_TRUE(IsOk(listed));
  EXPECT_TRUE(listed->empty());
}

TEST_P(ObjectStoreConformance, ConcurrentWritersAndReadersSeeOnlyWholeObjects) {
  constexpr size_t kSize = 64 * 1024;
  constexpr int kWriters = 3, kVersionsPerWriter = 15;
  ASSERT_TRUE(IsOk(store_->Put("shared", VersionedPayload(0, kSize))));
  std::atomic<bool> writing{true};
  std::atomic<int> torn_reads{0}, failed_ops{0}, reads{0};

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int v = 0; v < kVersionsPerWriter; ++v) {
        uint64_t version = 1 + w * kVersionsPerWriter + v;
        if (!store_->Put("shared", VersionedPayload(version, kSize)).ok()) ++failed_ops;
        if (!store_->Put("own/" + std::to_string(w) + "/" + std::to_string(v), "x").ok()) ++failed_ops;
      }
    });
  }
  // Puts and Deletes in one directory race to create and remove it.
  threads.emplace_back([&] {
    for (int i = 0; i < 50; ++i) {
      if (!store_->Put("churn/a", "a").ok() || !store_->Delete("churn/a").ok()) ++failed_ops;
    }
  });
  threads.emplace_back([&] {
    for (int i = 0; i < 50; ++i) {
      if (!store_->Put("churn/b", "b").ok() || !store_->Delete("churn/b").ok()) ++failed_ops;
    }
  });
  std::thread reader([&] {
    while (writing) {
      auto got = store_->Get("shared");
      if (!got.ok()) ++failed_ops;
      else if (WholeVersion(*got, kSize) < 0) ++torn_reads;
      ++reads;
    }
  });
  for (auto& t : threads) t.join();
  writing = false;
  reader.join();

  EXPECT_EQ(failed_ops, 0);
  EXPECT_EQ(torn_reads, 0) << "of " << reads << " reads";
  EXPECT_GE(WholeVersion(*store_->Get("shared"), kSize), 1);
  auto own = store_->List("own/");
  ASSERT_TRUE(IsOk(own));
  EXPECT_EQ(own->size(), static_cast<size_t>(kWriters * kVersionsPerWriter));
  auto churn = store_->List("churn/");
  ASSERT_TRUE(IsOk(churn));
  EXPECT_TRUE(churn->empty());
}

// Each test gets a fresh key prefix in the shared bucket as its namespace.
StatusOr<std::unique_ptr<ObjectStore>> OpenTestS3Store(const std::string&) {
  auto options = test::TestS3Options();
  if (!options) return Status(Code::kServiceUnavailable, "no S3 service configured");
  return OpenS3ObjectStore(*options);
}

INSTANTIATE_TEST_SUITE_P(Backends, ObjectStoreConformance,
                         testing::Values(Backend{"Local", [](const std::string& dir) { return OpenLocalObjectStore(dir); }},
                                         Backend{"S3", OpenTestS3Store, /*needs_services=*/true}),
                         [](const testing::TestParamInfo<Backend>& info) { return info.param.name; });

// ---- LocalObjectStore specifics -------------------------------------------------------------

// Every regular file under `root`, relative to it.
std::vector<std::string> FilesUnder(const std::string& root) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), root).native());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class LocalObjectStoreTest : public testing::Test {
 protected:
  std::unique_ptr<ObjectStore> Open() {
    auto store = OpenLocalObjectStore(dir_.path());
    EXPECT_TRUE(IsOk(store));
    return store.ok() ? std::move(*store) : nullptr;
  }

  TempDir dir_;
};

TEST_F(LocalObjectStoreTest, ObjectsAreFilesUnderTheRootAndNoTempFilesRemain) {
  auto store = Open();
  ASSERT_TRUE(IsOk(store->Put("a/b/c", "abc")));
  ASSERT_TRUE(IsOk(store->Put("a/b/c", "replaced")));
  ASSERT_TRUE(IsOk(store->Put("top", "t")));
  EXPECT_EQ(FilesUnder(dir_.path()), (std::vector<std::string>{"a/b/c", "top"}));
  std::ifstream file(dir_.path() + "/a/b/c");
  std::string content((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "replaced");
}

TEST_F(LocalObjectStoreTest, OpenCreatesAMissingRoot) {
  std::string nested = dir_.path() + "/not/yet/there";
  auto store = OpenLocalObjectStore(nested);
  ASSERT_TRUE(IsOk(store));
  ASSERT_TRUE(IsOk((*store)->Put("k", "v")));
  EXPECT_TRUE(fs::is_regular_file(nested + "/k"));
}

TEST_F(LocalObjectStoreTest, DeleteRemovesDirectoriesItLeftEmpty) {
  auto store = Open();
  ASSERT_TRUE(IsOk(store->Put("x/y/z/1", "1")));
  ASSERT_TRUE(IsOk(store->Put("x/keep", "k")));
  ASSERT_TRUE(IsOk(store->Delete("x/y/z/1")));
  EXPECT_FALSE(fs::exists(dir_.path() + "/x/y"));
  EXPECT_TRUE(fs::exists(dir_.path() + "/x/keep"));
  ASSERT_TRUE(IsOk(store->Delete("x/keep")));
  EXPECT_FALSE(fs::exists(dir_.path() + "/x"));
  EXPECT_TRUE(fs::is_directory(dir_.path()));
}

TEST_F(LocalObjectStoreTest, TempFileNamesAreReservedAndNeverListed) {
  auto store = Open();
  EXPECT_EQ(store->Put(".tmp-1-2", "x").code(), Code::kParameterInvalid);
  EXPECT_EQ(store->Put("a/.tmp-x/b", "x").code(), Code::kParameterInvalid);
  EXPECT_TRUE(IsOk(store->Put("a/.hidden", "dot files are fine")));
  std::ofstream(dir_.path() + "/a/.tmp-" + std::to_string(getpid()) + "-77") << "in flight";
  auto listed = store->List("");
  ASSERT_TRUE(IsOk(listed));
  EXPECT_EQ(Keys(*listed), std::vector<std::string>{"a/.hidden"});
}

pid_t DeadProcessId() {
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

TEST_F(LocalObjectStoreTest, OpenRemovesTempFilesOfWritersThatDied) {
  fs::create_directories(dir_.path() + "/seg");
  std::string abandoned = dir_.path() + "/seg/.tmp-" + std::to_string(DeadProcessId()) + "-0";
  std::string in_flight = dir_.path() + "/seg/.tmp-" + std::to_string(getpid()) + "-0";
  std::ofstream(abandoned) << "partial";
  std::ofstream(in_flight) << "partial";
  auto store = Open();
  EXPECT_FALSE(fs::exists(abandoned));
  EXPECT_TRUE(fs::exists(in_flight));
}

// A child process Puts versioned objects and reports each acknowledged Put through a pipe;
// it is SIGKILLed mid-stream. Every acknowledged object must be whole, and no object — even
// one whose Put was cut short — may be torn.
TEST_F(LocalObjectStoreTest, AcknowledgedPutsSurviveSigkillAndNoObjectIsTorn) {
  constexpr size_t kSize = 256 * 1024;
  constexpr int kAcksBeforeKill = 12;
  int acks[2];
  ASSERT_EQ(pipe(acks), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(acks[0]);
    auto store = OpenLocalObjectStore(dir_.path());
    if (!store.ok()) _exit(1);
    for (uint64_t version = 1;; ++version) {
      std::string payload = VersionedPayload(version, kSize);
      if (!(*store)->Put("crash/obj-" + std::to_string(version), payload).ok()) _exit(2);
      if (!(*store)->Put("crash/same", payload).ok()) _exit(3);
      if (write(acks[1], &version, sizeof(version)) != sizeof(version)) _exit(4);
    }
  }
  close(acks[1]);
  uint64_t last_acked = 0;
  for (int i = 0; i < kAcksBeforeKill; ++i) {
    ASSERT_EQ(read(acks[0], &last_acked, sizeof(last_acked)), static_cast<ssize_t>(sizeof(last_acked)))
        << "child stopped early";
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(acks[0]);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto store = Open();
  for (uint64_t version = 1; version <= last_acked; ++version) {
    auto got = store->Get("crash/obj-" + std::to_string(version));
    ASSERT_TRUE(IsOk(got)) << "acknowledged version " << version;
    EXPECT_EQ(WholeVersion(*got, kSize), static_cast<int64_t>(version));
  }
  auto same = store->Get("crash/same");
  ASSERT_TRUE(IsOk(same));
  EXPECT_GE(WholeVersion(*same, kSize), static_cast<int64_t>(last_acked));
  auto listed = store->List("crash/");
  ASSERT_TRUE(IsOk(listed));
  for (const auto& object : *listed) {
    auto got = store->Get(object.key);
    ASSERT_TRUE(IsOk(got));
    EXPECT_GE(WholeVersion(*got, kSize), 1) << object.key << " is torn";
  }
  // The killed writer's temp file, if any, was removed when the store was reopened.
  for (const auto& file : FilesUnder(dir_.path())) EXPECT_EQ(file.find(".tmp-"), std::string::npos) << file;
}

}  // namespace
}  // namespace quiver::storage
