#include "http/selector.h"

#include "absl/strings/match.h"
#include "engine/promql/ast.h"
#include "engine/promql/parser.h"
#include "engine/util/status_macros.h"

namespace paodin::http {

absl::StatusOr<MatcherSet> ParsePromqlSelector(std::string_view selector) {
  absl::StatusOr<engine::promql::ParsedQuery> parsed_or = engine::promql::Parse(selector);
  if (!parsed_or.ok()) {
    // Parse() checks what ParseMetricSelector does not: a selector whose matchers all match
    // the empty string parses there, and callers decide (match[] then fails with "match[] must
    // contain at least one non-empty matcher"). An empty set reports exactly that.
    if (absl::EndsWith(parsed_or.status().message(),
                       "vector selector must contain at least one non-empty matcher")) {
      return MatcherSet{};
    }
    return parsed_or.status();
  }
  engine::promql::ParsedQuery& parsed = *parsed_or;
  const auto* vs = parsed.root()->As<engine::promql::VectorSelector>();
  if (vs == nullptr || vs->offset_ms != 0 || vs->at != engine::promql::AtModifier::kNone) {
    return absl::InvalidArgumentError(
        "1:1: parse error: unexpected expression, expected a series selector");
  }
  return vs->matchers;
}

}  // namespace paodin::http
