#include "engine/promql/printer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/promql/functions.h"
#include "engine/promql/go_format.h"

namespace paodin::engine::promql {
namespace {

void AppendJoined(std::string& out, const std::vector<std::string>& items, std::string_view sep) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out.append(sep);
    out.append(items[i]);
  }
}

void AppendAtOffset(std::string& out, AtModifier at, int64_t at_ms, int64_t offset_ms) {
  switch (at) {
    case AtModifier::kTimestamp: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), " @ %.3f", static_cast<double>(at_ms) / 1000.0);
      out.append(buf);
      break;
    }
    case AtModifier::kStart:
      out.append(" @ start()");
      break;
    case AtModifier::kEnd:
      out.append(" @ end()");
      break;
    case AtModifier::kNone:
      break;
  }
  if (offset_ms > 0) {
    out.append(" offset ");
    out.append(FormatDuration(offset_ms));
  } else if (offset_ms < 0) {
    out.append(" offset -");
    out.append(FormatDuration(-offset_ms));
  }
}

// The selector without its modifiers: name{sorted matchers}.
void AppendSelector(std::string& out, const VectorSelector& vs) {
  out.append(vs.name);
  std::vector<std::string> matchers;
  for (const Matcher& m : vs.matchers) {
    if (m.name() == "__name__" && m.type() == MatchType::kEqual && m.value() == vs.name &&
        !vs.name.empty()) {
      continue;
    }
    std::string s = m.name();
    s.append(MatchTypeString(m.type()));
    s.append(GoQuoteString(m.value(), /*escape_replacement_char=*/true));
    matchers.push_back(std::move(s));
  }
  if (!matchers.empty()) {
    std::sort(matchers.begin(), matchers.end());
    out.push_back('{');
    AppendJoined(out, matchers, ",");
    out.push_back('}');
  }
}

void AppendExpr(std::string& out, const Expr& e);

void AppendMatching(std::string& out, const Binary& b) {
  if (!b.matching.has_value())
    return;
  const VectorMatching& vm = *b.matching;
  bool grouped = vm.card == Cardinality::kManyToOne || vm.card == Cardinality::kOneToMany;
  // Prometheus 2.42 drops `ignoring() group_x(...)` here, which changes the meaning; we keep it
  // (later Prometheus versions print it too).
  if (vm.matching_labels.empty() && !vm.on && !grouped)
    return;
  out.append(vm.on ? " on (" : " ignoring (");
  AppendJoined(out, vm.matching_labels, ", ");
  out.push_back(')');
  if (grouped) {
    out.append(vm.card == Cardinality::kManyToOne ? " group_left (" : " group_right (");
    AppendJoined(out, vm.include, ", ");
    out.push_back(')');
  }
}

void AppendExpr(std::string& out, const Expr& e) {
  switch (e.kind) {
    case ExprKind::kNumberLiteral:
      out.append(GoFormatFloat(e.As<NumberLiteral>()->value));
      return;
    case ExprKind::kStringLiteral:
      out.append(GoQuoteString(e.As<StringLiteral>()->value, /*escape_replacement_char=*/true));
      return;
    case ExprKind::kVectorSelector: {
      const auto* vs = e.As<VectorSelector>();
      AppendSelector(out, *vs);
      AppendAtOffset(out, vs->at, vs->at_ms, vs->offset_ms);
      return;
    }
    case ExprKind::kMatrixSelector: {
      const auto* m = e.As<MatrixSelector>();
      AppendSelector(out, *m->vector);
      out.push_back('[');
      out.append(FormatDuration(m->range_ms));
      out.push_back(']');
      AppendAtOffset(out, m->vector->at, m->vector->at_ms, m->vector->offset_ms);
      return;
    }
    case ExprKind::kSubquery: {
      const auto* s = e.As<Subquery>();
      AppendExpr(out, *s->expr);
      out.push_back('[');
      out.append(FormatDuration(s->range_ms));
      out.push_back(':');
      if (s->step_ms != 0)
        out.append(FormatDuration(s->step_ms));
      out.push_back(']');
      AppendAtOffset(out, s->at, s->at_ms, s->offset_ms);
      return;
    }
    case ExprKind::kParen:
      out.push_back('(');
      AppendExpr(out, *e.As<Paren>()->expr);
      out.push_back(')');
      return;
    case ExprKind::kUnary:
      out.push_back(e.As<Unary>()->op);
      AppendExpr(out, *e.As<Unary>()->expr);
      return;
    case ExprKind::kBinary: {
      const auto* b = e.As<Binary>();
      const auto* lit = b->lhs->As<NumberLiteral>();
      if (b->op == BinaryOp::kPow && lit != nullptr && std::isinf(lit->value) && lit->value > 0) {
        // Prometheus prints "+Inf ^ x", which parses back as +(Inf ^ x); "Inf" keeps the tree.
        out.append("Inf");
      } else {
        AppendExpr(out, *b->lhs);
      }
      out.push_back(' ');
      out.append(BinaryOpString(b->op));
      if (b->return_bool)
        out.append(" bool");
      AppendMatching(out, *b);
      out.push_back(' ');
      AppendExpr(out, *b->rhs);
      return;
    }
    case ExprKind::kAggregate: {
      const auto* a = e.As<Aggregate>();
      out.append(AggregateOpString(a->op));
      if (a->without) {
        out.append(" without (");
        AppendJoined(out, a->grouping, ", ");
        out.append(") ");
      } else if (!a->grouping.empty()) {
        out.append(" by (");
        AppendJoined(out, a->grouping, ", ");
        out.append(") ");
      }
      out.push_back('(');
      if (a->param != nullptr) {
        AppendExpr(out, *a->param);
        out.append(", ");
      }
      AppendExpr(out, *a->expr);
      out.push_back(')');
      return;
    }
    case ExprKind::kCall: {
      const auto* c = e.As<Call>();
      out.append(c->func->name);
      out.push_back('(');
      for (size_t i = 0; i < c->args.size(); ++i) {
        if (i > 0)
          out.append(", ");
        AppendExpr(out, *c->args[i]);
      }
      out.push_back(')');
      return;
    }
    case ExprKind::kStepInvariant:
      AppendExpr(out, *e.As<StepInvariant>()->expr);
      return;
  }
}

