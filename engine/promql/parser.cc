#include "engine/promql/parser.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "engine/promql/functions.h"
#include "engine/promql/go_format.h"
#include "engine/promql/lexer.h"

namespace paodin::engine::promql {
namespace {

constexpr std::string_view kMetricName = "__name__";

// Operator precedence, lowest first, as in Prometheus' grammar.
int Precedence(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr:
      return 1;
    case BinaryOp::kAnd:
    case BinaryOp::kUnless:
      return 2;
    case BinaryOp::kEql:
    case BinaryOp::kNeq:
    case BinaryOp::kGtr:
    case BinaryOp::kLss:
    case BinaryOp::kGte:
    case BinaryOp::kLte:
      return 3;
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
      return 4;
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kMod:
    case BinaryOp::kAtan2:
      return 5;
    case BinaryOp::kPow:
      return 6;
  }
  return 0;
}

bool BinaryOpFor(TokenType t, BinaryOp* op) {
  switch (t) {
    case TokenType::kAdd:
      *op = BinaryOp::kAdd;
      return true;
    case TokenType::kSub:
      *op = BinaryOp::kSub;
      return true;
    case TokenType::kMul:
      *op = BinaryOp::kMul;
      return true;
    case TokenType::kDiv:
      *op = BinaryOp::kDiv;
      return true;
    case TokenType::kMod:
      *op = BinaryOp::kMod;
      return true;
    case TokenType::kPow:
      *op = BinaryOp::kPow;
      return true;
    case TokenType::kAtan2:
      *op = BinaryOp::kAtan2;
      return true;
    case TokenType::kEqlc:
      *op = BinaryOp::kEql;
      return true;
    case TokenType::kNeq:
      *op = BinaryOp::kNeq;
      return true;
    case TokenType::kGtr:
      *op = BinaryOp::kGtr;
      return true;
    case TokenType::kLss:
      *op = BinaryOp::kLss;
      return true;
    case TokenType::kGte:
      *op = BinaryOp::kGte;
      return true;
    case TokenType::kLte:
      *op = BinaryOp::kLte;
      return true;
    case TokenType::kLand:
      *op = BinaryOp::kAnd;
      return true;
    case TokenType::kLor:
      *op = BinaryOp::kOr;
      return true;
    case TokenType::kLunless:
      *op = BinaryOp::kUnless;
      return true;
    default:
      return false;
  }
}

AggregateOp AggregateOpFor(TokenType t) {
  switch (t) {
    case TokenType::kAvg:
      return AggregateOp::kAvg;
    case TokenType::kBottomk:
      return AggregateOp::kBottomk;
    case TokenType::kCount:
      return AggregateOp::kCount;
    case TokenType::kCountValues:
      return AggregateOp::kCountValues;
    case TokenType::kGroup:
      return AggregateOp::kGroup;
    case TokenType::kMax:
      return AggregateOp::kMax;
    case TokenType::kMin:
      return AggregateOp::kMin;
    case TokenType::kQuantile:
      return AggregateOp::kQuantile;
    case TokenType::kStddev:
      return AggregateOp::kStddev;
    case TokenType::kStdvar:
      return AggregateOp::kStdvar;
    case TokenType::kTopk:
      return AggregateOp::kTopk;
    default:
      return AggregateOp::kSum;
  }
}

// Tokens that may name a metric at the start of an expression (Prometheus' metric_identifier).
bool IsMetricIdentifierToken(TokenType t) {
  switch (t) {
    case TokenType::kIdentifier:
    case TokenType::kMetricIdentifier:
    case TokenType::kBy:
    case TokenType::kLand:
    case TokenType::kLor:
    case TokenType::kLunless:
    case TokenType::kOffset:
    case TokenType::kWithout:
    case TokenType::kStart:
    case TokenType::kEnd:
      return true;
    default:
      return IsAggregatorToken(t);
  }
}

// Tokens that may start an expression.
bool CanStartExpr(TokenType t) {
  switch (t) {
    case TokenType::kNumber:
    case TokenType::kString:
    case TokenType::kLeftBrace:
    case TokenType::kLeftParen:
    case TokenType::kAdd:
    case TokenType::kSub:
      return true;
    default:
      return IsMetricIdentifierToken(t);
  }
}

// Tokens accepted as a label name in grouping lists (Prometheus' maybe_label).
bool IsMaybeLabelToken(TokenType t) {
  switch (t) {
    case TokenType::kIdentifier:
    case TokenType::kMetricIdentifier:
    case TokenType::kBool:
    case TokenType::kBy:
    case TokenType::kGroupLeft:
    case TokenType::kGroupRight:
    case TokenType::kIgnoring:
    case TokenType::kLand:
    case TokenType::kLor:
    case TokenType::kLunless:
    case TokenType::kOffset:
    case TokenType::kOn:
    case TokenType::kStart:
    case TokenType::kEnd:
    case TokenType::kAtan2:
      return true;
    default:
      return IsAggregatorToken(t);
  }
}

bool IsLabelName(std::string_view s) {
  if (s.empty())
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return true;
}

// Unquotes a string token the lexer accepted (Prometheus' strutil.Unquote).
std::string Unquote(std::string_view token) {
  char quote = token.front();
  std::string_view s = token.substr(1, token.size() - 2);
  if (quote == '`')
    return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    char e = s[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x':
      case 'u':
      case 'U': {
        int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (int k = 0; k < n; ++k, ++i) {
          char h = s[i];
          v = v * 16 + static_cast<uint32_t>(h <= '9'   ? h - '0'
                                             : h >= 'a' ? h - 'a' + 10
                                                        : h - 'A' + 10);
        }
        if (e == 'x') {
          out.push_back(static_cast<char>(v));
        } else {
          AppendUtf8(out, static_cast<int32_t>(v));
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2; ++k, ++i)
            v = v * 8 + static_cast<uint32_t>(s[i] - '0');
          out.push_back(static_cast<char>(v));
        } else {
          out.push_back(e);  // \\ and the quote character
        }
    }
  }
  return out;
}

