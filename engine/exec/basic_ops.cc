// Leaf operators (constants, selectors, range functions) and the simple per-step operators.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "engine/exec/kernels.h"
#include "engine/exec/operators.h"
#include "engine/util/status_macros.h"
#include "re2/re2.h"

namespace paodin::engine::exec {

using promql::FunctionId;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Pulls batches from a child in lockstep with the parent.
class Input {
 public:
  Input() = default;

  explicit Input(OperatorPtr op) : op_(std::move(op)) {}

  absl::StatusOr<const std::vector<Labels>*> Series() { return op_->Series(); }

  // Pulls `n` steps; the child must deliver exactly n.
  absl::Status Pull(size_t n) {
    if (buf_.size() < n)
      buf_.resize(n);
    PAODIN_ASSIGN_OR_RETURN(size_t got, op_->Next(std::span<StepVector>(buf_.data(), n)));
    if (got != n)
      return absl::InternalError("operator step count mismatch");
    return absl::OkStatus();
  }

  const StepVector& at(size_t i) const { return buf_[i]; }

  // The scalar value at step i (NaN when absent).
  double Scalar(size_t i) const { return buf_[i].size() > 0 ? buf_[i].vals[0] : kNaN; }

  bool valid() const { return op_ != nullptr; }

 private:
  OperatorPtr op_;
  std::vector<StepVector> buf_;
};

// Base for operators that walk a StepRange batch by batch.
class StepOp : public Operator {
 protected:
  StepOp(ExecContext* ctx, const StepRange& range) : ctx_(ctx), range_(range) {}

  // How many steps the next batch has (0 at the end); advances the cursor.
  size_t BeginBatch(std::span<StepVector> out) {
    int64_t left = range_.NumSteps() - next_step_;
    size_t n = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(out.size())));
    for (size_t i = 0; i < n; ++i)
      out[i].Reset(range_.At(next_step_ + i));
    batch_first_ = next_step_;
    next_step_ += n;
    return n;
  }

  bool Done() const { return next_step_ >= range_.NumSteps(); }

  ExecContext* ctx_;
  StepRange range_;
  int64_t next_step_ = 0;
  int64_t batch_first_ = 0;
  std::vector<Labels> series_;
};

// ---------------------------------------------------------------------------------------------
class ConstantOp : public StepOp {
 public:
  ConstantOp(double v, const StepRange& range) : StepOp(nullptr, range), v_(v) {
    series_.emplace_back();
  }

  absl::StatusOr<const std::vector<Labels>*> Series() override { return &series_; }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    for (size_t i = 0; i < n; ++i)
      out[i].Push(0, v_);
    return n;
  }

 private:
  double v_;
};

class TimeOp : public StepOp {
 public:
  explicit TimeOp(const StepRange& range) : StepOp(nullptr, range) { series_.emplace_back(); }

  absl::StatusOr<const std::vector<Labels>*> Series() override { return &series_; }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    for (size_t i = 0; i < n; ++i)
      out[i].Push(0, static_cast<double>(out[i].t) / 1000);
    return n;
  }
};

// ---------------------------------------------------------------------------------------------
class VectorSelectorOp : public StepOp {
 public:
  VectorSelectorOp(ExecContext* ctx, SeriesStreams streams, int64_t offset_ms, bool has_at,
                   int64_t at_ms, const StepRange& range, bool timestamps)
      : StepOp(ctx, range),
        streams_(std::move(streams)),
        offset_(offset_ms),
        has_at_(has_at),
        at_(at_ms),
        timestamps_(timestamps) {
    cursor_.assign(streams_.NumSeries(), 0);
    if (timestamps) {
      for (const Labels& l : streams_.labels)
        series_.push_back(l.DropMetricName());
    } else {
      series_ = streams_.labels;
    }
  }

  absl::StatusOr<const std::vector<Labels>*> Series() override { return &series_; }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    PAODIN_RETURN_IF_ERROR(ctx_->Check());
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    const size_t ns = streams_.NumSeries();
    const size_t shards = ctx_->Shards(ns);
    if (shards <= 1) {
      PAODIN_RETURN_IF_ERROR(Shard(0, ns, out.subspan(0, n)));
      return n;
    }
    if (shard_out_.size() < shards)
      shard_out_.resize(shards);
    std::vector<absl::Status> status(shards);
    ctx_->pool->Run(shards, [&](size_t k) {
      std::vector<StepVector>& so = shard_out_[k];
      if (so.size() < n)
        so.resize(n);
      for (size_t i = 0; i < n; ++i)
        so[i].Reset(out[i].t);
      status[k] =
          Shard(ns * k / shards, ns * (k + 1) / shards, std::span<StepVector>(so.data(), n));
    });
    for (size_t k = 0; k < shards; ++k)
      PAODIN_RETURN_IF_ERROR(status[k]);
    // Concatenate the shards per step, steps in parallel.
    ctx_->pool->Run(n, [&](size_t i) {
      for (size_t k = 0; k < shards; ++k) {
        const StepVector& so = shard_out_[k][i];
        out[i].ids.insert(out[i].ids.end(), so.ids.begin(), so.ids.end());
        out[i].vals.insert(out[i].vals.end(), so.vals.begin(), so.vals.end());
      }
    });
    return n;
  }

 private:
  // Series [j0, j1) at every step of the batch, series-major: each series' buffer is filled
  // tile by tile and its cursor walks forward once. Entries of a step come out in increasing
  // id order.
  absl::Status Shard(size_t j0, size_t j1, std::span<StepVector> out) {
    const int64_t lookback = ctx_->lookback_ms;
    const size_t n = out.size();
    for (size_t s = j0; s < j1; ++s) {
      const SampleBuffer& b = streams_.bufs[s];
      size_t c = cursor_[s];
      for (size_t i = 0; i < n; ++i) {
        const int64_t ref = WrapSub(has_at_ ? at_ : out[i].t, offset_);
        PAODIN_RETURN_IF_ERROR(streams_.FillUntil(s, ref, *ctx_));
        if (has_at_)
          c = 0;  // pinned: same reference every step
        const size_t end = b.ts.size();
        while (c < end && b.ts[c] <= ref)
          ++c;
        if (c == 0)
          continue;
        const size_t k = c - 1;
        if (b.ts[k] < WrapSub(ref, lookback))
          continue;
        const double v = b.vs[k];
        if (IsStaleNaN(v))
          continue;
        out[i].Push(static_cast<uint32_t>(s),
                    timestamps_ ? static_cast<double>(b.ts[k]) / 1000 : v);
      }
      // Only the last sample at or before the reference time can still be needed.
      if (!has_at_ && c > 1)
        c -= streams_.Compact(s, c - 1, *ctx_);
      cursor_[s] = c;
    }
    return absl::OkStatus();
  }

  std::vector<std::vector<StepVector>> shard_out_;
  SeriesStreams streams_;
  int64_t offset_;
  bool has_at_;
  int64_t at_;
  bool timestamps_;
  std::vector<size_t> cursor_;
};

