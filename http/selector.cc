#include "http/selector.h"

#include "engine/promql/parser.h"

namespace paodin::http {

absl::StatusOr<MatcherSet> ParsePromqlSelector(std::string_view selector) {
  return engine::promql::ParseMetricSelector(selector);
}

}  // namespace paodin::http