// Prometheus' model.ParseDuration plus the parser's "greater than 0" rule; returns ms.
// Accepts `[0-9]+` followed by a unit, units in the order y w d h m s ms, each at most once.
bool ParseDurationMs(std::string_view s, int64_t* ms, std::string* error) {
  struct Unit {
    std::string_view name;
    int64_t mult_ms;
  };

  static constexpr Unit kUnits[] = {{"y", 1000LL * 60 * 60 * 24 * 365},
                                    {"w", 1000LL * 60 * 60 * 24 * 7},
                                    {"d", 1000LL * 60 * 60 * 24},
                                    {"h", 1000LL * 60 * 60},
                                    {"m", 1000LL * 60},
                                    {"s", 1000},
                                    {"ms", 1}};
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  auto invalid = [&] {
    *error = "not a valid duration string: " + GoQuoteString(s);
    return false;
  };
  if (s.empty())
    return invalid();
  size_t i = 0;
  size_t next_unit = 0;
  bool overflow = false;
  uint64_t total_ns = 0;
  while (i < s.size()) {
    size_t digits_start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i;
    if (i == digits_start || i == s.size())
      return invalid();
    std::string_view digits = s.substr(digits_start, i - digits_start);
    size_t unit_len = (i + 1 < s.size() && s[i] == 'm' && s[i + 1] == 's') ? 2 : 1;
    std::string_view unit = s.substr(i, unit_len);
    i += unit_len;
    size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].name != unit)
      ++u;
    if (u == std::size(kUnits))
      return invalid();
    next_unit = u + 1;
    // strconv.Atoi saturates at MaxInt64 on overflow (Prometheus ignores that error).
    int64_t n = 0;
    for (char c : digits) {
      if (n > (kMax - (c - '0')) / 10) {
        n = kMax;
        break;
      }
      n = n * 10 + (c - '0');
    }
    if (n > kMax / kUnits[u].mult_ms / 1000000) {
      overflow = true;
      continue;
    }
    total_ns += static_cast<uint64_t>(n) * 1000000u * static_cast<uint64_t>(kUnits[u].mult_ms);
    if (total_ns > static_cast<uint64_t>(kMax))
      overflow = true;
  }
  if (overflow) {
    *error = "duration out of range";
    return false;
  }
  if (total_ns == 0) {
    *error = "duration must be greater than 0";
    return false;
  }
  *ms = static_cast<int64_t>(total_ns / 1000000u);
  return true;
}

class Parser {
 public:
  Parser(std::string_view input, const ParseOptions& options, Arena* arena)
      : input_(input), lexer_(input), options_(options), arena_(arena) {}

  Expr* ParseQuery() {
    const Token& first = Peek();
    if (failed_)
      return nullptr;
    if (first.type == TokenType::kEof) {
      ErrorAt(0, "no expression found in input");
      return nullptr;
    }
    Expr* root = ParseExpr(0);
    if (root == nullptr)
      return nullptr;
    const Token& t = Peek();
    if (failed_)
      return nullptr;
    if (t.type != TokenType::kEof) {
      Unexpected(t, "", "");
      return nullptr;
    }
    if (!CheckDepth(root))
      return nullptr;
    Check(root);
    return failed_ ? nullptr : root;
  }

  std::string error() const { return error_; }

 private:
  // ---- Tokens and errors.

  const Token& Peek() {
    if (!have_token_) {
      do {
        token_ = lexer_.Next();
      } while (token_.type == TokenType::kComment);
      if (token_.type == TokenType::kError) {
        ErrorAt(token_.pos, std::string(token_.text));
        token_ = Token{TokenType::kEof, token_.pos, token_.pos, {}};
      }
      have_token_ = true;
    }
    return token_;
  }

  Token Consume() {
    Peek();
    have_token_ = false;
    if (token_.type == TokenType::kRightBrace || token_.type == TokenType::kRightParen ||
        token_.type == TokenType::kRightBracket || token_.type == TokenType::kDuration ||
        token_.type == TokenType::kNumber) {
      last_closing_ = token_.end;
    }
    return token_;
  }

