// The default SelectorParser: a `match[]` / `storeMatch[]` value parsed with the PromQL parser.
// Prometheus uses parser.ParseMetricSelector, which accepts only a bare series selector; until
// the parser offers that entry point, this parses a full expression and accepts it only when it
// is a plain vector selector.
#ifndef PAODIN_HTTP_SELECTOR_H_
#define PAODIN_HTTP_SELECTOR_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "http/backend.h"

namespace paodin::http {

// Parses `up`, `{job="x"}`, `http_requests_total{code=~"5.."}` into matchers (the metric name
// becomes __name__="..."). Fails with the parser's message, or, for any other expression,
// `1:1: parse error: unexpected expression, expected a series selector`. A selector whose
// matchers all match the empty string (`{job=~".*"}`) gives an empty set, so that the match[]
// check reports it as Prometheus does.
absl::StatusOr<MatcherSet> ParsePromqlSelector(std::string_view selector);

}  // namespace paodin::http

#endif  // PAODIN_HTTP_SELECTOR_H_
