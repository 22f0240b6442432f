// The default SelectorParser: a `match[]` / `storeMatch[]` value parsed with the PromQL parser.
// Like Prometheus' parser.ParseMetricSelector, it accepts only a bare series selector.
#ifndef PAODIN_HTTP_SELECTOR_H_
#define PAODIN_HTTP_SELECTOR_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "http/backend.h"

namespace paodin::http {

// Parses `up`, `{job="x"}`, `http_requests_total{code=~"5.."}` into matchers (the metric name
// becomes __name__="..."). Fails with the parser's message for anything else. A selector whose
// matchers all match the empty string (`{job=~".*"}`) is returned as it is; the match[] check
// then reports it as Prometheus does.
absl::StatusOr<MatcherSet> ParsePromqlSelector(std::string_view selector);

}  // namespace paodin::http

#endif  // PAODIN_HTTP_SELECTOR_H_