  void ErrorAt(int32_t pos, std::string message) {
    if (failed_)
      return;
    failed_ = true;
    int line = 1;
    int32_t last_break = -1;
    for (int32_t i = 0; i < pos && i < static_cast<int32_t>(input_.size()); ++i) {
      if (input_[i] == '\n') {
        last_break = i;
        ++line;
      }
    }
    error_ =
        std::to_string(line) + ":" + std::to_string(pos - last_break) + ": parse error: " + message;
  }

  // A syntax error at `t`, worded like Prometheus' yacc error rules.
  void Unexpected(const Token& t, std::string_view context, std::string_view expected) {
    if (failed_)
      return;
    std::string msg = "unexpected " + DescribeToken(t);
    if (context.empty() && aggregation_depth_ > 0)
      context = "aggregation";
    if (!context.empty()) {
      msg += " in ";
      msg += context;
    }
    if (!expected.empty()) {
      msg += ", expected ";
      msg += expected;
    }
    ErrorAt(t.pos, std::move(msg));
  }

  bool EnterNesting(int32_t pos) {
    if (++depth_ > options_.max_depth) {
      ErrorAt(pos, "expression nesting depth exceeds the limit of " +
                       std::to_string(options_.max_depth));
      return false;
    }
    return true;
  }

  // ---- Expressions.

  Expr* ParseExpr(int min_prec) {
    int32_t pos = Peek().pos;
    if (failed_ || !EnterNesting(pos))
      return nullptr;
    Expr* lhs = ParseUnary();
    while (lhs != nullptr) {
      const Token& t = Peek();
      if (failed_)
        return nullptr;
      BinaryOp op;
      if (!BinaryOpFor(t.type, &op) || Precedence(op) < min_prec)
        break;
      Consume();
      auto* bin = arena_->New<Binary>();
      bin->op = op;
      bin->lhs = lhs;
      bin->matching.emplace();
      if (!ParseBinaryModifiers(bin))
        return nullptr;
      int next = op == BinaryOp::kPow ? Precedence(op) : Precedence(op) + 1;
      bin->rhs = ParseExpr(next);
      if (bin->rhs == nullptr)
        return nullptr;
      bin->pos = PosRange{lhs->pos.start, bin->rhs->pos.end};
      lhs = bin;
    }
    --depth_;
    return failed_ ? nullptr : lhs;
  }

  bool ParseBinaryModifiers(Binary* bin) {
    if (Peek().type == TokenType::kBool) {
      Consume();
      bin->return_bool = true;
    }
    TokenType t = Peek().type;
    if (t == TokenType::kOn || t == TokenType::kIgnoring) {
      Consume();
      bin->matching->on = t == TokenType::kOn;
      if (!ParseGroupingLabels(&bin->matching->matching_labels))
        return false;
      t = Peek().type;
      if (t == TokenType::kGroupLeft || t == TokenType::kGroupRight) {
        Consume();
        bin->matching->card =
            t == TokenType::kGroupLeft ? Cardinality::kManyToOne : Cardinality::kOneToMany;
        const Token& next = Peek();
        if (next.type == TokenType::kLeftParen) {
          if (!ParseGroupingLabels(&bin->matching->include))
            return false;
        } else if (!CanStartExpr(next.type)) {
          Unexpected(next, "grouping opts", "\"(\"");
          return false;
        }
      }
    }
    return !failed_;
  }

  // `(a, b, c)` after by/without/on/ignoring/group_left/group_right.
  bool ParseGroupingLabels(std::vector<std::string>* labels) {
    const Token& open = Peek();
    if (open.type != TokenType::kLeftParen) {
      Unexpected(open, "grouping opts", "\"(\"");
      return false;
    }
    Consume();
    if (Peek().type == TokenType::kRightParen) {
      Consume();
      return !failed_;
    }
    for (;;) {
      const Token& t = Peek();
      if (!IsMaybeLabelToken(t.type)) {
        Unexpected(t, "grouping opts", "label");
        return false;
      }
      Token label = Consume();
      if (!IsLabelName(label.text)) {
        Unexpected(label, "grouping opts", "label");
        return false;
      }
      labels->emplace_back(label.text);
      const Token& sep = Peek();
      if (sep.type == TokenType::kComma) {
        Consume();
        if (Peek().type == TokenType::kRightParen) {
          Consume();
          break;
        }
        continue;
      }
      if (sep.type == TokenType::kRightParen) {
        Consume();
        break;
      }
      Unexpected(sep, "grouping opts", "\",\" or \")\"");
      return false;
    }
    return !failed_;
  }

  Expr* ParseUnary() {
    const Token& t = Peek();
    if (failed_)
      return nullptr;
    if (t.type != TokenType::kAdd && t.type != TokenType::kSub)
      return ParsePostfix();
    Token op = Consume();
    // The operand binds everything tighter than `*` (so `-a ^ b` is `-(a ^ b)`).
    Expr* operand = ParseExpr(Precedence(BinaryOp::kPow));
    if (operand == nullptr)
      return nullptr;
    if (auto* num = operand->As<NumberLiteral>()) {
      if (op.type == TokenType::kSub)
        num->value = -num->value;
      num->pos.start = op.pos;
      return num;
    }
    auto* u = arena_->New<Unary>();
    u->op = op.type == TokenType::kSub ? '-' : '+';
    u->expr = operand;
    u->pos = PosRange{op.pos, operand->pos.end};
    return u;
  }

