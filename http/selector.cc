#include "http/selector.h"

#include "engine/promql/ast.h"
#include "engine/promql/parser.h"
#include "engine/util/status_macros.h"

namespace paodin::http {

absl::StatusOr<MatcherSet> ParsePromqlSelector(std::string_view selector) {
  PAODIN_ASSIGN_OR_RETURN(engine::promql::ParsedQuery parsed, engine::promql::Parse(selector));
  const auto* vs = parsed.root()->As<engine::promql::VectorSelector>();
  if (vs == nullptr || vs->offset_ms != 0 || vs->at != engine::promql::AtModifier::kNone) {
    return absl::InvalidArgumentError(
        "1:1: parse error: unexpected expression, expected a series selector");
  }
  return vs->matchers;
}

}  // namespace paodin::http
