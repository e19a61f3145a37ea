#include "common/test_util.h"
#include "coord/rootcoord/root_coord_impl.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "meta/meta_kv_factory.h"

namespace quiver::rootcoord {
namespace {

using quiver::test::IsOk;
using quiver::test::TempDir;

using milvus::proto::common::ConsistencyLevel;
using milvus::proto::schema::CollectionSchema;
using milvus::proto::schema::DataType;
using Names = std::vector<std::string>;

int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the proxy would pass after validation: an auto-ID primary key and a vector field,
// plus a VarChar partition key when asked for.
CollectionSchema MakeSchema(int dim = 8, bool with_partition_key = false) {
  CollectionSchema schema;
  schema.set_description("test collection");
  auto* pk = schema.add_fields();
  pk->set_fieldid(100);
  pk->set_name("id");
  pk->set_is_primary_key(true);
  pk->set_autoid(true);
  pk->set_data_type(DataType::Int64);
  auto* vector = schema.add_fields();
  vector->set_fieldid(101);
  vector->set_name("vector");
  vector->set_data_type(DataType::FloatVector);
  auto* dim_param = vector->add_type_params();
  dim_param->set_key("dim");
  dim_param->set_value(std::to_string(dim));
  if (with_partition_key) {
    auto* tenant = schema.add_fields();
    tenant->set_fieldid(102);
    tenant->set_name("tenant");
    tenant->set_data_type(DataType::VarChar);
    tenant->set_is_partition_key(true);
    auto* max_length = tenant->add_type_params();
    max_length->set_key("max_length");
    max_length->set_value("64");
  }
  return schema;
}

mpb::CreateCollectionRequest CollectionRequest(const std::string& name, const std::string& db = "") {
  mpb::CreateCollectionRequest req;
  req.set_db_name(db);
  req.set_collection_name(name);
  req.set_schema(MakeSchema().SerializeAsString());
  req.set_shards_num(2);
  req.set_consistency_level(ConsistencyLevel::Bounded);
  return req;
}

mpb::CreateCollectionRequest PartitionKeyCollectionRequest(const std::string& name, int64_t num_partitions) {
  mpb::CreateCollectionRequest req = CollectionRequest(name);
  req.set_schema(MakeSchema(8, /*with_partition_key=*/true).SerializeAsString());
  req.set_num_partitions(num_partitions);
  return req;
}

template <typename Field>
Names ToNames(const Field& field) {
  return Names(field.begin(), field.end());
}

// A RootCoordImpl over an embedded MetaKV in its own directory, with thin wrappers that
// keep the tests about behaviour rather than request plumbing.
class RootCoordTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(Open()); }

  void Open() {
    auto kv = meta::OpenEmbeddedMetaKV(dir_.path());
    ASSERT_TRUE(IsOk(kv));
    kv_ = std::move(*kv);
    root_ = std::make_unique<RootCoordImpl>(kv_.get());
    ASSERT_TRUE(IsOk(root_->Init()));
  }

  // A process restart: everything in memory is dropped, only the MetaKV directory remains.
  void Reopen() {
    root_.reset();
    kv_.reset();
    ASSERT_NO_FATAL_FAILURE(Open());
  }

  Status CreateDatabase(const std::string& name) {
    mpb::CreateDatabaseRequest req;
    req.set_db_name(name);
    return root_->CreateDatabase(req);
  }
  Status DropDatabase(const std::string& name) {
    mpb::DropDatabaseRequest req;
    req.set_db_name(name);
    return root_->DropDatabase(req);
  }
  StatusOr<mpb::DescribeDatabaseResponse> DescribeDatabase(const std::string& name) {
    mpb::DescribeDatabaseRequest req;
    req.set_db_name(name);
    return root_->DescribeDatabase(req);
  }
  Names DatabaseNames() {
    auto resp = root_->ListDatabases({});
    EXPECT_TRUE(IsOk(resp));
    return ToNames(resp->db_names());
  }

  Status CreateCollection(const std::string& name, const std::string& db = "") {
    return root_->CreateCollection(CollectionRequest(name, db));
  }
  Status DropCollection(const std::string& name, const std::string& db = "") {
    mpb::DropCollectionRequest req;
    req.set_db_name(db);
    req.set_collection_name(name);
    return root_->DropCollection(req);
  }
  StatusOr<mpb::DescribeCollectionResponse> Describe(const std::string& name, const std::string& db = "") {
    mpb::DescribeCollectionRequest req;
    req.set_db_name(db);
    req.set_collection_name(name);
    return root_->DescribeCollection(req);
  }
  StatusOr<mpb::DescribeCollectionResponse> DescribeById(int64_t id) {
    mpb::DescribeCollectionRequest req;
    req.set_collectionid(id);
    return root_->DescribeCollection(req);
  }
  int64_t CollectionId(const std::string& name, const std::string& db = "") {
    auto resp = Describe(name, db);
    EXPECT_TRUE(IsOk(resp)) << name;
    return resp->collectionid();
  }
  Names CollectionNames(const std::string& db = "") {
    mpb::ShowCollectionsRequest req;
    req.set_db_name(db);
    auto resp = root_->ShowCollections(req);
    EXPECT_TRUE(IsOk(resp));
    return ToNames(resp->collection_names());
  }
  Status Rename(const std::string& old_name, const std::string& new_name, const std::string& db = "",
                const std::string& new_db = "") {
    mpb::RenameCollectionRequest req;
    req.set_db_name(db);
    req.set_oldname(old_name);
    req.set_newname(new_name);
    req.set_newdbname(new_db);
    return root_->RenameCollection(req);
  }

