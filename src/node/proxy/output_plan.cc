#include "node/proxy/output_plan.h"

#include <nlohmann/json.hpp>
#include <set>

#include "segment/field_data.h"

namespace quiver::proxy {
namespace {

const spb::FieldSchema* DynamicField(const spb::CollectionSchema& schema) {
  for (const auto& field : schema.fields()) {
    if (field.is_dynamic()) return &field;
  }
  return nullptr;
}

// Keeps only the requested keys of each $meta value.
void ProjectDynamic(const std::vector<std::string>& keys, spb::FieldData* column) {
  for (auto& value : *column->mutable_scalars()->mutable_json_data()->mutable_data()) {
    auto parsed = nlohmann::json::parse(value, nullptr, false);
    if (!parsed.is_object()) continue;
    nlohmann::json kept = nlohmann::json::object();
    for (const auto& key : keys) {
      if (parsed.contains(key)) kept[key] = parsed[key];
    }
    value = kept.dump();
  }
}

}  // namespace

const spb::FieldSchema* FieldByName(const spb::CollectionSchema& schema, const std::string& name) {
  for (const auto& field : schema.fields()) {
    if (field.name() == name) return &field;
  }
  return nullptr;
}

const spb::FieldSchema* FieldById(const spb::CollectionSchema& schema, int64_t field_id) {
  for (const auto& field : schema.fields()) {
    if (field.fieldid() == field_id) return &field;
  }
  return nullptr;
}

StatusOr<OutputPlan> PlanOutput(const spb::CollectionSchema& schema,
                                const google::protobuf::RepeatedPtrField<std::string>& names) {
  OutputPlan plan;
  std::set<int64_t> chosen;
  auto add = [&](const spb::FieldSchema& field) {
    if (chosen.insert(field.fieldid()).second) plan.field_ids.push_back(field.fieldid());
  };
  for (const auto& field : schema.fields()) {
    if (field.is_primary_key()) add(field);
  }
  const spb::FieldSchema* dynamic = DynamicField(schema);
  for (const auto& name : names) {
    if (name == "*") {
      for (const auto& field : schema.fields()) add(field);
      plan.all_dynamic = dynamic != nullptr;
      continue;
    }
    if (const auto* field = FieldByName(schema, name)) {
      add(*field);
      if (field->is_dynamic()) plan.all_dynamic = true;
    } else if (dynamic) {
      add(*dynamic);
      plan.dynamic_keys.push_back(name);
    } else {
      return InvalidParameter("field " + name + " not exist");
    }
  }
  if (plan.all_dynamic) plan.dynamic_keys.clear();
  return plan;
}

void WriteOutputColumns(const spb::CollectionSchema& schema, const OutputPlan& plan, std::vector<spb::FieldData> columns,
                        google::protobuf::RepeatedPtrField<spb::FieldData>* fields_data,
                        google::protobuf::RepeatedPtrField<std::string>* output_fields) {
  for (size_t i = 0; i < plan.field_ids.size(); ++i) {
    const spb::FieldSchema* field = FieldById(schema, plan.field_ids[i]);
    spb::FieldData out = segment::EmptyColumn(*field);
    if (i < columns.size() && (segment::RowCount(columns[i]) > 0 || !columns[i].valid_data().empty())) {
      out = std::move(columns[i]);
    }
    out.set_field_id(field->fieldid());
    out.set_field_name(field->name());
    out.set_type(field->data_type());
    out.set_is_dynamic(field->is_dynamic());
    if (field->is_dynamic() && !plan.dynamic_keys.empty()) ProjectDynamic(plan.dynamic_keys, &out);
    *fields_data->Add() = std::move(out);
    // SDKs read dynamic keys out of $meta by the names listed here (pymilvus flattens them).
    if (!field->is_dynamic() || plan.all_dynamic) *output_fields->Add() = field->name();
  }
  for (const auto& key : plan.dynamic_keys) *output_fields->Add() = key;
}

}  // namespace quiver::proxy
