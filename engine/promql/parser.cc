#include "engine/promql/parser.h"

namespace paodin::engine::promql {

absl::StatusOr<ParsedQuery> Parse(std::string_view query, const ParseOptions& options) {
  return absl::UnimplementedError("promql parser: not implemented yet");
}

}  // namespace paodin::engine::promql