  // A primary expression followed by any `[range]`, `[range:step]`, `offset` and `@`.
  Expr* ParsePostfix() {
    Expr* e = ParsePrimary();
    while (e != nullptr) {
      const Token& t = Peek();
      if (failed_)
        return nullptr;
      if (t.type == TokenType::kLeftBracket) {
        e = ParseRangeOrSubquery(e);
      } else if (t.type == TokenType::kOffset) {
        e = ParseOffset(e);
      } else if (t.type == TokenType::kAt) {
        e = ParseAt(e);
      } else {
        break;
      }
    }
    return failed_ ? nullptr : e;
  }

  Expr* ParsePrimary() {
    const Token& t = Peek();
    if (failed_)
      return nullptr;
    switch (t.type) {
      case TokenType::kNumber: {
        Token tok = Consume();
        auto* n = arena_->New<NumberLiteral>();
        n->pos = PosRange{tok.pos, tok.end};
        if (!ParseNumber(tok, &n->value))
          return nullptr;
        return n;
      }
      case TokenType::kString: {
        Token tok = Consume();
        auto* s = arena_->New<StringLiteral>();
        s->pos = PosRange{tok.pos, tok.end};
        s->value = Unquote(tok.text);
        return s;
      }
      case TokenType::kLeftParen: {
        Token open = Consume();
        Expr* inner = ParseExpr(0);
        if (inner == nullptr)
          return nullptr;
        const Token& close = Peek();
        if (failed_)
          return nullptr;
        if (close.type != TokenType::kRightParen) {
          Unexpected(close, "", "");
          return nullptr;
        }
        Token c = Consume();
        auto* p = arena_->New<Paren>();
        p->expr = inner;
        p->pos = PosRange{open.pos, c.end};
        return p;
      }
      case TokenType::kLeftBrace:
        return ParseVectorSelector(nullptr);
      default:
        break;
    }
    if (IsAggregatorToken(t.type)) {
      Token op = Consume();
      TokenType next = Peek().type;
      if (failed_)
        return nullptr;
      if (next == TokenType::kLeftParen || next == TokenType::kBy || next == TokenType::kWithout) {
        return ParseAggregate(op);
      }
      return ParseVectorSelector(&op);
    }
    if (t.type == TokenType::kIdentifier) {
      Token name = Consume();
      if (Peek().type == TokenType::kLeftParen)
        return ParseCall(name);
      if (failed_)
        return nullptr;
      return ParseVectorSelector(&name);
    }
    if (IsMetricIdentifierToken(t.type)) {
      Token name = Consume();
      return ParseVectorSelector(&name);
    }
    Unexpected(t, "", "");
    return nullptr;
  }

  bool ParseNumber(const Token& tok, double* value) {
    std::string err;
    std::optional<double> v = GoParseNumber(tok.text, &err);
    if (!v.has_value()) {
      ErrorAt(tok.pos, "error parsing number: " + err);
      return false;
    }
    *value = *v;
    return true;
  }

  bool ParseDuration(const Token& tok, int64_t* ms) {
    std::string err;
    if (!ParseDurationMs(tok.text, ms, &err)) {
      ErrorAt(tok.pos, err);
      return false;
    }
    return true;
  }

  // `name`, `name{...}` or `{...}`; `name` is nullptr when the selector starts with `{`.
  Expr* ParseVectorSelector(const Token* name) {
    auto* vs = arena_->New<VectorSelector>();
    int32_t start = name != nullptr ? name->pos : Peek().pos;
    vs->pos = PosRange{start, name != nullptr ? name->end : start};
    if (Peek().type == TokenType::kLeftBrace) {
      Consume();
      if (!ParseLabelMatchers(&vs->matchers))
        return nullptr;
      vs->pos.end = last_closing_;
    }
    if (failed_)
      return nullptr;
    if (name != nullptr) {
      vs->name = std::string(name->text);
      absl::StatusOr<Matcher> m =
          Matcher::Make(MatchType::kEqual, std::string(kMetricName), std::string(name->text));
      if (!m.ok()) {
        ErrorAt(name->pos, std::string(m.status().message()));
        return nullptr;
      }
      vs->matchers.push_back(*std::move(m));
    }
    return vs;
  }

