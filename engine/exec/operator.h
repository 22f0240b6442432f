// The execution protocol shared by every operator (internal to engine/exec).
//
// An operator first reports the series it will produce (Series()), so label work (grouping,
// join tables) happens once per query; then Next() fills batches of evaluation steps, each a
// sparse column of (dense series id, value) pairs. One virtual call per batch, never per sample.
#ifndef PAODIN_ENGINE_EXEC_OPERATOR_H_
#define PAODIN_ENGINE_EXEC_OPERATOR_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/exec/engine.h"
#include "engine/exec/worker_pool.h"
#include "engine/model/labels.h"
#include "engine/storage/queryable.h"
#include "engine/util/pod_vector.h"

namespace paodin::engine::exec {

// Time arithmetic wraps around like Go's int64 (Prometheus' behaviour for extreme `@`/offset
// values) instead of being undefined.
inline int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

inline int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

// The evaluation times of an operator: start, start+step, ..., end (one step when step is 0).
struct StepRange {
  int64_t start = 0;
  int64_t end = 0;
  int64_t step = 0;

  int64_t NumSteps() const {
    if (step == 0)
      return 1;
    if (end < start)
      return 0;
    return static_cast<int64_t>((static_cast<uint64_t>(end) - static_cast<uint64_t>(start)) /
                                static_cast<uint64_t>(step)) +
           1;
  }

  int64_t At(int64_t i) const {
    return WrapAdd(start,
                   static_cast<int64_t>(static_cast<uint64_t>(i) * static_cast<uint64_t>(step)));
  }
};

// The values of one evaluation step: parallel arrays of series ids and values. The order of the
// entries is meaningful for sort/topk at the top of an instant query.
struct StepVector {
  int64_t t = 0;
  std::vector<uint32_t> ids;
  std::vector<double> vals;

  void Reset(int64_t ts) {
    t = ts;
    ids.clear();
    vals.clear();
  }

  void Push(uint32_t id, double v) {
    ids.push_back(id);
    vals.push_back(v);
  }

  size_t size() const { return ids.size(); }
};

// State shared by the operators of one query.
struct ExecContext {
  Queryable* queryable = nullptr;
  QueryContext query_ctx;
  int64_t lookback_ms = 5 * 60 * 1000;
  int64_t default_eval_interval_ms = 60 * 1000;
  int64_t max_samples = 50'000'000;
  // Samples held right now by selector buffers, materialized subqueries and results.
  alignas(64) std::atomic<int64_t> samples_held{0};
  // Total samples read from the store.
  alignas(64) std::atomic<int64_t> samples_scanned{0};
  // Steps per batch.
  size_t batch_steps = 64;
  // Warnings from the stores (use AddWarning: branches may load concurrently).
  std::vector<std::string> warnings;
  std::mutex warnings_mu;
  // The series sets the selectors opened. Kept until the query ends because a store may only
  // find a problem while its samples are decoded (a corrupt chunk): TakeWarnings() reads their
  // warnings after evaluation.
  std::vector<std::unique_ptr<SeriesSet>> sets;

  void AddWarning(std::string w) {
    std::lock_guard<std::mutex> lock(warnings_mu);
    warnings.push_back(std::move(w));
  }

  void KeepSet(std::unique_ptr<SeriesSet> set) {
    std::lock_guard<std::mutex> lock(warnings_mu);
    sets.push_back(std::move(set));
  }

  // Every warning: those added and those of the kept sets, each text once, in order.
  std::vector<std::string> TakeWarnings();

  // Selections started before planning. Like Prometheus, which selects every selector before it
  // evaluates, a first planning pass with `prefetching` set only opens each selector's Select,
  // so every store streams while the real pass reads the first selection's series; the real
  // pass then takes the set opened for the same selector and hints.
  struct PrefetchedSelect {
    const promql::VectorSelector* selector = nullptr;
    SelectHints hints;
    std::unique_ptr<SeriesSet> set;
  };

  bool prefetching = false;
  std::vector<PrefetchedSelect> prefetched;

  // Threads for series shards (null: single-threaded).
  WorkerPool* pool = nullptr;
  // Operators with fewer series stay on one thread.
  int64_t parallel_min_series = 256;

  // How many shards to split `num_series` series into (1 when too few or no pool).
  size_t Shards(size_t num_series) const {
    if (pool == nullptr || static_cast<int64_t>(num_series) < parallel_min_series)
      return 1;
    return static_cast<size_t>(pool->size()) * 4;
  }

  // The most samples held at once.
  alignas(64) std::atomic<int64_t> peak_samples{0};

  // Accounts `n` more samples held; fails when above max_samples.
  absl::Status AddSamples(int64_t n);

  // Accounts `n` samples released.
  void ReleaseSamples(int64_t n) { samples_held.fetch_sub(n, std::memory_order_relaxed); }

  // Cancellation / timeout check (once per batch).
  absl::Status Check() const { return query_ctx.Done(); }
};

// Prometheus' error for exceeding the sample limit.
absl::Status TooManySamplesError();

// Prometheus' error for two equal label sets in one result.
absl::Status DuplicateLabelsetError();

class StreamSource;

// A node of the operator tree.
class Operator {
 public:
  virtual ~Operator() = default;

  // The series this operator produces; ids in StepVectors index this list. Computed once.
  virtual absl::StatusOr<const std::vector<Labels>*> Series() = 0;

  // Fills out[0..k) with the next k evaluation steps (k <= out.size()) and returns k; 0 when
  // every step was returned. REQUIRES: Series() succeeded.
  virtual absl::StatusOr<size_t> Next(std::span<StepVector> out) = 0;