  Status CreatePartition(const std::string& collection, const std::string& partition) {
    mpb::CreatePartitionRequest req;
    req.set_collection_name(collection);
    req.set_partition_name(partition);
    return root_->CreatePartition(req);
  }
  Status DropPartition(const std::string& collection, const std::string& partition) {
    mpb::DropPartitionRequest req;
    req.set_collection_name(collection);
    req.set_partition_name(partition);
    return root_->DropPartition(req);
  }
  StatusOr<mpb::ShowPartitionsResponse> ShowPartitions(const std::string& collection, const Names& only = {}) {
    mpb::ShowPartitionsRequest req;
    req.set_collection_name(collection);
    for (const auto& name : only) req.add_partition_names(name);
    return root_->ShowPartitions(req);
  }
  Names PartitionNames(const std::string& collection) {
    auto resp = ShowPartitions(collection);
    EXPECT_TRUE(IsOk(resp)) << collection;
    return ToNames(resp->partition_names());
  }

  Status CreateAlias(const std::string& alias, const std::string& collection, const std::string& db = "") {
    mpb::CreateAliasRequest req;
    req.set_db_name(db);
    req.set_alias(alias);
    req.set_collection_name(collection);
    return root_->CreateAlias(req);
  }
  Status AlterAlias(const std::string& alias, const std::string& collection) {
    mpb::AlterAliasRequest req;
    req.set_alias(alias);
    req.set_collection_name(collection);
    return root_->AlterAlias(req);
  }
  Status DropAlias(const std::string& alias, const std::string& db = "") {
    mpb::DropAliasRequest req;
    req.set_db_name(db);
    req.set_alias(alias);
    return root_->DropAlias(req);
  }
  StatusOr<mpb::DescribeAliasResponse> DescribeAlias(const std::string& alias, const std::string& db = "") {
    mpb::DescribeAliasRequest req;
    req.set_db_name(db);
    req.set_alias(alias);
    return root_->DescribeAlias(req);
  }
  StatusOr<Names> AliasNames(const std::string& db = "", const std::string& collection = "") {
    mpb::ListAliasesRequest req;
    req.set_db_name(db);
    req.set_collection_name(collection);
    auto resp = root_->ListAliases(req);
    if (!resp.ok()) return resp.status();
    return ToNames(resp->aliases());
  }

  // Everything a client can read back about the catalog, as text, so two states compare
  // with ==. Timestamps and IDs are included: they must not change either.
  std::string CatalogState() {
    auto dbs = root_->ListDatabases({});
    EXPECT_TRUE(IsOk(dbs));
    std::string state = dbs->DebugString();
    for (const auto& db : dbs->db_names()) {
      state += "\n# database " + db + "\n" + DescribeDatabase(db)->DebugString();
      mpb::ShowCollectionsRequest show;
      show.set_db_name(db);
      auto collections = root_->ShowCollections(show);
      EXPECT_TRUE(IsOk(collections));
      state += collections->DebugString();
      mpb::ListAliasesRequest list_aliases;
      list_aliases.set_db_name(db);
      state += root_->ListAliases(list_aliases)->DebugString();
      for (const auto& name : collections->collection_names()) {
        state += "\n## collection " + name + "\n" + Describe(name, db)->DebugString();
        mpb::ShowPartitionsRequest partitions;
        partitions.set_db_name(db);
        partitions.set_collection_name(name);
        state += root_->ShowPartitions(partitions)->DebugString();
      }
    }
    return state;
  }

  // Runs a call that must be refused (with `code`, when given) and checks it left the
  // catalog exactly as it was.
  void ExpectRefused(const std::function<Status()>& call, std::optional<Code> code = std::nullopt) {
    std::string before = CatalogState();
    Status status = call();
    EXPECT_FALSE(status.ok()) << "the call was expected to fail";
    if (code) {
      EXPECT_EQ(status.code(), *code) << status.ToString();
    }
    EXPECT_EQ(CatalogState(), before) << "a refused call changed the catalog: " << status.ToString();
  }

  TempDir dir_;
  std::unique_ptr<meta::MetaKV> kv_;
  std::unique_ptr<RootCoordImpl> root_;
};