  // The inside of `{...}`; the `{` is consumed.
  bool ParseLabelMatchers(std::vector<Matcher>* matchers) {
    if (Peek().type == TokenType::kRightBrace) {
      Consume();
      return !failed_;
    }
    for (;;) {
      const Token& t = Peek();
      if (failed_)
        return false;
      if (t.type != TokenType::kIdentifier) {
        Unexpected(t, "label matching", "identifier or \"}\"");
        return false;
      }
      Token label = Consume();
      const Token& op_tok = Peek();
      MatchType type;
      switch (op_tok.type) {
        case TokenType::kEql:
          type = MatchType::kEqual;
          break;
        case TokenType::kNeq:
          type = MatchType::kNotEqual;
          break;
        case TokenType::kEqlRegex:
          type = MatchType::kRegexMatch;
          break;
        case TokenType::kNeqRegex:
          type = MatchType::kRegexNoMatch;
          break;
        default:
          Unexpected(op_tok, "label matching", "label matching operator");
          return false;
      }
      Consume();
      const Token& value = Peek();
      if (value.type != TokenType::kString) {
        Unexpected(value, "label matching", "string");
        return false;
      }
      Token v = Consume();
      absl::StatusOr<Matcher> m = Matcher::Make(type, std::string(label.text), Unquote(v.text));
      if (!m.ok()) {
        ErrorAt(label.pos, std::string(m.status().message()));
        return false;
      }
      matchers->push_back(*std::move(m));
      const Token& sep = Peek();
      if (sep.type == TokenType::kComma) {
        Consume();
        if (Peek().type == TokenType::kRightBrace) {
          Consume();
          break;
        }
        continue;
      }
      if (sep.type == TokenType::kRightBrace) {
        Consume();
        break;
      }
      Unexpected(sep, "label matching", "\",\" or \"}\"");
      return false;
    }
    return !failed_;
  }

  // `(args)` of a call or an aggregation; the `(` is next.
  bool ParseArgs(std::vector<Expr*>* args) {
    Consume();  // (
    if (Peek().type == TokenType::kRightParen) {
      Consume();
      return !failed_;
    }
    for (;;) {
      Expr* e = ParseExpr(0);
      if (e == nullptr)
        return false;
      args->push_back(e);
      const Token& t = Peek();
      if (failed_)
        return false;
      if (t.type == TokenType::kComma) {
        Token comma = Consume();
        const Token& next = Peek();
        if (failed_)
          return false;
        if (!CanStartExpr(next.type)) {
          ErrorAt(comma.pos, "trailing commas not allowed in function call args");
          return false;
        }
        continue;
      }
      if (t.type == TokenType::kRightParen) {
        Consume();
        return !failed_;
      }
      Unexpected(t, "", "");
      return false;
    }
  }

  Expr* ParseCall(const Token& name) {
    auto* call = arena_->New<Call>();
    if (!EnterNesting(name.pos))
      return nullptr;
    if (!ParseArgs(&call->args))
      return nullptr;
    --depth_;
    call->pos = PosRange{name.pos, last_closing_};
    call->func = LookupFunction(name.text);
    if (call->func == nullptr) {
      ErrorAt(name.pos, "unknown function with name " + GoQuoteString(name.text));
      return nullptr;
    }
    return call;
  }

  Expr* ParseAggregate(const Token& op) {
    auto* agg = arena_->New<Aggregate>();
    agg->op = AggregateOpFor(op.type);
    if (!EnterNesting(op.pos))
      return nullptr;
    ++aggregation_depth_;
    std::vector<Expr*> args;
    TokenType t = Peek().type;
    bool modifier_first = t == TokenType::kBy || t == TokenType::kWithout;
    if (modifier_first) {
      Consume();
      agg->without = t == TokenType::kWithout;
      if (!ParseGroupingLabels(&agg->grouping))
        return nullptr;
      const Token& open = Peek();
      if (failed_)
        return nullptr;
      if (open.type != TokenType::kLeftParen) {
        Unexpected(open, "", "");
        return nullptr;
      }
    }
    if (!ParseArgs(&args))
      return nullptr;
    if (!modifier_first) {
      t = Peek().type;
      if (failed_)
        return nullptr;
      if (t == TokenType::kBy || t == TokenType::kWithout) {
        Consume();
        agg->without = t == TokenType::kWithout;
        if (!ParseGroupingLabels(&agg->grouping))
          return nullptr;
      }
    }
    --aggregation_depth_;
    --depth_;
    agg->pos = PosRange{op.pos, last_closing_};
    if (args.empty()) {
      ErrorAt(agg->pos.start, "no arguments for aggregate expression provided");
      return nullptr;
    }
    size_t want = AggregateOpTakesParam(agg->op) ? 2 : 1;
    if (args.size() != want) {
      ErrorAt(agg->pos.start,
              "wrong number of arguments for aggregate expression provided, expected " +
                  std::to_string(want) + ", got " + std::to_string(args.size()));
      return nullptr;
    }
    if (want == 2)
      agg->param = args[0];
    agg->expr = args[want - 1];
    return agg;
  }