// ---------------------------------------------------------------------------------------------
class RangeFunctionOp : public StepOp, public StreamSource {
 public:
  RangeFunctionOp(ExecContext* ctx, FunctionId id, RangeSource source,
                  std::vector<OperatorPtr> args, const StepRange& range)
      : StepOp(ctx, range), id_(id), src_(std::move(source)) {
    for (auto& a : args)
      args_.emplace_back(std::move(a));
    kind_ = KindOf(id, src_.has_at);
  }

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    if (inited_)
      return &series_;
    inited_ = true;
    for (auto& a : args_)
      PAODIN_RETURN_IF_ERROR(a.Series().status());
    size_t ns = src_.streams.NumSeries();
    lo_.assign(ns, 0);
    hi_.assign(ns, 0);
    had_output_.assign(ns, 0);
    if (kind_ == Kind::kRate || kind_ == Kind::kIncrease) {
      scanned_.assign(ns, 0);
      resets_.resize(ns);
    }
    if (IsExtremum(kind_)) {
      scanned_.assign(ns, 0);
      mono_.resize(ns);
    }
    if (id_ == FunctionId::kAbsentOverTime) {
      series_.push_back(src_.absent_labels);
      return &series_;
    }
    for (size_t i = 0; i < ns; ++i) {
      const Labels& l = src_.streams.labels[i];
      out_id_.push_back(index_.Intern(id_ == FunctionId::kLastOverTime ? l : l.DropMetricName()));
    }
    series_ = index_.labels();
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    PAODIN_RETURN_IF_ERROR(ctx_->Check());
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    PAODIN_RETURN_IF_ERROR(PullArgs(n, argv_));
    const size_t ns = src_.streams.NumSeries();
    const size_t shards = ctx_->Shards(ns);
    any_.assign(n, 0);
    if (shards <= 1) {
      PAODIN_RETURN_IF_ERROR(Shard(0, ns, out.subspan(0, n), any_.data()));
    } else {
      // Series shards run on the pool, each into its own step buffers; concatenating them in
      // shard order keeps the ids of every step increasing.
      if (shard_out_.size() < shards)
        shard_out_.resize(shards);
      shard_any_.assign(shards * n, 0);
      std::vector<absl::Status> status(shards);
      ctx_->pool->Run(shards, [&](size_t k) {
        std::vector<StepVector>& so = shard_out_[k];
        if (so.size() < n)
          so.resize(n);
        for (size_t i = 0; i < n; ++i)
          so[i].Reset(out[i].t);
        status[k] = Shard(ns * k / shards, ns * (k + 1) / shards,
                          std::span<StepVector>(so.data(), n), shard_any_.data() + k * n);
      });
      for (size_t k = 0; k < shards; ++k)
        PAODIN_RETURN_IF_ERROR(status[k]);
      // Concatenate the shards per step, steps in parallel.
      ctx_->pool->Run(n, [&](size_t i) {
        for (size_t k = 0; k < shards; ++k) {
          const StepVector& so = shard_out_[k][i];
          out[i].ids.insert(out[i].ids.end(), so.ids.begin(), so.ids.end());
          out[i].vals.insert(out[i].vals.end(), so.vals.begin(), so.vals.end());
          any_[i] |= shard_any_[k * n + i];
        }
      });
    }
    if (id_ == FunctionId::kAbsentOverTime) {
      for (size_t i = 0; i < n; ++i) {
        if (!any_[i])
          out[i].Push(0, 1);
      }
      return n;
    }
    if (Done())
      PAODIN_RETURN_IF_ERROR(CheckDuplicates());
    return n;
  }

  StreamSource* AsStreamSource() override {
    if (id_ == FunctionId::kAbsentOverTime || next_step_ != 0)
      return nullptr;
    return this;
  }

  size_t NumStreams() const override { return src_.streams.NumSeries(); }

  uint32_t StreamOutput(size_t j) const override { return out_id_[j]; }

  absl::Status BeginBlock(int64_t first, size_t n) override {
    PAODIN_RETURN_IF_ERROR(ctx_->Check());
    block_first_ = first;
    block_n_ = n;
    next_step_ = first + static_cast<int64_t>(n);
    return PullArgs(n, argv_);
  }

  absl::StatusOr<size_t> EvalStream(size_t j, uint32_t* steps, double* vals) override {
    size_t k = 0;
    auto emit = [&](size_t i, double v) {
      steps[k] = static_cast<uint32_t>(i);
      vals[k] = v;
      ++k;
    };
    PAODIN_RETURN_IF_ERROR(EvalSteps(j, block_first_, block_n_, argv_.data(), nullptr, emit));
    Release(j);
    if (next_step_ >= range_.NumSteps())
      FreeStream(j);
    return k;
  }

  absl::Status Finish() override { return CheckDuplicates(); }

  absl::StatusOr<bool> AllStepsBySeries(std::vector<ResultSeries>& out) override {
    if (id_ == FunctionId::kAbsentOverTime || next_step_ != 0)
      return false;
    PAODIN_RETURN_IF_ERROR(ctx_->Check());
    const int64_t total = range_.NumSteps();
    // The scalar arguments of every step (a few doubles per step).
    std::vector<double> argv;
    for (int64_t s0 = 0; s0 < total; s0 += static_cast<int64_t>(ctx_->batch_steps)) {
      const size_t n = static_cast<size_t>(
          std::min<int64_t>(total - s0, static_cast<int64_t>(ctx_->batch_steps)));
      PAODIN_RETURN_IF_ERROR(PullArgs(n, argv_));
      argv.insert(argv.end(), argv_.begin(), argv_.end());
    }
    const size_t ns = src_.streams.NumSeries();
    std::vector<ResultSeries> per(ns);
    auto run = [&](size_t j0, size_t j1) -> absl::Status {
      for (size_t j = j0; j < j1; ++j) {
        if ((j & 255) == 0)
          PAODIN_RETURN_IF_ERROR(ctx_->Check());
        PAODIN_RETURN_IF_ERROR(WholeSeries(j, total, argv.data(), per[j]));
      }
      return absl::OkStatus();
    };
    const size_t shards = ctx_->Shards(ns);
    if (shards <= 1) {
      PAODIN_RETURN_IF_ERROR(run(0, ns));
    } else {
      std::vector<absl::Status> status(shards);
      ctx_->pool->Run(shards,
                      [&](size_t k) { status[k] = run(ns * k / shards, ns * (k + 1) / shards); });
      for (const absl::Status& st : status)
        PAODIN_RETURN_IF_ERROR(st);
    }
    next_step_ = total;
    PAODIN_RETURN_IF_ERROR(CheckDuplicates());
    for (size_t j = 0; j < ns; ++j) {
      if (!per[j].ts.empty())
        out[out_id_[j]] = std::move(per[j]);
    }
    return true;
  }

 private:
  static constexpr size_t kMaxArgs = 4;

  // How a function's windows are evaluated: incrementally (rate and friends keep their
  // counter resets as the window slides; count/last/present need only the window bounds) or by
  // a full kernel call per window.
  enum class Kind {
    kRate,
    kIncrease,
    kDelta,
    kCount,
    kLast,
    kPresent,
    kSumOverTime,
    kAvgOverTime,
    kMaxOverTime,
    kMinOverTime,
    kGeneric
  };

  static constexpr bool IsExtremum(Kind k) {
    return k == Kind::kMaxOverTime || k == Kind::kMinOverTime;
  }

  static Kind KindOf(FunctionId id, bool has_at) {
    if (has_at)
      return Kind::kGeneric;  // the same pinned window at every step
    switch (id) {
      case FunctionId::kRate:
        return Kind::kRate;
      case FunctionId::kIncrease:
        return Kind::kIncrease;
      case FunctionId::kDelta:
        return Kind::kDelta;
      case FunctionId::kCountOverTime:
        return Kind::kCount;
      case FunctionId::kLastOverTime:
        return Kind::kLast;
      case FunctionId::kPresentOverTime:
        return Kind::kPresent;
      case FunctionId::kSumOverTime:
        return Kind::kSumOverTime;
      case FunctionId::kAvgOverTime:
        return Kind::kAvgOverTime;
      case FunctionId::kMaxOverTime:
        return Kind::kMaxOverTime;
      case FunctionId::kMinOverTime:
        return Kind::kMinOverTime;
      default:
        return Kind::kGeneric;
    }
  }

  // A counter reset inside the buffered samples: the time of the sample that dropped and the
  // value before it (what extrapolatedRate adds back).
  struct ResetMark {
    int64_t t;
    double prev;
  };

  // Pulls n steps of every scalar argument into `argv` (kMaxArgs per step).
  absl::Status PullArgs(size_t n, std::vector<double>& argv) {
    argv.assign(n * kMaxArgs, 0);
    for (auto& a : args_)
      PAODIN_RETURN_IF_ERROR(a.Pull(n));
    for (size_t i = 0; i < n; ++i) {
      for (size_t a = 0; a < args_.size() && a < kMaxArgs; ++a)
        argv[i * kMaxArgs + a] = args_[a].Scalar(i);
    }
    return absl::OkStatus();
  }

  // Prometheus fails when two output series with points share a label set.
  absl::Status CheckDuplicates() {
    std::vector<char> seen(series_.size(), 0);
    for (size_t j = 0; j < had_output_.size(); ++j) {
      if (!had_output_[j])
        continue;
      if (seen[out_id_[j]])
        return DuplicateLabelsetError();
      seen[out_id_[j]] = 1;
    }
    return absl::OkStatus();
  }

  // Evaluates series [j0, j1) at every step of the batch, series-major for locality.
  absl::Status Shard(size_t j0, size_t j1, std::span<StepVector> out, char* any) {
    for (size_t j = j0; j < j1; ++j) {
      const uint32_t o = out_id_.empty() ? 0 : out_id_[j];
      auto emit = [&out, o](size_t i, double v) { out[i].Push(o, v); };
      PAODIN_RETURN_IF_ERROR(EvalSteps(j, batch_first_, out.size(), argv_.data(), any, emit));
      Release(j);
    }
    return absl::OkStatus();
  }

  // Evaluates series j at all `total` steps into `rs`, batch by batch, then frees its buffer.
  absl::Status WholeSeries(size_t j, int64_t total, const double* argv, ResultSeries& rs) {
    const int64_t batch = static_cast<int64_t>(ctx_->batch_steps);
    for (int64_t s0 = 0; s0 < total; s0 += batch) {
      const size_t n = static_cast<size_t>(std::min(batch, total - s0));
      const size_t before = rs.ts.size();
      auto emit = [&](size_t i, double v) {
        rs.ts.push_back(range_.At(s0 + static_cast<int64_t>(i)));
        rs.vs.push_back(v);
      };
      PAODIN_RETURN_IF_ERROR(EvalSteps(j, s0, n, argv + s0 * kMaxArgs, nullptr, emit));
      // A series with a point at every step of this batch likely has one at every step left.
      if (rs.ts.size() - before == n) {
        const size_t want = rs.ts.size() + static_cast<size_t>(total - s0) - n;
        if (rs.ts.capacity() < want) {
          rs.ts.reserve(want);
          rs.vs.reserve(want);
        }
      }
      Release(j);
    }
    FreeStream(j);
    return absl::OkStatus();
  }

  // Frees stream j's buffer once it was evaluated at the last step.
  void FreeStream(size_t j) {
    SampleBuffer& b = src_.streams.bufs[j];
    ctx_->ReleaseSamples(static_cast<int64_t>(b.ts.size()));
    b = SampleBuffer();
    lo_[j] = hi_[j] = 0;
    if (!resets_.empty())
      resets_[j] = {};
    if (!mono_.empty()) {
      mono_[j] = {};
      scanned_[j] = 0;
    }
  }

  // Drops samples before the window start of series j (windows only move forward).
  void Release(size_t j) {
    if (src_.has_at || lo_[j] == 0)
      return;
    const size_t dropped = src_.streams.Compact(j, lo_[j], *ctx_);
    lo_[j] -= dropped;
    hi_[j] -= dropped;
    if (!scanned_.empty())
      scanned_[j] -= std::min(scanned_[j], dropped);
    if (!mono_.empty())
      ShiftMono(mono_[j], lo_[j] + dropped, dropped);
  }

  // max/min_over_time: drops queued indexes before `lo` and shifts the rest down by `dropped`
  // (the buffer lost its first `dropped` samples).
  static void ShiftMono(std::vector<uint32_t>& q, size_t lo, size_t dropped) {
    size_t k = 0;
    while (k < q.size() && q[k] < lo)
      ++k;
    q.erase(q.begin(), q.begin() + static_cast<ptrdiff_t>(k));
    for (uint32_t& x : q)
      x -= static_cast<uint32_t>(dropped);
  }

  template <class Emit>
  absl::Status EvalSteps(size_t j, int64_t s0, size_t n, const double* argv, char* any,
                         Emit& emit) {
    switch (kind_) {
      case Kind::kRate:
        return Loop<Kind::kRate>(j, s0, n, argv, any, emit);
      case Kind::kIncrease:
        return Loop<Kind::kIncrease>(j, s0, n, argv, any, emit);
      case Kind::kDelta:
        return Loop<Kind::kDelta>(j, s0, n, argv, any, emit);
      case Kind::kCount:
        return Loop<Kind::kCount>(j, s0, n, argv, any, emit);
      case Kind::kLast:
        return Loop<Kind::kLast>(j, s0, n, argv, any, emit);
      case Kind::kPresent:
        return Loop<Kind::kPresent>(j, s0, n, argv, any, emit);
      case Kind::kSumOverTime:
        return Loop<Kind::kSumOverTime>(j, s0, n, argv, any, emit);
      case Kind::kAvgOverTime:
        return Loop<Kind::kAvgOverTime>(j, s0, n, argv, any, emit);
      case Kind::kMaxOverTime:
        return Loop<Kind::kMaxOverTime>(j, s0, n, argv, any, emit);
      case Kind::kMinOverTime:
        return Loop<Kind::kMinOverTime>(j, s0, n, argv, any, emit);
      case Kind::kGeneric:
        return Loop<Kind::kGeneric>(j, s0, n, argv, any, emit);
    }
    return absl::InternalError("unknown range function kind");
  }

  // Series j at steps s0 .. s0+n-1: emit(i, value) for each step i with a value; any[i] set
  // when the window is non-empty (absent_over_time). The window bounds only move forward.
  template <Kind K, class Emit>
  absl::Status Loop(size_t j, int64_t s0, size_t n, const double* argv, char* any, Emit& emit) {
    const SampleBuffer& b = src_.streams.bufs[j];
    const size_t nargs = std::min(args_.size(), kMaxArgs);
    size_t lo = lo_[j], hi = hi_[j];

    // sum/avg_over_time: up to kSumOverTimeWindows windows (step, first, end) evaluated together.
    struct Pending {
      size_t i, lo, hi;
    };

    Pending pending[kSumOverTimeWindows];
    size_t num_pending = 0;
    auto flush = [&] {
      std::span<const double> windows[kSumOverTimeWindows];
      double vals[kSumOverTimeWindows];
      for (size_t k = 0; k < num_pending; ++k) {
        windows[k] =
            std::span<const double>(b.vs.data() + pending[k].lo, pending[k].hi - pending[k].lo);
      }
      SumOrAvgOverTime(K == Kind::kAvgOverTime, windows, num_pending, vals);
      for (size_t k = 0; k < num_pending; ++k)
        emit(pending[k].i, vals[k]);
      num_pending = 0;
    };
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = range_.At(s0 + static_cast<int64_t>(i));
      const int64_t maxt = WrapSub(src_.has_at ? src_.at_ms : t, src_.offset_ms);
      const int64_t mint = WrapSub(maxt, src_.range_ms);
      // Compacting only when a tile is due moves just the window's samples, not the
      // look-ahead decoded with them.
      if (!src_.has_at && src_.streams.NeedsFill(j, maxt) && src_.streams.WouldCompact(j, lo)) {
        if constexpr (K == Kind::kSumOverTime || K == Kind::kAvgOverTime) {
          if (num_pending > 0)
            flush();  // the pending windows' indexes are about to shift
        }
        // Keep the buffer near the window size: drop what the window left behind before
        // pulling more (amortized O(1) per sample).
        const size_t dropped = src_.streams.Compact(j, lo, *ctx_);
        lo -= dropped;
        hi -= dropped;
        if (!scanned_.empty())
          scanned_[j] -= std::min(scanned_[j], dropped);
        if constexpr (IsExtremum(K)) {
          if (dropped > 0)
            ShiftMono(mono_[j], lo + dropped, dropped);
        }
      }
      PAODIN_RETURN_IF_ERROR(src_.streams.FillUntil(j, maxt, *ctx_));
      if (src_.has_at)
        lo = hi = 0;
      const int64_t* ts = b.ts.data();
      const double* vs = b.vs.data();
      const size_t end = b.ts.size();
      while (lo < end && ts[lo] < mint)
        ++lo;
      if (hi < lo)
        hi = lo;
      while (hi < end && ts[hi] <= maxt)
        ++hi;
      if constexpr (K == Kind::kRate || K == Kind::kIncrease) {
        // Record the resets among the samples that entered the window; those at or before
        // its first sample no longer count.
        std::vector<ResetMark>& marks = resets_[j];
        for (size_t k = std::max(scanned_[j], lo + 1); k < hi; ++k) {
          if (vs[k] < vs[k - 1])
            marks.push_back(ResetMark{ts[k], vs[k - 1]});
        }
        scanned_[j] = std::max(scanned_[j], hi);
        if (!marks.empty() && hi > lo) {
          size_t stale = 0;
          while (stale < marks.size() && marks[stale].t <= ts[lo])
            ++stale;
          marks.erase(marks.begin(), marks.begin() + static_cast<ptrdiff_t>(stale));
        }
      }
      if constexpr (IsExtremum(K)) {
        // A monotonic queue of the window's non-NaN samples: Prometheus' loop (`v > max ||
        // isNaN(max)`) yields the first of the largest non-NaN values, or NaN when all are NaN.
        std::vector<uint32_t>& q = mono_[j];
        for (size_t k = std::max(scanned_[j], lo); k < hi; ++k) {
          if (std::isnan(vs[k]))
            continue;
          while (!q.empty() &&
                 (K == Kind::kMaxOverTime ? vs[q.back()] < vs[k] : vs[q.back()] > vs[k])) {
            q.pop_back();
          }
          q.push_back(static_cast<uint32_t>(k));
        }
        scanned_[j] = std::max(scanned_[j], hi);
        size_t stale = 0;
        while (stale < q.size() && q[stale] < lo)
          ++stale;
        if (stale > 0)
          q.erase(q.begin(), q.begin() + static_cast<ptrdiff_t>(stale));
      }
      if (hi == lo)
        continue;
      if (any != nullptr)
        any[i] = 1;
      double v;
      if constexpr (K == Kind::kRate || K == Kind::kIncrease || K == Kind::kDelta) {
        if (hi - lo < 2)
          continue;
        double result = vs[hi - 1] - vs[lo];
        if constexpr (K != Kind::kDelta) {
          for (const ResetMark& m : resets_[j])
            result += m.prev;
        }
        v = ExtrapolateRate(result, ts[lo], vs[lo], ts[hi - 1], hi - lo, maxt, src_.range_ms,
                            K != Kind::kDelta, K == Kind::kRate);
      } else if constexpr (K == Kind::kCount) {
        v = static_cast<double>(hi - lo);
      } else if constexpr (K == Kind::kLast) {
        v = vs[hi - 1];
      } else if constexpr (K == Kind::kPresent) {
        v = 1;
      } else if constexpr (IsExtremum(K)) {
        v = mono_[j].empty() ? std::numeric_limits<double>::quiet_NaN() : vs[mono_[j].front()];
      } else if constexpr (K == Kind::kSumOverTime || K == Kind::kAvgOverTime) {
        had_output_[j] = 1;
        pending[num_pending++] = Pending{i, lo, hi};
        if (num_pending == kSumOverTimeWindows)
          flush();
        continue;
      } else {
        if (id_ == FunctionId::kAbsentOverTime)
          continue;
        Window w{.ts = std::span<const int64_t>(ts + lo, hi - lo),
                 .vs = std::span<const double>(vs + lo, hi - lo),
                 .range_end = maxt,
                 .range_ms = src_.range_ms,
                 .eval_ts = t};
        PAODIN_ASSIGN_OR_RETURN(
            std::optional<double> r,
            EvalRangeFunction(id_, w, std::span<const double>(argv + i * kMaxArgs, nargs)));
        if (!r.has_value())
          continue;
        v = *r;
      }
      had_output_[j] = 1;
      emit(i, v);
    }
    if constexpr (K == Kind::kSumOverTime || K == Kind::kAvgOverTime) {
      if (num_pending > 0)
        flush();
    }
    lo_[j] = lo;
    hi_[j] = hi;
    return absl::OkStatus();
  }

  FunctionId id_;
  Kind kind_;
  RangeSource src_;
  std::vector<Input> args_;
  bool inited_ = false;
  LabelsIndex index_;
  std::vector<uint32_t> out_id_;
  std::vector<size_t> lo_, hi_;
  // Rate and increase: how far each buffer was scanned for resets, and the resets found.
  std::vector<size_t> scanned_;
  std::vector<std::vector<ResetMark>> resets_;
  // max/min_over_time: per series, buffer indexes of the window's candidate extremes (values
  // decreasing for max, increasing for min; oldest first). scanned_ is how far they were fed.
  std::vector<std::vector<uint32_t>> mono_;
  std::vector<char> had_output_;
  std::vector<double> argv_;
  std::vector<char> any_;
  std::vector<std::vector<StepVector>> shard_out_;
  std::vector<char> shard_any_;
  // The block of the StreamSource protocol.
  int64_t block_first_ = 0;
  size_t block_n_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Maps input series to output series by a label transformation; checks per step that no two
