// The engine's only door to data: a Queryable selects series by label matchers and a time
// range and hands them back sorted by labels, each with an iterator that fills tiles of
// samples (one virtual call per tile, never per sample). Stores (the in-memory test store, the
// StoreAPI proxy) implement it; the engine knows nothing of gRPC or chunk encodings.
#ifndef PAODIN_ENGINE_STORAGE_QUERYABLE_H_
#define PAODIN_ENGINE_STORAGE_QUERYABLE_H_

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/model/labels.h"
#include "engine/model/matcher.h"

namespace paodin::engine {

// Prometheus' staleness marker: a NaN with this exact bit pattern ends a series. Stores pass it
// through as an ordinary value; the engine tells it apart from other NaNs by its bits.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

// The staleness marker as a double.
inline double StaleNaN() {
  double v;
  std::memcpy(&v, &kStaleNaNBits, sizeof v);
  return v;
}

// True when `v` is the staleness marker (compared by bits, not as a float).
inline bool IsStaleNaN(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleNaNBits;
}

// What the engine will do with a selection, so a store may prune or pre-aggregate. Mirrors
// Prometheus' storage.SelectHints.
struct SelectHints {
  // The time range of samples needed, inclusive, in ms (already widened by lookback, range
  // and offset).
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  // The evaluation step of the query (0 for instant queries).
  int64_t step_ms = 0;
  // The range of the enclosing matrix selector or subquery (0 for plain selectors).
  int64_t range_ms = 0;
  // The function applied to the selection ("rate", ...; "" when none) or "series" for
  // metadata-only selections.
  std::string func;
  // The grouping of the enclosing aggregation: `by` (true) or `without` (false) these labels.
  bool by = false;
  std::vector<std::string> grouping;
};

// Per-query context passed to the store: cancellation and deadline. Stores should check
// `Done()` between series or tiles and stop with the returned status.
struct QueryContext {
  // Set to true by the caller to cancel the query; may be null.
  const std::atomic<bool>* cancelled = nullptr;
  // Absolute deadline in ms since the epoch (steady-clock based, see NowSteadyMs); 0 = none.
  int64_t deadline_steady_ms = 0;

  // OK, or Cancelled / DeadlineExceeded when the query must stop.
  absl::Status Done() const;
};

// The current time of the steady clock in ms (the clock of QueryContext deadlines).
int64_t NowSteadyMs();

// Iterates over the samples of one series in increasing time order.
class SampleIterator {
 public:
  virtual ~SampleIterator() = default;

  // Fills up to min(ts.size(), vs.size()) samples into the spans and returns how many were
  // written; 0 means the series is exhausted. Errors (corrupt data, cancelled) end the series.
  virtual absl::StatusOr<size_t> Next(std::span<int64_t> ts, std::span<double> vs) = 0;
};

// The result of one Select: series in increasing label order (Compare), each visited once.
class SeriesSet {
 public:
  virtual ~SeriesSet() = default;

  // Advances to the next series; false at the end or on error (see status()).
  virtual bool Next() = 0;

  // The labels of the current series. REQUIRES: the last Next() returned true.
  virtual const Labels& labels() const = 0;

  // A fresh iterator over the current series' samples within the selected time range (stores
  // may return samples outside it; the engine ignores those). Valid after Next() moves on and
  // after the set is destroyed; iterators of different series may be drained concurrently
  // from different threads.
  virtual std::unique_ptr<SampleIterator> Samples() = 0;

  // The final status, once Next() returned false.
  virtual absl::Status status() const = 0;

  // Warnings gathered so far (e.g. a partial response from a store).
  virtual std::vector<std::string> warnings() const { return {}; }
};

// A source of series.
class Queryable {
 public:
  virtual ~Queryable() = default;

  // Selects the series matching every matcher with samples in [hints.start_ms, hints.end_ms].
  // The engine may call Select concurrently from several threads (independent branches).
  virtual absl::StatusOr<std::unique_ptr<SeriesSet>> Select(const SelectHints& hints,
                                                            std::span<const Matcher> matchers,
                                                            const QueryContext& ctx) = 0;

  // The label names of series matching the matchers (all series when none) in the time
  // range, sorted and unique. Stores that cannot answer return Unimplemented.
  virtual absl::StatusOr<std::vector<std::string>> LabelNames(int64_t start_ms, int64_t end_ms,
                                                              std::span<const Matcher> matchers,
                                                              const QueryContext& ctx) {
    return absl::UnimplementedError("LabelNames");
  }

  // The values of label `name` of series matching the matchers in the time range, sorted and
  // unique. Stores that cannot answer return Unimplemented.
  virtual absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view name,
                                                               int64_t start_ms, int64_t end_ms,
                                                               std::span<const Matcher> matchers,
                                                               const QueryContext& ctx) {
    return absl::UnimplementedError("LabelValues");
  }
};

}  // namespace paodin::engine

#endif  // PAODIN_ENGINE_STORAGE_QUERYABLE_H_