  Expr* ParseRangeOrSubquery(Expr* e) {
    Token open = Consume();  // [
    const Token& range_tok = Peek();
    if (failed_)
      return nullptr;
    if (range_tok.type != TokenType::kDuration) {
      Unexpected(range_tok, "subquery selector", "duration");
      return nullptr;
    }
    Token rt = Consume();
    int64_t range_ms;
    if (!ParseDuration(rt, &range_ms))
      return nullptr;
    const Token& t = Peek();
    if (failed_)
      return nullptr;
    if (t.type == TokenType::kRightBracket) {
      Token close = Consume();
      auto* vs = e->As<VectorSelector>();
      const char* err = nullptr;
      if (vs == nullptr) {
        err = "ranges only allowed for vector selectors";
      } else if (vs->offset_ms != 0) {
        err = "no offset modifiers allowed before range";
      } else if (vs->at == AtModifier::kTimestamp) {
        err = "no @ modifiers allowed before range";
      }
      if (err != nullptr) {
        ErrorAt(open.pos, err);
        return nullptr;
      }
      auto* ms = arena_->New<MatrixSelector>();
      ms->vector = vs;
      ms->range_ms = range_ms;
      ms->pos = PosRange{e->pos.start, close.end};
      return ms;
    }
    if (t.type != TokenType::kColon) {
      Unexpected(t, "subquery or range", "\":\" or \"]\"");
      return nullptr;
    }
    Consume();
    int64_t step_ms = 0;
    const Token& s = Peek();
    if (failed_)
      return nullptr;
    if (s.type == TokenType::kDuration) {
      Token st = Consume();
      if (!ParseDuration(st, &step_ms))
        return nullptr;
      const Token& close = Peek();
      if (failed_)
        return nullptr;
      if (close.type != TokenType::kRightBracket) {
        Unexpected(close, "subquery selector", "\"]\"");
        return nullptr;
      }
    } else if (s.type != TokenType::kRightBracket) {
      Unexpected(s, "subquery selector", "duration or \"]\"");
      return nullptr;
    }
    Token close = Consume();
    auto* sq = arena_->New<Subquery>();
    sq->expr = e;
    sq->range_ms = range_ms;
    sq->step_ms = step_ms;
    sq->pos = PosRange{e->pos.start, close.end};
    return sq;
  }

  Expr* ParseOffset(Expr* e) {
    Consume();  // offset
    bool negative = false;
    const Token* t = &Peek();
    if (t->type == TokenType::kSub) {
      Consume();
      negative = true;
      t = &Peek();
    }
    if (failed_)
      return nullptr;
    if (t->type != TokenType::kDuration) {
      Unexpected(*t, "offset", "duration");
      return nullptr;
    }
    Token d = Consume();
    int64_t ms;
    if (!ParseDuration(d, &ms))
      return nullptr;
    if (negative)
      ms = -ms;
    int64_t* offset = nullptr;
    if (auto* vs = e->As<VectorSelector>()) {
      offset = &vs->offset_ms;
    } else if (auto* m = e->As<MatrixSelector>()) {
      offset = &m->vector->offset_ms;
    } else if (auto* sq = e->As<Subquery>()) {
      offset = &sq->offset_ms;
    } else {
      ErrorAt(e->pos.start,
              "offset modifier must be preceded by an instant vector selector or range vector "
              "selector or a subquery");
      return nullptr;
    }
    if (*offset != 0) {
      ErrorAt(e->pos.start, "offset may not be set multiple times");
      return nullptr;
    }
    *offset = ms;
    e->pos.end = last_closing_;
    return e;
  }

  Expr* ParseAt(Expr* e) {
    Consume();  // @
    const Token& t = Peek();
    if (failed_)
      return nullptr;
    AtModifier kind = AtModifier::kTimestamp;
    double ts = 0;
    if (t.type == TokenType::kStart || t.type == TokenType::kEnd) {
      kind = t.type == TokenType::kStart ? AtModifier::kStart : AtModifier::kEnd;
      Consume();
      for (TokenType want : {TokenType::kLeftParen, TokenType::kRightParen}) {
        const Token& p = Peek();
        if (failed_)
          return nullptr;
        if (p.type != want) {
          Unexpected(p, "@", "timestamp");
          return nullptr;
        }
        Consume();
      }
    } else {
      bool negative = false;
      const Token* n = &t;
      if (t.type == TokenType::kAdd || t.type == TokenType::kSub) {
        negative = t.type == TokenType::kSub;
        Consume();
        n = &Peek();
        if (failed_)
          return nullptr;
      }
      if (n->type != TokenType::kNumber) {
        Unexpected(*n, "@", "timestamp");
        return nullptr;
      }
      Token num = Consume();
      if (!ParseNumber(num, &ts))
        return nullptr;
      if (negative)
        ts = -ts;
      if (std::isinf(ts) || std::isnan(ts) ||
          ts >= static_cast<double>(std::numeric_limits<int64_t>::max()) ||
          ts <= static_cast<double>(std::numeric_limits<int64_t>::min())) {
        ErrorAt(e->pos.start, "timestamp out of bounds for @ modifier: " + GoFormatFloatF(ts));
        return nullptr;
      }
    }
    AtModifier* at = nullptr;
    int64_t* at_ms = nullptr;
    if (auto* vs = e->As<VectorSelector>()) {
      at = &vs->at, at_ms = &vs->at_ms;
    } else if (auto* m = e->As<MatrixSelector>()) {
      at = &m->vector->at, at_ms = &m->vector->at_ms;
    } else if (auto* sq = e->As<Subquery>()) {
      at = &sq->at, at_ms = &sq->at_ms;
    } else {
      ErrorAt(e->pos.start,
              "@ modifier must be preceded by an instant vector selector or range vector "
              "selector or a subquery");
      return nullptr;
    }
    if (*at != AtModifier::kNone) {
      ErrorAt(e->pos.start, "@ <timestamp> may not be set multiple times");
      return nullptr;
    }
    *at = kind;
    if (kind == AtModifier::kTimestamp) {
      // timestamp.FromFloatSeconds: round to ms; Go's out-of-range conversion gives MinInt64.
      double ms = std::round(ts * 1000.0);
      if (ms >= 9223372036854775808.0 || ms < -9223372036854775808.0) {
        *at_ms = std::numeric_limits<int64_t>::min();
      } else {
        *at_ms = static_cast<int64_t>(ms);
      }
    }
    e->pos.end = last_closing_;
    return e;
  }

