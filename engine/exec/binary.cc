// Binary operators: scalar-scalar, vector-scalar and vector-vector with label matching.
#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/exec/operators.h"
#include "engine/util/status_macros.h"

namespace paodin::engine::exec {

using promql::BinaryOp;
using promql::Cardinality;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool DropsName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kPow:
    case BinaryOp::kMod:
      return true;
    default:
      return false;
  }
}

// Pulls a child in lockstep (same as in basic_ops.cc).
class In {
 public:
  explicit In(OperatorPtr op) : op_(std::move(op)) {}

  absl::StatusOr<const std::vector<Labels>*> Series() { return op_->Series(); }

  absl::Status Pull(size_t n) {
    if (buf_.size() < n)
      buf_.resize(n);
    PAODIN_ASSIGN_OR_RETURN(size_t got, op_->Next(std::span<StepVector>(buf_.data(), n)));
    if (got != n)
      return absl::InternalError("operator step count mismatch");
    return absl::OkStatus();
  }

  const StepVector& at(size_t i) const { return buf_[i]; }

  double Scalar(size_t i) const { return buf_[i].size() > 0 ? buf_[i].vals[0] : kNaN; }

 private:
  OperatorPtr op_;
  std::vector<StepVector> buf_;
};

class BinaryBase : public Operator {
 protected:
  BinaryBase(ExecContext* ctx, const StepRange& range) : ctx_(ctx), range_(range) {}

  size_t BeginBatch(std::span<StepVector> out) {
    int64_t left = range_.NumSteps() - next_step_;
    size_t n = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(out.size())));
    for (size_t i = 0; i < n; ++i)
      out[i].Reset(range_.At(next_step_ + i));
    batch_first_ = next_step_;
    next_step_ += n;
    return n;
  }

  ExecContext* ctx_;
  StepRange range_;
  int64_t next_step_ = 0;
  int64_t batch_first_ = 0;
  std::vector<Labels> series_;
  bool inited_ = false;
};

class ScalarBinaryOp : public BinaryBase {
 public:
  ScalarBinaryOp(ExecContext* ctx, BinaryOp op, OperatorPtr lhs, OperatorPtr rhs,
                 const StepRange& range)
      : BinaryBase(ctx, range), op_(op), lhs_(std::move(lhs)), rhs_(std::move(rhs)) {
    series_.emplace_back();
  }

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    PAODIN_RETURN_IF_ERROR(lhs_.Series().status());
    PAODIN_RETURN_IF_ERROR(rhs_.Series().status());
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    PAODIN_RETURN_IF_ERROR(lhs_.Pull(n));
    PAODIN_RETURN_IF_ERROR(rhs_.Pull(n));
    for (size_t i = 0; i < n; ++i)
      out[i].Push(0, ScalarBinop(op_, lhs_.Scalar(i), rhs_.Scalar(i)));
    return n;
  }

 private:
  BinaryOp op_;
  In lhs_, rhs_;
};

class VectorScalarOp : public BinaryBase {
 public:
  VectorScalarOp(ExecContext* ctx, BinaryOp op, bool return_bool, OperatorPtr vec,
                 OperatorPtr scalar, bool scalar_on_left, const StepRange& range)
      : BinaryBase(ctx, range),
        op_(op),
        bool_(return_bool),
        vec_(std::move(vec)),
        scalar_(std::move(scalar)),
        swap_(scalar_on_left) {}

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    if (!inited_) {
      inited_ = true;
      PAODIN_RETURN_IF_ERROR(scalar_.Series().status());
      PAODIN_ASSIGN_OR_RETURN(const std::vector<Labels>* in, vec_.Series());
      bool drop = DropsName(op_) || bool_;
      for (const Labels& l : *in)
        out_id_.push_back(index_.Intern(drop ? l.DropMetricName() : l));
      series_ = index_.labels();
      stamp_.assign(series_.size(), -1);
    }
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    PAODIN_RETURN_IF_ERROR(vec_.Pull(n));
    PAODIN_RETURN_IF_ERROR(scalar_.Pull(n));
    const bool cmp = promql::IsComparisonOp(op_);
    for (size_t i = 0; i < n; ++i) {
      double s = scalar_.Scalar(i);
      const StepVector& sv = vec_.at(i);
      int64_t step = batch_first_ + i;
      for (size_t k = 0; k < sv.size(); ++k) {
        double lv = sv.vals[k], rv = s;
        if (swap_)
          std::swap(lv, rv);
        double value;
        bool keep = VectorElemBinop(op_, lv, rv, &value);
        if (cmp && swap_)
          value = rv;
        if (bool_) {
          value = keep ? 1.0 : 0.0;
          keep = true;
        }
        if (!keep)
          continue;
        uint32_t o = out_id_[sv.ids[k]];
        if (stamp_[o] == step)
          return DuplicateLabelsetError();
        stamp_[o] = step;
        out[i].Push(o, value);
      }
    }
    return n;
  }

 private:
  BinaryOp op_;
  bool bool_;
  In vec_, scalar_;
  bool swap_;
  LabelsIndex index_;
  std::vector<uint32_t> out_id_;
  std::vector<int64_t> stamp_;
};