  // The root of a range query may skip the step-major batches: an operator whose work is
  // naturally series by series evaluates every step at once, moves each output series' points
  // into out[id] (ids of Series(); out.size() == Series()->size()) and returns true. Returns
  // false, touching nothing, when it has no such path; the caller then uses Next(). REQUIRES:
  // Series() succeeded and Next() was not called.
  virtual absl::StatusOr<bool> AllStepsBySeries(std::vector<ResultSeries>& out) { return false; }

  // The operator as a StreamSource, or null when it cannot evaluate stream by stream. Only
  // before the first Next().
  virtual StreamSource* AsStreamSource() { return nullptr; }
};

using OperatorPtr = std::unique_ptr<Operator>;

// An operator whose output series come from independent input streams it can evaluate one at a
// time (range functions): consumers that fold series into per-step accumulators (aggregations)
// use it instead of Next(), so each stream's window state stays in cache over a long block of
// steps. Protocol: BeginBlock(first, n) on one thread; then EvalStream(j, ...) once per stream
// (streams may be spread over threads, each stream on one thread); blocks in step order; Finish()
// after the last block.
class StreamSource {
 public:
  virtual ~StreamSource() = default;

  // Number of input streams.
  virtual size_t NumStreams() const = 0;

  // The output series (index into Series()) stream j contributes to.
  virtual uint32_t StreamOutput(size_t j) const = 0;

  // Prepares steps [first, first + n) (pulls the scalar arguments of those steps).
  virtual absl::Status BeginBlock(int64_t first, size_t n) = 0;

  // Evaluates stream j at the block's steps: writes the step index (0-based in the block) and
  // value of each point into steps[0..k) and vals[0..k) (room for n each) and returns k.
  virtual absl::StatusOr<size_t> EvalStream(size_t j, uint32_t* steps, double* vals) = 0;

  // Checks done once every step was evaluated (duplicate output series).
  virtual absl::Status Finish() = 0;
};

// Raw samples of many series in one flat array (series i owns [offsets[i], offsets[i+1])).
struct SeriesSamples {
  std::vector<Labels> labels;
  std::vector<size_t> offsets{0};
  std::vector<int64_t> ts;
  std::vector<double> vs;

  // Samples decoded per iterator call.
  static constexpr size_t kFillTile = 128;

  size_t NumSeries() const { return labels.size(); }
};

// The samples of one series as a sliding buffer: filled tile by tile from the store's iterator
// (or given in full), consumed from the front as the evaluation walks forward.
struct SampleBuffer {
  // Null once exhausted, or when the samples were given in full.
  std::unique_ptr<SampleIterator> it;
  // PodVectors: appending does not zero first, and compaction keeps the capacity.
  PodVector<int64_t> ts;
  PodVector<double> vs;
};

// The series an operator reads, each with its sample buffer.
struct SeriesStreams {
  std::vector<Labels> labels;
  std::vector<SampleBuffer> bufs;
  // Samples outside [min_t, max_t] are skipped; stale markers too when drop_stale.
  int64_t min_t = std::numeric_limits<int64_t>::min();
  int64_t max_t = std::numeric_limits<int64_t>::max();
  bool drop_stale = false;

  // Samples decoded per iterator call.
  static constexpr size_t kFillTile = 128;

  size_t NumSeries() const { return labels.size(); }

  // Pulls tiles into series j until its last buffered timestamp is after `t` or the iterator
  // is exhausted. Safe to call concurrently for different series.
  absl::Status FillUntil(size_t j, int64_t t, ExecContext& ctx) {
    return NeedsFill(j, t) ? FillSlow(j, t, ctx) : absl::OkStatus();
  }

  // Whether FillUntil(j, t, ...) would pull a tile.
  bool NeedsFill(size_t j, int64_t t) const {
    const SampleBuffer& b = bufs[j];
    return b.it != nullptr && (b.ts.empty() || b.ts.back() <= t);
  }

  // Drops series j's samples before index `keep_from` when that frees enough to be worth the
  // move (amortized O(1) per sample) and the buffer is too full for the next tile; returns how
  // many were dropped (indexes shift by that).
  size_t Compact(size_t j, size_t keep_from, ExecContext& ctx) {
    return WouldCompact(j, keep_from) ? CompactSlow(j, keep_from, ctx) : 0;
  }

  // Whether Compact(j, keep_from, ...) would drop anything (and so shift indexes).
  bool WouldCompact(size_t j, size_t keep_from) const {
    const SampleBuffer& b = bufs[j];
    // At least 64 samples left behind, at least half the buffer, and no room for a tile.
    return keep_from >= 64 && keep_from * 2 >= b.ts.size() &&
           b.ts.size() + kFillTile > b.ts.capacity();
  }

 private:
  size_t CompactSlow(size_t j, size_t keep_from, ExecContext& ctx);

  // FillUntil's work when a tile is needed.
  absl::Status FillSlow(size_t j, int64_t t, ExecContext& ctx);
};

// Streams over fully known samples (subquery results).
SeriesStreams StreamsFromSamples(SeriesSamples samples);

// Drains `op` (a vector or scalar operator) completely into per-series samples, one sample per
// step where the series has a value.
absl::StatusOr<SeriesSamples> Materialize(Operator& op, ExecContext& ctx, const StepRange& range);

// Label-set interning: maps label sets to dense ids.
class LabelsIndex {
 public:
  // The id of `l`, adding it when new.
  uint32_t Intern(const Labels& l);

  const std::vector<Labels>& labels() const { return labels_; }

  std::vector<Labels> Take() { return std::move(labels_); }

 private:
  std::vector<Labels> labels_;
  std::unordered_map<std::string, uint32_t> ids_;
};

}  // namespace paodin::engine::exec

#endif  // PAODIN_ENGINE_EXEC_OPERATOR_H_