// inputs land on the same output.
class MappedOp : public StepOp {
 protected:
  MappedOp(ExecContext* ctx, OperatorPtr input, const StepRange& range)
      : StepOp(ctx, range), in_(std::move(input)) {}

  // Computes out_id_ for every input series via Transform().
  absl::Status BuildMapping() {
    PAODIN_ASSIGN_OR_RETURN(const std::vector<Labels>* in, in_.Series());
    for (const Labels& l : *in) {
      PAODIN_ASSIGN_OR_RETURN(Labels o, Transform(l));
      out_id_.push_back(index_.Intern(o));
    }
    series_ = index_.labels();
    stamp_.assign(series_.size(), -1);
    return absl::OkStatus();
  }

  virtual absl::StatusOr<Labels> Transform(const Labels& l) = 0;

  // Passes every input sample through under its mapped output series (label functions).
  absl::StatusOr<size_t> RelabelBatch(std::span<StepVector> out) {
    return MapBatch(out,
                    [](const StepVector& in, size_t k, const StepVector&) { return in.vals[k]; });
  }

  // Emits value(input step, k, output step) for every input sample under its mapped output
  // series.
  template <typename ValueFn>
  absl::StatusOr<size_t> MapBatch(std::span<StepVector> out, ValueFn value) {
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    PAODIN_RETURN_IF_ERROR(in_.Pull(n));
    for (size_t i = 0; i < n; ++i) {
      const StepVector& sv = in_.at(i);
      for (size_t k = 0; k < sv.size(); ++k) {
        PAODIN_RETURN_IF_ERROR(Emit(out[i], batch_first_ + i, sv.ids[k], value(sv, k, out[i])));
      }
    }
    return n;
  }

