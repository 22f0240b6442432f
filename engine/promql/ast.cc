#include "engine/promql/ast.h"

#include <algorithm>

#include "engine/promql/functions.h"

namespace paodin::engine::promql {

ValueType Expr::type() const {
  switch (kind) {
    case ExprKind::kNumberLiteral:
      return ValueType::kScalar;
    case ExprKind::kStringLiteral:
      return ValueType::kString;
    case ExprKind::kVectorSelector:
      return ValueType::kVector;
    case ExprKind::kMatrixSelector:
    case ExprKind::kSubquery:
      return ValueType::kMatrix;
    case ExprKind::kParen:
      return static_cast<const Paren*>(this)->expr->type();
    case ExprKind::kUnary:
      return static_cast<const Unary*>(this)->expr->type();
    case ExprKind::kBinary: {
      const auto* b = static_cast<const Binary*>(this);
      return b->lhs->type() == ValueType::kScalar && b->rhs->type() == ValueType::kScalar
                 ? ValueType::kScalar
                 : ValueType::kVector;
    }
    case ExprKind::kAggregate:
      return ValueType::kVector;
    case ExprKind::kCall:
      return static_cast<const Call*>(this)->func->return_type;
    case ExprKind::kStepInvariant:
      return static_cast<const StepInvariant*>(this)->expr->type();
  }
  return ValueType::kNone;
}

std::string_view BinaryOpString(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "^";
    case BinaryOp::kAtan2:
      return "atan2";
    case BinaryOp::kEql:
      return "==";
    case BinaryOp::kNeq:
      return "!=";
    case BinaryOp::kGtr:
      return ">";
    case BinaryOp::kLss:
      return "<";
    case BinaryOp::kGte:
      return ">=";
    case BinaryOp::kLte:
      return "<=";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kUnless:
      return "unless";
  }
  return "?";
}

bool IsComparisonOp(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEql:
    case BinaryOp::kNeq:
    case BinaryOp::kGtr:
    case BinaryOp::kLss:
    case BinaryOp::kGte:
    case BinaryOp::kLte:
      return true;
    default:
      return false;
  }
}

bool IsSetOp(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

std::string_view AggregateOpString(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum:
      return "sum";
    case AggregateOp::kAvg:
      return "avg";
    case AggregateOp::kCount:
      return "count";
    case AggregateOp::kMin:
      return "min";
    case AggregateOp::kMax:
      return "max";
    case AggregateOp::kGroup:
      return "group";
    case AggregateOp::kStddev:
      return "stddev";
    case AggregateOp::kStdvar:
      return "stdvar";
    case AggregateOp::kTopk:
      return "topk";
    case AggregateOp::kBottomk:
      return "bottomk";
    case AggregateOp::kCountValues:
      return "count_values";
    case AggregateOp::kQuantile:
      return "quantile";
  }
  return "?";
}

bool AggregateOpTakesParam(AggregateOp op) {
  return op == AggregateOp::kTopk || op == AggregateOp::kBottomk ||
         op == AggregateOp::kCountValues || op == AggregateOp::kQuantile;
}

std::vector<const Expr*> Children(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kNumberLiteral:
    case ExprKind::kStringLiteral:
    case ExprKind::kVectorSelector:
      return {};
    case ExprKind::kMatrixSelector:
      return {e.As<MatrixSelector>()->vector};
    case ExprKind::kSubquery:
      return {e.As<Subquery>()->expr};
    case ExprKind::kParen:
      return {e.As<Paren>()->expr};
    case ExprKind::kUnary:
      return {e.As<Unary>()->expr};
    case ExprKind::kBinary:
      return {e.As<Binary>()->lhs, e.As<Binary>()->rhs};
    case ExprKind::kAggregate: {
      const auto* a = e.As<Aggregate>();
      if (a->param != nullptr)
        return {a->param, a->expr};
      return {a->expr};
    }
    case ExprKind::kCall: {
      const auto& args = e.As<Call>()->args;
      return std::vector<const Expr*>(args.begin(), args.end());
    }
    case ExprKind::kStepInvariant:
      return {e.As<StepInvariant>()->expr};
  }
  return {};
}

