#include "engine/exec/engine.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/exec/kernels.h"
#include "engine/exec/operator.h"
#include "engine/exec/operators.h"
#include "engine/exec/result_builder.h"
#include "engine/exec/worker_pool.h"
#include "engine/promql/functions.h"
#include "engine/promql/parser.h"
#include "engine/util/status_macros.h"
#include "engine/util/strings.h"

namespace paodin::engine {

namespace exec {
namespace {

using promql::AtModifier;
using promql::Expr;
using promql::FunctionId;
using promql::ValueType;

const Expr* Unparen(const Expr* e) {
  while (true) {
    if (const auto* p = e->As<promql::Paren>()) {
      e = p->expr;
    } else if (const auto* s = e->As<promql::StepInvariant>()) {
      e = s->expr;
    } else {
      return e;
    }
  }
}

bool IsAtUnsafe(FunctionId id) {
  return id == FunctionId::kTime || id == FunctionId::kTimestamp ||
         id == FunctionId::kPredictLinear || IsDateFunction(id);
}

// True when `e` gives the same value at every step (Prometheus' preprocessing rule).
bool IsStepInvariant(const Expr* e) {
  switch (e->kind) {
    case promql::ExprKind::kNumberLiteral:
    case promql::ExprKind::kStringLiteral:
      return true;
    case promql::ExprKind::kVectorSelector:
      return e->As<promql::VectorSelector>()->at != AtModifier::kNone;
    case promql::ExprKind::kMatrixSelector:
      return e->As<promql::MatrixSelector>()->vector->at != AtModifier::kNone;
    case promql::ExprKind::kSubquery:
      return e->As<promql::Subquery>()->at != AtModifier::kNone;
    case promql::ExprKind::kParen:
      return IsStepInvariant(e->As<promql::Paren>()->expr);
    case promql::ExprKind::kStepInvariant:
      return true;
    case promql::ExprKind::kUnary:
      return IsStepInvariant(e->As<promql::Unary>()->expr);
    case promql::ExprKind::kBinary: {
      const auto* b = e->As<promql::Binary>();
      return IsStepInvariant(b->lhs) && IsStepInvariant(b->rhs);
    }
    case promql::ExprKind::kAggregate: {
      const auto* a = e->As<promql::Aggregate>();
      return IsStepInvariant(a->expr) && (a->param == nullptr || IsStepInvariant(a->param));
    }
    case promql::ExprKind::kCall: {
      const auto* c = e->As<promql::Call>();
      if (IsAtUnsafe(c->func->id))
        return false;
      for (const Expr* a : c->args) {
        if (!IsStepInvariant(a))
          return false;
      }
      return true;
    }
  }
  return false;
}

bool IsLiteral(const Expr* e) {
  e = Unparen(e);
  return e->Is<promql::NumberLiteral>() || e->Is<promql::StringLiteral>();
}

// Ceil of a to a multiple of step.
int64_t AlignUp(int64_t a, int64_t step) {
  int64_t r = step * (a / step);
  if (r < a)
    r = WrapAdd(r, step);
  return r;
}

class Planner {
 public:
  Planner(ExecContext* ctx, const StepRange& query) : ctx_(ctx), query_(query) {}

  // What Prometheus tells the store about a selector's surroundings: the nearest enclosing
  // function or aggregation (none across a binary operator) and, when the direct parent is an
  // aggregation, its grouping.
  struct HintState {
    std::string func;
    bool has_grouping = false;
    bool by = false;
    std::vector<std::string> grouping;
  };

  // Sets the hint state for the children of `e` until destroyed.
  class HintScope {
   public:
    HintScope(Planner* p, const Expr* e) : p_(p), saved_(p->hint_) {
      HintState& h = p->hint_;
      h.has_grouping = false;
      h.grouping.clear();
      if (const auto* a = e->As<promql::Aggregate>()) {
        h.func = std::string(promql::AggregateOpString(a->op));
        h.has_grouping = true;
        h.by = !a->without;
        h.grouping = a->grouping;
      } else if (const auto* c = e->As<promql::Call>()) {
        h.func = std::string(c->func->name);
      } else if (e->Is<promql::Binary>()) {
        h.func.clear();
      }
    }