// ---- databases ----

TEST_F(RootCoordTest, DefaultDatabaseExistsAfterInit) {
  EXPECT_EQ(DatabaseNames(), Names{kDefaultDatabase});
  auto db = DescribeDatabase(kDefaultDatabase);
  ASSERT_TRUE(IsOk(db));
  EXPECT_EQ(db->db_name(), kDefaultDatabase);
  EXPECT_EQ(db->dbid(), 1);
  auto by_empty_name = DescribeDatabase("");
  ASSERT_TRUE(IsOk(by_empty_name));
  EXPECT_EQ(by_empty_name->db_name(), kDefaultDatabase);

  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(DatabaseNames(), Names{kDefaultDatabase}) << "Init on an existing store must not add another default";
}

TEST_F(RootCoordTest, CreateDescribeListAndDropDatabase) {
  mpb::CreateDatabaseRequest req;
  req.set_db_name("sales");
  auto* prop = req.add_properties();
  prop->set_key("database.replica.number");
  prop->set_value("1");
  int64_t before = WallClockMs();
  ASSERT_TRUE(IsOk(root_->CreateDatabase(req)));

  EXPECT_EQ(DatabaseNames(), (Names{kDefaultDatabase, "sales"}));
  auto db = DescribeDatabase("sales");
  ASSERT_TRUE(IsOk(db));
  EXPECT_EQ(db->db_name(), "sales");
  EXPECT_GT(db->dbid(), 1);
  EXPECT_GE(PhysicalMs(db->created_timestamp()), before);
  ASSERT_EQ(db->properties_size(), 1);
  EXPECT_EQ(db->properties(0).key(), "database.replica.number");

  ASSERT_TRUE(IsOk(DropDatabase("sales")));
  EXPECT_EQ(DatabaseNames(), Names{kDefaultDatabase});
  EXPECT_EQ(DescribeDatabase("sales").status().code(), Code::kDatabaseNotFound);
  EXPECT_TRUE(IsOk(DropDatabase("sales"))) << "dropping a missing database is a no-op, as in Milvus";
}

TEST_F(RootCoordTest, AlterDatabaseMergesAndDeletesProperties) {
  ASSERT_TRUE(IsOk(CreateDatabase("sales")));
  mpb::AlterDatabaseRequest set;
  set.set_db_name("sales");
  auto* a = set.add_properties();
  a->set_key("a");
  a->set_value("1");
  auto* b = set.add_properties();
  b->set_key("b");
  b->set_value("2");
  ASSERT_TRUE(IsOk(root_->AlterDatabase(set)));

  mpb::AlterDatabaseRequest update;
  update.set_db_name("sales");
  auto* a2 = update.add_properties();
  a2->set_key("a");
  a2->set_value("10");
  update.add_delete_keys("b");
  ASSERT_TRUE(IsOk(root_->AlterDatabase(update)));

  auto db = DescribeDatabase("sales");
  ASSERT_TRUE(IsOk(db));
  ASSERT_EQ(db->properties_size(), 1);
  EXPECT_EQ(db->properties(0).key(), "a");
  EXPECT_EQ(db->properties(0).value(), "10");

  update.set_db_name("missing");
  ExpectRefused([&] { return root_->AlterDatabase(update); }, Code::kDatabaseNotFound);
}

TEST_F(RootCoordTest, DuplicateDatabaseIsRefused) {
  ASSERT_TRUE(IsOk(CreateDatabase("sales")));
  ExpectRefused([&] { return CreateDatabase("sales"); });
  ExpectRefused([&] { return CreateDatabase(kDefaultDatabase); });
}

TEST_F(RootCoordTest, DefaultDatabaseCannotBeDropped) {
  ExpectRefused([&] { return DropDatabase(kDefaultDatabase); });
  EXPECT_TRUE(IsOk(DescribeDatabase(kDefaultDatabase)));
}

TEST_F(RootCoordTest, DatabaseWithCollectionsCannotBeDropped) {
  ASSERT_TRUE(IsOk(CreateDatabase("sales")));
  ASSERT_TRUE(IsOk(CreateCollection("orders", "sales")));
  ExpectRefused([&] { return DropDatabase("sales"); });

  ASSERT_TRUE(IsOk(DropCollection("orders", "sales")));
  EXPECT_TRUE(IsOk(DropDatabase("sales")));
  EXPECT_EQ(DatabaseNames(), Names{kDefaultDatabase});
}

TEST_F(RootCoordTest, AtMostSixtyFourDatabasesIncludingDefault) {
  for (int i = 1; i < kMaxDatabases; ++i) ASSERT_TRUE(IsOk(CreateDatabase("db" + std::to_string(i))));
  EXPECT_EQ(DatabaseNames().size(), size_t{kMaxDatabases});
  ExpectRefused([&] { return CreateDatabase("one_too_many"); }, Code::kDatabaseNumLimitExceeded);

  ASSERT_TRUE(IsOk(DropDatabase("db1")));
  EXPECT_TRUE(IsOk(CreateDatabase("one_too_many"))) << "dropping a database frees its slot";
}