  // Emits `v` for input id `id` at step i; fails on a duplicate output at the step.
  absl::Status Emit(StepVector& sv, int64_t step, uint32_t id, double v) {
    uint32_t o = out_id_[id];
    if (stamp_[o] == step)
      return DuplicateLabelsetError();
    stamp_[o] = step;
    sv.Push(o, v);
    return absl::OkStatus();
  }

  Input in_;
  LabelsIndex index_;
  std::vector<uint32_t> out_id_;
  std::vector<int64_t> stamp_;
  bool inited_ = false;
};

class InstantFunctionOp : public MappedOp {
 public:
  InstantFunctionOp(ExecContext* ctx, FunctionId id, OperatorPtr input,
                    std::vector<OperatorPtr> args, const StepRange& range)
      : MappedOp(ctx, std::move(input), range), id_(id) {
    for (auto& a : args)
      args_.emplace_back(std::move(a));
  }

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    if (!inited_) {
      inited_ = true;
      for (auto& a : args_)
        PAODIN_RETURN_IF_ERROR(a.Series().status());
      PAODIN_RETURN_IF_ERROR(BuildMapping());
    }
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    PAODIN_RETURN_IF_ERROR(in_.Pull(n));
    for (auto& a : args_)
      PAODIN_RETURN_IF_ERROR(a.Pull(n));
    double argv[4];
    for (size_t i = 0; i < n; ++i) {
      for (size_t a = 0; a < args_.size() && a < 4; ++a)
        argv[a] = args_[a].Scalar(i);
      if (id_ == FunctionId::kClamp && argv[1] < argv[0])
        continue;
      const StepVector& sv = in_.at(i);
      std::span<const double> args(argv, args_.size());
      for (size_t k = 0; k < sv.size(); ++k) {
        PAODIN_RETURN_IF_ERROR(
            Emit(out[i], batch_first_ + i, sv.ids[k], EvalInstantMath(id_, sv.vals[k], args)));
      }
    }
    return n;
  }

 private:
  absl::StatusOr<Labels> Transform(const Labels& l) override { return l.DropMetricName(); }

  FunctionId id_;
  std::vector<Input> args_;
};

