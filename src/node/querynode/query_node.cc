#include "node/querynode/query_node.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/channel_names.h"
#include "common/metrics.h"
#include "segment/field_data.h"
#include "segment/vector_view.h"
#include "segment/segment_io.h"

namespace quiver::querynode {

using quiver::data::SegmentRecord;
using quiver::data::WalMessage;
using segment::Segment;

namespace {

// Time spent inside one segment's vector search (index or brute force) and the query
// vectors it answered: their ratio is the search cost per query as the server sees it,
// to set against the same index searched in a tight loop (bench/search_bench).
struct SegmentSearchMetrics {
  Histogram* seconds;
  Counter* queries;
};

const SegmentSearchMetrics& SegmentSearchMetricsOf(bool indexed) {
  static const auto resolve = [](const char* kind) {
    auto& registry = MetricsRegistry::Global();
    return SegmentSearchMetrics{
        &registry.Histogram("quiver_querynode_segment_search_seconds",
                            "Time of one segment's vector search (all query vectors of the request), by kind.",
                            {{"kind", kind}}),
        &registry.Counter("quiver_querynode_segment_search_queries_total",
                          "Query vectors searched in single segments, by kind.", {{"kind", kind}})};
  };
  static const SegmentSearchMetrics index = resolve("index");
  static const SegmentSearchMetrics brute_force = resolve("brute_force");
  return indexed ? index : brute_force;
}

}  // namespace

// One loaded collection: its segments, the consumers of its channels, and how far each
// channel has been consumed.
class QueryNode::LoadedCollection {
 public:
  LoadedCollection(const LoadSpec& spec, wal::Wal* wal, segment::SegmentStorage* storage,
                   const IndexSource* index_source)
      : spec_(spec), wal_(wal), storage_(storage), index_source_(index_source) {
    for (const auto& vchannel : spec.vchannels) {
      vchannels_.insert(vchannel);
      pchannels_[PhysicalChannelOf(vchannel)];
    }
  }
  ~LoadedCollection() { Stop(); }

  const LoadSpec& spec() const { return spec_; }

  // Sealed segments and level-zero deletes as DataCoord lists them, then consumers from
  // the checkpoints; returns once every channel is consumed to its end at call time.
  Status Load(datacoord::DataCoord* data_coord) {
    data_coord_ = data_coord;
    std::map<std::string, wal::Position> start;  // per pchannel: the lowest checkpoint
    for (const auto& vchannel : spec_.vchannels) {
      auto checkpoint = data_coord->GetCheckpoint(vchannel);
      if (!checkpoint.ok()) return checkpoint.status();
      auto pchannel = PhysicalChannelOf(vchannel);
      // A shard idle since a restart keeps an old checkpoint while its channel's moved on
      // (and the WAL below it may be gone); nothing of the shard lies between the two.
      auto channel_checkpoint = data_coord->GetCheckpoint(pchannel);
      if (!channel_checkpoint.ok()) return channel_checkpoint.status();
      checkpoint->set_position(std::max(checkpoint->position(), channel_checkpoint->position()));
      auto it = start.find(pchannel);
      if (it == start.end() || checkpoint->position() < it->second) start[pchannel] = checkpoint->position();
    }
    auto records = data_coord->ListSegments(spec_.collection_id);
    if (!records.ok()) return records.status();
    segment::DeleteBatch level_zero;
    for (const auto& record : *records) {
      if (record.state() != quiver::data::FLUSHED) continue;
      if (record.level_zero()) {
        auto deletes = storage_->LoadDeltaLogs(record);
        if (!deletes.ok()) return deletes.status();
        level_zero.Append(deletes->keys, deletes->timestamps);
        continue;
      }
      QUIVER_RETURN_IF_ERROR(AddStoredSegment(record));
    }
    {
      std::unique_lock lock(mu_);
      for (auto& [id, seg] : segments_) seg->Delete(level_zero.keys, level_zero.timestamps);
    }
    std::map<std::string, wal::Position> end;
    for (const auto& [pchannel, from] : start) {
      auto last = wal_->LastPosition(pchannel);
      if (!last.ok()) return last.status();
      end[pchannel] = *last;
    }
    for (const auto& [pchannel, from] : start) {
      auto reader = wal_->OpenReader(pchannel, from);
      if (!reader.ok()) return reader.status();
      consumers_.emplace_back([this, pchannel = pchannel, r = std::shared_ptr<wal::WalReader>(std::move(*reader))] {
        Consume(pchannel, r.get());
      });
    }
    return WaitConsumed(end);
  }