TEST_F(RootCoordTest, DatabasesKeepCollectionNamesApart) {
  ASSERT_TRUE(IsOk(CreateDatabase("sales")));
  ASSERT_TRUE(IsOk(CreateCollection("orders")));
  ASSERT_TRUE(IsOk(CreateCollection("orders", "sales")));
  EXPECT_NE(CollectionId("orders"), CollectionId("orders", "sales"));
  EXPECT_EQ(Describe("orders", "sales")->db_name(), "sales");
  EXPECT_EQ(Describe("orders")->db_name(), kDefaultDatabase);
  ExpectRefused([&] { return CreateCollection("orders", "missing"); }, Code::kDatabaseNotFound);
}

// ---- collections ----

TEST_F(RootCoordTest, DescribeCollectionReturnsWhatWasCreated) {
  int64_t before = WallClockMs();
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  auto resp = Describe("books");
  ASSERT_TRUE(IsOk(resp));

  EXPECT_EQ(resp->collection_name(), "books");
  EXPECT_EQ(resp->db_name(), kDefaultDatabase);
  EXPECT_EQ(resp->db_id(), 1);
  EXPECT_GT(resp->collectionid(), 0);
  EXPECT_EQ(resp->shards_num(), 2);
  EXPECT_EQ(resp->virtual_channel_names_size(), 2);
  EXPECT_EQ(resp->physical_channel_names_size(), 2);
  EXPECT_NE(resp->virtual_channel_names(0), resp->virtual_channel_names(1));
  EXPECT_EQ(resp->consistency_level(), ConsistencyLevel::Bounded);
  EXPECT_GE(PhysicalMs(resp->created_timestamp()), before);
  EXPECT_EQ(static_cast<int64_t>(resp->created_utc_timestamp()), PhysicalMs(resp->created_timestamp()));
  EXPECT_TRUE(resp->schema().autoid()) << "the primary key's autoID is reported on the schema";

  CollectionSchema expected = MakeSchema();
  expected.set_name("books");
  CollectionSchema returned = resp->schema();
  returned.clear_autoid();
  returned.clear_dbname();
  EXPECT_EQ(returned.DebugString(), expected.DebugString());
}

TEST_F(RootCoordTest, CreatingTheSameCollectionTwiceSucceeds) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  int64_t id = CollectionId("books");
  std::string before = CatalogState();
  EXPECT_TRUE(IsOk(CreateCollection("books")));
  EXPECT_EQ(CatalogState(), before) << "the repeated create must not make a second collection";
  EXPECT_EQ(CollectionId("books"), id);
}

TEST_F(RootCoordTest, CreatingADifferentCollectionUnderAnExistingNameFails) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));

  auto other_schema = CollectionRequest("books");
  other_schema.set_schema(MakeSchema(/*dim=*/16).SerializeAsString());
  ExpectRefused([&] { return root_->CreateCollection(other_schema); });

  auto other_shards = CollectionRequest("books");
  other_shards.set_shards_num(4);
  ExpectRefused([&] { return root_->CreateCollection(other_shards); });

  auto partition_key = PartitionKeyCollectionRequest("books", 16);
  ExpectRefused([&] { return root_->CreateCollection(partition_key); });

  // Milvus counts the consistency level as a parameter too: accepting this would tell the
  // client its requested level is in effect when it is not.
  auto other_consistency = CollectionRequest("books");
  other_consistency.set_consistency_level(ConsistencyLevel::Strong);
  ExpectRefused([&] { return root_->CreateCollection(other_consistency); });
}

TEST_F(RootCoordTest, CollectionNameTakenByAnAliasIsRefused) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "books")));
  ExpectRefused([&] { return CreateCollection("library"); }, Code::kAliasCollectionNameConflict);
}

TEST_F(RootCoordTest, SchemaThatDoesNotParseIsRefused) {
  auto req = CollectionRequest("books");
  req.set_schema("\xff\xff\xff");
  ExpectRefused([&] { return root_->CreateCollection(req); });
}

TEST_F(RootCoordTest, DescribeByNameAliasAndIdAgree) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "books")));
  auto by_name = Describe("books");
  auto by_alias = Describe("library");
  ASSERT_TRUE(IsOk(by_name));
  ASSERT_TRUE(IsOk(by_alias));
  auto by_id = DescribeById(by_name->collectionid());
  ASSERT_TRUE(IsOk(by_id));

  EXPECT_EQ(ToNames(by_name->aliases()), Names{"library"});
  EXPECT_EQ(by_alias->collection_name(), "books");
  EXPECT_EQ(by_alias->DebugString(), by_name->DebugString());
  EXPECT_EQ(by_id->DebugString(), by_name->DebugString());
}