class StepTimestampOp : public MappedOp {
 public:
  StepTimestampOp(ExecContext* ctx, OperatorPtr input, const StepRange& range)
      : MappedOp(ctx, std::move(input), range) {}

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    if (!inited_) {
      inited_ = true;
      PAODIN_RETURN_IF_ERROR(BuildMapping());
    }
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    return MapBatch(out, [](const StepVector&, size_t, const StepVector& o) {
      return static_cast<double>(o.t) / 1000;
    });
  }

 private:
  absl::StatusOr<Labels> Transform(const Labels& l) override { return l.DropMetricName(); }
};

// Unary minus: Prometheus checks duplicates over the whole result, not per step.
class NegateOp : public StepOp {
 public:
  NegateOp(ExecContext* ctx, OperatorPtr input, bool is_scalar, const StepRange& range)
      : StepOp(ctx, range), in_(std::move(input)), is_scalar_(is_scalar) {}

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    if (!inited_) {
      inited_ = true;
      PAODIN_ASSIGN_OR_RETURN(const std::vector<Labels>* in, in_.Series());
      for (const Labels& l : *in)
        out_id_.push_back(index_.Intern(is_scalar_ ? l : l.DropMetricName()));
      series_ = index_.labels();
      had_.assign(in->size(), false);
    }
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    PAODIN_RETURN_IF_ERROR(in_.Pull(n));
    for (size_t i = 0; i < n; ++i) {
      const StepVector& sv = in_.at(i);
      for (size_t k = 0; k < sv.size(); ++k) {
        had_[sv.ids[k]] = true;
        out[i].Push(out_id_[sv.ids[k]], -sv.vals[k]);
      }
    }
    if (Done()) {
      std::vector<char> seen(series_.size(), 0);
      for (size_t j = 0; j < had_.size(); ++j) {
        if (!had_[j])
          continue;
        if (seen[out_id_[j]])
          return DuplicateLabelsetError();
        seen[out_id_[j]] = 1;
      }
    }
    return n;
  }

 private:
  Input in_;
  bool is_scalar_;
  bool inited_ = false;
  LabelsIndex index_;
  std::vector<uint32_t> out_id_;
  std::vector<bool> had_;
};

class ScalarOp : public StepOp {
 public:
  ScalarOp(ExecContext* ctx, OperatorPtr input, const StepRange& range)
      : StepOp(ctx, range), in_(std::move(input)) {
    series_.emplace_back();
  }

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    PAODIN_RETURN_IF_ERROR(in_.Series().status());
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    PAODIN_RETURN_IF_ERROR(in_.Pull(n));
    for (size_t i = 0; i < n; ++i) {
      const StepVector& sv = in_.at(i);
      out[i].Push(0, sv.size() == 1 ? sv.vals[0] : kNaN);
    }
    return n;
  }

 private:
  Input in_;
};

class VectorOp : public StepOp {
 public:
  VectorOp(ExecContext* ctx, OperatorPtr input, const StepRange& range)
      : StepOp(ctx, range), in_(std::move(input)) {
    series_.emplace_back();
  }

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    PAODIN_RETURN_IF_ERROR(in_.Series().status());
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    PAODIN_RETURN_IF_ERROR(in_.Pull(n));
    for (size_t i = 0; i < n; ++i)
      out[i].Push(0, in_.Scalar(i));
    return n;
  }

 private:
  Input in_;
};

class AbsentOp : public StepOp {
 public:
  AbsentOp(ExecContext* ctx, OperatorPtr input, Labels labels, const StepRange& range)
      : StepOp(ctx, range), in_(std::move(input)) {
    series_.push_back(std::move(labels));
  }

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    PAODIN_RETURN_IF_ERROR(in_.Series().status());
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    PAODIN_RETURN_IF_ERROR(in_.Pull(n));
    for (size_t i = 0; i < n; ++i) {
      if (in_.at(i).size() == 0)
        out[i].Push(0, 1);
    }
    return n;
  }

 private:
  Input in_;
};

class SortOp : public StepOp {
 public:
  SortOp(ExecContext* ctx, OperatorPtr input, bool desc, const StepRange& range)
      : StepOp(ctx, range), in_(std::move(input)), desc_(desc) {}

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    PAODIN_ASSIGN_OR_RETURN(const std::vector<Labels>* in, in_.Series());
    return in;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    PAODIN_RETURN_IF_ERROR(in_.Pull(n));
    for (size_t i = 0; i < n; ++i) {
      const StepVector& sv = in_.at(i);
      order_.resize(sv.size());
      for (size_t k = 0; k < sv.size(); ++k)
        order_[k] = k;
      // Prometheus: sort = reverse of a descending sort with NaN first; sort_desc = reverse
      // of an ascending sort with NaN first (so NaN ends last in both). Go's sort.Sort uses
      // insertion sort up to 12 elements; reproduce it for identical tie order.
      const bool desc = desc_;
      auto less = [&](size_t a, size_t b) {
        double x = sv.vals[a], y = sv.vals[b];
        if (std::isnan(x))
          return true;
        return desc ? x < y : x > y;
      };
      auto rless = [&](size_t a, size_t b) { return less(b, a); };
      if (order_.size() <= 12) {
        for (size_t p = 1; p < order_.size(); ++p) {
          for (size_t q = p; q > 0 && rless(order_[q], order_[q - 1]); --q) {
            std::swap(order_[q], order_[q - 1]);
          }
        }
      } else {
        std::stable_sort(order_.begin(), order_.end(), rless);
      }
      for (size_t k : order_)
        out[i].Push(sv.ids[k], sv.vals[k]);
    }
    return n;
  }

 private:
  Input in_;
  bool desc_;
  std::vector<size_t> order_;
};

