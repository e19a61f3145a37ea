// Filter: a Milvus boolean expression compiled against a collection schema.
//
// Grammar as Milvus documents it: comparisons and chained ranges (`10 < a <= 20`),
// `in` / `not in`, `and` / `or` / `not` (also `&&` `||` `!`), arithmetic (+ - * / %),
// `like` with prefix / infix / suffix patterns, JSON paths (`meta["a"]["b"]`, `meta["a"][0]`),
// dynamic fields by bare name when the schema enables them, `json_contains`,
// `json_contains_all` / `_any`, `array_contains` (+ `_all` / `_any`), `array_length`,
// `is null` / `is not null`, string, number and boolean literals, and template
// parameters `{name}` bound from the request's expr_template_values.
//
// Compile errors say what is wrong and where (1-based column). Evaluation never throws.
#pragma once

#include <google/protobuf/map.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "schema.pb.h"

namespace quiver::expr {

namespace spb = milvus::proto::schema;
using TemplateValues = google::protobuf::Map<std::string, spb::TemplateValue>;

// Supplies the columns a filter reads, each holding at least `end` rows.
class ColumnSource {
 public:
  virtual ~ColumnSource() = default;
  virtual const spb::FieldData* Column(int64_t field_id) const = 0;
};

class Filter {
 public:
  virtual ~Filter() = default;
  // Field IDs the filter reads (the dynamic field's when it reads dynamic keys).
  virtual const std::vector<int64_t>& field_ids() const = 0;
  // Sets (*matches)[i - begin] to 1 for each row i in [begin, end) that passes, 0 otherwise.
  virtual void Evaluate(const ColumnSource& columns, int64_t begin, int64_t end,
                        std::vector<uint8_t>* matches) const = 0;
};

// An empty or all-blank expression compiles to nullptr: every row passes.
StatusOr<std::unique_ptr<Filter>> CompileFilter(std::string_view expression, const spb::CollectionSchema& schema,
                                                const TemplateValues& params = {});

}  // namespace quiver::expr