// Labels restricted for matching: `on` keeps the listed labels, `ignoring` drops them and the
// metric name.
Labels MatchKey(const Labels& l, const promql::VectorMatching& m) {
  LabelsBuilder b(l);
  if (m.on) {
    b.Keep(m.matching_labels);
  } else {
    for (const std::string& n : m.matching_labels)
      b.Del(n);
    b.Del(kMetricName);
  }
  return b.Build();
}

class VectorBinaryOp : public BinaryBase {
 public:
  VectorBinaryOp(ExecContext* ctx, BinaryOp op, bool return_bool, promql::VectorMatching m,
                 OperatorPtr lhs, OperatorPtr rhs, const StepRange& range)
      : BinaryBase(ctx, range),
        op_(op),
        bool_(return_bool),
        m_(std::move(m)),
        lhs_(std::move(lhs)),
        rhs_(std::move(rhs)) {}

  absl::StatusOr<const std::vector<Labels>*> Series() override {
    if (inited_)
      return &series_;
    inited_ = true;
    // The two branches are independent: select (and later evaluate) them in parallel.
    absl::StatusOr<const std::vector<Labels>*> ls, rs;
    RunBranches([&] { ls = lhs_.Series(); }, [&] { rs = rhs_.Series(); });
    PAODIN_ASSIGN_OR_RETURN(const std::vector<Labels>* l, ls);
    PAODIN_ASSIGN_OR_RETURN(const std::vector<Labels>* r, rs);
    lhs_labels_ = l;
    rhs_labels_ = r;
    LabelsIndex sigs;
    for (const Labels& x : *l)
      lsig_.push_back(sigs.Intern(MatchKey(x, m_)));
    for (const Labels& x : *r)
      rsig_.push_back(sigs.Intern(MatchKey(x, m_)));
    sig_labels_ = sigs.labels();
    size_t nsig = sig_labels_.size();
    sig_stamp_.assign(nsig, -1);
    sig_slot_.assign(nsig, 0);
    many_stamp_.assign(nsig, -1);
    if (promql::IsSetOp(op_)) {
      if (op_ == BinaryOp::kOr) {
        for (const Labels& x : *l)
          lout_.push_back(index_.Intern(x));
        for (const Labels& x : *r)
          rout_.push_back(index_.Intern(x));
      } else {
        for (const Labels& x : *l)
          lout_.push_back(index_.Intern(x));
      }
      series_ = index_.labels();
      out_stamp_.assign(series_.size(), -1);
      return &series_;
    }
    // Arithmetic / comparison: the "one" side is rhs unless group_right.
    one_is_lhs_ = m_.card == Cardinality::kOneToMany;
    const std::vector<Labels>& many = one_is_lhs_ ? *r : *l;
    const std::vector<Labels>& one = one_is_lhs_ ? *l : *r;
    const std::vector<uint32_t>& many_sig = one_is_lhs_ ? rsig_ : lsig_;
    const std::vector<uint32_t>& one_sig = one_is_lhs_ ? lsig_ : rsig_;
    // Position of each "one" series within its signature group.
    std::vector<std::vector<uint32_t>> ones_by_sig(nsig);
    one_pos_.resize(one.size());
    for (size_t o = 0; o < one.size(); ++o) {
      one_pos_[o] = ones_by_sig[one_sig[o]].size();
      ones_by_sig[one_sig[o]].push_back(o);
    }
    // Output labels per (many, one) pair of the same signature.
    bool drop = DropsName(op_) || bool_;
    pair_base_.resize(many.size());
    for (size_t mi = 0; mi < many.size(); ++mi) {
      pair_base_[mi] = pair_out_.size();
      for (uint32_t o : ones_by_sig[many_sig[mi]]) {
        LabelsBuilder b(many[mi]);
        if (drop)
          b.Del(kMetricName);
        if (m_.card == Cardinality::kOneToOne) {
          if (m_.on) {
            b.Keep(m_.matching_labels);
          } else {
            for (const std::string& n : m_.matching_labels)
              b.Del(n);
          }
        }
        for (const std::string& ln : m_.include) {
          std::string_view v = one[o].Get(ln);
          if (!v.empty()) {
            b.Set(ln, v);
          } else {
            b.Del(ln);
          }
        }
        if (bool_)
          b.Del(kMetricName);
        pair_out_.push_back(index_.Intern(b.Build()));
      }
    }
    series_ = index_.labels();
    out_stamp_.assign(series_.size(), -1);
    out_sig_.assign(series_.size(), 0);
    return &series_;
  }