    ~HintScope() { p_->hint_ = std::move(saved_); }

   private:
    Planner* p_;
    HintState saved_;
  };

  // Fills the func / grouping hints from the current state.
  void ApplyHints(SelectHints& hints) const {
    hints.func = hint_.func;
    if (hint_.has_grouping) {
      hints.by = hint_.by;
      hints.grouping = hint_.grouping;
    }
  }

  absl::StatusOr<OperatorPtr> Plan(const Expr* e, const StepRange& range) {
    if (range.NumSteps() > 1 && !IsLiteral(e) && e->type() != ValueType::kMatrix &&
        IsStepInvariant(e)) {
      StepRange one{range.start, range.start, 0};
      PAODIN_ASSIGN_OR_RETURN(OperatorPtr inner, PlanNode(e, one));
      return MakeStepInvariantOp(ctx_, std::move(inner), range);
    }
    return PlanNode(e, range);
  }

  // Builds the window source of a matrix-typed expression (matrix selector or subquery).
  absl::StatusOr<RangeSource> Source(const Expr* e, const StepRange& range) {
    e = Unparen(e);
    HintScope scope(this, e);
    RangeSource src;
    if (const auto* ms = e->As<promql::MatrixSelector>()) {
      const promql::VectorSelector& vs = *ms->vector;
      src.range_ms = ms->range_ms;
      src.offset_ms = vs.offset_ms;
      src.has_at = ResolveAt(vs.at, vs.at_ms, query_, &src.at_ms);
      src.absent_labels = AbsentLabels(vs);
      int64_t ref_min = WrapSub(src.has_at ? src.at_ms : range.start, vs.offset_ms);
      int64_t ref_max = WrapSub(src.has_at ? src.at_ms : range.end, vs.offset_ms);
      SelectHints hints;
      hints.start_ms = WrapSub(ref_min, ms->range_ms);
      hints.end_ms = ref_max;
      hints.step_ms = query_.step;
      hints.range_ms = ms->range_ms;
      ApplyHints(hints);
      PAODIN_ASSIGN_OR_RETURN(src.streams, OpenSelector(*ctx_, vs, /*drop_stale=*/true, hints));
      return src;
    }
    if (const auto* sq = e->As<promql::Subquery>()) {
      src.range_ms = sq->range_ms;
      src.offset_ms = sq->offset_ms;
      src.has_at = ResolveAt(sq->at, sq->at_ms, query_, &src.at_ms);
      int64_t step = sq->step_ms > 0 ? sq->step_ms : ctx_->default_eval_interval_ms;
      int64_t ref_min = WrapSub(src.has_at ? src.at_ms : range.start, sq->offset_ms);
      int64_t ref_max = WrapSub(src.has_at ? src.at_ms : range.end, sq->offset_ms);
      StepRange inner{AlignUp(WrapSub(ref_min, sq->range_ms), step), ref_max, step};
      if (inner.start > inner.end) {
        return src;  // no inner steps
      }
      PAODIN_ASSIGN_OR_RETURN(OperatorPtr op, Plan(sq->expr, inner));
      if (ctx_->prefetching)
        return src;  // the dry pass only opens the inner selections
      PAODIN_ASSIGN_OR_RETURN(SeriesSamples samples, Materialize(*op, *ctx_, inner));
      src.streams = StreamsFromSamples(std::move(samples));
      return src;
    }
    return absl::InvalidArgumentError("expected a range vector");
  }