TEST_F(RootCoordTest, DescribeMissingCollectionFails) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  EXPECT_EQ(Describe("missing").status().code(), Code::kCollectionNotFound);
  EXPECT_EQ(DescribeById(CollectionId("books") + 1000000).status().code(), Code::kCollectionNotFound);
  EXPECT_EQ(Describe("books", "missing_db").status().code(), Code::kDatabaseNotFound);
}

TEST_F(RootCoordTest, ShowCollectionsListsInCreationOrder) {
  EXPECT_TRUE(CollectionNames().empty());
  for (const char* name : {"c", "a", "b"}) ASSERT_TRUE(IsOk(CreateCollection(name)));
  EXPECT_EQ(CollectionNames(), (Names{"c", "a", "b"}));

  mpb::ShowCollectionsRequest req;
  auto resp = root_->ShowCollections(req);
  ASSERT_TRUE(IsOk(resp));
  ASSERT_EQ(resp->collection_ids_size(), 3);
  EXPECT_EQ(resp->collection_ids(1), CollectionId("a"));
  EXPECT_EQ(resp->shards_num(0), 2);
  EXPECT_LT(resp->created_timestamps(0), resp->created_timestamps(1));
}

TEST_F(RootCoordTest, DropCollection) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreateCollection("films")));
  ASSERT_TRUE(IsOk(DropCollection("books")));
  EXPECT_EQ(CollectionNames(), Names{"films"});
  EXPECT_EQ(Describe("books").status().code(), Code::kCollectionNotFound);
  EXPECT_TRUE(IsOk(DropCollection("books"))) << "dropping a missing collection is a no-op, as in Milvus";

  // The name is free again and the new collection is a new one.
  int64_t films_id = CollectionId("films");
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  EXPECT_GT(CollectionId("books"), films_id);
}

TEST_F(RootCoordTest, DropCollectionRefusesAliases) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "books")));
  ExpectRefused([&] { return DropCollection("library"); });  // not through an alias
  ExpectRefused([&] { return DropCollection("books"); });    // nor while aliases point at it

  ASSERT_TRUE(IsOk(DropAlias("library")));
  EXPECT_TRUE(IsOk(DropCollection("books")));
}

TEST_F(RootCoordTest, AlterCollectionMergesProperties) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "books")));
  mpb::AlterCollectionRequest req;
  req.set_collection_name("library");  // through the alias
  auto* ttl = req.add_properties();
  ttl->set_key("collection.ttl.seconds");
  ttl->set_value("60");
  ASSERT_TRUE(IsOk(root_->AlterCollection(req)));

  auto resp = Describe("books");
  ASSERT_TRUE(IsOk(resp));
  ASSERT_EQ(resp->properties_size(), 1);
  EXPECT_EQ(resp->properties(0).value(), "60");

  req.set_collection_name("missing");
  ExpectRefused([&] { return root_->AlterCollection(req); }, Code::kCollectionNotFound);
}

TEST_F(RootCoordTest, ConcurrentCreatesGetDistinctIds) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_TRUE(IsOk(CreateCollection("c" + std::to_string(t) + "_" + std::to_string(i))));
      }
    });
  }
  for (auto& thread : threads) thread.join();

  auto resp = root_->ShowCollections({});
  ASSERT_TRUE(IsOk(resp));
  std::vector<int64_t> ids(resp->collection_ids().begin(), resp->collection_ids().end());
  ASSERT_EQ(ids.size(), size_t{kThreads * kPerThread});
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
}

// ---- rename ----

TEST_F(RootCoordTest, RenameWithinADatabaseKeepsIdAndAliases) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "books")));
  int64_t id = CollectionId("books");

  ASSERT_TRUE(IsOk(Rename("books", "novels")));
  EXPECT_EQ(CollectionNames(), Names{"novels"});
  EXPECT_EQ(Describe("books").status().code(), Code::kCollectionNotFound);
  auto renamed = Describe("novels");
  ASSERT_TRUE(IsOk(renamed));
  EXPECT_EQ(renamed->collectionid(), id);
  EXPECT_EQ(renamed->schema().name(), "novels");
  EXPECT_EQ(ToNames(renamed->aliases()), Names{"library"});
  EXPECT_EQ(Describe("library")->collection_name(), "novels");
  EXPECT_EQ(DescribeAlias("library")->collection(), "novels");

  EXPECT_TRUE(IsOk(CreateCollection("books"))) << "the old name is free";
}

TEST_F(RootCoordTest, RenameRefusesTakenNamesAndAliases) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreateCollection("films")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "books")));

  ExpectRefused([&] { return Rename("books", "films"); });
  ExpectRefused([&] { return Rename("books", "books"); });
  ExpectRefused([&] { return Rename("films", "library"); }, Code::kAliasCollectionNameConflict);
  ExpectRefused([&] { return Rename("library", "novels"); });  // the old name must not be an alias
  ExpectRefused([&] { return Rename("missing", "novels"); }, Code::kCollectionNotFound);
  ExpectRefused([&] { return Rename("books", "novels", "", "missing"); }, Code::kDatabaseNotFound);
}