// Go's regexp.Expand template syntax: $1, ${1}, $name, ${name}, $$.
std::string ExpandTemplate(const re2::RE2& re, std::string_view tmpl,
                           const std::vector<re2::StringPiece>& groups) {
  std::string out;
  const auto& names = re.NamedCapturingGroups();
  size_t i = 0;
  while (i < tmpl.size()) {
    char c = tmpl[i];
    if (c != '$' || i + 1 >= tmpl.size()) {
      out += c;
      ++i;
      continue;
    }
    ++i;
    if (tmpl[i] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string name;
    size_t j = i;
    bool brace = tmpl[i] == '{';
    if (brace) {
      j = i + 1;
      while (j < tmpl.size() &&
             (std::isalnum(static_cast<unsigned char>(tmpl[j])) || tmpl[j] == '_'))
        ++j;
      if (j >= tmpl.size() || tmpl[j] != '}' || j == i + 1) {
        out += '$';
        continue;
      }
      name = std::string(tmpl.substr(i + 1, j - i - 1));
      i = j + 1;
    } else {
      while (j < tmpl.size() &&
             (std::isalnum(static_cast<unsigned char>(tmpl[j])) || tmpl[j] == '_'))
        ++j;
      if (j == i) {
        out += '$';
        continue;
      }
      name = std::string(tmpl.substr(i, j - i));
      i = j;
    }
    bool numeric = !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
      return std::isdigit(static_cast<unsigned char>(ch));
    });
    int idx = -1;
    if (numeric) {
      if (name.size() < 9)
        idx = std::stoi(name);
    } else {
      auto it = names.find(name);
      if (it != names.end())
        idx = it->second;
    }
    if (idx >= 0 && idx < static_cast<int>(groups.size()) && groups[idx].data() != nullptr) {
      out.append(groups[idx].data(), groups[idx].size());
    }
  }
  return out;
}

bool IsValidLabelName(std::string_view s) {
  if (s.empty())
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return true;
}

class LabelReplaceOp : public MappedOp {
 public:
  LabelReplaceOp(ExecContext* ctx, OperatorPtr input, std::string dst, std::string repl,
                 std::string src, std::string regex, const StepRange& range)
      : MappedOp(ctx, std::move(input), range),
        dst_(std::move(dst)),
        repl_(std::move(repl)),
        src_(std::move(src)),
        regex_str_(std::move(regex)) {}

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    if (!inited_) {
      inited_ = true;
      re2::RE2::Options opts;
      opts.set_log_errors(false);
      opts.set_dot_nl(false);
      re_ = std::make_unique<re2::RE2>(absl::StrCat("^(?:", regex_str_, ")$"), opts);
      if (!re_->ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("invalid regular expression in label_replace(): ", regex_str_));
      }
      if (!IsValidLabelName(dst_)) {
        return absl::FailedPreconditionError(
            absl::StrCat("invalid destination label name in label_replace(): ", dst_));
      }
      PAODIN_RETURN_IF_ERROR(BuildMapping());
    }
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override { return RelabelBatch(out); }

 private:
  absl::StatusOr<Labels> Transform(const Labels& l) override {
    std::string_view src_val = l.Get(src_);
    int ngroups = re_->NumberOfCapturingGroups() + 1;
    std::vector<re2::StringPiece> groups(ngroups);
    if (!re_->Match(re2::StringPiece(src_val.data(), src_val.size()), 0, src_val.size(),
                    re2::RE2::UNANCHORED, groups.data(), ngroups)) {
      return l;
    }
    std::string res = ExpandTemplate(*re_, repl_, groups);
    LabelsBuilder b(l);
    b.Del(dst_);
    if (!res.empty())
      b.Set(dst_, res);
    return b.Build();
  }

  std::string dst_, repl_, src_, regex_str_;
  std::unique_ptr<re2::RE2> re_;
};

class LabelJoinOp : public MappedOp {
 public:
  LabelJoinOp(ExecContext* ctx, OperatorPtr input, std::string dst, std::string sep,
              std::vector<std::string> srcs, const StepRange& range)
      : MappedOp(ctx, std::move(input), range),
        dst_(std::move(dst)),
        sep_(std::move(sep)),
        srcs_(std::move(srcs)) {}

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    if (!inited_) {
      inited_ = true;
      for (const std::string& s : srcs_) {
        if (!IsValidLabelName(s)) {
          return absl::FailedPreconditionError(
              absl::StrCat("invalid source label name in label_join(): ", s));
        }
      }
      if (!IsValidLabelName(dst_)) {
        return absl::FailedPreconditionError(
            absl::StrCat("invalid destination label name in label_join(): ", dst_));
      }
      PAODIN_RETURN_IF_ERROR(BuildMapping());
    }
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override { return RelabelBatch(out); }

 private:
  absl::StatusOr<Labels> Transform(const Labels& l) override {
    std::string joined;
    for (size_t i = 0; i < srcs_.size(); ++i) {
      if (i > 0)
        joined += sep_;
      joined += l.Get(srcs_[i]);
    }
    LabelsBuilder b(l);
    b.Set(dst_, joined);
    return b.Build();
  }

  std::string dst_, sep_;
  std::vector<std::string> srcs_;
};

class HistogramQuantileOp : public StepOp {
 public:
  HistogramQuantileOp(ExecContext* ctx, OperatorPtr phi, OperatorPtr input, const StepRange& range)
      : StepOp(ctx, range), phi_(std::move(phi)), in_(std::move(input)) {}

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    if (inited_)
      return &series_;
    inited_ = true;
    PAODIN_RETURN_IF_ERROR(phi_.Series().status());
    PAODIN_ASSIGN_OR_RETURN(const std::vector<Labels>* in, in_.Series());
    LabelsIndex groups;
    for (const Labels& l : *in) {
      std::optional<double> le = ParseGoFloat(l.Get("le"));
      if (!le.has_value()) {
        group_of_.push_back(-1);
        le_.push_back(0);
        continue;
      }
      LabelsBuilder b(l);
      b.Del("le");
      Labels key = b.Build();
      size_t before = groups.labels().size();
      uint32_t g = groups.Intern(key);
      if (groups.labels().size() > before)
        group_out_.push_back(index_.Intern(key.DropMetricName()));
      group_of_.push_back(static_cast<int32_t>(g));
      le_.push_back(*le);
    }
    buckets_.resize(groups.labels().size());
    series_ = index_.labels();
    stamp_.assign(series_.size(), -1);
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    PAODIN_RETURN_IF_ERROR(phi_.Pull(n));
    PAODIN_RETURN_IF_ERROR(in_.Pull(n));
    for (size_t i = 0; i < n; ++i) {
      double q = phi_.Scalar(i);
      const StepVector& sv = in_.at(i);
      touched_.clear();
      for (size_t k = 0; k < sv.size(); ++k) {
        int32_t g = group_of_[sv.ids[k]];
        if (g < 0)
          continue;
        if (buckets_[g].empty())
          touched_.push_back(g);
        buckets_[g].push_back(Bucket{le_[sv.ids[k]], sv.vals[k]});
      }
      for (int32_t g : touched_) {
        uint32_t o = group_out_[g];
        if (stamp_[o] == batch_first_ + static_cast<int64_t>(i))
          return DuplicateLabelsetError();
        stamp_[o] = batch_first_ + i;
        out[i].Push(o, BucketQuantile(q, buckets_[g]));
        buckets_[g].clear();
      }
    }
    return n;
  }

 private:
  Input phi_, in_;
  bool inited_ = false;
  LabelsIndex index_;
  std::vector<int32_t> group_of_;
  std::vector<double> le_;
  std::vector<uint32_t> group_out_;
  std::vector<std::vector<Bucket>> buckets_;
  std::vector<int32_t> touched_;
  std::vector<int64_t> stamp_;
};