  absl::StatusOr<size_t> Next(std::span<StepVector> out) override {
    size_t n = BeginBatch(out);
    if (n == 0)
      return 0;
    absl::Status lst, rst;
    RunBranches([&] { lst = lhs_.Pull(n); }, [&] { rst = rhs_.Pull(n); });
    PAODIN_RETURN_IF_ERROR(lst);
    PAODIN_RETURN_IF_ERROR(rst);
    for (size_t i = 0; i < n; ++i) {
      int64_t step = batch_first_ + i;
      if (promql::IsSetOp(op_)) {
        SetOp(lhs_.at(i), rhs_.at(i), step, out[i]);
      } else {
        PAODIN_RETURN_IF_ERROR(ArithOp(lhs_.at(i), rhs_.at(i), step, out[i]));
      }
    }
    return n;
  }

 private:
  void SetOp(const StepVector& l, const StepVector& r, int64_t step, StepVector& out) {
    switch (op_) {
      case BinaryOp::kAnd:
        for (size_t k = 0; k < r.size(); ++k)
          sig_stamp_[rsig_[r.ids[k]]] = step;
        for (size_t k = 0; k < l.size(); ++k) {
          if (sig_stamp_[lsig_[l.ids[k]]] == step)
            out.Push(lout_[l.ids[k]], l.vals[k]);
        }
        break;
      case BinaryOp::kUnless:
        for (size_t k = 0; k < r.size(); ++k)
          sig_stamp_[rsig_[r.ids[k]]] = step;
        for (size_t k = 0; k < l.size(); ++k) {
          if (sig_stamp_[lsig_[l.ids[k]]] != step)
            out.Push(lout_[l.ids[k]], l.vals[k]);
        }
        break;
      case BinaryOp::kOr:
        for (size_t k = 0; k < l.size(); ++k) {
          sig_stamp_[lsig_[l.ids[k]]] = step;
          out.Push(lout_[l.ids[k]], l.vals[k]);
        }
        for (size_t k = 0; k < r.size(); ++k) {
          if (sig_stamp_[rsig_[r.ids[k]]] != step)
            out.Push(rout_[r.ids[k]], r.vals[k]);
        }
        break;
      default:
        break;
    }
  }

  absl::Status ArithOp(const StepVector& l, const StepVector& r, int64_t step, StepVector& out) {
    if (l.size() == 0 || r.size() == 0)
      return absl::OkStatus();
    const StepVector& many = one_is_lhs_ ? r : l;
    const StepVector& one = one_is_lhs_ ? l : r;
    const std::vector<uint32_t>& many_sig = one_is_lhs_ ? rsig_ : lsig_;
    const std::vector<uint32_t>& one_sig = one_is_lhs_ ? lsig_ : rsig_;
    // Index the "one" side by signature.
    for (size_t k = 0; k < one.size(); ++k) {
      uint32_t s = one_sig[one.ids[k]];
      if (sig_stamp_[s] == step) {
        const std::vector<Labels>& one_labels = one_is_lhs_ ? *lhs_labels_ : *rhs_labels_;
        return absl::FailedPreconditionError(absl::StrCat(
            "found duplicate series for the match group ", sig_labels_[s].ToString(), " on the ",
            one_is_lhs_ ? "left" : "right", " hand-side of the operation: [",
            one_labels[one.ids[k]].ToString(), ", ", one_labels[one.ids[sig_slot_[s]]].ToString(),
            "];many-to-many matching not allowed: matching labels must be unique on one side"));
      }
      sig_stamp_[s] = step;
      sig_slot_[s] = static_cast<uint32_t>(k);
    }
    for (size_t k = 0; k < many.size(); ++k) {
      uint32_t mid = many.ids[k];
      uint32_t s = many_sig[mid];
      if (sig_stamp_[s] != step)
        continue;
      size_t ok = sig_slot_[s];
      uint32_t oid = one.ids[ok];
      double vl = many.vals[k], vr = one.vals[ok];
      if (one_is_lhs_)
        std::swap(vl, vr);
      double value;
      bool keep = VectorElemBinop(op_, vl, vr, &value);
      if (bool_) {
        value = keep ? 1.0 : 0.0;
      } else if (!keep) {
        continue;
      }
      uint32_t o = pair_out_[pair_base_[mid] + one_pos_[oid]];
      if (m_.card == Cardinality::kOneToOne) {
        // A second "many" series for one signature: matching must be explicit.
        if (many_stamp_[s] == step) {
          return absl::FailedPreconditionError(
              "multiple matches for labels: many-to-one matching must be explicit "
              "(group_left/group_right)");
        }
        many_stamp_[s] = step;
        if (out_stamp_[o] == step)
          return DuplicateLabelsetError();
      } else if (out_stamp_[o] == step) {
        if (out_sig_[o] == s) {
          return absl::FailedPreconditionError(
              "multiple matches for labels: grouping labels must ensure unique matches");
        }
        return DuplicateLabelsetError();
      }
      out_stamp_[o] = step;
      out_sig_[o] = s;
      out.Push(o, value);
    }
    return absl::OkStatus();
  }