TEST_F(RootCoordTest, RenameAcrossDatabasesMovesTheCollection) {
  ASSERT_TRUE(IsOk(CreateDatabase("archive")));
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  int64_t id = CollectionId("books");

  ASSERT_TRUE(IsOk(Rename("books", "old_books", kDefaultDatabase, "archive")));
  EXPECT_TRUE(CollectionNames().empty());
  EXPECT_EQ(CollectionNames("archive"), Names{"old_books"});
  auto moved = Describe("old_books", "archive");
  ASSERT_TRUE(IsOk(moved));
  EXPECT_EQ(moved->collectionid(), id);
  EXPECT_EQ(moved->db_name(), "archive");
  EXPECT_EQ(moved->db_id(), DescribeDatabase("archive")->dbid());

  // The collection went with its name: the archive is no longer droppable, default is empty.
  ExpectRefused([&] { return DropDatabase("archive"); });
  ASSERT_TRUE(IsOk(Rename("old_books", "books", "archive", kDefaultDatabase)));
  EXPECT_TRUE(IsOk(DropDatabase("archive")));
}

TEST_F(RootCoordTest, RenameAcrossDatabasesRefusesCollectionsWithAliasesOrNameClashes) {
  ASSERT_TRUE(IsOk(CreateDatabase("archive")));
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreateCollection("films")));
  ASSERT_TRUE(IsOk(CreateCollection("books", "archive")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "films")));
  ASSERT_TRUE(IsOk(CreateAlias("cinema", "books", "archive")));

  ExpectRefused([&] { return Rename("films", "films", kDefaultDatabase, "archive"); });  // has an alias
  ExpectRefused([&] { return Rename("books", "books", kDefaultDatabase, "archive"); });  // name taken
  ExpectRefused([&] { return Rename("books", "cinema", kDefaultDatabase, "archive"); },
                Code::kAliasCollectionNameConflict);
}

// ---- partitions ----

TEST_F(RootCoordTest, NewCollectionHasTheDefaultPartition) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  auto resp = ShowPartitions("books");
  ASSERT_TRUE(IsOk(resp));
  EXPECT_EQ(ToNames(resp->partition_names()), Names{kDefaultPartition});
  ASSERT_EQ(resp->partitionids_size(), 1);
  EXPECT_NE(resp->partitionids(0), CollectionId("books"));
  EXPECT_EQ(resp->created_timestamps(0), Describe("books")->created_timestamp());
}

TEST_F(RootCoordTest, CreateAndDropPartitions) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreatePartition("books", "2023")));
  ASSERT_TRUE(IsOk(CreatePartition("books", "2024")));
  EXPECT_EQ(PartitionNames("books"), (Names{kDefaultPartition, "2023", "2024"}));

  std::string before = CatalogState();
  EXPECT_TRUE(IsOk(CreatePartition("books", "2023"))) << "creating an existing partition is a no-op, as in Milvus";
  EXPECT_EQ(CatalogState(), before);

  auto ids = ShowPartitions("books");
  ASSERT_TRUE(IsOk(ids));
  std::vector<int64_t> sorted(ids->partitionids().begin(), ids->partitionids().end());
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());

  ASSERT_TRUE(IsOk(DropPartition("books", "2023")));
  EXPECT_EQ(PartitionNames("books"), (Names{kDefaultPartition, "2024"}));
  EXPECT_TRUE(IsOk(DropPartition("books", "2023"))) << "dropping a missing partition is a no-op, as in Milvus";
  ExpectRefused([&] { return DropPartition("books", kDefaultPartition); });
  ExpectRefused([&] { return CreatePartition("missing", "p"); }, Code::kCollectionNotFound);
}

TEST_F(RootCoordTest, ShowPartitionsFiltersByName) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreatePartition("books", "2023")));
  ASSERT_TRUE(IsOk(CreatePartition("books", "2024")));
  auto some = ShowPartitions("books", {"2024"});
  ASSERT_TRUE(IsOk(some));
  EXPECT_EQ(ToNames(some->partition_names()), Names{"2024"});
  EXPECT_EQ(ShowPartitions("books", {"2024", "1999"}).status().code(), Code::kPartitionNotFound);

  mpb::ShowPartitionsRequest by_id;
  by_id.set_collectionid(CollectionId("books"));
  auto all = root_->ShowPartitions(by_id);
  ASSERT_TRUE(IsOk(all));
  EXPECT_EQ(ToNames(all->partition_names()), (Names{kDefaultPartition, "2023", "2024"}));
}

