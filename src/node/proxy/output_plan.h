// Which fields a query or search returns, and writing them into the response.
//
// The primary key always comes first. Names that are not schema fields are keys of the
// dynamic field ($meta) when the schema has one; `*` means every field and every
// dynamic key.
#pragma once

#include <google/protobuf/repeated_field.h>

#include <string>
#include <vector>

#include "common/status.h"
#include "schema.pb.h"

namespace quiver::proxy {

namespace spb = milvus::proto::schema;

struct OutputPlan {
  std::vector<int64_t> field_ids;         // schema fields to read, primary key first
  std::vector<std::string> dynamic_keys;  // requested $meta keys; empty with all_dynamic
  bool all_dynamic = false;
};

StatusOr<OutputPlan> PlanOutput(const spb::CollectionSchema& schema,
                                const google::protobuf::RepeatedPtrField<std::string>& names);

const spb::FieldSchema* FieldByName(const spb::CollectionSchema& schema, const std::string& name);
const spb::FieldSchema* FieldById(const spb::CollectionSchema& schema, int64_t field_id);

// Names and types the columns read per `plan` (one per plan.field_ids), trims $meta to the
// requested keys, and lists the output names SDKs use to find dynamic keys.
void WriteOutputColumns(const spb::CollectionSchema& schema, const OutputPlan& plan, std::vector<spb::FieldData> columns,
                        google::protobuf::RepeatedPtrField<spb::FieldData>* fields_data,
                        google::protobuf::RepeatedPtrField<std::string>* output_fields);

}  // namespace quiver::proxy
