// The PromQL syntax tree. Nodes are plain structs with a kind tag (no virtual dispatch), owned
// by an Arena; a ParsedQuery holds the arena and the root. Every node keeps its byte range in
// the query text and can report its value type.
//
//   PAODIN_ASSIGN_OR_RETURN(ParsedQuery q, Parse("sum by (job) (rate(x[5m]))"));
//   if (const auto* agg = q.root()->As<Aggregate>()) { ... }
#ifndef PAODIN_ENGINE_PROMQL_AST_H_
#define PAODIN_ENGINE_PROMQL_AST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/matcher.h"
#include "engine/promql/arena.h"
#include "engine/promql/value_type.h"

namespace paodin::engine::promql {

struct Function;

// A byte range [start, end) in the query text.
struct PosRange {
  int32_t start = 0;
  int32_t end = 0;

  friend bool operator==(const PosRange& a, const PosRange& b) {
    return a.start == b.start && a.end == b.end;
  }
};

enum class ExprKind : uint8_t {
  kNumberLiteral,
  kStringLiteral,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kParen,
  kUnary,
  kBinary,
  kAggregate,
  kCall,
  // Inserted by the engine's preprocessing, never by the parser.
  kStepInvariant,
};

// The `@` modifier of a selector or subquery.
enum class AtModifier : uint8_t { kNone, kTimestamp, kStart, kEnd };

// The common head of every node. Use As<T>() / Is<T>() to reach the concrete node.
struct Expr {
  ExprKind kind;
  PosRange pos;

  // The value type the expression evaluates to.
  ValueType type() const;

  template <typename T>
  bool Is() const {
    return kind == T::kKind;
  }

  // The node as a T, or nullptr when it is of another kind.
  template <typename T>
  const T* As() const {
    return kind == T::kKind ? static_cast<const T*>(this) : nullptr;
  }

  template <typename T>
  T* As() {
    return kind == T::kKind ? static_cast<T*>(this) : nullptr;
  }

 protected:
  explicit Expr(ExprKind k) : kind(k) {}
};

// `1`, `0x1f`, `1e3`, `Inf`, `NaN`. A leading sign is a Unary node in the tree except where
// the parser folds it (Prometheus folds `-1` into the literal -1).
struct NumberLiteral : Expr {
  static constexpr ExprKind kKind = ExprKind::kNumberLiteral;

  NumberLiteral() : Expr(kKind) {}

  double value = 0;
};

// A string literal, unquoted and unescaped.
struct StringLiteral : Expr {
  static constexpr ExprKind kKind = ExprKind::kStringLiteral;

  StringLiteral() : Expr(kKind) {}

  std::string value;
};

// `name{l="v", ...} offset 5m @ 123`.
struct VectorSelector : Expr {
  static constexpr ExprKind kKind = ExprKind::kVectorSelector;

  VectorSelector() : Expr(kKind) {}

  // The metric name when written before the braces ("" otherwise).
  std::string name;
  // All matchers in source order; a name written before the braces comes last, as the
  // matcher __name__="name" (Prometheus' order).
  std::vector<Matcher> matchers;
  // `offset`, may be negative; 0 when absent.
  int64_t offset_ms = 0;
  AtModifier at = AtModifier::kNone;
  // For AtModifier::kTimestamp: the time in ms (rounded as Prometheus does).
  int64_t at_ms = 0;
};

// `selector[5m]`. The selector's offset and `@` (written after the range) live in `vector`.
struct MatrixSelector : Expr {
  static constexpr ExprKind kKind = ExprKind::kMatrixSelector;

  MatrixSelector() : Expr(kKind) {}

  VectorSelector* vector = nullptr;
  int64_t range_ms = 0;
};

// `expr[30m:1m] offset 1m @ end()`.
struct Subquery : Expr {
  static constexpr ExprKind kKind = ExprKind::kSubquery;

  Subquery() : Expr(kKind) {}

  Expr* expr = nullptr;
  int64_t range_ms = 0;
  // 0 when the step was left out (`[30m:]`): the engine uses its default.
  int64_t step_ms = 0;
  int64_t offset_ms = 0;
  AtModifier at = AtModifier::kNone;
  int64_t at_ms = 0;
};

// `(expr)`.
struct Paren : Expr {
  static constexpr ExprKind kKind = ExprKind::kParen;