TEST_F(RootCoordTest, PartitionKeyCollectionHasNumberedPartitionsOnly) {
  ASSERT_TRUE(IsOk(root_->CreateCollection(PartitionKeyCollectionRequest("tenants", 4))));
  EXPECT_EQ(PartitionNames("tenants"), (Names{"_default_0", "_default_1", "_default_2", "_default_3"}));
  EXPECT_EQ(Describe("tenants")->num_partitions(), 4);

  ExpectRefused([&] { return CreatePartition("tenants", "manual"); });
  ExpectRefused([&] { return DropPartition("tenants", "_default_0"); });
  EXPECT_TRUE(IsOk(root_->CreateCollection(PartitionKeyCollectionRequest("tenants", 4)))) << "identical re-create";
}

TEST_F(RootCoordTest, AtMost1024PartitionsPerCollection) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  for (int i = 1; i < kMaxPartitionsPerCollection; ++i) {
    ASSERT_TRUE(IsOk(CreatePartition("books", "p" + std::to_string(i)))) << i;
  }
  EXPECT_EQ(PartitionNames("books").size(), size_t{kMaxPartitionsPerCollection});
  ExpectRefused([&] { return CreatePartition("books", "one_too_many"); });
  EXPECT_TRUE(IsOk(CreatePartition("books", "p1"))) << "an existing partition is still a no-op at the limit";

  ASSERT_TRUE(IsOk(DropPartition("books", "p1")));
  EXPECT_TRUE(IsOk(CreatePartition("books", "one_too_many"))) << "dropping a partition frees its slot";
}

// ---- aliases ----

TEST_F(RootCoordTest, AliasLifecycle) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreateCollection("films")));
  ASSERT_TRUE(IsOk(CreateAlias("shelf", "books")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "books")));
  ASSERT_TRUE(IsOk(CreateAlias("cinema", "films")));

  auto described = DescribeAlias("library");
  ASSERT_TRUE(IsOk(described));
  EXPECT_EQ(described->alias(), "library");
  EXPECT_EQ(described->collection(), "books");
  EXPECT_EQ(described->db_name(), kDefaultDatabase);
  EXPECT_EQ(*AliasNames(), (Names{"cinema", "library", "shelf"}));
  EXPECT_EQ(*AliasNames("", "books"), (Names{"library", "shelf"}));

  ASSERT_TRUE(IsOk(AlterAlias("library", "films")));
  EXPECT_EQ(DescribeAlias("library")->collection(), "films");
  EXPECT_EQ(Describe("library")->collection_name(), "films");
  EXPECT_EQ(*AliasNames("", "books"), Names{"shelf"});
  EXPECT_EQ(ToNames(Describe("films")->aliases()), (Names{"cinema", "library"}));

  ASSERT_TRUE(IsOk(DropAlias("library")));
  EXPECT_EQ(DescribeAlias("library").status().code(), Code::kAliasNotFound);
  EXPECT_EQ(Describe("library").status().code(), Code::kCollectionNotFound);
  EXPECT_TRUE(IsOk(DropAlias("library"))) << "dropping a missing alias is a no-op, as in Milvus";
  EXPECT_EQ(*AliasNames(), (Names{"cinema", "shelf"}));
}

TEST_F(RootCoordTest, AliasConflictsAreRefused) {
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreateCollection("films")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "books")));

  EXPECT_TRUE(IsOk(CreateAlias("library", "books"))) << "the same alias again is a no-op";
  ExpectRefused([&] { return CreateAlias("library", "films"); }, Code::kAliasAlreadyExist);
  ExpectRefused([&] { return CreateAlias("films", "books"); }, Code::kAliasCollectionNameConflict);
  ExpectRefused([&] { return AlterAlias("films", "books"); }, Code::kAliasCollectionNameConflict);
  ExpectRefused([&] { return CreateAlias("shelf", "missing"); }, Code::kCollectionNotFound);
  ExpectRefused([&] { return CreateAlias("shelf", "library"); });  // no alias of an alias
  ExpectRefused([&] { return AlterAlias("shelf", "books"); }, Code::kAliasNotFound);
  ExpectRefused([&] { return CreateAlias("shelf", "books", "missing"); }, Code::kDatabaseNotFound);
  EXPECT_EQ(AliasNames("", "library").status().code(), Code::kCollectionNotFound);
}

TEST_F(RootCoordTest, AliasesBelongToTheirDatabase) {
  ASSERT_TRUE(IsOk(CreateDatabase("archive")));
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreateCollection("books", "archive")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "books")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "books", "archive")));

  EXPECT_EQ(Describe("library", "archive")->collectionid(), CollectionId("books", "archive"));
  EXPECT_EQ(Describe("library")->collectionid(), CollectionId("books"));
  ASSERT_TRUE(IsOk(DropAlias("library", "archive")));
  EXPECT_TRUE(AliasNames("archive")->empty());
  EXPECT_EQ(*AliasNames(), Names{"library"});
}

