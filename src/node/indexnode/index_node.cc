#include "node/indexnode/index_node.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "segment/field_data.h"
#include "segment/vector_view.h"
#include "storage/binlog.h"

namespace quiver::indexnode {

std::string IndexFileKey(const std::string& root, const quiver::data::SegmentRecord& segment, int64_t field_id,
                         int64_t index_id) {
  return (root.empty() ? "" : root + "/") + "index_files/" + std::to_string(segment.collection_id()) + "/" +
         std::to_string(segment.partition_id()) + "/" + std::to_string(segment.id()) + "/" +
         std::to_string(field_id) + "/" + std::to_string(index_id);
}

StatusOr<BuildOutput> IndexNode::Build(const BuildTask& task) {
  auto start = std::chrono::steady_clock::now();
  const milvus::proto::schema::FieldData* column = nullptr;
  milvus::proto::schema::FieldData decoded;
  for (const auto& binlog : task.segment.binlogs()) {
    if (binlog.field_id() != task.field_id) continue;
    for (const auto& key : binlog.keys()) {
      auto blob = store_->Get(key);
      if (!blob.ok()) return blob.status();
      auto part = storage::DecodeInsertBinlog(*blob);
      if (!part.ok()) return Status(part.status().code(), key + ": " + part.status().reason());
      if (!column) {
        decoded = std::move(*part);
        column = &decoded;
      } else {
        QUIVER_RETURN_IF_ERROR(segment::AppendRows(*part, &decoded));
      }
    }
  }
  if (!column) return Internal("segment " + std::to_string(task.segment.id()) + " has no binlog for field " +
                               std::to_string(task.field_id));
  const int64_t rows = segment::RowCount(*column);
  auto view = segment::ViewVectors(*column, task.spec.dim, rows);
  if (!view.ok()) return view.status();
  auto index = index::CreateVectorIndex(task.spec);
  if (!index.ok()) return index.status();
  QUIVER_RETURN_IF_ERROR((*index)->Build(view->data));
  auto blob = (*index)->Serialize();
  if (!blob.ok()) return blob.status();
  std::string key = IndexFileKey(root_, task.segment, task.field_id, task.index_id);
  QUIVER_RETURN_IF_ERROR(store_->Put(key, *blob));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("built {} index of segment {} ({} rows) in {:.2f} s", task.spec.index_type_name, task.segment.id(),
               rows, seconds);
  return BuildOutput{{key}, static_cast<int64_t>((*index)->MemoryBytes()), rows};
}

}  // namespace quiver::indexnode