  void Stop() {
    {
      std::lock_guard lock(progress_mu_);
      stopping_ = true;
    }
    progress_cv_.notify_all();
    for (auto& consumer : consumers_) {
      if (consumer.joinable()) consumer.join();
    }
    consumers_.clear();
  }

  // Swaps a growing segment (or nothing) for its stored version, or compaction sources
  // for their result.
  void OnSegmentChange(const SegmentRecord& record) {
    if (record.level_zero()) return;  // its deletes reach us through the WAL as well
    if (record.state() == quiver::data::DROPPED) {
      // Replaced by nothing (compaction found every row deleted). Other drops are
      // replacements announced by the FLUSHED result, or segments that never held rows.
      if (record.compacted_from_size() > 0) RemoveSources(record);
      return;
    }
    {
      std::shared_lock lock(mu_);
      auto it = segments_.find(record.id());
      if (it != segments_.end() && stored_.count(record.id())) return;
    }
    Status status = AddStoredSegment(record);
    if (!status.ok()) spdlog::error("cannot load flushed segment {}: {}", record.id(), status.ToString());
  }

  Status WaitServiceable(uint64_t guarantee_ts, bool may_wait, std::chrono::milliseconds timeout) {
    std::unique_lock lock(progress_mu_);
    bool ok = progress_cv_.wait_for(lock, may_wait ? timeout : std::chrono::milliseconds(0), [&] {
      if (failure_) return true;
      for (const auto& [pchannel, progress] : pchannels_) {
        if (progress.timestamp < guarantee_ts) return false;
      }
      return true;
    });
    if (failure_) return *failure_;
    if (!ok && !may_wait) return WouldWait("catching up with the write-ahead log");
    if (!ok) {
      return Status(Code::kServiceUnavailable, "the query node could not catch up with the write-ahead log within " +
                                                   std::to_string(timeout.count()) + " ms");
    }
    return Status::OK();
  }

  void AttachIndex(int64_t segment_id, const segment::IndexFiles& files) {
    std::shared_ptr<Segment> target;
    {
      std::shared_lock lock(mu_);
      auto it = segments_.find(segment_id);
      if (it == segments_.end() || !stored_.count(segment_id)) return;  // not (yet) a stored segment here
      target = it->second;
    }
    auto index = storage_->LoadIndex(files);
    if (!index.ok()) {
      spdlog::error("cannot load index of segment {}: {}", segment_id, index.status().ToString());
      return;
    }
    target->AttachIndex(files.field_id, *index);
  }

  std::optional<wal::Position> Consumed(const std::string& pchannel) {
    std::lock_guard lock(progress_mu_);
    auto it = pchannels_.find(pchannel);
    if (it == pchannels_.end()) return std::nullopt;
    return it->second.position;
  }

  std::vector<std::shared_ptr<Segment>> Segments(const std::vector<int64_t>& partition_ids) const {
    std::shared_lock lock(mu_);
    std::vector<std::shared_ptr<Segment>> out;
    for (const auto& [id, seg] : segments_) {
      if (partition_ids.empty() || std::find(partition_ids.begin(), partition_ids.end(),
                                             seg->info().partition_id) != partition_ids.end()) {
        out.push_back(seg);
      }
    }
    return out;
  }

 private:
  struct ChannelProgress {
    wal::Position position = 0;
    uint64_t timestamp = 0;
  };

  Status AddStoredSegment(const SegmentRecord& record) {
    {
      std::shared_lock lock(mu_);
      if (replaced_.count(record.id())) return Status::OK();  // a listing older than its compaction
    }
    auto loaded = storage_->LoadSegment(record, spec_.schema);
    if (!loaded.ok()) return loaded.status();
    // Frozen before its indexes come: each index that holds its vectors replaces the column
    // as it is attached, so the column and the index are never both held for long.
    (*loaded)->Freeze();
    if (*index_source_) {
      for (const auto& files : (*index_source_)(spec_.collection_id, record.id())) {
        auto index = storage_->LoadIndex(files);
        if (!index.ok()) return index.status();
        (*loaded)->AttachIndex(files.field_id, *index);
      }
    }
    std::unique_lock lock(mu_);
    if (replaced_.count(record.id())) return Status::OK();
    // Deletes seen so far may postdate the stored rows: replay them onto the new copy.
    auto it = recent_deletes_.find(record.vchannel());
    if (it != recent_deletes_.end()) (*loaded)->Delete(it->second.keys, it->second.timestamps);
    segments_[record.id()] = *loaded;
    stored_.insert(record.id());
    RemoveSourcesLocked(record);  // in the same critical section: no read sees both or neither
    return Status::OK();
  }