// ---- persistence ----

TEST_F(RootCoordTest, EverythingSurvivesARestart) {
  mpb::CreateDatabaseRequest sales;
  sales.set_db_name("sales");
  auto* prop = sales.add_properties();
  prop->set_key("k");
  prop->set_value("v");
  ASSERT_TRUE(IsOk(root_->CreateDatabase(sales)));
  ASSERT_TRUE(IsOk(CreateDatabase("scratch")));
  ASSERT_TRUE(IsOk(DropDatabase("scratch")));

  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreatePartition("books", "2023")));
  ASSERT_TRUE(IsOk(CreatePartition("books", "2024")));
  ASSERT_TRUE(IsOk(DropPartition("books", "2023")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "books")));
  mpb::AlterCollectionRequest alter;
  alter.set_collection_name("books");
  auto* ttl = alter.add_properties();
  ttl->set_key("collection.ttl.seconds");
  ttl->set_value("60");
  ASSERT_TRUE(IsOk(root_->AlterCollection(alter)));

  auto tenants = PartitionKeyCollectionRequest("tenants", 8);
  tenants.set_db_name("sales");
  ASSERT_TRUE(IsOk(root_->CreateCollection(tenants)));
  ASSERT_TRUE(IsOk(CreateAlias("customers", "tenants", "sales")));
  ASSERT_TRUE(IsOk(CreateCollection("films")));
  ASSERT_TRUE(IsOk(Rename("films", "movies", kDefaultDatabase, "sales")));
  ASSERT_TRUE(IsOk(CreateCollection("temporary")));
  ASSERT_TRUE(IsOk(DropCollection("temporary")));

  std::string before = CatalogState();
  auto last_ts = root_->AllocTimestamp(1);
  auto last_id = root_->AllocID(1);
  ASSERT_TRUE(IsOk(last_ts));
  ASSERT_TRUE(IsOk(last_id));

  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(CatalogState(), before);
  EXPECT_EQ(DatabaseNames(), (Names{kDefaultDatabase, "sales"}));
  EXPECT_EQ(CollectionNames("sales"), (Names{"tenants", "movies"}));
  EXPECT_EQ(PartitionNames("books"), (Names{kDefaultPartition, "2024"}));

  // Nothing handed out before the restart comes back after it.
  auto ts = root_->AllocTimestamp(1);
  auto id = root_->AllocID(1);
  ASSERT_TRUE(IsOk(ts));
  ASSERT_TRUE(IsOk(id));
  EXPECT_GT(*ts, *last_ts);
  EXPECT_GT(*id, *last_id);
  ASSERT_TRUE(IsOk(CreateCollection("after_restart")));
  EXPECT_GT(CollectionId("after_restart"), *id);
  EXPECT_GT(ShowPartitions("after_restart")->partitionids(0), *id);
  EXPECT_GT(Describe("after_restart")->created_timestamp(), *ts);
  ASSERT_TRUE(IsOk(CreateDatabase("after_restart")));
  EXPECT_GT(DescribeDatabase("after_restart")->dbid(), *id);
}

TEST_F(RootCoordTest, RefusedCallsChangeNothingDurably) {
  ASSERT_TRUE(IsOk(CreateDatabase("sales")));
  ASSERT_TRUE(IsOk(CreateCollection("books")));
  ASSERT_TRUE(IsOk(CreateCollection("films", "sales")));
  ASSERT_TRUE(IsOk(CreateAlias("library", "books")));
  ASSERT_TRUE(IsOk(root_->CreateCollection(PartitionKeyCollectionRequest("tenants", 2))));
  std::string before = CatalogState();

  auto different = CollectionRequest("books");
  different.set_shards_num(3);
  std::vector<std::function<Status()>> refused = {
      [&] { return CreateDatabase("sales"); },
      [&] { return DropDatabase(kDefaultDatabase); },
      [&] { return DropDatabase("sales"); },
      [&] { return root_->CreateCollection(different); },
      [&] { return CreateCollection("library"); },
      [&] { return CreateCollection("x", "missing"); },
      [&] { return DropCollection("library"); },
      [&] { return DropCollection("books"); },
      [&] { return Rename("books", "library"); },
      [&] { return Rename("books", "tenants"); },
      [&] { return Rename("books", "b", kDefaultDatabase, "sales"); },
      [&] { return DropPartition("books", kDefaultPartition); },
      [&] { return CreatePartition("tenants", "manual"); },
      [&] { return CreateAlias("library", "tenants"); },
      [&] { return CreateAlias("books", "tenants"); },
      [&] { return AlterAlias("missing", "books"); },
  };
  for (size_t i = 0; i < refused.size(); ++i) {
    SCOPED_TRACE("refused call #" + std::to_string(i));
    ExpectRefused(refused[i]);
  }
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(CatalogState(), before);
}

}  // namespace
}  // namespace quiver::rootcoord