class EmptyOp : public StepOp {
 public:
  EmptyOp(ExecContext* ctx, std::vector<OperatorPtr> inputs, const StepRange& range)
      : StepOp(ctx, range) {
    for (auto& i : inputs)
      in_.emplace_back(std::move(i));
  }

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    for (auto& i : in_)
      PAODIN_RETURN_IF_ERROR(i.Series().status());
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    for (auto& i : in_)
      PAODIN_RETURN_IF_ERROR(i.Pull(n));
    return n;
  }

 private:
  std::vector<Input> in_;
};

class StepInvariantOp : public StepOp {
 public:
  StepInvariantOp(ExecContext* ctx, OperatorPtr input, const StepRange& range)
      : StepOp(ctx, range), in_(std::move(input)) {}

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    if (!inited_) {
      inited_ = true;
      PAODIN_ASSIGN_OR_RETURN(const std::vector<Labels>* in, in_.Series());
      PAODIN_RETURN_IF_ERROR(in_.Pull(1));
      once_ = in_.at(0);
      return in;
    }
    return in_.Series();
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    for (size_t i = 0; i < n; ++i) {
      out[i].ids = once_.ids;
      out[i].vals = once_.vals;
    }
    return n;
  }

 private:
  Input in_;
  bool inited_ = false;
  StepVector once_;
};

}  // namespace

absl::Status ExecContext::AddSamples(int64_t n) {
  int64_t now = samples_held.fetch_add(n) + n;
  int64_t peak = peak_samples.load(std::memory_order_relaxed);
  while (now > peak && !peak_samples.compare_exchange_weak(peak, now)) {
  }
  if (now > max_samples)
    return TooManySamplesError();
  return absl::OkStatus();
}

absl::Status TooManySamplesError() {
  return absl::ResourceExhaustedError(
      "query processing would load too many samples into memory in query execution");
}

absl::Status DuplicateLabelsetError() {
  return absl::FailedPreconditionError("vector cannot contain metrics with the same labelset");
}

uint32_t LabelsIndex::Intern(const Labels& l) {
  auto [it, inserted] = ids_.emplace(std::string(l.bytes()), labels_.size());
  if (inserted)
    labels_.push_back(l);
  return it->second;
}

absl::StatusOr<SeriesSamples> Materialize(Operator& op, ExecContext& ctx, const StepRange& range) {
  PAODIN_ASSIGN_OR_RETURN(const std::vector<Labels>* series, op.Series());
  size_t ns = series->size();
  std::vector<std::vector<int64_t>> ts(ns);
  std::vector<std::vector<double>> vs(ns);
  std::vector<StepVector> buf(ctx.batch_steps);
  int64_t total = 0;
  while (true) {
    PAODIN_ASSIGN_OR_RETURN(size_t n, op.Next(std::span<StepVector>(buf.data(), buf.size())));
    if (n == 0)
      break;
    for (size_t i = 0; i < n; ++i) {
      for (size_t k = 0; k < buf[i].size(); ++k) {
        ts[buf[i].ids[k]].push_back(buf[i].t);
        vs[buf[i].ids[k]].push_back(buf[i].vals[k]);
      }
      total += buf[i].size();
    }
    // Account as we go so a runaway subquery fails early.
    int64_t batch_total = 0;
    for (size_t i = 0; i < n; ++i)
      batch_total += buf[i].size();
    PAODIN_RETURN_IF_ERROR(ctx.AddSamples(batch_total));
  }
  SeriesSamples out;
  out.ts.reserve(total);
  out.vs.reserve(total);
  for (size_t s = 0; s < ns; ++s) {
    if (ts[s].empty())
      continue;
    out.labels.push_back((*series)[s]);
    out.ts.insert(out.ts.end(), ts[s].begin(), ts[s].end());
    out.vs.insert(out.vs.end(), vs[s].begin(), vs[s].end());
    out.offsets.push_back(out.ts.size());
  }
  return out;
}

bool ResolveAt(promql::AtModifier at, int64_t at_ms, const StepRange& query, int64_t* out) {
  switch (at) {
    case promql::AtModifier::kNone:
      return false;
    case promql::AtModifier::kTimestamp:
      *out = at_ms;
      return true;
    case promql::AtModifier::kStart:
      *out = query.start;
      return true;
    case promql::AtModifier::kEnd:
      *out = query.end;
      return true;
  }
  return false;
}

namespace {

// Keeps the samples of ts/vs[0, n) that are in [min_t, max_t] (and not stale markers when
// drop_stale) at the front, in order; returns how many. `out_*` may alias the inputs.
size_t KeepInRange(const int64_t* ts, const double* vs, size_t n, int64_t min_t, int64_t max_t,
                   bool drop_stale, int64_t* out_ts, double* out_vs) {
  bool clean = ts[0] >= min_t && ts[n - 1] <= max_t;
  if (clean && drop_stale) {
    for (size_t i = 0; i < n; ++i)
      clean &= !IsStaleNaN(vs[i]);
  }
  if (clean) {
    // The common case: the whole tile is in range and has no marker to drop.
    if (out_ts != ts) {
      std::memcpy(out_ts, ts, n * sizeof(int64_t));
      std::memcpy(out_vs, vs, n * sizeof(double));
    }
    return n;
  }
  size_t w = 0;
  for (size_t i = 0; i < n; ++i) {
    if (ts[i] < min_t || ts[i] > max_t)
      continue;
    if (drop_stale && IsStaleNaN(vs[i]))
      continue;
    out_ts[w] = ts[i];
    out_vs[w] = vs[i];
    ++w;
  }
  return w;
}

}  // namespace

absl::Status SeriesStreams::FillSlow(size_t j, int64_t t, ExecContext& ctx) {
  SampleBuffer& b = bufs[j];
  int64_t scanned = 0;
  const size_t start = b.ts.size();
  absl::Status status;
  bool last_tile_kept = false;
  while (b.it != nullptr && (b.ts.empty() || b.ts.back() <= t)) {
    const size_t at = b.ts.size();
    // A series being streamed (the buffer has room, or the last tile was kept whole) decodes
    // straight into the buffer's tail. Otherwise a tile is decoded into the stack and only what
    // it keeps is appended: an instant selection keeps a few samples of a chunk, and its
    // buffers stay that small.
    const bool in_place = last_tile_kept || b.ts.capacity() - at >= kFillTile;
    int64_t stack_ts[kFillTile];
    double stack_vs[kFillTile];
    int64_t* ts = in_place ? b.ts.Extend(kFillTile) : stack_ts;
    double* vs = in_place ? b.vs.Extend(kFillTile) : stack_vs;
    absl::StatusOr<size_t> got =
        b.it->Next(std::span<int64_t>(ts, kFillTile), std::span<double>(vs, kFillTile));
    size_t n = got.ok() ? std::min(*got, kFillTile) : 0;
    const size_t decoded = n;
    if (n > 0) {
      scanned += static_cast<int64_t>(n);
      if (in_place) {
        n = KeepInRange(ts, vs, n, min_t, max_t, drop_stale, ts, vs);
      } else {
        n = KeepInRange(ts, vs, n, min_t, max_t, drop_stale, stack_ts, stack_vs);
        if (n > 0) {
          std::memcpy(b.ts.Extend(n), stack_ts, n * sizeof(int64_t));
          std::memcpy(b.vs.Extend(n), stack_vs, n * sizeof(double));
        }
      }
    }
    if (in_place) {
      b.ts.Truncate(at + n);
      b.vs.Truncate(at + n);
    }
    last_tile_kept = n == decoded;
    if (!got.ok()) {
      status = got.status();
      break;
    }
    if (*got == 0) {
      b.it.reset();
      break;
    }
  }
  // The shared counters are touched once per fill, not once per tile.
  ctx.samples_scanned.fetch_add(scanned, std::memory_order_relaxed);
  PAODIN_RETURN_IF_ERROR(status);
  return ctx.AddSamples(static_cast<int64_t>(b.ts.size() - start));
}

