// Turning batches of evaluation steps (step-major) into the per-series points of a range
// query's matrix result (series-major). Internal to engine/exec.
#ifndef PAODIN_ENGINE_EXEC_RESULT_BUILDER_H_
#define PAODIN_ENGINE_EXEC_RESULT_BUILDER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "engine/exec/engine.h"
#include "engine/exec/operator.h"

namespace paodin::engine::exec {

// Appends the points of `steps` (consecutive evaluation steps of one batch) to out[id] for every
// series id in [lo, hi): out[id] gets (t, value) for each step where id is present, in step
// order. Other ids are left alone, so tasks owning disjoint id ranges may run concurrently.
// `steps_left` counts the steps from the batch's first to the query's last: a series present at
// every step of a batch gets room for a point at each step left, so a dense series grows once.
// Steps whose ids increase (what selectors and range functions produce) are walked series by
// series, writing each series' points contiguously; other batches are scattered step by step.
// REQUIRES: hi <= out.size(), every id < out.size().
void AppendBatchToSeries(std::span<const StepVector> steps, uint32_t lo, uint32_t hi,
                         int64_t steps_left, std::vector<ResultSeries>& out);

}  // namespace paodin::engine::exec

#endif  // PAODIN_ENGINE_EXEC_RESULT_BUILDER_H_