std::string_view KindName(ExprKind kind) {
  switch (kind) {
    case ExprKind::kNumberLiteral:
      return "NumberLiteral";
    case ExprKind::kStringLiteral:
      return "StringLiteral";
    case ExprKind::kVectorSelector:
      return "VectorSelector";
    case ExprKind::kMatrixSelector:
      return "MatrixSelector";
    case ExprKind::kSubquery:
      return "Subquery";
    case ExprKind::kParen:
      return "Paren";
    case ExprKind::kUnary:
      return "Unary";
    case ExprKind::kBinary:
      return "Binary";
    case ExprKind::kAggregate:
      return "Aggregate";
    case ExprKind::kCall:
      return "Call";
    case ExprKind::kStepInvariant:
      return "StepInvariant";
  }
  return "?";
}

// The node's own part of the tree dump, without its children.
std::string NodeDetail(const Expr& e) {
  std::string out;
  switch (e.kind) {
    case ExprKind::kNumberLiteral:
    case ExprKind::kStringLiteral:
    case ExprKind::kVectorSelector:
      AppendExpr(out, e);
      break;
    case ExprKind::kMatrixSelector:
      out = absl::StrCat("[", FormatDuration(e.As<MatrixSelector>()->range_ms), "]");
      break;
    case ExprKind::kSubquery: {
      const auto* s = e.As<Subquery>();
      out = absl::StrCat("[", FormatDuration(s->range_ms), ":",
                         s->step_ms != 0 ? FormatDuration(s->step_ms) : "", "]");
      AppendAtOffset(out, s->at, s->at_ms, s->offset_ms);
      break;
    }
    case ExprKind::kUnary:
      out.push_back(e.As<Unary>()->op);
      break;
    case ExprKind::kBinary: {
      const auto* b = e.As<Binary>();
      out.append(BinaryOpString(b->op));
      if (b->return_bool)
        out.append(" bool");
      AppendMatching(out, *b);
      break;
    }
    case ExprKind::kAggregate: {
      const auto* a = e.As<Aggregate>();
      out.append(AggregateOpString(a->op));
      if (a->without || !a->grouping.empty()) {
        out.append(a->without ? " without (" : " by (");
        AppendJoined(out, a->grouping, ", ");
        out.push_back(')');
      }
      break;
    }
    case ExprKind::kCall:
      out.append(e.As<Call>()->func->name);
      break;
    case ExprKind::kParen:
    case ExprKind::kStepInvariant:
      break;
  }
  return out;
}

void AppendTree(std::string& out, const Expr& e, int indent) {
  out.append(static_cast<size_t>(indent) * 2, ' ');
  out.append(KindName(e.kind));
  std::string detail = NodeDetail(e);
  if (!detail.empty()) {
    out.push_back(' ');
    out.append(detail);
  }
  out.append(" :: ");
  out.append(DocumentedValueType(e.type()));
  out.append(" @ ");
  out.append(std::to_string(e.pos.start));
  out.push_back('-');
  out.append(std::to_string(e.pos.end));
  out.push_back('\n');
  for (const Expr* child : Children(e))
    AppendTree(out, *child, indent + 1);
}

}  // namespace

std::string Print(const Expr& e) {
  std::string out;
  AppendExpr(out, e);
  return out;
}

std::string PrintTree(const Expr& e) {
  std::string out;
  AppendTree(out, e, 0);
  return out;
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0)
    return "0s";
  if (ms < 0) {
    // StrCat rather than "-" + std::string&&, which trips GCC 12's -O3 -Wrestrict false
    // positive (GCC bug 105329).
    return absl::StrCat("-", FormatDuration(ms == std::numeric_limits<int64_t>::min()
                                                ? std::numeric_limits<int64_t>::max()
                                                : -ms));
  }

  struct Unit {
    const char* name;
    int64_t mult;
    bool exact;
  };

  // Years and weeks only when they divide evenly (90d reads better than 12w6d).
  static constexpr Unit kUnits[] = {{"y", 1000LL * 60 * 60 * 24 * 365, true},
                                    {"w", 1000LL * 60 * 60 * 24 * 7, true},
                                    {"d", 1000LL * 60 * 60 * 24, false},
                                    {"h", 1000LL * 60 * 60, false},
                                    {"m", 1000LL * 60, false},
                                    {"s", 1000, false},
                                    {"ms", 1, false}};
  std::string out;
  for (const Unit& u : kUnits) {
    if (u.exact && ms % u.mult != 0)
      continue;
    if (int64_t v = ms / u.mult; v > 0) {
      out.append(std::to_string(v));
      out.append(u.name);
      ms -= v * u.mult;
    }
  }
  return out;
}

}  // namespace paodin::engine::promql
