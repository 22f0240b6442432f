// The PromQL parser: Prometheus 2.42's grammar and parse-time checks, with its error messages.
#ifndef PAODIN_ENGINE_PROMQL_PARSER_H_
#define PAODIN_ENGINE_PROMQL_PARSER_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "engine/promql/ast.h"

namespace paodin::engine::promql {

// Limits of one parse.
struct ParseOptions {
  // Deeper nesting of parentheses, calls, aggregations and operators is a parse error rather
  // than a stack overflow.
  int max_depth = 500;
};

// Parses `query` into a tree. Errors are InvalidArgument with Prometheus' text and position,
// "1:14: parse error: unexpected <by>" (line:column, both 1-based, column in bytes).
absl::StatusOr<ParsedQuery> Parse(std::string_view query, const ParseOptions& options = {});

}  // namespace paodin::engine::promql

#endif  // PAODIN_ENGINE_PROMQL_PARSER_H_