  // ---- Depth of the finished tree (binary chains grow it without parser recursion).

  bool CheckDepth(const Expr* root) {
    std::vector<std::pair<const Expr*, int>> stack{{root, 1}};
    while (!stack.empty()) {
      auto [e, d] = stack.back();
      stack.pop_back();
      if (d > options_.max_depth) {
        ErrorAt(e->pos.start, "expression nesting depth exceeds the limit of " +
                                  std::to_string(options_.max_depth));
        return false;
      }
      auto push = [&stack, depth = d](const Expr* c) {
        if (c != nullptr) {
          stack.emplace_back(c, depth + 1);
        }
      };
      switch (e->kind) {
        case ExprKind::kMatrixSelector:
          push(e->As<MatrixSelector>()->vector);
          break;
        case ExprKind::kSubquery:
          push(e->As<Subquery>()->expr);
          break;
        case ExprKind::kParen:
          push(e->As<Paren>()->expr);
          break;
        case ExprKind::kUnary:
          push(e->As<Unary>()->expr);
          break;
        case ExprKind::kBinary:
          push(e->As<Binary>()->lhs);
          push(e->As<Binary>()->rhs);
          break;
        case ExprKind::kAggregate:
          push(e->As<Aggregate>()->param);
          push(e->As<Aggregate>()->expr);
          break;
        case ExprKind::kCall:
          for (const Expr* a : e->As<Call>()->args) {
            push(a);
          }
          break;
        default:
          break;
      }
    }
    return true;
  }

  // ---- Type checks run on a syntactically valid tree (Prometheus' checkAST).

  void ExpectType(Expr* e, ValueType want, std::string_view context) {
    ValueType t = Check(e);
    if (failed_)
      return;
    if (t != want) {
      ErrorAt(e->pos.start, "expected type " + std::string(DocumentedValueType(want)) + " in " +
                                std::string(context) + ", got " +
                                std::string(DocumentedValueType(t)));
    }
  }

  int32_t OperatorPos(const Binary* b) {
    int32_t i = b->lhs->pos.end;
    while (i < static_cast<int32_t>(input_.size()) &&
           (input_[i] == ' ' || input_[i] == '\t' || input_[i] == '\n' || input_[i] == '\r')) {
      ++i;
    }
    return i;
  }

