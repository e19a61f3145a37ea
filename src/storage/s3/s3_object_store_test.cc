// S3ObjectStore beyond the conformance suite (object_store_test.cc): multipart uploads,
// paged listings, credentials, key encoding, checksums. Needs the radosgw of
// scripts/backends.sh; skipped without it.
#include "storage/s3/s3_object_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <thread>

#include "common/test_util.h"
#include "storage/object_store_factory.h"
#include "storage/s3/s3_client.h"
#include "storage/s3/s3_test_util.h"
#include "storage/s3/s3_xml.h"
#include "storage/s3/sigv4.h"

namespace quiver::storage::s3 {
namespace {

using quiver::test::IsOk;
using quiver::test::RandomBytes;
using storage::test::TestS3Options;

constexpr uint64_t kMiB = 1024 * 1024;

std::vector<std::string> Keys(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> keys;
  for (const auto& object : objects) keys.push_back(object.key);
  return keys;
}

class S3ObjectStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    auto options = TestS3Options();
    if (!options) GTEST_SKIP() << "QUIVER_BACKENDS_CONFIG is not set (run with ctest, or scripts/backends.sh up)";
    options_ = *options;
  }

  std::unique_ptr<ObjectStore> Open(const S3Options& options) {
    auto store = OpenS3ObjectStore(options);
    EXPECT_TRUE(IsOk(store));
    return store.ok() ? std::move(*store) : nullptr;
  }

  // A client that talks to the service directly, bypassing the store.
  std::unique_ptr<S3Client> RawClient() const {
    return std::make_unique<S3Client>(
        S3ClientOptions{"http://" + options_.address + ":" + std::to_string(options_.port),
                        SigV4Key{options_.access_key_id, options_.secret_access_key, options_.region}});
  }

  std::string RawPath(const std::string& key) const {
    return "/" + options_.bucket + "/" + UriEncode(options_.key_prefix + key, true);
  }

  S3Options options_;
};

TEST_F(S3ObjectStoreTest, MultipartObjectRoundTripsAndRangesCrossPartBoundaries) {
  S3Options options = options_;
  options.multipart_threshold = 5 * kMiB;
  options.part_size = 5 * kMiB;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  const std::string data = RandomBytes(12 * kMiB + 123, 7);  // parts of 5, 5 and 2 MiB + 123 bytes
  ASSERT_TRUE(IsOk(store->Put("big/object", data)));

  auto got = store->Get("big/object");
  ASSERT_TRUE(IsOk(got));
  EXPECT_TRUE(*got == data) << "got " << got->size() << " bytes";
  auto listed = store->List("big/");
  ASSERT_TRUE(IsOk(listed));
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].size, data.size());

  struct Range {
    uint64_t offset, length;
  };
  for (Range r : std::vector<Range>{{5 * kMiB - 10, 20},
                                    {10 * kMiB - 1, 2},
                                    {0, 10 * kMiB + 1},
                                    {5 * kMiB, 5 * kMiB},
                                    {12 * kMiB, 1000},
                                    {data.size() - 1, 1},
                                    {data.size(), 1},
                                    {4 * kMiB, UINT64_MAX}}) {
    SCOPED_TRACE(testing::Message() << "offset " << r.offset << " length " << r.length);
    auto range = store->GetRange("big/object", r.offset, r.length);
    ASSERT_TRUE(IsOk(range));
    std::string expected = r.offset >= data.size() ? "" : data.substr(r.offset, r.length);
    EXPECT_TRUE(*range == expected) << "got " << range->size() << " bytes, expected " << expected.size();
  }

  // It really went up in three parts: S3 gives multipart objects an ETag "<hash>-<parts>".
  auto head = RawClient()->Send({.method = "HEAD", .path = RawPath("big/object")});
  ASSERT_TRUE(IsOk(head));
  EXPECT_TRUE(head->Header("etag").ends_with("-3\"")) << head->Header("etag");

  // A smaller object under the threshold goes up whole, and replacing works either way.
  ASSERT_TRUE(IsOk(store->Put("big/object", "small now")));
  EXPECT_EQ(*store->Get("big/object"), "small now");
}

