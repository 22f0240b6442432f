// Aggregations: sum, avg, count, min, max, group, stddev, stdvar, topk, bottomk, quantile,
// count_values, with by/without. Group ids are computed once from labels.
#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/exec/kernels.h"
#include "engine/exec/operators.h"
#include "engine/util/status_macros.h"

namespace paodin::engine::exec {

using promql::AggregateOp;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct HeapItem {
  double v;
  uint32_t id;
};

// Go's container/heap over a slice with a Less function, reproduced exactly so that ties come
// out in Prometheus' order.
template <typename Less>
void HeapUp(std::vector<HeapItem>& h, size_t j, Less less) {
  while (j > 0) {
    size_t i = (j - 1) / 2;
    if (!less(h[j], h[i]))
      break;
    std::swap(h[i], h[j]);
    j = i;
  }
}

template <typename Less>
bool HeapDown(std::vector<HeapItem>& h, size_t i0, size_t n, Less less) {
  size_t i = i0;
  while (true) {
    size_t j1 = 2 * i + 1;
    if (j1 >= n)
      break;
    size_t j = j1;
    if (size_t j2 = j1 + 1; j2 < n && less(h[j2], h[j1]))
      j = j2;
    if (!less(h[j], h[i]))
      break;
    std::swap(h[i], h[j]);
    i = j;
  }
  return i > i0;
}

// Go's sort.Sort(sort.Reverse(h)): insertion sort for short slices (what Go does up to 12
// elements), a stable sort otherwise.
template <typename Less>
void SortReverse(std::vector<HeapItem>& h, Less less) {
  auto rless = [&](const HeapItem& a, const HeapItem& b) { return less(b, a); };
  if (h.size() <= 12) {
    for (size_t i = 1; i < h.size(); ++i) {
      for (size_t j = i; j > 0 && rless(h[j], h[j - 1]); --j)
        std::swap(h[j], h[j - 1]);
    }
  } else {
    std::stable_sort(h.begin(), h.end(), rless);
  }
}

bool ValueLess(const HeapItem& a, const HeapItem& b) {
  if (std::isnan(a.v))
    return true;
  return a.v < b.v;
}

bool ReverseValueLess(const HeapItem& a, const HeapItem& b) {
  if (std::isnan(a.v))
    return true;
  return a.v > b.v;
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

class AggregateOperator : public Operator {
 public:
  AggregateOperator(ExecContext* ctx, AggregateOp op, std::vector<std::string> grouping,
                    bool without, OperatorPtr param, std::string string_param, OperatorPtr input,
                    const StepRange& range)
      : ctx_(ctx),
        op_(op),
        grouping_(std::move(grouping)),
        without_(without),
        param_(std::move(param)),
        string_param_(std::move(string_param)),
        in_(std::move(input)),
        range_(range) {}

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    if (inited_)
      return &series_;
    inited_ = true;
    if (param_ != nullptr)
      PAODIN_RETURN_IF_ERROR(param_->Series().status());
    PAODIN_ASSIGN_OR_RETURN(const std::vector<Labels>* in, in_->Series());
    if (op_ == AggregateOp::kCountValues)
      return CountValuesSeries(*in);
    LabelsIndex groups;
    for (const Labels& l : *in)
      group_of_.push_back(groups.Intern(GroupLabels(l)));
    num_groups_ = groups.labels().size();
    const bool k_op = op_ == AggregateOp::kTopk || op_ == AggregateOp::kBottomk;
    series_ = k_op ? *in : groups.Take();
    // One scratch per task: steps of a batch are aggregated in parallel (each step's inputs are
    // folded in input order, so results are identical to a serial run).
    scratch_.resize(ctx_->pool != nullptr ? ctx_->pool->size() : 1);
    for (Scratch& sc : scratch_) {
      if (k_op) {
        sc.heaps.resize(num_groups_);
      } else {
        sc.values.resize(num_groups_);
      }
      sc.stamp.assign(num_groups_, -1);
      sc.acc.resize(num_groups_);
    }
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    PAODIN_RETURN_IF_ERROR(ctx_->Check());
    int64_t left = range_.NumSteps() - next_step_;
    size_t n = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(out.size())));
    if (n == 0)
      return 0;
    for (size_t i = 0; i < n; ++i)
      out[i].Reset(range_.At(next_step_ + i));
    if (op_ == AggregateOp::kCountValues) {
      for (size_t i = 0; i < n; ++i) {
        const StepVector& sv = cv_steps_[next_step_ + i];
        out[i].ids = sv.ids;
        out[i].vals = sv.vals;
      }
      next_step_ += n;
      return n;
    }
    if (!block_mode_decided_)
      ChooseBlockMode();
    if (source_ != nullptr)
      return NextFromBlocks(out, n);
    PAODIN_RETURN_IF_ERROR(Pull(in_.get(), in_buf_, n));
    if (param_ != nullptr)
      PAODIN_RETURN_IF_ERROR(Pull(param_.get(), param_buf_, n));
    size_t entries = 0;
    for (size_t i = 0; i < n; ++i)
      entries += in_buf_[i].size();
    const size_t tasks = static_cast<int64_t>(entries) >= ctx_->parallel_min_series * 32
                             ? std::min(scratch_.size(), n)
                             : 1;
    std::vector<absl::Status> status(tasks);
    auto run = [&](size_t k) {
      for (size_t i = n * k / tasks; i < n * (k + 1) / tasks; ++i) {
        double param = param_ != nullptr && param_buf_[i].size() > 0 ? param_buf_[i].vals[0] : kNaN;
        status[k] = Step(in_buf_[i], param, next_step_ + i, out[i], scratch_[k]);
        if (!status[k].ok())
          return;
      }
    };
    if (tasks > 1) {
      ctx_->pool->Run(tasks, run);
    } else {
      run(0);
    }
    for (const absl::Status& st : status)
      PAODIN_RETURN_IF_ERROR(st);
    next_step_ += n;
    return n;
  }

 private:
  struct Acc {
    double value;
    double mean;
    double count;
  };

  // Per-task aggregation state, indexed by group.
  struct Scratch {
    std::vector<int64_t> stamp;
    std::vector<uint32_t> touched;
    std::vector<Acc> acc;
    std::vector<std::vector<double>> values;
    std::vector<std::vector<HeapItem>> heaps;
  };

  static absl::Status Pull(Operator* op, std::vector<StepVector>& buf, size_t n) {
    if (buf.size() < n)
      buf.resize(n);
    PAODIN_ASSIGN_OR_RETURN(size_t got, op->Next(std::span<StepVector>(buf.data(), n)));
    if (got != n)
      return absl::InternalError("operator step count mismatch");
    return absl::OkStatus();
  }

  Labels GroupLabels(const Labels& l) const {
    LabelsBuilder b(l);
    if (without_) {
      for (const std::string& g : grouping_)
        b.Del(g);
      b.Del(kMetricName);
    } else {
      b.Keep(grouping_);
    }
    return b.Build();
  }

  absl::Status Step(const StepVector& sv, double param, int64_t step, StepVector& out,
                    Scratch& sc) {
    sc.touched.clear();
    if (op_ == AggregateOp::kTopk || op_ == AggregateOp::kBottomk) {
      if (!(param <= 9223372036854775807.0 && param >= -9223372036854775808.0)) {
        return absl::FailedPreconditionError(
            absl::StrFormat("Scalar value %s overflows int64", FormatFloatPlain(param)));
      }
      int64_t k = param >= 9223372036854775807.0 ? std::numeric_limits<int64_t>::max()
                                                 : static_cast<int64_t>(param);
      if (k < 1)
        return absl::OkStatus();
      const bool top = op_ == AggregateOp::kTopk;
      auto less = top ? ValueLess : ReverseValueLess;
      for (size_t e = 0; e < sv.size(); ++e) {
        uint32_t g = group_of_[sv.ids[e]];
        double v = sv.vals[e];
        std::vector<HeapItem>& h = sc.heaps[g];
        if (sc.stamp[g] != step) {
          sc.stamp[g] = step;
          sc.touched.push_back(g);
          h.clear();
          h.push_back({v, sv.ids[e]});
          continue;
        }
        // Prometheus 2.42's loop exactly: a NaN on top is replaced by anything (NaN too), and a
        // full heap is Pop + Push (not replace + Fix), which decides where ties end up.
        const bool full = static_cast<int64_t>(h.size()) >= k;
        if (!full || (top ? h[0].v < v : h[0].v > v) || std::isnan(h[0].v)) {
          if (full) {
            if (k == 1) {
              h[0] = {v, sv.ids[e]};
              continue;
            }
            std::swap(h[0], h.back());
            HeapDown(h, 0, h.size() - 1, less);
            h.pop_back();
          }
          h.push_back({v, sv.ids[e]});
          HeapUp(h, h.size() - 1, less);
        }
      }
      for (uint32_t g : sc.touched) {
        SortReverse(sc.heaps[g], less);
        for (const HeapItem& it : sc.heaps[g])
          out.Push(it.id, it.v);
      }
      return absl::OkStatus();
    }
    for (size_t e = 0; e < sv.size(); ++e) {
      uint32_t g = group_of_[sv.ids[e]];
      double v = sv.vals[e];
      Acc& a = sc.acc[g];
      if (sc.stamp[g] != step) {
        sc.stamp[g] = step;
        sc.touched.push_back(g);
        Init(a, v);
        if (op_ == AggregateOp::kQuantile) {
          sc.values[g].clear();
          sc.values[g].push_back(v);
        }
        continue;
      }
      if (op_ == AggregateOp::kQuantile) {
        sc.values[g].push_back(v);
        continue;
      }
      Fold(a, v);
    }
    for (uint32_t g : sc.touched) {
      double r = op_ == AggregateOp::kQuantile ? Quantile(param, sc.values[g]) : Result(sc.acc[g]);
      out.Push(g, r);
    }
    return absl::OkStatus();
  }

  // The first value of a group at a step.
  void Init(Acc& a, double v) const {
    a.value = v;
    a.mean = v;
    a.count = 1;
    if (op_ == AggregateOp::kStddev || op_ == AggregateOp::kStdvar)
      a.value = 0;
    if (op_ == AggregateOp::kGroup)
      a.value = 1;
  }

  // Folds a further value into a group's accumulator (Prometheus' rules, in input order).
  void Fold(Acc& a, double v) const {
    switch (op_) {
      case AggregateOp::kSum:
        a.value += v;
        break;
      case AggregateOp::kAvg:
        a.count++;
        if (std::isinf(a.mean)) {
          if (std::isinf(v) && (a.mean > 0) == (v > 0))
            break;
          if (!std::isinf(v) && !std::isnan(v))
            break;
        }
        a.mean += v / a.count - a.mean / a.count;
        break;
      case AggregateOp::kCount:
        a.count++;
        break;
      case AggregateOp::kMin:
        if (a.value > v || std::isnan(a.value))
          a.value = v;
        break;
      case AggregateOp::kMax:
        if (a.value < v || std::isnan(a.value))
          a.value = v;
        break;
      case AggregateOp::kStddev:
      case AggregateOp::kStdvar: {
        a.count++;
        double delta = v - a.mean;
        a.mean += delta / a.count;
        a.value += delta * (v - a.mean);
        break;
      }
      default:
        break;
    }
  }

  // The aggregate of a group's accumulator.
  double Result(const Acc& a) const {
    switch (op_) {
      case AggregateOp::kAvg:
        return a.mean;
      case AggregateOp::kCount:
        return a.count;
      case AggregateOp::kStdvar:
        return a.value / a.count;
      case AggregateOp::kStddev:
        return std::sqrt(a.value / a.count);
      default:
        return a.value;
    }
  }

  // True for aggregations folded into one accumulator per group and step.
  bool Foldable() const {
    switch (op_) {
      case AggregateOp::kSum:
      case AggregateOp::kAvg:
      case AggregateOp::kCount:
      case AggregateOp::kMin:
      case AggregateOp::kMax:
      case AggregateOp::kGroup:
      case AggregateOp::kStddev:
      case AggregateOp::kStdvar:
        return true;
      default:
        return false;
    }
  }

  // Decides once, before the first batch, whether to read the input stream by stream (blocks of
  // steps, accumulators per group and step) instead of batch by batch. Parallel runs need
  // groups to split among the threads: every group's inputs are folded by one thread, in input
  // order, so results do not depend on the thread count.
  void ChooseBlockMode() {
    block_mode_decided_ = true;
    if (!Foldable() || param_ != nullptr || num_groups_ == 0)
      return;
    source_ = in_->AsStreamSource();
    if (source_ == nullptr)
      return;
    size_t tasks = ctx_->pool != nullptr ? static_cast<size_t>(ctx_->pool->size()) * 4 : 1;
    const size_t streams = source_->NumStreams();
    if (static_cast<int64_t>(streams) < ctx_->parallel_min_series)
      tasks = 1;
    if (tasks > 1 && num_groups_ < tasks) {
      source_ = nullptr;  // too few groups to share: the batch path parallelizes over steps
      return;
    }
    // Contiguous group ranges with about equal numbers of input streams.
    std::vector<size_t> per_group(num_groups_, 0);
    for (size_t j = 0; j < streams; ++j)
      per_group[group_of_[source_->StreamOutput(j)]]++;
    std::vector<size_t> task_of_group(num_groups_);
    size_t cum = 0;
    for (size_t g = 0; g < num_groups_; ++g) {
      task_of_group[g] = std::min(tasks - 1, streams == 0 ? 0 : cum * tasks / streams);
      cum += per_group[g];
    }
    task_streams_.assign(tasks, {});
    for (size_t j = 0; j < streams; ++j)
      task_streams_[task_of_group[group_of_[source_->StreamOutput(j)]]].push_back(j);
  }

  // Evaluates steps [first, first + n) stream by stream into block_out_.
  absl::Status ComputeBlock(int64_t first, size_t n) {
    PAODIN_RETURN_IF_ERROR(source_->BeginBlock(first, n));
    block_acc_.resize(num_groups_ * n);
    block_set_.assign(num_groups_ * n, 0);
    const size_t tasks = task_streams_.size();
    if (task_bufs_.size() < tasks)
      task_bufs_.resize(tasks);
    std::vector<absl::Status> status(tasks);
    auto run = [&](size_t k) {
      TaskBuf& tb = task_bufs_[k];
      tb.steps.resize(n);
      tb.vals.resize(n);
      for (size_t j : task_streams_[k]) {
        absl::StatusOr<size_t> got = source_->EvalStream(j, tb.steps.data(), tb.vals.data());
        if (!got.ok()) {
          status[k] = got.status();
          return;
        }
        const size_t base = group_of_[source_->StreamOutput(j)] * n;
        for (size_t p = 0; p < *got; ++p) {
          const size_t cell = base + tb.steps[p];
          if (!block_set_[cell]) {
            block_set_[cell] = 1;
            Init(block_acc_[cell], tb.vals[p]);
          } else {
            Fold(block_acc_[cell], tb.vals[p]);
          }
        }
      }
    };
    if (tasks > 1) {
      ctx_->pool->Run(tasks, run);
    } else {
      run(0);
    }
    for (const absl::Status& st : status)
      PAODIN_RETURN_IF_ERROR(st);
    if (block_out_.size() < n)
      block_out_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      StepVector& sv = block_out_[i];
      sv.Reset(range_.At(first + static_cast<int64_t>(i)));
      for (size_t g = 0; g < num_groups_; ++g) {
        if (block_set_[g * n + i])
          sv.Push(static_cast<uint32_t>(g), Result(block_acc_[g * n + i]));
      }
    }
    block_first_ = first;
    block_n_ = n;
    if (first + static_cast<int64_t>(n) >= range_.NumSteps())
      PAODIN_RETURN_IF_ERROR(source_->Finish());
    return absl::OkStatus();
  }

  // Next() when reading stream by stream: serves n steps from the blocks, computing the next
  // block when the current one is used up.
  absl::StatusOr<size_t> NextFromBlocks(std::span<StepVector> out, size_t n) {
    for (size_t i = 0; i < n; ++i, ++next_step_) {
      if (next_step_ >= block_first_ + static_cast<int64_t>(block_n_)) {
        const size_t len = static_cast<size_t>(
            std::min<int64_t>(range_.NumSteps() - next_step_, static_cast<int64_t>(kBlockSteps)));
        PAODIN_RETURN_IF_ERROR(ComputeBlock(next_step_, len));
      }
      StepVector& src = block_out_[static_cast<size_t>(next_step_ - block_first_)];
      out[i].t = src.t;
      out[i].ids.swap(src.ids);
      out[i].vals.swap(src.vals);
    }
    return n;
  }

  absl::StatusOr<const std::vector<Labels>*> CountValuesSeries(const std::vector<Labels>& in) {
    if (!IsValidLabelName(string_param_)) {
      return absl::FailedPreconditionError(
          absl::StrCat("invalid label name \"", string_param_, "\""));
    }
    std::vector<std::string> grouping = grouping_;
    if (!without_)
      grouping.push_back(string_param_);
    LabelsIndex index;
    std::vector<StepVector> buf(ctx_->batch_steps);
    std::vector<double> counts;
    std::vector<int64_t> stamp;
    std::vector<uint32_t> order;
    int64_t step = 0;
    while (true) {
      PAODIN_ASSIGN_OR_RETURN(size_t n, in_->Next(std::span<StepVector>(buf.data(), buf.size())));
      if (n == 0)
        break;
      for (size_t i = 0; i < n; ++i, ++step) {
        const StepVector& sv = buf[i];
        order.clear();
        for (size_t e = 0; e < sv.size(); ++e) {
          LabelsBuilder b(in[sv.ids[e]]);
          b.Set(string_param_, FormatFloatPlain(sv.vals[e]));
          Labels withv = b.Build();
          LabelsBuilder g(withv);
          if (without_) {
            for (const std::string& x : grouping)
              g.Del(x);
            g.Del(kMetricName);
          } else {
            g.Keep(grouping);
          }
          uint32_t id = index.Intern(g.Build());
          if (id >= counts.size()) {
            counts.resize(id + 1, 0);
            stamp.resize(id + 1, -1);
          }
          if (stamp[id] != step) {
            stamp[id] = step;
            counts[id] = 0;
            order.push_back(id);
          }
          counts[id]++;
        }
        StepVector o;
        o.t = sv.t;
        for (uint32_t id : order)
          o.Push(id, counts[id]);
        cv_steps_.push_back(std::move(o));
      }
    }
    series_ = index.Take();
    return &series_;
  }

  ExecContext* ctx_;
  AggregateOp op_;
  std::vector<std::string> grouping_;
  bool without_;
  OperatorPtr param_;
  std::string string_param_;
  OperatorPtr in_;
  StepRange range_;
  bool inited_ = false;
  int64_t next_step_ = 0;
  std::vector<Labels> series_;
  std::vector<uint32_t> group_of_;
  size_t num_groups_ = 0;
  std::vector<Scratch> scratch_;
  std::vector<StepVector> in_buf_, param_buf_;
  std::vector<StepVector> cv_steps_;
  // Stream-by-stream reading (see ChooseBlockMode).
  static constexpr size_t kBlockSteps = 256;

  struct TaskBuf {
    std::vector<uint32_t> steps;
    std::vector<double> vals;
  };

  bool block_mode_decided_ = false;
  StreamSource* source_ = nullptr;
  std::vector<std::vector<size_t>> task_streams_;
  std::vector<TaskBuf> task_bufs_;
  std::vector<Acc> block_acc_;
  std::vector<char> block_set_;
  std::vector<StepVector> block_out_;
  int64_t block_first_ = 0;
  size_t block_n_ = 0;
};

}  // namespace

OperatorPtr MakeAggregateOp(ExecContext* ctx, AggregateOp op, std::vector<std::string> grouping,
                            bool without, OperatorPtr param, std::string string_param,
                            OperatorPtr input, const StepRange& range) {
  return std::make_unique<AggregateOperator>(ctx, op, std::move(grouping), without,
                                             std::move(param), std::move(string_param),
                                             std::move(input), range);
}

}  // namespace paodin::engine::exec