 private:
  absl::StatusOr<OperatorPtr> PlanNode(const Expr* e, const StepRange& range) {
    if (e->Is<promql::VectorSelector>())
      return Selector(*e->As<promql::VectorSelector>(), range, false);
    HintScope scope(this, e);
    switch (e->kind) {
      case promql::ExprKind::kNumberLiteral:
        return MakeConstantOp(e->As<promql::NumberLiteral>()->value, range);
      case promql::ExprKind::kParen:
        return Plan(e->As<promql::Paren>()->expr, range);
      case promql::ExprKind::kStepInvariant:
        return Plan(e->As<promql::StepInvariant>()->expr, range);
      case promql::ExprKind::kVectorSelector:
        return Selector(*e->As<promql::VectorSelector>(), range, false);
      case promql::ExprKind::kUnary: {
        const auto* u = e->As<promql::Unary>();
        PAODIN_ASSIGN_OR_RETURN(OperatorPtr in, Plan(u->expr, range));
        if (u->op == '+')
          return in;
        return MakeNegateOp(ctx_, std::move(in), u->expr->type() == ValueType::kScalar, range);
      }
      case promql::ExprKind::kBinary:
        return Binary(*e->As<promql::Binary>(), range);
      case promql::ExprKind::kAggregate:
        return Aggregate(*e->As<promql::Aggregate>(), range);
      case promql::ExprKind::kCall:
        return Call(*e->As<promql::Call>(), range);
      case promql::ExprKind::kStringLiteral:
        return absl::InvalidArgumentError("unexpected string literal");
      case promql::ExprKind::kMatrixSelector:
      case promql::ExprKind::kSubquery:
        return absl::InvalidArgumentError("unexpected range vector");
    }
    return absl::InternalError("unknown expression");
  }

  absl::StatusOr<OperatorPtr> Selector(const promql::VectorSelector& vs, const StepRange& range,
                                       bool timestamps) {
    int64_t at = 0;
    bool has_at = ResolveAt(vs.at, vs.at_ms, query_, &at);
    int64_t ref_min = WrapSub(has_at ? at : range.start, vs.offset_ms);
    int64_t ref_max = WrapSub(has_at ? at : range.end, vs.offset_ms);
    SelectHints hints;
    hints.start_ms = WrapSub(ref_min, ctx_->lookback_ms);
    hints.end_ms = ref_max;
    hints.step_ms = query_.step;
    ApplyHints(hints);
    PAODIN_ASSIGN_OR_RETURN(SeriesStreams s, OpenSelector(*ctx_, vs, /*drop_stale=*/false, hints));
    return MakeVectorSelectorOp(ctx_, std::move(s), vs.offset_ms, has_at, at, range, timestamps);
  }

  absl::StatusOr<OperatorPtr> Binary(const promql::Binary& b, const StepRange& range) {
    PAODIN_ASSIGN_OR_RETURN(OperatorPtr lhs, Plan(b.lhs, range));
    PAODIN_ASSIGN_OR_RETURN(OperatorPtr rhs, Plan(b.rhs, range));
    bool ls = b.lhs->type() == ValueType::kScalar;
    bool rs = b.rhs->type() == ValueType::kScalar;
    if (ls && rs)
      return MakeScalarBinaryOp(ctx_, b.op, std::move(lhs), std::move(rhs), range);
    if (rs) {
      return MakeVectorScalarBinaryOp(ctx_, b.op, b.return_bool, std::move(lhs), std::move(rhs),
                                      false, range);
    }
    if (ls) {
      return MakeVectorScalarBinaryOp(ctx_, b.op, b.return_bool, std::move(rhs), std::move(lhs),
                                      true, range);
    }
    promql::VectorMatching m;
    if (b.matching.has_value())
      m = *b.matching;
    if (promql::IsSetOp(b.op))
      m.card = promql::Cardinality::kManyToMany;
    return MakeVectorBinaryOp(ctx_, b.op, b.return_bool, std::move(m), std::move(lhs),
                              std::move(rhs), range);
  }

  absl::StatusOr<OperatorPtr> Aggregate(const promql::Aggregate& a, const StepRange& range) {
    OperatorPtr param;
    std::string sparam;
    if (a.param != nullptr) {
      const Expr* p = Unparen(a.param);
      if (const auto* s = p->As<promql::StringLiteral>()) {
        sparam = s->value;
      } else {
        PAODIN_ASSIGN_OR_RETURN(param, Plan(a.param, range));
      }
    }
    PAODIN_ASSIGN_OR_RETURN(OperatorPtr in, Plan(a.expr, range));
    std::vector<std::string> grouping = a.grouping;
    std::sort(grouping.begin(), grouping.end());
    return MakeAggregateOp(ctx_, a.op, std::move(grouping), a.without, std::move(param),
                           std::move(sparam), std::move(in), range);
  }