  Paren() : Expr(kKind) {}

  Expr* expr = nullptr;
};

// `-expr` or `+expr`.
struct Unary : Expr {
  static constexpr ExprKind kKind = ExprKind::kUnary;

  Unary() : Expr(kKind) {}

  char op = '-';  // '-' or '+'
  Expr* expr = nullptr;
};

enum class BinaryOp : uint8_t {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAtan2,
  kEql,
  kNeq,
  kGtr,
  kLss,
  kGte,
  kLte,
  kAnd,
  kOr,
  kUnless,
};

// The operator's text: "+", "==", "atan2", "and", ...
std::string_view BinaryOpString(BinaryOp op);
// True for ==, !=, >, <, >=, <=.
bool IsComparisonOp(BinaryOp op);
// True for and, or, unless.
bool IsSetOp(BinaryOp op);

enum class Cardinality : uint8_t { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

// How the two vector operands of a binary operation are matched.
struct VectorMatching {
  Cardinality card = Cardinality::kOneToOne;
  // The labels of `on(...)` or `ignoring(...)`.
  std::vector<std::string> matching_labels;
  // True for `on`, false for `ignoring` (or neither).
  bool on = false;
  // The labels of `group_left(...)` / `group_right(...)`.
  std::vector<std::string> include;
};

// `lhs op bool on(l) group_left(m) rhs`.
struct Binary : Expr {
  static constexpr ExprKind kKind = ExprKind::kBinary;

  Binary() : Expr(kKind) {}

  BinaryOp op = BinaryOp::kAdd;
  Expr* lhs = nullptr;
  Expr* rhs = nullptr;
  bool return_bool = false;
  // Set exactly when both operands are instant vectors (kManyToMany for and/or/unless).
  std::optional<VectorMatching> matching;
};

enum class AggregateOp : uint8_t {
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
};

// The operator's name: "sum", "count_values", ...
std::string_view AggregateOpString(AggregateOp op);
// True for topk, bottomk, count_values and quantile, which take a parameter first.
bool AggregateOpTakesParam(AggregateOp op);

// `sum by (job) (expr)`, `topk(3, expr)`.
struct Aggregate : Expr {
  static constexpr ExprKind kKind = ExprKind::kAggregate;

  Aggregate() : Expr(kKind) {}

  AggregateOp op = AggregateOp::kSum;
  Expr* expr = nullptr;
  // The parameter of topk/bottomk/quantile/count_values, nullptr for the others.
  Expr* param = nullptr;
  // The labels of `by(...)` or `without(...)`, in source order.
  std::vector<std::string> grouping;
  bool without = false;
};

// `rate(x[5m])`: a call of a function from the table in functions.h.
struct Call : Expr {
  static constexpr ExprKind kKind = ExprKind::kCall;

  Call() : Expr(kKind) {}

  const Function* func = nullptr;
  std::vector<Expr*> args;
};

// Wraps a subtree whose value is the same at every step; inserted by the engine.
struct StepInvariant : Expr {
  static constexpr ExprKind kKind = ExprKind::kStepInvariant;

  StepInvariant() : Expr(kKind) {}

  Expr* expr = nullptr;
};

// A parsed query: the arena that owns the nodes and the root. Movable; node pointers stay
// valid across moves.
class ParsedQuery {
 public:
  ParsedQuery(std::unique_ptr<Arena> arena, Expr* root, std::string query)
      : arena_(std::move(arena)), root_(root), query_(std::move(query)) {}

  Expr* root() { return root_; }

  const Expr* root() const { return root_; }

  // Replaces the root (the engine's preprocessing may wrap it).
  void set_root(Expr* root) { root_ = root; }

  // The arena, for nodes added after parsing.
  Arena& arena() { return *arena_; }

  // The query text the positions refer to.
  const std::string& query() const { return query_; }

 private:
  std::unique_ptr<Arena> arena_;
  Expr* root_;
  std::string query_;
};

// The direct children of `e`, in source order (the matrix selector's vector selector too).
std::vector<const Expr*> Children(const Expr& e);

// True when the two trees are the same, node for node, ignoring source positions.
bool EqualTrees(const Expr& a, const Expr& b);

}  // namespace paodin::engine::promql

#endif  // PAODIN_ENGINE_PROMQL_AST_H_
