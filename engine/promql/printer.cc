#include "engine/promql/printer.h"

namespace paodin::engine::promql {

std::string Print(const Expr& e) { return ""; }

std::string PrintTree(const Expr& e) { return ""; }

std::string FormatDuration(int64_t ms) { return ""; }

}  // namespace paodin::engine::promql
