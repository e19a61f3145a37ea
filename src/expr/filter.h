// Filter: a Milvus boolean expression compiled against a collection schema.
//
// Grammar as Milvus documents it (parser.h has the precedence): comparisons and chained
// ranges (`10 < a <= 20`), `in` / `not in`, `and` / `or` / `not` (also `&&` `||` `!`),
// arithmetic (+ - * / %, and ** between constants), `like` patterns (`%`, `_`, `\`
// escapes), JSON paths (`meta["a"]["b"]`, `meta["a"][0]`), array elements (`arr[0]`),
// dynamic fields by bare name when the schema enables them (and `$meta["k"]`),
// `json_contains`, `json_contains_all` / `_any`, `array_contains` (+ `_all` / `_any`),
// `array_length`, `exists`, `is null` / `is not null`, string (single or double quotes,
// C escapes, r"raw"), integer (decimal, 0x, 0b, 0-octal), float and boolean literals, and
// template parameters `{name}` bound from the request's expr_template_values.
//
// Compile errors say what is wrong and where (1-based byte column), with code 1100:
//   cannot parse expression: "age >> 5", error: syntax error at column 6: unexpected '>'
//   cannot parse expression: "nmae > 1", error: invalid expression at column 1: field nmae not exist
// Nesting deeper than 1000 levels is refused. Rows with nulls follow Milvus (see eval.h):
// a comparison on a null is false, and so is its negation.
//
// Evaluation never throws. A compiled Filter is immutable: Evaluate may run concurrently.
#pragma once

#include <google/protobuf/map.h>

#include <cstdint>
#include <memory>
#include <optional>
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

// The primary keys the filter names when it is nothing but `pk == v` or `pk in [...]`
// (Milvus deletes such rows without reading them); nullopt for any other filter.
std::optional<spb::IDs> PrimaryKeyTerms(const Filter& filter);

}  // namespace quiver::expr