  static absl::StatusOr<std::string> StringArg(const Expr* e) {
    e = Unparen(e);
    if (const auto* s = e->As<promql::StringLiteral>())
      return s->value;
    return absl::InvalidArgumentError("expected a string literal argument");
  }

  absl::StatusOr<OperatorPtr> Call(const promql::Call& c, const StepRange& range) {
    FunctionId id = c.func->id;
    const auto& args = c.args;
    if (IsRangeFunction(id)) {
      size_t matrix_arg = id == FunctionId::kQuantileOverTime ? 1 : 0;
      std::vector<OperatorPtr> scalars;
      for (size_t i = 0; i < args.size(); ++i) {
        if (i == matrix_arg)
          continue;
        PAODIN_ASSIGN_OR_RETURN(OperatorPtr op, Plan(args[i], range));
        scalars.push_back(std::move(op));
      }
      PAODIN_ASSIGN_OR_RETURN(RangeSource src, Source(args[matrix_arg], range));
      return MakeRangeFunctionOp(ctx_, id, std::move(src), std::move(scalars), range);
    }
    if (IsInstantMath(id)) {
      OperatorPtr in;
      if (args.empty()) {
        in = MakeVectorOp(ctx_, MakeTimeOp(range), range);
      } else {
        PAODIN_ASSIGN_OR_RETURN(in, Plan(args[0], range));
      }
      std::vector<OperatorPtr> scalars;
      for (size_t i = 1; i < args.size(); ++i) {
        PAODIN_ASSIGN_OR_RETURN(OperatorPtr op, Plan(args[i], range));
        scalars.push_back(std::move(op));
      }
      return MakeInstantFunctionOp(ctx_, id, std::move(in), std::move(scalars), range);
    }
    switch (id) {
      case FunctionId::kTime:
        return MakeTimeOp(range);
      case FunctionId::kPi:
        return MakeConstantOp(M_PI, range);
      case FunctionId::kTimestamp: {
        const Expr* a = Unparen(args[0]);
        if (const auto* vs = a->As<promql::VectorSelector>())
          return Selector(*vs, range, true);
        PAODIN_ASSIGN_OR_RETURN(OperatorPtr in, Plan(args[0], range));
        return MakeStepTimestampOp(ctx_, std::move(in), range);
      }
      case FunctionId::kScalar: {
        PAODIN_ASSIGN_OR_RETURN(OperatorPtr in, Plan(args[0], range));
        return MakeScalarOp(ctx_, std::move(in), range);
      }
      case FunctionId::kVector: {
        PAODIN_ASSIGN_OR_RETURN(OperatorPtr in, Plan(args[0], range));
        return MakeVectorOp(ctx_, std::move(in), range);
      }
      case FunctionId::kAbsent: {
        Labels labels;
        if (const auto* vs = args[0]->As<promql::VectorSelector>())
          labels = AbsentLabels(*vs);
        PAODIN_ASSIGN_OR_RETURN(OperatorPtr in, Plan(args[0], range));
        return MakeAbsentOp(ctx_, std::move(in), std::move(labels), range);
      }
      case FunctionId::kSort:
      case FunctionId::kSortDesc: {
        PAODIN_ASSIGN_OR_RETURN(OperatorPtr in, Plan(args[0], range));
        return MakeSortOp(ctx_, std::move(in), id == FunctionId::kSortDesc, range);
      }
      case FunctionId::kLabelReplace: {
        PAODIN_ASSIGN_OR_RETURN(std::string dst, StringArg(args[1]));
        PAODIN_ASSIGN_OR_RETURN(std::string repl, StringArg(args[2]));
        PAODIN_ASSIGN_OR_RETURN(std::string src, StringArg(args[3]));
        PAODIN_ASSIGN_OR_RETURN(std::string re, StringArg(args[4]));
        PAODIN_ASSIGN_OR_RETURN(OperatorPtr in, Plan(args[0], range));
        return MakeLabelReplaceOp(ctx_, std::move(in), dst, repl, src, re, range);
      }
      case FunctionId::kLabelJoin: {
        PAODIN_ASSIGN_OR_RETURN(std::string dst, StringArg(args[1]));
        PAODIN_ASSIGN_OR_RETURN(std::string sep, StringArg(args[2]));
        std::vector<std::string> srcs;
        for (size_t i = 3; i < args.size(); ++i) {
          PAODIN_ASSIGN_OR_RETURN(std::string s, StringArg(args[i]));
          srcs.push_back(std::move(s));
        }
        PAODIN_ASSIGN_OR_RETURN(OperatorPtr in, Plan(args[0], range));
        return MakeLabelJoinOp(ctx_, std::move(in), dst, sep, std::move(srcs), range);
      }
      case FunctionId::kHistogramQuantile: {
        PAODIN_ASSIGN_OR_RETURN(OperatorPtr phi, Plan(args[0], range));
        PAODIN_ASSIGN_OR_RETURN(OperatorPtr in, Plan(args[1], range));
        return MakeHistogramQuantileOp(ctx_, std::move(phi), std::move(in), range);
      }
      case FunctionId::kHistogramCount:
      case FunctionId::kHistogramSum:
      case FunctionId::kHistogramFraction: {
        std::vector<OperatorPtr> ins;
        for (const Expr* a : args) {
          PAODIN_ASSIGN_OR_RETURN(OperatorPtr op, Plan(a, range));
          ins.push_back(std::move(op));
        }
        return MakeEmptyOp(ctx_, std::move(ins), range);
      }
      default:
        return absl::UnimplementedError(
            absl::StrCat("function not implemented: ", ToAbsl(c.func->name)));
    }
  }