  void RemoveSources(const SegmentRecord& record) {
    std::unique_lock lock(mu_);
    RemoveSourcesLocked(record);
  }

  void RemoveSourcesLocked(const SegmentRecord& record) {
    for (int64_t source : record.compacted_from()) {
      segments_.erase(source);
      stored_.erase(source);
      replaced_.insert(source);
    }
  }

  void Consume(const std::string& pchannel, wal::WalReader* reader) {
    while (true) {
      {
        std::lock_guard lock(progress_mu_);
        if (stopping_) return;
      }
      auto records = reader->Read(256, std::chrono::milliseconds(100));
      if (!records.ok()) {
        spdlog::error("query node cannot read {}: {}", pchannel, records.status().ToString());
        std::lock_guard lock(progress_mu_);
        failure_ = records.status();
        progress_cv_.notify_all();
        return;
      }
      for (const auto& record : *records) Apply(pchannel, record);
    }
  }

  void Apply(const std::string& pchannel, const wal::Record& record) {
    WalMessage message;
    if (!message.ParseFromString(record.payload)) {
      spdlog::error("corrupt WAL record {} at {}", record.position, pchannel);
    } else if (vchannels_.count(message.vchannel())) {
      ApplyData(message);
    }
    std::lock_guard lock(progress_mu_);
    auto& progress = pchannels_[pchannel];
    progress.position = record.position;
    progress.timestamp = std::max(progress.timestamp, message.timestamp());
    progress_cv_.notify_all();
  }

  void ApplyData(const WalMessage& message) {
    std::unique_lock lock(mu_);
    if (message.has_insert()) {
      const auto& insert = message.insert();
      if (stored_.count(insert.segmentid())) return;  // the stored copy already has these rows
      if (!StillGrowing(insert.segmentid())) return;
      auto& seg = segments_[insert.segmentid()];
      if (!seg) {
        seg = std::make_shared<Segment>(
            segment::SegmentInfo{insert.segmentid(), spec_.collection_id, insert.partitionid(), message.vchannel()},
            spec_.schema);
      }
      std::vector<spb::FieldData> columns(insert.fields_data().begin(), insert.fields_data().end());
      std::vector<uint64_t> timestamps(insert.timestamps().begin(), insert.timestamps().end());
      Status status = seg->Append(columns, timestamps);
      if (!status.ok()) spdlog::error("cannot apply insert to segment {}: {}", insert.segmentid(), status.ToString());
    } else if (message.has_delete_()) {
      const auto& del = message.delete_();
      std::vector<uint64_t> timestamps(del.timestamps().begin(), del.timestamps().end());
      for (auto& [id, seg] : segments_) {
        if (seg->info().vchannel == message.vchannel()) seg->Delete(del.primary_keys(), timestamps);
      }
      recent_deletes_[message.vchannel()].Append(del.primary_keys(), timestamps);
    } else if (message.has_seal()) {
      auto it = segments_.find(message.seal().segment_id());
      if (it != segments_.end()) it->second->MarkSealed();
    }
  }

  // Rows replayed from the WAL belong in memory only while their segment is GROWING: a
  // FLUSHED one is (or will be) loaded from storage, a DROPPED or forgotten one was
  // compacted away or dropped. Asked once per segment.
  bool StillGrowing(int64_t segment_id) {
    auto cached = growing_.find(segment_id);
    if (cached != growing_.end()) return cached->second;
    auto record = data_coord_->GetSegment(spec_.collection_id, segment_id);
    if (!record.ok()) {
      spdlog::error("cannot look up segment {}: {}", segment_id, record.status().ToString());
      return true;  // keep the rows: a missing row is worse than a late handoff
    }
    bool growing = record->has_value() && (*record)->state() == quiver::data::GROWING;
    growing_[segment_id] = growing;
    return growing;
  }

  Status WaitConsumed(const std::map<std::string, wal::Position>& end) {
    std::unique_lock lock(progress_mu_);
    progress_cv_.wait(lock, [&] {
      if (failure_ || stopping_) return true;
      for (const auto& [pchannel, position] : end) {
        if (pchannels_[pchannel].position < position) return false;
      }
      return true;
    });
    return failure_ ? *failure_ : Status::OK();
  }