size_t SeriesStreams::CompactSlow(size_t j, size_t keep_from, ExecContext& ctx) {
  SampleBuffer& b = bufs[j];
  b.ts.EraseFront(keep_from);
  b.vs.EraseFront(keep_from);
  ctx.ReleaseSamples(static_cast<int64_t>(keep_from));
  return keep_from;
}

SeriesStreams StreamsFromSamples(SeriesSamples samples) {
  SeriesStreams out;
  out.bufs.resize(samples.NumSeries());
  for (size_t i = 0; i < samples.NumSeries(); ++i) {
    SampleBuffer& b = out.bufs[i];
    b.ts.assign(samples.ts.begin() + samples.offsets[i],
                samples.ts.begin() + samples.offsets[i + 1]);
    b.vs.assign(samples.vs.begin() + samples.offsets[i],
                samples.vs.begin() + samples.offsets[i + 1]);
  }
  out.labels = std::move(samples.labels);
  return out;
}

namespace {

bool SameHints(const SelectHints& a, const SelectHints& b) {
  return a.start_ms == b.start_ms && a.end_ms == b.end_ms && a.step_ms == b.step_ms &&
         a.range_ms == b.range_ms && a.func == b.func && a.by == b.by && a.grouping == b.grouping;
}

}  // namespace

absl::StatusOr<SeriesStreams> OpenSelector(ExecContext& ctx, const promql::VectorSelector& sel,
                                           bool drop_stale, const SelectHints& hints) {
  SeriesStreams out;
  out.min_t = hints.start_ms;
  out.max_t = hints.end_ms;
  out.drop_stale = drop_stale;
  std::unique_ptr<SeriesSet> set;
  for (ExecContext::PrefetchedSelect& p : ctx.prefetched) {
    if (p.set != nullptr && p.selector == &sel && SameHints(p.hints, hints)) {
      set = std::move(p.set);
      break;
    }
  }
  if (set == nullptr) {
    PAODIN_ASSIGN_OR_RETURN(set, ctx.queryable->Select(hints, sel.matchers, ctx.query_ctx));
  }
  if (ctx.prefetching) {
    // The dry pass: the selection is started, its series are read by the real pass.
    ctx.prefetched.push_back({&sel, hints, std::move(set)});
    return out;
  }
  while (set->Next()) {
    out.labels.push_back(set->labels());
    out.bufs.emplace_back();
    out.bufs.back().it = set->Samples();
    if (out.labels.size() % 4096 == 0)
      PAODIN_RETURN_IF_ERROR(ctx.Check());
  }
  PAODIN_RETURN_IF_ERROR(set->status());
  ctx.KeepSet(std::move(set));
  return out;
}

Labels AbsentLabels(const promql::VectorSelector& sel) {
  LabelsBuilder b{Labels()};
  std::vector<std::string> empty;
  std::vector<std::string> set_names;
  for (const Matcher& m : sel.matchers) {
    if (m.name() == kMetricName)
      continue;
    bool already = std::find(set_names.begin(), set_names.end(), m.name()) != set_names.end();
    if (m.type() == MatchType::kEqual && !already) {
      b.Set(m.name(), m.value());
      set_names.push_back(m.name());
    } else {
      empty.push_back(m.name());
    }
  }
  for (const std::string& n : empty)
    b.Del(n);
  return b.Build();
}

OperatorPtr MakeConstantOp(double v, const StepRange& range) {
  return std::make_unique<ConstantOp>(v, range);
}

OperatorPtr MakeTimeOp(const StepRange& range) { return std::make_unique<TimeOp>(range); }

OperatorPtr MakeVectorSelectorOp(ExecContext* ctx, SeriesStreams streams, int64_t offset_ms,
                                 bool has_at, int64_t at_ms, const StepRange& range,
                                 bool timestamps) {
  return std::make_unique<VectorSelectorOp>(ctx, std::move(streams), offset_ms, has_at, at_ms,
                                            range, timestamps);
}

OperatorPtr MakeRangeFunctionOp(ExecContext* ctx, FunctionId id, RangeSource source,
                                std::vector<OperatorPtr> args, const StepRange& range) {
  return std::make_unique<RangeFunctionOp>(ctx, id, std::move(source), std::move(args), range);
}

OperatorPtr MakeInstantFunctionOp(ExecContext* ctx, FunctionId id, OperatorPtr input,
                                  std::vector<OperatorPtr> args, const StepRange& range) {
  return std::make_unique<InstantFunctionOp>(ctx, id, std::move(input), std::move(args), range);
}

OperatorPtr MakeStepTimestampOp(ExecContext* ctx, OperatorPtr input, const StepRange& range) {
  return std::make_unique<StepTimestampOp>(ctx, std::move(input), range);
}

OperatorPtr MakeNegateOp(ExecContext* ctx, OperatorPtr input, bool is_scalar,
                         const StepRange& range) {
  return std::make_unique<NegateOp>(ctx, std::move(input), is_scalar, range);
}

OperatorPtr MakeScalarOp(ExecContext* ctx, OperatorPtr input, const StepRange& range) {
  return std::make_unique<ScalarOp>(ctx, std::move(input), range);
}

OperatorPtr MakeVectorOp(ExecContext* ctx, OperatorPtr input, const StepRange& range) {
  return std::make_unique<VectorOp>(ctx, std::move(input), range);
}

OperatorPtr MakeAbsentOp(ExecContext* ctx, OperatorPtr input, Labels labels,
                         const StepRange& range) {
  return std::make_unique<AbsentOp>(ctx, std::move(input), std::move(labels), range);
}

OperatorPtr MakeSortOp(ExecContext* ctx, OperatorPtr input, bool desc, const StepRange& range) {
  return std::make_unique<SortOp>(ctx, std::move(input), desc, range);
}

OperatorPtr MakeLabelReplaceOp(ExecContext* ctx, OperatorPtr input, std::string dst,
                               std::string repl, std::string src, std::string regex,
                               const StepRange& range) {
  return std::make_unique<LabelReplaceOp>(ctx, std::move(input), std::move(dst), std::move(repl),
                                          std::move(src), std::move(regex), range);
}

OperatorPtr MakeLabelJoinOp(ExecContext* ctx, OperatorPtr input, std::string dst, std::string sep,
                            std::vector<std::string> srcs, const StepRange& range) {
  return std::make_unique<LabelJoinOp>(ctx, std::move(input), std::move(dst), std::move(sep),
                                       std::move(srcs), range);
}

OperatorPtr MakeHistogramQuantileOp(ExecContext* ctx, OperatorPtr phi, OperatorPtr input,
                                    const StepRange& range) {
  return std::make_unique<HistogramQuantileOp>(ctx, std::move(phi), std::move(input), range);
}

OperatorPtr MakeEmptyOp(ExecContext* ctx, std::vector<OperatorPtr> inputs, const StepRange& range) {
  return std::make_unique<EmptyOp>(ctx, std::move(inputs), range);
}

OperatorPtr MakeStepInvariantOp(ExecContext* ctx, OperatorPtr input, const StepRange& range) {
  return std::make_unique<StepInvariantOp>(ctx, std::move(input), range);
}

}  // namespace paodin::engine::exec
