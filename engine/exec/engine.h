// The PromQL engine API: instant and range queries over a Queryable, with Prometheus 2.42
// semantics.
//
//   Engine engine(EngineOptions{});
//   PAODIN_ASSIGN_OR_RETURN(QueryResult r, engine.InstantQuery(store, "sum(rate(x[5m]))", t));
//
// Errors (absl::Status codes): InvalidArgument for parse and bad-input errors (Prometheus'
// "bad_data"); FailedPrecondition for evaluation errors ("execution": duplicate series,
// many-to-many matching, invalid function arguments); ResourceExhausted for too many samples;
// DeadlineExceeded for a timeout; Cancelled for a cancellation.
#ifndef PAODIN_ENGINE_EXEC_ENGINE_H_
#define PAODIN_ENGINE_EXEC_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/labels.h"
#include "engine/promql/ast.h"
#include "engine/storage/queryable.h"

namespace paodin::engine {

// Engine-wide settings (per-query overrides in QueryOptions).
struct EngineOptions {
  // How far back an instant selector looks for a sample (Prometheus --query.lookback-delta).
  int64_t lookback_delta_ms = 5 * 60 * 1000;
  // The step of subqueries written without one (`x[1h:]`).
  int64_t default_eval_interval_ms = 60 * 1000;
  // The most samples a query may hold (Prometheus --query.max-samples).
  int64_t max_samples = 50'000'000;
  // Threads a query works on: its own and threads - 1 workers the engine shares between queries.
  int threads = 1;
  // Per-query timeout (0 = none).
  int64_t timeout_ms = 2 * 60 * 1000;
  // Operators with fewer series than this stay on one thread (tests lower it to exercise the
  // parallel paths on small data).
  int64_t parallel_min_series = 256;
};

// Per-query settings; zero values take the engine's.
struct QueryOptions {
  int64_t lookback_delta_ms = 0;
  int64_t timeout_ms = 0;
  // > 0: the query runs on this many threads of its own (started and joined by the query)
  // instead of the engine's shared workers.
  int threads = 0;
  // Set to true (from any thread) to cancel the query; may be null.
  const std::atomic<bool>* cancel = nullptr;
};

// The type of a query result.
enum class ResultType { kScalar, kString, kVector, kMatrix };

// One series of a result: a vector element has exactly one point (at the evaluation time).
struct ResultSeries {
  Labels labels;
  std::vector<int64_t> ts;
  std::vector<double> vs;
};

// Statistics of one query.
struct QueryStats {
  int64_t samples_scanned = 0;
  int64_t peak_samples = 0;
  // CPU time, in ns, of every thread that worked on the query: the caller's thread first, then,
  // when the query asked for its own threads (QueryOptions::threads), its workers; the largest
  // entry is the query's critical path on idle cores. The engine's shared workers are not
  // counted (they serve every query).
  std::vector<int64_t> thread_cpu_ns;
};

// The value of a query.
struct QueryResult {
  ResultType type = ResultType::kVector;
  // Vector: one point per series, in Prometheus' order. Matrix: sorted by labels.
  std::vector<ResultSeries> series;
  // Scalar: the value and time.
  double scalar = 0;
  int64_t t_ms = 0;
  // String value.
  std::string str;
  std::vector<std::string> warnings;
  QueryStats stats;
};

namespace exec {
class WorkerPool;
}  // namespace exec

// Evaluates PromQL queries. Thread-safe: one Engine serves concurrent queries.
class Engine {
 public:
  // With options.threads > 1 the engine starts options.threads - 1 worker threads, shared by all
  // its queries (each query's own thread works too), so a query does not pay for starting and
  // joining threads.
  explicit Engine(EngineOptions options = {});

  const EngineOptions& options() const { return options_; }

  // Evaluates `query` at time `t_ms`.
  absl::StatusOr<QueryResult> InstantQuery(Queryable& queryable, std::string_view query,
                                           int64_t t_ms, const QueryOptions& opts = {}) const;

  // Evaluates `query` at start, start+step, ..., end. The result is a matrix (a scalar
  // expression gives one series without labels).
  absl::StatusOr<QueryResult> RangeQuery(Queryable& queryable, std::string_view query,
                                         int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                         const QueryOptions& opts = {}) const;

  // Evaluates an already parsed expression (instant when `instant`, else a range query).
  absl::StatusOr<QueryResult> Evaluate(Queryable& queryable, const promql::Expr& expr,
                                       int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                       bool instant, const QueryOptions& opts = {}) const;

 private:
  EngineOptions options_;
  std::shared_ptr<exec::WorkerPool> pool_;  // null when options_.threads <= 1
};

}  // namespace paodin::engine

#endif  // PAODIN_ENGINE_EXEC_ENGINE_H_
