// Prints a PromQL tree: Prometheus' canonical String() form (what /api/v1/format_query returns
// without prettifying), and an indented tree dump for `paodin promql parse`.
#ifndef PAODIN_ENGINE_PROMQL_PRINTER_H_
#define PAODIN_ENGINE_PROMQL_PRINTER_H_

#include <string>

#include "engine/promql/ast.h"

namespace paodin::engine::promql {

// Prometheus' canonical single-line text of `e`; Parse(Print(e)) gives back the same tree.
std::string Print(const Expr& e);

// An indented, one node per line description of the tree with positions and value types.
std::string PrintTree(const Expr& e);

// A duration in Prometheus' form: "1h30m", "5m", "0s", "-5m" (largest units first).
std::string FormatDuration(int64_t ms);

}  // namespace paodin::engine::promql

#endif  // PAODIN_ENGINE_PROMQL_PRINTER_H_