  ExecContext* ctx_;
  StepRange query_;
  HintState hint_;
};

}  // namespace

std::vector<std::string> ExecContext::TakeWarnings() {
  std::lock_guard<std::mutex> lock(warnings_mu);
  std::vector<std::string> all = std::move(warnings);
  for (const std::unique_ptr<SeriesSet>& set : sets) {
    for (std::string& w : set->warnings())
      all.push_back(std::move(w));
  }
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  for (std::string& w : all) {
    if (seen.insert(w).second)
      out.push_back(std::move(w));
  }
  return out;
}

}  // namespace exec

Engine::Engine(EngineOptions options) : options_(options) {
  if (options_.threads > 1)
    pool_ = std::make_shared<exec::WorkerPool>(options_.threads);
}

absl::StatusOr<QueryResult> Engine::InstantQuery(Queryable& queryable, std::string_view query,
                                                 int64_t t_ms, const QueryOptions& opts) const {
  PAODIN_ASSIGN_OR_RETURN(promql::ParsedQuery parsed, promql::Parse(query));
  return Evaluate(queryable, *parsed.root(), t_ms, t_ms, 0, true, opts);
}

absl::StatusOr<QueryResult> Engine::RangeQuery(Queryable& queryable, std::string_view query,
                                               int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                               const QueryOptions& opts) const {
  if (step_ms <= 0) {
    return absl::InvalidArgumentError(
        "zero or negative query resolution step widths are not accepted. Try a positive "
        "integer");
  }
  if (end_ms < start_ms) {
    return absl::InvalidArgumentError("end timestamp must not be before start time");
  }
  PAODIN_ASSIGN_OR_RETURN(promql::ParsedQuery parsed, promql::Parse(query));
  return Evaluate(queryable, *parsed.root(), start_ms, end_ms, step_ms, false, opts);
}

namespace {

// How many vector selectors (plain or under a range) `e` contains.
size_t CountSelectors(const promql::Expr& e) {
  if (e.Is<promql::VectorSelector>())
    return 1;
  size_t n = 0;
  for (const promql::Expr* c : promql::Children(e))
    n += CountSelectors(*c);
  return n;
}

}  // namespace

absl::StatusOr<QueryResult> Engine::Evaluate(Queryable& queryable, const promql::Expr& expr,
                                             int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                             bool instant, const QueryOptions& opts) const {
  using exec::StepRange;
  const int64_t cpu_start = exec::ThreadCpuNs();
  exec::ExecContext ctx;
  ctx.queryable = &queryable;
  ctx.lookback_ms =
      opts.lookback_delta_ms > 0 ? opts.lookback_delta_ms : options_.lookback_delta_ms;
  ctx.default_eval_interval_ms =
      options_.default_eval_interval_ms > 0 ? options_.default_eval_interval_ms : 60000;
  ctx.max_samples = options_.max_samples;
  ctx.query_ctx.cancelled = opts.cancel;
  ctx.parallel_min_series = std::max<int64_t>(1, options_.parallel_min_series);
  std::unique_ptr<exec::WorkerPool> pool;  // the query's own workers, when it asked for them
  if (opts.threads > 1) {
    pool = std::make_unique<exec::WorkerPool>(opts.threads);
    ctx.pool = pool.get();
  } else if (opts.threads <= 0) {
    ctx.pool = pool_.get();
  }
  int64_t timeout = opts.timeout_ms > 0 ? opts.timeout_ms : options_.timeout_ms;
  if (timeout > 0)
    ctx.query_ctx.deadline_steady_ms = NowSteadyMs() + timeout;

  StepRange range =
      instant ? StepRange{start_ms, start_ms, 0} : StepRange{start_ms, end_ms, step_ms};
  exec::Planner planner(&ctx, range);
  QueryResult result;
  const promql::Expr* root = exec::Unparen(&expr);
  promql::ValueType type = expr.type();

  if (type == promql::ValueType::kString) {
    if (!instant) {
      return absl::InvalidArgumentError(
          "invalid expression type \"string\" for range query, must be Scalar or instant Vector");
    }
    result.type = ResultType::kString;
    result.str = root->As<promql::StringLiteral>()->value;
    result.t_ms = start_ms;
    return result;
  }
  if (type == promql::ValueType::kMatrix) {
    if (!instant) {
      return absl::InvalidArgumentError(
          "invalid expression type \"range vector\" for range query, must be Scalar or instant "
          "Vector");
    }
    PAODIN_ASSIGN_OR_RETURN(exec::RangeSource src, planner.Source(root, range));
    result.type = ResultType::kMatrix;
    int64_t maxt = exec::WrapSub(src.has_at ? src.at_ms : start_ms, src.offset_ms);
    int64_t mint = exec::WrapSub(maxt, src.range_ms);
    exec::SeriesStreams& s = src.streams;
    for (size_t i = 0; i < s.NumSeries(); ++i) {
      PAODIN_RETURN_IF_ERROR(s.FillUntil(i, maxt, ctx));
      const exec::SampleBuffer& b = s.bufs[i];
      ResultSeries rs;
      rs.labels = s.labels[i];
      for (size_t k = 0; k < b.ts.size(); ++k) {
        if (b.ts[k] < mint || b.ts[k] > maxt)
          continue;
        rs.ts.push_back(b.ts[k]);
        rs.vs.push_back(b.vs[k]);
      }
      if (!rs.ts.empty())
        result.series.push_back(std::move(rs));
    }
    std::sort(result.series.begin(), result.series.end(),
              [](const ResultSeries& a, const ResultSeries& b) { return a.labels < b.labels; });
    result.warnings = ctx.TakeWarnings();
    result.stats.samples_scanned = ctx.samples_scanned;
    return result;
  }

  if (CountSelectors(expr) > 1) {
    // Open every selection first, so the stores stream them all while the planner reads them
    // one after the other (errors are left to the real pass).
    ctx.prefetching = true;
    {
      exec::Planner dry(&ctx, range);
      (void)dry.Plan(&expr, range);
    }
    ctx.prefetching = false;
  }
  PAODIN_ASSIGN_OR_RETURN(exec::OperatorPtr op, planner.Plan(&expr, range));
  // Selections the real pass did not take are closed now.
  ctx.prefetched.clear();
  PAODIN_ASSIGN_OR_RETURN(const std::vector<Labels>* series, op->Series());
  std::vector<exec::StepVector> buf(ctx.batch_steps);
  const bool scalar = type == promql::ValueType::kScalar;
  std::vector<ResultSeries> acc(instant ? 0 : series->size());
  int64_t points = 0;
  int64_t steps_done = 0;
  bool by_series = false;
  if (!instant && !scalar) {
    PAODIN_ASSIGN_OR_RETURN(by_series, op->AllStepsBySeries(acc));
    if (by_series) {
      for (const ResultSeries& rs : acc)
        points += static_cast<int64_t>(rs.ts.size());
      if (points > ctx.max_samples)
        return exec::TooManySamplesError();
    }
  }
  while (!by_series) {
    PAODIN_RETURN_IF_ERROR(ctx.Check());
    PAODIN_ASSIGN_OR_RETURN(size_t n,
                            op->Next(std::span<exec::StepVector>(buf.data(), buf.size())));
    if (n == 0)
      break;
    for (size_t i = 0; i < n; ++i) {
      const exec::StepVector& sv = buf[i];
      if (instant) {
        if (scalar) {
          result.type = ResultType::kScalar;
          result.scalar = sv.size() > 0 ? sv.vals[0] : std::nan("");
          result.t_ms = sv.t;
          continue;
        }
        result.type = ResultType::kVector;
        for (size_t k = 0; k < sv.size(); ++k) {
          ResultSeries rs;
          rs.labels = (*series)[sv.ids[k]];
          rs.ts.push_back(sv.t);
          rs.vs.push_back(sv.vals[k]);
          result.series.push_back(std::move(rs));
        }
        continue;
      }
      points += sv.size();
    }
    if (!instant) {
      // Transpose the batch into per-series points; with a pool, each task owns a range of
      // series ids (so writes never race).
      const size_t ns = acc.size();
      const size_t tasks =
          ctx.pool != nullptr && static_cast<int64_t>(ns) >= ctx.parallel_min_series
              ? ctx.pool->size()
              : 1;
      const int64_t steps_left = range.NumSteps() - steps_done;
      auto transpose = [&](size_t task) {
        const uint32_t lo = static_cast<uint32_t>(ns * task / tasks);
        const uint32_t hi = static_cast<uint32_t>(ns * (task + 1) / tasks);
        exec::AppendBatchToSeries(std::span<const exec::StepVector>(buf.data(), n), lo, hi,
                                  steps_left, acc);
      };
      if (tasks > 1) {
        ctx.pool->Run(tasks, transpose);
      } else {
        transpose(0);
      }
      steps_done += static_cast<int64_t>(n);
    }
    if (points > ctx.max_samples)
      return exec::TooManySamplesError();
  }
  if (instant) {
    if (scalar)
      result.type = ResultType::kScalar;
  } else {
    result.type = ResultType::kMatrix;
    for (size_t i = 0; i < acc.size(); ++i) {
      if (acc[i].ts.empty())
        continue;
      acc[i].labels = (*series)[i];
      result.series.push_back(std::move(acc[i]));
    }
    std::sort(result.series.begin(), result.series.end(),
              [](const ResultSeries& a, const ResultSeries& b) { return a.labels < b.labels; });
  }
  result.warnings = ctx.TakeWarnings();
  result.stats.samples_scanned = ctx.samples_scanned;
  result.stats.peak_samples = ctx.peak_samples;
  result.stats.thread_cpu_ns.push_back(exec::ThreadCpuNs() - cpu_start);
  if (pool != nullptr) {
    for (int64_t ns : pool->Stop())
      result.stats.thread_cpu_ns.push_back(ns);
  }
  return result;
}

}  // namespace paodin::engine