  const LoadSpec spec_;
  wal::Wal* wal_;
  segment::SegmentStorage* storage_;
  const IndexSource* index_source_;
  std::set<std::string> vchannels_;

  mutable std::shared_mutex mu_;  // segments_, stored_, recent_deletes_
  std::map<int64_t, std::shared_ptr<Segment>> segments_;
  std::set<int64_t> stored_;    // segments loaded from object storage
  std::set<int64_t> replaced_;  // segments a compaction replaced: never load them again
  std::map<int64_t, bool> growing_;  // segment → its WAL rows belong in memory
  datacoord::DataCoord* data_coord_ = nullptr;
  // Every delete consumed since load, per vchannel, for segments loaded later.
  std::map<std::string, segment::DeleteBatch> recent_deletes_;

  std::mutex progress_mu_;
  std::condition_variable progress_cv_;
  std::map<std::string, ChannelProgress> pchannels_;
  std::optional<Status> failure_;
  bool stopping_ = false;
  std::vector<std::thread> consumers_;
};

QueryNode::QueryNode(wal::Wal* wal, storage::ObjectStore* store, datacoord::DataCoord* data_coord,
                     std::string storage_root, IndexSource index_source)
    : wal_(wal),
      storage_(store, std::move(storage_root)),
      index_source_(std::move(index_source)),
      data_coord_(data_coord) {}

QueryNode::~QueryNode() {
  watch_.reset();
  std::lock_guard lock(mu_);
  collections_.clear();
}

Status QueryNode::Start() {
  auto watch = data_coord_->WatchSegments([this](const SegmentRecord& record) { OnSegmentChange(record); });
  if (!watch.ok()) return watch.status();
  watch_ = std::move(*watch);
  return Status::OK();
}

Status QueryNode::LoadCollection(const LoadSpec& spec) {
  std::lock_guard load_lock(load_mu_);  // one load at a time keeps loads simple and bounded
  if (IsLoaded(spec.collection_id)) return Status::OK();
  auto collection = std::make_shared<LoadedCollection>(spec, wal_, &storage_, &index_source_);
  {
    std::lock_guard lock(mu_);
    loading_[spec.collection_id] = collection;  // receives flush events while it loads
  }
  Status status = collection->Load(data_coord_);
  {
    std::lock_guard lock(mu_);
    loading_.erase(spec.collection_id);
    if (!status.ok()) return status;
    collections_[spec.collection_id] = collection;
  }
  // Loading read every binlog and index into buffers now freed, and dropped the vector columns
  // that indexes replaced; glibc keeps such pages unless asked (~15 MB per 200k x 128 rows).
  malloc_trim(0);
  return Status::OK();
}

void QueryNode::ReleaseCollection(int64_t collection_id) {
  std::shared_ptr<LoadedCollection> released;
  {
    std::lock_guard lock(mu_);
    auto it = collections_.find(collection_id);
    if (it == collections_.end()) return;
    released = std::move(it->second);
    collections_.erase(it);
  }
  released->Stop();
  released.reset();
  // A released collection leaves large freed blocks behind; hand them back to the system.
  malloc_trim(0);
}

bool QueryNode::IsLoaded(int64_t collection_id) const {
  std::lock_guard lock(mu_);
  return collections_.count(collection_id) > 0;
}

std::shared_ptr<QueryNode::LoadedCollection> QueryNode::Find(int64_t collection_id) const {
  std::lock_guard lock(mu_);
  auto it = collections_.find(collection_id);
  return it == collections_.end() ? nullptr : it->second;
}

std::shared_ptr<QueryNode::LoadedCollection> QueryNode::FindLoadedOrLoading(int64_t collection_id) const {
  std::lock_guard lock(mu_);
  auto it = collections_.find(collection_id);
  if (it != collections_.end()) return it->second;
  auto loading = loading_.find(collection_id);
  return loading == loading_.end() ? nullptr : loading->second;
}

StatusOr<std::shared_ptr<QueryNode::LoadedCollection>> QueryNode::Serviceable(const ReadSpec& read) const {
  auto collection = Find(read.collection_id);
  if (!collection) {
    return Status(Code::kCollectionNotLoaded,
                  "collection not loaded[collection=" + std::to_string(read.collection_id) + "]");
  }
  QUIVER_RETURN_IF_ERROR(collection->WaitServiceable(read.guarantee_ts, read.may_wait, read.timeout));
  return collection;
}

void QueryNode::OnSegmentChange(const SegmentRecord& record) {
  if (record.state() != quiver::data::FLUSHED && record.state() != quiver::data::DROPPED) return;
  if (auto collection = FindLoadedOrLoading(record.collection_id())) collection->OnSegmentChange(record);
}

namespace {

// A matching row, identified for ordering by its primary key.
struct RowRef {
  const Segment::Reader* reader;
  int64_t row;
};

bool PkLess(const spb::FieldSchema& pk, const RowRef& a, const RowRef& b) {
  const auto* ca = a.reader->Column(pk.fieldid());
  const auto* cb = b.reader->Column(pk.fieldid());
  if (pk.data_type() == spb::VarChar) return segment::StringAt(*ca, a.row) < segment::StringAt(*cb, b.row);
  return segment::IntAt(*ca, a.row) < segment::IntAt(*cb, b.row);
}

}  // namespace

StatusOr<QueryResult> QueryNode::Query(const ReadSpec& read, const std::vector<int64_t>& output_field_ids,
                                       int64_t offset, int64_t limit) {
  auto ready = Serviceable(read);
  if (!ready.ok()) return ready.status();
  auto& collection = *ready;
  auto segments = collection->Segments(read.partition_ids);
  std::vector<std::unique_ptr<Segment::Reader>> readers;
  std::vector<RowRef> rows;
  for (const auto& seg : segments) {
    readers.push_back(std::make_unique<Segment::Reader>(seg->Read()));
    for (int64_t row : readers.back()->MatchingRows(read.filter, read.mvcc_ts)) rows.push_back({readers.back().get(), row});
  }
  if (!segments.empty()) {
    const auto& pk = segments.front()->primary_field();
    std::sort(rows.begin(), rows.end(), [&](const RowRef& a, const RowRef& b) { return PkLess(pk, a, b); });
  }
  int64_t begin = std::min<int64_t>(offset, static_cast<int64_t>(rows.size()));
  int64_t end = limit < 0 ? static_cast<int64_t>(rows.size()) : std::min<int64_t>(rows.size(), begin + limit);
  QueryResult result;
  result.num_rows = end - begin;
  for (int64_t field_id : output_field_ids) {
    spb::FieldData column;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t one_row[] = {rows[i].row};
      QUIVER_RETURN_IF_ERROR(rows[i].reader->GatherRows(field_id, one_row, &column));
    }
    result.columns.push_back(std::move(column));
  }
  return result;
}