  // Returns the type of `e`, computed from its children's so that checking stays linear.
  ValueType Check(Expr* e) {
    if (failed_) {
      return ValueType::kNone;
    }
    ValueType type = ValueType::kNone;
    if (e->kind != ExprKind::kBinary && e->kind != ExprKind::kParen &&
        e->kind != ExprKind::kUnary) {
      type = e->type();
    }
    switch (e->kind) {
      case ExprKind::kAggregate: {
        auto* a = e->As<Aggregate>();
        ExpectType(a->expr, ValueType::kVector, "aggregation expression");
        if (a->op == AggregateOp::kTopk || a->op == AggregateOp::kBottomk ||
            a->op == AggregateOp::kQuantile) {
          ExpectType(a->param, ValueType::kScalar, "aggregation parameter");
        }
        if (a->op == AggregateOp::kCountValues) {
          ExpectType(a->param, ValueType::kString, "aggregation parameter");
        }
        break;
      }
      case ExprKind::kBinary: {
        auto* b = e->As<Binary>();
        ValueType lt = Check(b->lhs);
        ValueType rt = Check(b->rhs);
        type = lt == ValueType::kScalar && rt == ValueType::kScalar ? ValueType::kScalar
                                                                    : ValueType::kVector;
        if (failed_)
          break;
        if (b->return_bool && !IsComparisonOp(b->op)) {
          ErrorAt(OperatorPos(b), "bool modifier can only be used on comparison operators");
          break;
        }
        if (IsComparisonOp(b->op) && !b->return_bool && lt == ValueType::kScalar &&
            rt == ValueType::kScalar) {
          ErrorAt(OperatorPos(b), "comparisons between scalars must use BOOL modifier");
          break;
        }
        VectorMatching& vm = *b->matching;
        if (IsSetOp(b->op) && vm.card == Cardinality::kOneToOne) {
          vm.card = Cardinality::kManyToMany;
        }
        if (vm.on) {
          for (const std::string& l1 : vm.matching_labels) {
            for (const std::string& l2 : vm.include) {
              if (l1 == l2) {
                ErrorAt(OperatorPos(b), "label " + GoQuoteString(l1) +
                                            " must not occur in ON and GROUP clause at once");
                return type;
              }
            }
          }
        }
        if (lt != ValueType::kScalar && lt != ValueType::kVector) {
          ErrorAt(b->lhs->pos.start,
                  "binary expression must contain only scalar and instant vector types");
          break;
        }
        if (rt != ValueType::kScalar && rt != ValueType::kVector) {
          ErrorAt(b->rhs->pos.start,
                  "binary expression must contain only scalar and instant vector types");
          break;
        }
        std::string op(BinaryOpString(b->op));
        if (lt != ValueType::kVector || rt != ValueType::kVector) {
          if (!vm.matching_labels.empty()) {
            ErrorAt(b->pos.start, "vector matching only allowed between instant vectors");
            break;
          }
          b->matching.reset();
        } else if (IsSetOp(b->op)) {
          if (vm.card == Cardinality::kOneToMany || vm.card == Cardinality::kManyToOne) {
            ErrorAt(b->pos.start, "no grouping allowed for \"" + op + "\" operation");
            break;
          }
          if (vm.card != Cardinality::kManyToMany) {
            ErrorAt(b->pos.start, "set operations must always be many-to-many");
            break;
          }
        }
        if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOp(b->op)) {
          ErrorAt(b->pos.start,
                  "set operator \"" + op + "\" not allowed in binary scalar expression");
        }
        break;
      }
      case ExprKind::kCall: {
        auto* c = e->As<Call>();
        const Function& f = *c->func;
        int nargs = static_cast<int>(f.num_arg_types);
        int got = static_cast<int>(c->args.size());
        std::string name = GoQuoteString(f.name);
        if (f.variadic == 0) {
          if (nargs != got) {
            ErrorAt(c->pos.start, "expected " + std::to_string(nargs) + " argument(s) in call to " +
                                      name + ", got " + std::to_string(got));
            break;
          }
        } else {
          int na = nargs - 1;
          if (na > got) {
            ErrorAt(c->pos.start, "expected at least " + std::to_string(na) +
                                      " argument(s) in call to " + name + ", got " +
                                      std::to_string(got));
            break;
          }
          if (f.variadic > 0 && na + f.variadic < got) {
            ErrorAt(c->pos.start, "expected at most " + std::to_string(na + f.variadic) +
                                      " argument(s) in call to " + name + ", got " +
                                      std::to_string(got));
            break;
          }
        }
        std::string context = "call to function " + name;
        for (size_t i = 0; i < c->args.size() && !failed_; ++i) {
          if (i >= f.num_arg_types && f.variadic == 0)
            break;
          ExpectType(c->args[i], f.ArgType(i), context);
        }
        break;
      }
      case ExprKind::kParen:
        type = Check(e->As<Paren>()->expr);
        break;
      case ExprKind::kUnary: {
        ValueType t = Check(e->As<Unary>()->expr);
        type = t;
        if (failed_)
          break;
        if (t != ValueType::kScalar && t != ValueType::kVector) {
          ErrorAt(e->pos.start,
                  "unary expression only allowed on expressions of type scalar or instant "
                  "vector, got \"" +
                      std::string(DocumentedValueType(t)) + "\"");
        }
        break;
      }
      case ExprKind::kSubquery: {
        ValueType t = Check(e->As<Subquery>()->expr);
        if (failed_)
          break;
        if (t != ValueType::kVector) {
          ErrorAt(e->pos.start, "subquery is only allowed on instant vector, got " +
                                    std::string(ValueTypeName(t)) + " instead");
        }
        break;
      }
      case ExprKind::kMatrixSelector:
        Check(e->As<MatrixSelector>()->vector);
        break;
      case ExprKind::kVectorSelector: {
        auto* vs = e->As<VectorSelector>();
        if (!vs->name.empty()) {
          for (size_t i = 0; i + 1 < vs->matchers.size(); ++i) {
            if (vs->matchers[i].name() == kMetricName) {
              ErrorAt(vs->pos.start,
                      "metric name must not be set twice: " + GoQuoteString(vs->name) + " or " +
                          GoQuoteString(vs->matchers[i].value()));
              return type;
            }
          }
        }
        bool not_empty = false;
        for (const Matcher& m : vs->matchers) {
          if (!m.MatchesEmpty()) {
            not_empty = true;
            break;
          }
        }
        if (!not_empty) {
          ErrorAt(vs->pos.start, "vector selector must contain at least one non-empty matcher");
        }
        break;
      }
      case ExprKind::kNumberLiteral:
      case ExprKind::kStringLiteral:
      case ExprKind::kStepInvariant:
        break;
    }
    return type;
  }

  std::string_view input_;
  Lexer lexer_;
  const ParseOptions& options_;
  Arena* arena_;
  Token token_;
  bool have_token_ = false;
  bool failed_ = false;
  std::string error_;
  int32_t last_closing_ = 0;
  int depth_ = 0;
  int aggregation_depth_ = 0;
};

}  // namespace

absl::StatusOr<ParsedQuery> Parse(std::string_view query, const ParseOptions& options) {
  auto arena = std::make_unique<Arena>();
  std::string text(query);
  Parser parser(text, options, arena.get());
  Expr* root = parser.ParseQuery();
  if (root == nullptr)
    return absl::InvalidArgumentError(parser.error());
  return ParsedQuery(std::move(arena), root, std::move(text));
}

}  // namespace paodin::engine::promql