  // Runs the two branch functions in parallel when the query has a pool.
  template <typename A, typename B>
  void RunBranches(A a, B b) {
    if (ctx_->pool == nullptr) {
      a();
      b();
      return;
    }
    ctx_->pool->Run(2, [&](size_t k) {
      if (k == 0) {
        a();
      } else {
        b();
      }
    });
  }

  BinaryOp op_;
  bool bool_;
  promql::VectorMatching m_;
  In lhs_, rhs_;
  const std::vector<Labels>* lhs_labels_ = nullptr;
  const std::vector<Labels>* rhs_labels_ = nullptr;
  std::vector<uint32_t> lsig_, rsig_;
  std::vector<Labels> sig_labels_;
  std::vector<int64_t> sig_stamp_;
  std::vector<uint32_t> sig_slot_;
  std::vector<int64_t> many_stamp_;
  LabelsIndex index_;
  std::vector<uint32_t> lout_, rout_;
  std::vector<int64_t> out_stamp_;
  std::vector<uint32_t> out_sig_;
  bool one_is_lhs_ = false;
  std::vector<uint32_t> one_pos_;
  std::vector<size_t> pair_base_;
  std::vector<uint32_t> pair_out_;
};

}  // namespace

double ScalarBinop(BinaryOp op, double lhs, double rhs) {
  switch (op) {
    case BinaryOp::kAdd:
      return lhs + rhs;
    case BinaryOp::kSub:
      return lhs - rhs;
    case BinaryOp::kMul:
      return lhs * rhs;
    case BinaryOp::kDiv:
      return lhs / rhs;
    case BinaryOp::kPow:
      return std::pow(lhs, rhs);
    case BinaryOp::kMod:
      return std::fmod(lhs, rhs);
    case BinaryOp::kAtan2:
      return std::atan2(lhs, rhs);
    case BinaryOp::kEql:
      return lhs == rhs ? 1 : 0;
    case BinaryOp::kNeq:
      return lhs != rhs ? 1 : 0;
    case BinaryOp::kGtr:
      return lhs > rhs ? 1 : 0;
    case BinaryOp::kLss:
      return lhs < rhs ? 1 : 0;
    case BinaryOp::kGte:
      return lhs >= rhs ? 1 : 0;
    case BinaryOp::kLte:
      return lhs <= rhs ? 1 : 0;
    default:
      return kNaN;
  }
}

bool VectorElemBinop(BinaryOp op, double lhs, double rhs, double* out) {
  switch (op) {
    case BinaryOp::kEql:
      *out = lhs;
      return lhs == rhs;
    case BinaryOp::kNeq:
      *out = lhs;
      return lhs != rhs;
    case BinaryOp::kGtr:
      *out = lhs;
      return lhs > rhs;
    case BinaryOp::kLss:
      *out = lhs;
      return lhs < rhs;
    case BinaryOp::kGte:
      *out = lhs;
      return lhs >= rhs;
    case BinaryOp::kLte:
      *out = lhs;
      return lhs <= rhs;
    default:
      *out = ScalarBinop(op, lhs, rhs);
      return true;
  }
}

OperatorPtr MakeScalarBinaryOp(ExecContext* ctx, BinaryOp op, OperatorPtr lhs, OperatorPtr rhs,
                               const StepRange& range) {
  return std::make_unique<ScalarBinaryOp>(ctx, op, std::move(lhs), std::move(rhs), range);
}

OperatorPtr MakeVectorScalarBinaryOp(ExecContext* ctx, BinaryOp op, bool return_bool,
                                     OperatorPtr vec, OperatorPtr scalar, bool scalar_on_left,
                                     const StepRange& range) {
  return std::make_unique<VectorScalarOp>(ctx, op, return_bool, std::move(vec), std::move(scalar),
                                          scalar_on_left, range);
}

OperatorPtr MakeVectorBinaryOp(ExecContext* ctx, BinaryOp op, bool return_bool,
                               promql::VectorMatching matching, OperatorPtr lhs, OperatorPtr rhs,
                               const StepRange& range) {
  return std::make_unique<VectorBinaryOp>(ctx, op, return_bool, std::move(matching), std::move(lhs),
                                          std::move(rhs), range);
}

}  // namespace paodin::engine::exec