namespace {

// Matchers compare as a set: the printer sorts them, so order is not part of the meaning.
bool SameMatchers(const std::vector<Matcher>& a, const std::vector<Matcher>& b) {
  if (a.size() != b.size())
    return false;
  std::vector<std::string> sa, sb;
  for (const Matcher& m : a)
    sa.push_back(m.ToString());
  for (const Matcher& m : b)
    sb.push_back(m.ToString());
  std::sort(sa.begin(), sa.end());
  std::sort(sb.begin(), sb.end());
  return sa == sb;
}

bool SameNumber(double a, double b) {
  if (a != a)
    return b != b;  // NaN equals NaN here.
  return a == b;
}

bool SameMatching(const std::optional<VectorMatching>& a, const std::optional<VectorMatching>& b) {
  if (a.has_value() != b.has_value())
    return false;
  if (!a.has_value())
    return true;
  return a->card == b->card && a->matching_labels == b->matching_labels && a->on == b->on &&
         a->include == b->include;
}

}  // namespace

bool EqualTrees(const Expr& a, const Expr& b) {
  if (a.kind != b.kind)
    return false;
  switch (a.kind) {
    case ExprKind::kNumberLiteral:
      return SameNumber(a.As<NumberLiteral>()->value, b.As<NumberLiteral>()->value);
    case ExprKind::kStringLiteral:
      return a.As<StringLiteral>()->value == b.As<StringLiteral>()->value;
    case ExprKind::kVectorSelector: {
      const auto* x = a.As<VectorSelector>();
      const auto* y = b.As<VectorSelector>();
      return x->name == y->name && SameMatchers(x->matchers, y->matchers) &&
             x->offset_ms == y->offset_ms && x->at == y->at && x->at_ms == y->at_ms;
    }
    case ExprKind::kMatrixSelector: {
      const auto* x = a.As<MatrixSelector>();
      const auto* y = b.As<MatrixSelector>();
      return x->range_ms == y->range_ms && EqualTrees(*x->vector, *y->vector);
    }
    case ExprKind::kSubquery: {
      const auto* x = a.As<Subquery>();
      const auto* y = b.As<Subquery>();
      return x->range_ms == y->range_ms && x->step_ms == y->step_ms &&
             x->offset_ms == y->offset_ms && x->at == y->at && x->at_ms == y->at_ms &&
             EqualTrees(*x->expr, *y->expr);
    }
    case ExprKind::kParen:
      return EqualTrees(*a.As<Paren>()->expr, *b.As<Paren>()->expr);
    case ExprKind::kUnary:
      return a.As<Unary>()->op == b.As<Unary>()->op &&
             EqualTrees(*a.As<Unary>()->expr, *b.As<Unary>()->expr);
    case ExprKind::kBinary: {
      const auto* x = a.As<Binary>();
      const auto* y = b.As<Binary>();
      return x->op == y->op && x->return_bool == y->return_bool &&
             SameMatching(x->matching, y->matching) && EqualTrees(*x->lhs, *y->lhs) &&
             EqualTrees(*x->rhs, *y->rhs);
    }
    case ExprKind::kAggregate: {
      const auto* x = a.As<Aggregate>();
      const auto* y = b.As<Aggregate>();
      if (x->op != y->op || x->without != y->without || x->grouping != y->grouping)
        return false;
      if ((x->param == nullptr) != (y->param == nullptr))
        return false;
      if (x->param != nullptr && !EqualTrees(*x->param, *y->param))
        return false;
      return EqualTrees(*x->expr, *y->expr);
    }
    case ExprKind::kCall: {
      const auto* x = a.As<Call>();
      const auto* y = b.As<Call>();
      if (x->func != y->func || x->args.size() != y->args.size())
        return false;
      for (size_t i = 0; i < x->args.size(); ++i) {
        if (!EqualTrees(*x->args[i], *y->args[i]))
          return false;
      }
      return true;
    }
    case ExprKind::kStepInvariant:
      return EqualTrees(*a.As<StepInvariant>()->expr, *b.As<StepInvariant>()->expr);
  }
  return false;
}

}  // namespace paodin::engine::promql