TEST_F(S3ObjectStoreTest, ListingOfMoreThanAThousandKeysFollowsContinuationTokens) {
  auto store = Open(options_);
  ASSERT_NE(store, nullptr);
  constexpr int kKeys = 1234;  // S3 pages at 1000 keys
  std::vector<std::string> expected;
  for (int i = 0; i < kKeys; ++i) expected.push_back("many/" + std::to_string(i));
  std::sort(expected.begin(), expected.end());
  std::atomic<int> next{0}, failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&] {
      for (int i = next++; i < kKeys; i = next++) {
        if (!store->Put(expected[i], std::to_string(i)).ok()) ++failures;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  ASSERT_EQ(failures, 0);
  ASSERT_TRUE(IsOk(store->Put("other", "not listed under many/")));

  auto listed = store->List("many/");
  ASSERT_TRUE(IsOk(listed));
  EXPECT_EQ(Keys(*listed), expected);
  auto some = store->List("many/1");  // many/1, many/10.., many/100.., many/1000..1233
  ASSERT_TRUE(IsOk(some));
  EXPECT_EQ(some->size(), static_cast<size_t>(std::count_if(expected.begin(), expected.end(),
                                                            [](const auto& k) { return k.starts_with("many/1"); })));
  auto all = store->List("");
  ASSERT_TRUE(IsOk(all));
  EXPECT_EQ(all->size(), static_cast<size_t>(kKeys + 1));
}

TEST_F(S3ObjectStoreTest, WrongCredentialsAreAClearErrorNotARetryLoop) {
  // Were the refusal retried, this would take five minutes; it must come back at once.
  S3Options wrong_secret = options_;
  wrong_secret.secret_access_key = "not-the-secret";
  wrong_secret.retry_timeout = std::chrono::minutes(5);
  auto store = OpenS3ObjectStore(wrong_secret);
  EXPECT_EQ(store.status().code(), Code::kIoFailed);
  EXPECT_NE(store.status().reason().find("SignatureDoesNotMatch"), std::string::npos) << store.status().reason();
  EXPECT_NE(store.status().reason().find("refused access key"), std::string::npos) << store.status().reason();

  S3Options wrong_key = wrong_secret;
  wrong_key.access_key_id = "nosuchaccesskey";
  auto unknown = OpenS3ObjectStore(wrong_key);
  EXPECT_EQ(unknown.status().code(), Code::kIoFailed);
  EXPECT_NE(unknown.status().reason().find("InvalidAccessKeyId"), std::string::npos) << unknown.status().reason();
}

TEST_F(S3ObjectStoreTest, AnUnreachableServiceFailsAfterTheRetryTime) {
  S3Options closed = options_;
  closed.port = 1;  // nothing listens there
  closed.retry_timeout = std::chrono::milliseconds(500);
  auto store = OpenS3ObjectStore(closed);
  EXPECT_EQ(store.status().code(), Code::kIoFailed);
  EXPECT_NE(store.status().reason().find("127.0.0.1:1"), std::string::npos) << store.status().reason();
  EXPECT_NE(store.status().reason().find("curl error"), std::string::npos) << store.status().reason();
}

TEST_F(S3ObjectStoreTest, KeysWithSpecialCharactersRoundTrip) {
  auto store = Open(options_);
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> keys = {
      "with space/a b",   "plus+sign",         "equals=sign&amp",  "données/ключ/日本語",
      "xml<&>'\"chars",   "percent%20literal", "query?x=1#frag",   "tilde~dash-dot.under_score",
      "semi;colon,comma", "emoji/🦀",        "dollar$at@colon:", "brackets[]{}()!*"};
  for (const auto& key : keys) ASSERT_TRUE(IsOk(store->Put(key, "value of " + key))) << key;
  for (const auto& key : keys) {
    SCOPED_TRACE(key);
    auto got = store->Get(key);
    ASSERT_TRUE(IsOk(got));
    EXPECT_EQ(*got, "value of " + key);
    auto range = store->GetRange(key, 9, 1000);
    ASSERT_TRUE(IsOk(range));
    EXPECT_EQ(*range, key);
  }
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  auto listed = store->List("");
  ASSERT_TRUE(IsOk(listed));
  EXPECT_EQ(Keys(*listed), sorted);
  auto unicode = store->List("données/");
  ASSERT_TRUE(IsOk(unicode));
  EXPECT_EQ(Keys(*unicode), std::vector<std::string>{"données/ключ/日本語"});
  for (const auto& key : keys) ASSERT_TRUE(IsOk(store->Delete(key))) << key;
  auto after = store->List("");
  ASSERT_TRUE(IsOk(after));
  EXPECT_TRUE(after->empty());
}

TEST_F(S3ObjectStoreTest, AnObjectThatDoesNotMatchItsChecksumFailsToRead) {
  auto store = Open(options_);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(IsOk(store->Put("good", "intact")));
  // Written behind the store's back with a checksum that belongs to other bytes.
  auto put = RawClient()->Send({.method = "PUT",
                                .path = RawPath("bad"),
                                .headers = {{"x-amz-meta-quiver-sha256", Sha256Hex("other bytes")}},
                                .body = "damaged"});
  ASSERT_TRUE(IsOk(put));
  ASSERT_EQ(put->status, 200);

  EXPECT_TRUE(IsOk(store->Get("good")));
  auto bad = store->Get("bad");
  EXPECT_EQ(bad.status().code(), Code::kIoFailed);
  EXPECT_NE(bad.status().reason().find("SHA-256"), std::string::npos) << bad.status().reason();
}

TEST_F(S3ObjectStoreTest, KeyPrefixesKeepStoresInOneBucketApart) {
  auto first = Open(options_);
  S3Options other = options_;
  other.key_prefix = test::UniqueKeyPrefix();
  auto second = Open(other);
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(IsOk(first->Put("same/key", "first")));
  ASSERT_TRUE(IsOk(second->Put("same/key", "second")));
  EXPECT_EQ(*first->Get("same/key"), "first");
  EXPECT_EQ(*second->Get("same/key"), "second");
  ASSERT_TRUE(IsOk(first->Delete("same/key")));
  EXPECT_EQ(first->Get("same/key").status().code(), Code::kIoKeyNotFound);
  EXPECT_EQ(*second->Get("same/key"), "second");
  EXPECT_EQ(Keys(*second->List("")), std::vector<std::string>{"same/key"});
}

TEST_F(S3ObjectStoreTest, OpenCreatesAMissingBucketAndOpensAnExistingOne) {
  S3Options options = options_;
  options.bucket = "quiver-created-" + std::to_string(std::random_device{}());
  auto created = Open(options);
  ASSERT_NE(created, nullptr);
  ASSERT_TRUE(IsOk(created->Put("k", "v")));
  auto reopened = Open(options);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(*reopened->Get("k"), "v");

  // Leave the service as it was.
  ASSERT_TRUE(IsOk(reopened->Delete("k")));
  auto removed = RawClient()->Send({.method = "DELETE", .path = "/" + options.bucket});
  ASSERT_TRUE(IsOk(removed));
  EXPECT_EQ(removed->status, 204);
}

// ---- Encoding helpers (no service needed) ----------------------------------------------------

TEST(SigV4Test, UriEncodeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(UriEncode("aZ09-._~", false), "aZ09-._~");
  EXPECT_EQ(UriEncode("a b+c=d/e", false), "a%20b%2Bc%3Dd%2Fe");
  EXPECT_EQ(UriEncode("a b+c=d/e", true), "a%20b%2Bc%3Dd/e");
  EXPECT_EQ(UriEncode("é", true), "%C3%A9");
}

TEST(SigV4Test, CanonicalQuerySortsAndEncodes) {
  EXPECT_EQ(CanonicalQuery({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQuery({{"uploadId", "a/b+c"}, {"partNumber", "2"}}), "partNumber=2&uploadId=a%2Fb%2Bc");
  EXPECT_EQ(CanonicalQuery({{"prefix", "x y"}, {"list-type", "2"}, {"continuation-token", "t=="}}),
            "continuation-token=t%3D%3D&list-type=2&prefix=x%20y");
}

TEST(SigV4Test, Sha256OfNothingIsTheWellKnownDigest) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(S3XmlTest, ReadsElementsAndDecodesEntities) {
  std::string xml =
      "<R><Contents><Key>a&amp;b&lt;&#x41;&#66;&#x1F980;</Key><Size>3</Size></Contents>"
      "<Contents><Key>plain</Key><Size>10</Size></Contents><IsTruncated>false</IsTruncated></R>";
  auto contents = XmlElements(xml, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(XmlText(contents[0], "Key"), "a&b<AB\xF0\x9F\xA6\x80");
  EXPECT_EQ(XmlText(contents[1], "Size"), "10");
  EXPECT_EQ(XmlText(xml, "IsTruncated"), "false");
  EXPECT_EQ(XmlText(xml, "Missing"), std::nullopt);
  EXPECT_EQ(XmlDecode("a & b &bogus; c"), "a & b &bogus; c");
  EXPECT_EQ(XmlEscape("<a & 'b'>"), "&lt;a &amp; &apos;b&apos;&gt;");
}

}  // namespace
}  // namespace quiver::storage::s3
