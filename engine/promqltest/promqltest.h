// Runs PromQL test scripts in Prometheus' test-script language (load, clear, eval instant at,
// eval_fail, eval_ordered), with Prometheus' comparison rules and its two extra checks per
// eval: the same query as a range query (t-1m..t+1m, step 1m) compared at its middle step, and
// the query with `@ t` added to every selector and subquery evaluated at several other times.
#ifndef PAODIN_ENGINE_PROMQLTEST_PROMQLTEST_H_
#define PAODIN_ENGINE_PROMQLTEST_PROMQLTEST_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/exec/engine.h"
#include "engine/model/labels.h"
#include "engine/storage/loadable.h"

namespace paodin::engine::promqltest {

// One value of a series description: a number, an omitted sample (`_`) or a stale marker.
struct SequenceValue {
  double value = 0;
  bool omitted = false;
};

// A parsed series description line: `name{l="v"} 0+10x3 _ stale`.
struct SeriesDesc {
  Labels labels;
  std::vector<SequenceValue> values;
};

// Parses a series description (the lines of `load` blocks and of expected results). Expands
// `a+bxN` (N+1 values a, a+b, ...), `axN` (N+1 copies), `_xN` (N omitted), `stale`, `Inf`,
// `NaN`. Fails with InvalidArgument on malformed input.
absl::StatusOr<SeriesDesc> ParseSeriesDesc(std::string_view line);

// Prometheus' almostEqual: both NaN, equal, or within a relative 1e-6.
bool AlmostEqual(double a, double b);

// One failed eval.
struct Failure {
  std::string file;
  int line = 0;
  std::string expr;
  std::string message;
};

// The outcome of running scripts.
struct RunStats {
  int passed = 0;
  int failed = 0;
  std::vector<Failure> failures;
};

// Options of the runner.
struct RunOptions {
  EngineOptions engine;
  // Makes the store each script loads into (one per script); null: the simple in-memory
  // MemoryQueryable.
  std::function<std::unique_ptr<LoadableQueryable>()> make_storage;
};

// Runs one script (its text) and adds the outcome of every eval to `stats`. `file` names the
// script in failure reports. Script syntax errors count as failures of the affected command.
void RunScript(std::string_view content, std::string_view file, const RunOptions& options,
               RunStats& stats);

// Reads and runs a script file; fails with NotFound when it cannot be read.
absl::Status RunFile(const std::string& path, const RunOptions& options, RunStats& stats);

// Formats a failure for humans: file:line, the expression, and what went wrong.
std::string FormatFailure(const Failure& f);

}  // namespace paodin::engine::promqltest

#endif  // PAODIN_ENGINE_PROMQLTEST_PROMQLTEST_H_
