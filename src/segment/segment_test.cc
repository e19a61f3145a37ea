// Segments: MVCC visibility, deletes by primary key (growing and frozen), and vector columns
// served by their index once frozen, which must read back exactly as the column did.
#include "segment/segment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "segment/field_data.h"

namespace quiver::segment {
namespace {

constexpr int64_t kPkId = 100;
constexpr int64_t kVecId = 101;
constexpr int64_t kDim = 16;

spb::CollectionSchema Schema(spb::DataType pk_type, spb::DataType vector_type = spb::FloatVector) {
  spb::CollectionSchema schema;
  auto* pk = schema.add_fields();
  pk->set_fieldid(kPkId);
  pk->set_name("pk");
  pk->set_data_type(pk_type);
  pk->set_is_primary_key(true);
  if (pk_type == spb::VarChar) {
    auto* max_length = pk->add_type_params();
    max_length->set_key("max_length");
    max_length->set_value("64");
  }
  auto* vec = schema.add_fields();
  vec->set_fieldid(kVecId);
  vec->set_name("vec");
  vec->set_data_type(vector_type);
  auto* dim = vec->add_type_params();
  dim->set_key("dim");
  dim->set_value(std::to_string(kDim));
  return schema;
}

struct Rows {
  spb::FieldData pk;
  spb::FieldData vec;
  std::vector<uint64_t> timestamps;
  std::vector<spb::FieldData> columns() const { return {pk, vec}; }
};

// `count` rows with keys first_key, first_key+1, … (as strings for VarChar), random vectors.
Rows MakeRows(const spb::CollectionSchema& schema, int64_t first_key, int64_t count, uint64_t ts, uint32_t seed = 1) {
  Rows rows{EmptyColumn(schema.fields(0)), EmptyColumn(schema.fields(1)), std::vector<uint64_t>(count, ts)};
  std::mt19937 rng(seed);
  std::normal_distribution<float> value;
  for (int64_t i = 0; i < count; ++i) {
    if (schema.fields(0).data_type() == spb::VarChar) {
      rows.pk.mutable_scalars()->mutable_string_data()->add_data("key-" + std::to_string(first_key + i));
    } else {
      rows.pk.mutable_scalars()->mutable_long_data()->add_data(first_key + i);
    }
    for (int64_t d = 0; d < kDim; ++d) rows.vec.mutable_vectors()->mutable_float_vector()->add_data(value(rng));
  }
  return rows;
}

std::shared_ptr<Segment> NewSegment(const spb::CollectionSchema& schema, const Rows& rows) {
  auto seg = std::make_shared<Segment>(SegmentInfo{1, 2, 3, "ch"}, schema);
  Status status = seg->Append(rows.columns(), rows.timestamps);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return seg;
}

std::shared_ptr<const index::VectorIndex> BuildIndex(index::IndexType type, index::MetricType metric,
                                                     const spb::FieldData& vectors) {
  index::IndexSpec spec;
  spec.type = type;
  spec.metric = metric;
  spec.dim = kDim;
  if (type == index::IndexType::kIvfFlat || type == index::IndexType::kIvfSq8) spec.build_params["nlist"] = 16;
  auto index = index::CreateVectorIndex(spec);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  const int64_t rows = RowCount(vectors);
  Status built = (*index)->Build({spb::FloatVector, kDim, rows, vectors.vectors().float_vector().data().data()});
  EXPECT_TRUE(built.ok()) << built.ToString();
  return std::shared_ptr<const index::VectorIndex>(std::move(*index));
}

spb::IDs IntKeys(std::vector<int64_t> keys) {
  spb::IDs ids;
  for (int64_t key : keys) ids.mutable_int_id()->add_data(key);
  return ids;
}

spb::IDs StrKeys(std::vector<std::string> keys) {
  spb::IDs ids;
  for (const auto& key : keys) ids.mutable_str_id()->add_data(key);
  return ids;
}

std::vector<int64_t> VisibleRows(const Segment& seg, uint64_t ts) { return seg.Read().MatchingRows(nullptr, ts); }

// The field's rows as a reader gathers them, one row per call then all at once (the way
// Query and Search gather outputs).
spb::FieldData Gathered(const Segment& seg, int64_t field_id, const std::vector<int64_t>& rows) {
  auto reader = seg.Read();
  spb::FieldData one_by_one;
  for (int64_t row : rows) {
    const int64_t one[] = {row};
    EXPECT_TRUE(reader.GatherRows(field_id, one, &one_by_one).ok());
  }
  spb::FieldData at_once;
  EXPECT_TRUE(reader.GatherRows(field_id, rows, &at_once).ok());
  EXPECT_EQ(one_by_one.SerializeAsString(), at_once.SerializeAsString());
  return at_once;
}

std::vector<int64_t> Shuffled(int64_t count) {
  std::vector<int64_t> rows(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) rows[static_cast<size_t>(i)] = (i * 37) % count;
  return rows;
}

TEST(SegmentTest, DeletesHideRowsInsertedBeforeThem) {
  const auto schema = Schema(spb::Int64);
  auto seg = NewSegment(schema, MakeRows(schema, 0, 10, 100));
  Rows later = MakeRows(schema, 5, 2, 300);  // keys 5 and 6 again (an upsert's insert)
  ASSERT_TRUE(seg->Append(later.columns(), later.timestamps).ok());
  // Key 5's delete at 300 hides row 5 only: row 10 was inserted with it.
  EXPECT_EQ(seg->Delete(IntKeys({5, 42}), {300, 300}), 1);
  EXPECT_EQ(seg->Delete(IntKeys({5}), {400}), 1);  // now row 10 too; row 5 keeps 300
  EXPECT_EQ(seg->Delete(IntKeys({5}), {250}), 0);  // earlier delete of a deleted row
  auto reader = seg->Read();
  EXPECT_TRUE(reader.Visible(5, 249));
  EXPECT_FALSE(reader.Visible(5, 250));
  EXPECT_FALSE(reader.Visible(10, 299));  // not yet inserted
  EXPECT_TRUE(reader.Visible(10, 399));
  EXPECT_FALSE(reader.Visible(10, 400));
  EXPECT_EQ(reader.CountVisible(nullptr, 200), 10);   // rows 0..9
  EXPECT_EQ(reader.CountVisible(nullptr, 350), 11);   // row 5 gone, rows 10 and 11 in
  EXPECT_EQ(reader.CountVisible(nullptr, 1000), 10);  // row 10 gone too
}

// Frozen segments find keys by bisection, growing ones by hash; rows appended after a
// freeze are still found. Both key types, with duplicate keys.
TEST(SegmentTest, KeyLookupsAnswerTheSameGrowingAndFrozen) {
  for (spb::DataType pk_type : {spb::Int64, spb::VarChar}) {
    SCOPED_TRACE(spb::DataType_Name(pk_type));
    const auto schema = Schema(pk_type);
    std::shared_ptr<Segment> segs[2];
    for (auto& seg : segs) {
      // Keys 999 down to 0, then 0..9 again: out of order, with duplicates.
      Rows rows = MakeRows(schema, 0, 1000, 100);
      auto* scalars = rows.pk.mutable_scalars();
      if (pk_type == spb::Int64) {
        std::reverse(scalars->mutable_long_data()->mutable_data()->begin(),
                     scalars->mutable_long_data()->mutable_data()->end());
      } else {
        std::reverse(scalars->mutable_string_data()->mutable_data()->begin(),
                     scalars->mutable_string_data()->mutable_data()->end());
      }
      seg = NewSegment(schema, rows);
      Rows again = MakeRows(schema, 0, 10, 200);
      ASSERT_TRUE(seg->Append(again.columns(), again.timestamps).ok());
    }
    segs[1]->Freeze();
    Rows late = MakeRows(schema, 2000, 3, 300);
    ASSERT_TRUE(segs[1]->Append(late.columns(), late.timestamps).ok());
    ASSERT_TRUE(segs[0]->Append(late.columns(), late.timestamps).ok());
    auto keys = [&](std::vector<int64_t> ints) {
      if (pk_type == spb::Int64) return IntKeys(ints);
      std::vector<std::string> strings;
      for (int64_t key : ints) strings.push_back("key-" + std::to_string(key));
      return StrKeys(strings);
    };
    for (auto& seg : segs) {
      // Key 3 is in rows 996 (reversed) and 1003, key 500 in row 499, key 2001 in row 1011.
      EXPECT_EQ(seg->Delete(keys({3, 500, 2001, 7777}), {250, 250, 350, 250}), 2 + 1 + 1 + 0);
      const std::vector<int64_t> expected_hidden = {499, 996, 1003, 1011};
      std::vector<int64_t> visible = VisibleRows(*seg, 1000);
      EXPECT_EQ(visible.size(), 1013u - expected_hidden.size());
      for (int64_t row : expected_hidden) EXPECT_FALSE(seg->Read().Visible(row, 1000)) << row;
    }
    EXPECT_EQ(VisibleRows(*segs[0], 1000), VisibleRows(*segs[1], 1000));
  }
}

TEST(SegmentTest, FrozenSegmentServesVectorsFromAnExactIndex) {
  const auto schema = Schema(spb::Int64);
  const Rows rows = MakeRows(schema, 0, 500, 100);
  const std::vector<int64_t> order = Shuffled(500);
  struct Case {
    index::IndexType type;
    index::MetricType metric;
    bool served;
  };
  const Case cases[] = {
      {index::IndexType::kHnsw, index::MetricType::kL2, true},
      {index::IndexType::kHnsw, index::MetricType::kIP, true},
      {index::IndexType::kIvfFlat, index::MetricType::kL2, true},
      {index::IndexType::kIvfFlat, index::MetricType::kIP, true},
      {index::IndexType::kFlat, index::MetricType::kL2, true},
      {index::IndexType::kFlat, index::MetricType::kIP, true},
      {index::IndexType::kHnsw, index::MetricType::kCosine, false},   // keeps normalized rows
      {index::IndexType::kFlat, index::MetricType::kCosine, false},
      {index::IndexType::kIvfSq8, index::MetricType::kL2, false},     // lossy
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(static_cast<int>(c.type)) + "/" + index::MetricName(c.metric));
    auto kept = NewSegment(schema, rows);
    kept->Freeze();
    const spb::FieldData expected = Gathered(*kept, kVecId, order);
    auto seg = NewSegment(schema, rows);
    seg->Freeze();
    seg->AttachIndex(kVecId, BuildIndex(c.type, c.metric, rows.vec));
    ASSERT_EQ(seg->ServedByIndex(kVecId), c.served);
    EXPECT_EQ(seg->Read().Column(kVecId) == nullptr, c.served);
    EXPECT_EQ(Gathered(*seg, kVecId, order).SerializeAsString(), expected.SerializeAsString());
    EXPECT_EQ(Gathered(*seg, kPkId, order).SerializeAsString(), Gathered(*kept, kPkId, order).SerializeAsString());
    // Copy (what a flush or compaction writes) holds the full column again.
    EXPECT_EQ(seg->Copy().columns.at(kVecId).SerializeAsString(), rows.vec.SerializeAsString());
    // A served column takes no more rows: they would land at the wrong offsets.
    if (c.served) {
      Rows more = MakeRows(schema, 900, 1, 200);
      EXPECT_FALSE(seg->Append(more.columns(), more.timestamps).ok());
    }
  }
}

TEST(SegmentTest, ColumnIsKeptWhereTheIndexCannotStandIn) {
  const auto schema = Schema(spb::Int64);
  const Rows rows = MakeRows(schema, 0, 300, 100);
  const auto hnsw = BuildIndex(index::IndexType::kHnsw, index::MetricType::kL2, rows.vec);
  // Not frozen (a growing segment): it may still take rows.
  auto growing = NewSegment(schema, rows);
  growing->AttachIndex(kVecId, hnsw);
  EXPECT_FALSE(growing->ServedByIndex(kVecId));
  // An index of other vectors, or of fewer rows.
  const Rows other = MakeRows(schema, 0, 300, 100, /*seed=*/2);
  auto seg = NewSegment(schema, rows);
  seg->Freeze();
  seg->AttachIndex(kVecId, BuildIndex(index::IndexType::kHnsw, index::MetricType::kL2, other.vec));
  EXPECT_FALSE(seg->ServedByIndex(kVecId));
  const Rows fewer = MakeRows(schema, 0, 299, 100);
  seg->AttachIndex(kVecId, BuildIndex(index::IndexType::kFlat, index::MetricType::kL2, fewer.vec));
  EXPECT_FALSE(seg->ServedByIndex(kVecId));
  // Attached before the freeze: the freeze lets it stand in.
  growing->Freeze();
  EXPECT_TRUE(growing->ServedByIndex(kVecId));
}

// Half-precision columns are not float32: the index's rows are not their bytes.
TEST(SegmentTest, Float16ColumnIsKept) {
  const auto schema = Schema(spb::Int64, spb::Float16Vector);
  spb::FieldData vec = EmptyColumn(schema.fields(1));
  vec.mutable_vectors()->set_float16_vector(std::string(100 * kDim * 2, '\x3c'));
  Rows rows{MakeRows(schema, 0, 100, 100).pk, vec, std::vector<uint64_t>(100, 100)};
  auto seg = NewSegment(schema, rows);
  seg->Freeze();
  std::vector<float> widened(100 * kDim, 1.0f);
  index::IndexSpec spec;
  spec.type = index::IndexType::kFlat;
  spec.dim = kDim;
  spec.vector_type = spb::Float16Vector;
  auto index = std::move(*index::CreateVectorIndex(spec));
  ASSERT_TRUE(index->Build({spb::FloatVector, kDim, 100, widened.data()}).ok());
  seg->AttachIndex(kVecId, std::move(index));
  EXPECT_FALSE(seg->ServedByIndex(kVecId));
}

// Replacing a served index with a lossy one brings the column back first.
TEST(SegmentTest, LossyIndexAfterAnExactOneRestoresTheColumn) {
  const auto schema = Schema(spb::Int64);
  const Rows rows = MakeRows(schema, 0, 400, 100);
  auto seg = NewSegment(schema, rows);
  seg->Freeze();
  seg->AttachIndex(kVecId, BuildIndex(index::IndexType::kIvfFlat, index::MetricType::kL2, rows.vec));
  ASSERT_TRUE(seg->ServedByIndex(kVecId));
  seg->AttachIndex(kVecId, BuildIndex(index::IndexType::kIvfSq8, index::MetricType::kL2, rows.vec));
  EXPECT_FALSE(seg->ServedByIndex(kVecId));
  ASSERT_NE(seg->Read().Column(kVecId), nullptr);
  EXPECT_EQ(seg->Read().Column(kVecId)->SerializeAsString(), rows.vec.SerializeAsString());
  seg->AttachIndex(kVecId, BuildIndex(index::IndexType::kHnsw, index::MetricType::kIP, rows.vec));
  EXPECT_TRUE(seg->ServedByIndex(kVecId));
  EXPECT_EQ(seg->Copy().columns.at(kVecId).SerializeAsString(), rows.vec.SerializeAsString());
}

// Readers gathering vectors while the column is dropped and restored always see the same
// bytes: the swap waits for readers, who hold the segment's shared lock.
TEST(SegmentTest, ReadersSeeTheSameVectorsWhileTheColumnIsSwapped) {
  const auto schema = Schema(spb::Int64);
  const Rows rows = MakeRows(schema, 0, 2000, 100);
  auto seg = NewSegment(schema, rows);
  seg->Freeze();
  const std::vector<int64_t> order = Shuffled(2000);
  const std::string expected = Gathered(*seg, kVecId, order).SerializeAsString();
  const auto exact = BuildIndex(index::IndexType::kHnsw, index::MetricType::kL2, rows.vec);
  const auto lossy = BuildIndex(index::IndexType::kIvfSq8, index::MetricType::kL2, rows.vec);
  std::atomic<bool> done{false};
  std::atomic<int> mismatches{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        if (Gathered(*seg, kVecId, order).SerializeAsString() != expected) ++mismatches;
        ++reads;
        // Leaves the lock free now and then: the swap waits for a moment without readers.
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  for (int i = 0; i < 20 || reads < 20; ++i) seg->AttachIndex(kVecId, i % 2 ? lossy : exact);
  done = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace quiver::segment