void QueryNode::OnIndexBuilt(int64_t collection_id, int64_t segment_id, const segment::IndexFiles& files) {
  if (auto collection = FindLoadedOrLoading(collection_id)) collection->AttachIndex(segment_id, files);
}

std::optional<wal::Position> QueryNode::ConsumedFloor(const std::string& pchannel) const {
  std::vector<std::shared_ptr<LoadedCollection>> collections;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, collection] : collections_) collections.push_back(collection);
    for (const auto& [id, collection] : loading_) collections.push_back(collection);
  }
  std::optional<wal::Position> floor;
  for (const auto& collection : collections) {
    auto consumed = collection->Consumed(pchannel);
    if (consumed && (!floor || *consumed < *floor)) floor = consumed;
  }
  return floor;
}

StatusOr<int64_t> QueryNode::Count(const ReadSpec& read) {
  auto ready = Serviceable(read);
  if (!ready.ok()) return ready.status();
  auto& collection = *ready;
  int64_t count = 0;
  for (const auto& seg : collection->Segments(read.partition_ids)) count += seg->Read().CountVisible(read.filter, read.mvcc_ts);
  return count;
}

}  // namespace quiver::querynode

namespace quiver::querynode {
namespace {

struct Candidate {
  float score;
  size_t reader;  // index into the search's readers
  int64_t row;
};

bool Better(index::MetricType metric, float a, float b) { return index::LargerIsBetter(metric) ? a > b : a < b; }

}  // namespace

StatusOr<SearchHits> QueryNode::Search(const ReadSpec& read, const SearchSpec& search,
                                       const std::vector<int64_t>& output_field_ids) {
  auto ready = Serviceable(read);
  if (!ready.ok()) return ready.status();
  auto& collection = *ready;
  const int64_t nq = search.queries->rows;
  // Grouping needs more candidates than hits: several may share a group.
  const int64_t per_segment_k = search.group_by_field_id ? search.k * search.group_size * 4 : search.k;
  std::vector<std::unique_ptr<Segment::Reader>> readers;
  std::vector<std::vector<Candidate>> candidates(static_cast<size_t>(nq));
  for (const auto& seg : collection->Segments(read.partition_ids)) {
    auto reader = std::make_unique<Segment::Reader>(seg->Read());
    if (reader->num_rows() == 0) continue;
    int64_t allowed_count = 0;
    auto allowed = reader->AllowedRows(read.filter, read.mvcc_ts, &allowed_count);
    if (allowed_count == 0) continue;
    index::RowFilter filter{allowed ? allowed->data() : nullptr, allowed_count};
    auto index = seg->sealed() ? seg->IndexOf(search.field_id) : nullptr;
    StatusOr<index::SearchResult> result = Status::OK();
    const bool indexed = index && index->rows() == reader->num_rows();
    const auto started = std::chrono::steady_clock::now();
    if (indexed) {
      result = index->Search(*search.queries, per_segment_k, search.params, filter);
    } else {
      const auto* column = reader->Column(search.field_id);
      if (!column) return Internal("segment lacks vector field " + std::to_string(search.field_id));
      auto view = segment::ViewVectors(*column, search.dim, reader->num_rows());
      if (!view.ok()) return view.status();
      result = index::BruteForceSearch(view->data, search.metric, *search.queries, per_segment_k, search.params, filter);
    }
    const auto& metrics = SegmentSearchMetricsOf(indexed);
    metrics.seconds->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    metrics.queries->Inc(static_cast<double>(nq));
    if (!result.ok()) return result.status();
    readers.push_back(std::move(reader));
    for (int64_t q = 0; q < nq; ++q) {
      for (int64_t i = 0; i < result->k; ++i) {
        int64_t row = result->rows[static_cast<size_t>(q * result->k + i)];
        if (row < 0) continue;
        candidates[static_cast<size_t>(q)].push_back(
            {result->scores[static_cast<size_t>(q * result->k + i)], readers.size() - 1, row});
      }
    }
  }

  SearchHits hits;
  hits.columns.resize(output_field_ids.size());
  for (int64_t q = 0; q < nq; ++q) {
    auto& list = candidates[static_cast<size_t>(q)];
    std::stable_sort(list.begin(), list.end(),
                     [&](const Candidate& a, const Candidate& b) { return Better(search.metric, a.score, b.score); });
    std::vector<Candidate> chosen;
    if (search.group_by_field_id) {
      // The k best groups (by their best hit), up to group_size hits each, laid out group
      // after group; the first group_offset groups are skipped.
      std::vector<std::string> group_order;
      std::map<std::string, std::vector<Candidate>> groups;
      for (const auto& c : list) {
        const auto* column = readers[c.reader]->Column(*search.group_by_field_id);
        spb::FieldData one;
        const int64_t row[] = {c.row};
        segment::GatherRows(*column, row, &one);
        std::string group = one.SerializeAsString();
        auto it = groups.find(group);
        if (it == groups.end()) {
          if (static_cast<int64_t>(groups.size()) >= search.k) continue;
          it = groups.emplace(group, std::vector<Candidate>{}).first;
          group_order.push_back(group);
        }
        if (static_cast<int64_t>(it->second.size()) < search.group_size) it->second.push_back(c);
      }
      for (size_t g = static_cast<size_t>(search.group_offset); g < group_order.size(); ++g) {
        for (const auto& c : groups[group_order[g]]) {
          chosen.push_back(c);
          const int64_t row[] = {c.row};
          segment::GatherRows(*readers[c.reader]->Column(*search.group_by_field_id), row, &hits.group_values);
        }
      }
    } else {
      chosen.assign(list.begin(), list.begin() + std::min<int64_t>(search.k, static_cast<int64_t>(list.size())));
    }
    hits.topks.push_back(static_cast<int64_t>(chosen.size()));
    for (const auto& c : chosen) {
      hits.scores.push_back(c.score);
      const int64_t row[] = {c.row};
      for (size_t f = 0; f < output_field_ids.size(); ++f) {
        QUIVER_RETURN_IF_ERROR(readers[c.reader]->GatherRows(output_field_ids[f], row, &hits.columns[f]));
      }
    }
  }
  return hits;
}

}  // namespace quiver::querynode
