// Factories of the physical operators (internal to engine/exec). The planner wires them.
#ifndef PAODIN_ENGINE_EXEC_OPERATORS_H_
#define PAODIN_ENGINE_EXEC_OPERATORS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/exec/operator.h"
#include "engine/promql/ast.h"
#include "engine/promql/functions.h"

namespace paodin::engine::exec {

// Where a range function reads its windows from: a matrix selector (samples from the store) or
// a subquery (samples from evaluating an inner expression at its own steps).
struct RangeSource {
  SeriesStreams streams;
  int64_t range_ms = 0;
  int64_t offset_ms = 0;
  bool has_at = false;
  int64_t at_ms = 0;
  // Labels for absent_over_time when the source is a selector (empty for subqueries).
  Labels absent_labels;
};

// Selects the series of `sel` (hints give the time range) and returns them with iterators
// that are drained tile by tile during evaluation. Stale markers are dropped for matrix
// selectors (`drop_stale`).
absl::StatusOr<SeriesStreams> OpenSelector(ExecContext& ctx, const promql::VectorSelector& sel,
                                           bool drop_stale, const SelectHints& hints);

// The labels absent()/absent_over_time() give for a selector's equality matchers.
Labels AbsentLabels(const promql::VectorSelector& sel);

// The effective `@` time of a selector or subquery (start()/end() resolved), if any.
bool ResolveAt(promql::AtModifier at, int64_t at_ms, const StepRange& query, int64_t* out);

// A scalar that is the same at every step.
OperatorPtr MakeConstantOp(double v, const StepRange& range);
// time(): the step time in seconds.
OperatorPtr MakeTimeOp(const StepRange& range);
// An instant vector selector (value, or the sample's timestamp when `timestamps`).
OperatorPtr MakeVectorSelectorOp(ExecContext* ctx, SeriesStreams streams, int64_t offset_ms,
                                 bool has_at, int64_t at_ms, const StepRange& range,
                                 bool timestamps);
// A range function over windows of `source`; `args` are per-step scalar operators.
OperatorPtr MakeRangeFunctionOp(ExecContext* ctx, promql::FunctionId id, RangeSource source,
                                std::vector<OperatorPtr> args, const StepRange& range);
// An element-wise function (math, date, clamp, round) of a vector; scalar args per step.
OperatorPtr MakeInstantFunctionOp(ExecContext* ctx, promql::FunctionId id, OperatorPtr input,
                                  std::vector<OperatorPtr> args, const StepRange& range);
// timestamp() of a non-selector: the step time, name dropped.
OperatorPtr MakeStepTimestampOp(ExecContext* ctx, OperatorPtr input, const StepRange& range);
// Negation of a vector (name dropped) or a scalar.
OperatorPtr MakeNegateOp(ExecContext* ctx, OperatorPtr input, bool is_scalar,
                         const StepRange& range);
// scalar(v).
OperatorPtr MakeScalarOp(ExecContext* ctx, OperatorPtr input, const StepRange& range);
// vector(s).
OperatorPtr MakeVectorOp(ExecContext* ctx, OperatorPtr input, const StepRange& range);
// absent(v) with the given labels.
OperatorPtr MakeAbsentOp(ExecContext* ctx, OperatorPtr input, Labels labels,
                         const StepRange& range);
// sort / sort_desc.
OperatorPtr MakeSortOp(ExecContext* ctx, OperatorPtr input, bool desc, const StepRange& range);
// label_replace (string arguments already extracted).
OperatorPtr MakeLabelReplaceOp(ExecContext* ctx, OperatorPtr input, std::string dst,
                               std::string repl, std::string src, std::string regex,
                               const StepRange& range);
// label_join (string arguments already extracted).
OperatorPtr MakeLabelJoinOp(ExecContext* ctx, OperatorPtr input, std::string dst, std::string sep,
                            std::vector<std::string> srcs, const StepRange& range);
// histogram_quantile(φ, buckets).
OperatorPtr MakeHistogramQuantileOp(ExecContext* ctx, OperatorPtr phi, OperatorPtr input,
                                    const StepRange& range);
// An operator that yields nothing at any step (histogram_count/sum/fraction on float data).
OperatorPtr MakeEmptyOp(ExecContext* ctx, std::vector<OperatorPtr> inputs, const StepRange& range);
// Evaluates `input` once (a one-step range) and repeats it at every step of `range`.
OperatorPtr MakeStepInvariantOp(ExecContext* ctx, OperatorPtr input, const StepRange& range);

// Binary operators: scalar op scalar.
OperatorPtr MakeScalarBinaryOp(ExecContext* ctx, promql::BinaryOp op, OperatorPtr lhs,
                               OperatorPtr rhs, const StepRange& range);
// vector op scalar, or scalar op vector when `scalar_on_left`.
OperatorPtr MakeVectorScalarBinaryOp(ExecContext* ctx, promql::BinaryOp op, bool return_bool,
                                     OperatorPtr vec, OperatorPtr scalar, bool scalar_on_left,
                                     const StepRange& range);
// vector op vector with label matching (arithmetic, comparisons, and/or/unless).
OperatorPtr MakeVectorBinaryOp(ExecContext* ctx, promql::BinaryOp op, bool return_bool,
                               promql::VectorMatching matching, OperatorPtr lhs, OperatorPtr rhs,
                               const StepRange& range);

// Aggregations; `param` is the scalar operator of topk/bottomk/quantile (else null).
OperatorPtr MakeAggregateOp(ExecContext* ctx, promql::AggregateOp op,
                            std::vector<std::string> grouping, bool without, OperatorPtr param,
                            std::string string_param, OperatorPtr input, const StepRange& range);

// Evaluates a scalar binary operator or comparison (comparisons yield 0/1 with bool).
double ScalarBinop(promql::BinaryOp op, double lhs, double rhs);

// Vector element binop: returns the value and whether to keep it (comparisons filter).
bool VectorElemBinop(promql::BinaryOp op, double lhs, double rhs, double* out);

}  // namespace paodin::engine::exec

#endif  // PAODIN_ENGINE_EXEC_OPERATORS_H_
