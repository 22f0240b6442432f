#include "engine/promqltest/promqltest.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "engine/model/time.h"
#include "engine/promql/ast.h"
#include "engine/promql/functions.h"
#include "engine/promql/parser.h"
#include "engine/storage/memory_queryable.h"
#include "engine/util/status_macros.h"
#include "engine/util/strings.h"
#include "re2/re2.h"

namespace paodin::engine::promqltest {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// ----- Series description parsing ------------------------------------------------------------

// Parses digits in `base` (up to 9 digits); nullopt on any other character.
std::optional<uint32_t> ParseDigits(std::string_view s, uint32_t base) {
  if (s.empty() || s.size() > 9)
    return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    uint32_t d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    if (d >= base)
      return std::nullopt;
    v = v * base + d;
  }
  return v;
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t'))
      ++pos_;
  }

  bool AtEnd() {
    SkipSpace();
    return pos_ >= s_.size();
  }

  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

  bool Consume(char c) {
    SkipSpace();
    if (Peek() == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::string_view Ident() {
    SkipSpace();
    size_t b = pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':') {
        ++pos_;
      } else {
        break;
      }
    }
    return s_.substr(b, pos_ - b);
  }

  // A Go-quoted string ("..." with escapes, '...', or `raw`).
  absl::StatusOr<std::string> Quoted() {
    SkipSpace();
    char q = Peek();
    if (q != '"' && q != '\'' && q != '`')
      return absl::InvalidArgumentError("expected string");
    ++pos_;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != q) {
      char c = s_[pos_++];
      if (c != '\\' || q == '`') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size())
        break;
      char e = s_[pos_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case 'x': {
          if (pos_ + 2 > s_.size())
            return absl::InvalidArgumentError("bad escape");
          std::optional<uint32_t> v = ParseDigits(s_.substr(pos_, 2), 16);
          if (!v.has_value())
            return absl::InvalidArgumentError("bad escape");
          out += static_cast<char>(*v);
          pos_ += 2;
          break;
        }
        case 'u':
        case 'U': {
          size_t n = e == 'u' ? 4 : 8;
          if (pos_ + n > s_.size())
            return absl::InvalidArgumentError("bad escape");
          std::optional<uint32_t> v = ParseDigits(s_.substr(pos_, n), 16);
          if (!v.has_value())
            return absl::InvalidArgumentError("bad escape");
          uint32_t cp = *v;
          pos_ += n;
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default:
          if (e >= '0' && e <= '7' && pos_ + 2 <= s_.size()) {
            std::optional<uint32_t> v = ParseDigits(s_.substr(pos_ - 1, 3), 8);
            if (!v.has_value())
              return absl::InvalidArgumentError("bad escape");
            out += static_cast<char>(*v);
            pos_ += 2;
          } else {
            out += e;
          }
      }
    }
    if (pos_ >= s_.size())
      return absl::InvalidArgumentError("unterminated string");
    ++pos_;
    return out;
  }

  // The next whitespace-separated token.
  std::string_view Token() {
    SkipSpace();
    size_t b = pos_;
    while (pos_ < s_.size() && s_[pos_] != ' ' && s_[pos_] != '\t')
      ++pos_;
    return s_.substr(b, pos_ - b);
  }

  std::string_view Rest() {
    SkipSpace();
    return s_.substr(pos_);
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

std::optional<double> ParseNumberToken(std::string_view t) {
  if (t.empty())
    return std::nullopt;
  std::string s(t);
  std::string lower;
  for (char c : s)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view body = lower;
  double sign = 1;
  if (body[0] == '+' || body[0] == '-') {
    if (body[0] == '-')
      sign = -1;
    body.remove_prefix(1);
  }
  if (body == "inf")
    return sign * kInf;
  if (body == "nan")
    return kNaN;
  if (body.empty())
    return std::nullopt;
  char* end = nullptr;
  double v;
  // Hexadecimal is not allowed in series descriptions ("0x10" is 0 repeated).
  if (body.find('x') != std::string_view::npos)
    return std::nullopt;
  std::string b(body);
  v = std::strtod(b.c_str(), &end);
  if (*end != '\0')
    return std::nullopt;
  return sign * v;
}

// Expands one value item of a series description.
absl::Status ParseValueItem(std::string_view tok, std::vector<SequenceValue>& out) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat("bad series value: ", ToAbsl(tok)));
  };
  if (tok == "_") {
    out.push_back({0, true});
    return absl::OkStatus();
  }
  if (tok == "stale") {
    out.push_back({StaleNaN(), false});
    return absl::OkStatus();
  }
  // Find the "x" that separates the repeat count (the last 'x' not part of a hex literal).
  size_t x = tok.rfind('x');
  if (x != std::string_view::npos && x + 1 < tok.size() && x > 0 &&
      std::all_of(tok.begin() + x + 1, tok.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (tok.size() - x - 1 > 9)
      return bad();
    int64_t n = static_cast<int64_t>(*ParseDigits(tok.substr(x + 1), 10));
    std::string_view head = tok.substr(0, x);
    if (head == "_") {
      for (int64_t i = 0; i < n; ++i)
        out.push_back({0, true});
      return absl::OkStatus();
    }
    // head is "a" or "a+b" / "a-b" (the sign after the first character).
    size_t split = std::string_view::npos;
    for (size_t i = 1; i < head.size(); ++i) {
      if ((head[i] == '+' || head[i] == '-') && head[i - 1] != 'e' && head[i - 1] != 'E') {
        split = i;
        break;
      }
    }
    if (split == std::string_view::npos) {
      std::optional<double> a = ParseNumberToken(head);
      if (!a.has_value())
        return bad();
      for (int64_t i = 0; i <= n; ++i)
        out.push_back({*a, false});
      return absl::OkStatus();
    }
    std::optional<double> a = ParseNumberToken(head.substr(0, split));
    std::optional<double> b = ParseNumberToken(head.substr(split));
    if (!a.has_value() || !b.has_value())
      return bad();
    double v = *a;
    for (int64_t i = 0; i <= n; ++i) {
      out.push_back({v, false});
      v += *b;
    }
    return absl::OkStatus();
  }
  std::optional<double> v = ParseNumberToken(tok);
  if (!v.has_value())
    return bad();
  out.push_back({*v, false});
  return absl::OkStatus();
}

// ----- Result comparison ---------------------------------------------------------------------

struct Expected {
  bool has_scalar = false;
  double scalar = 0;

  // Keyed by label bytes: (position, labels, value).
  struct Entry {
    int pos;
    Labels labels;
    double value;
  };

  std::map<std::string, Entry> series;
};

std::string FormatValue(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

std::string DescribeResult(const QueryResult& r) {
  if (r.type == ResultType::kScalar)
    return absl::StrCat("scalar ", FormatValue(r.scalar));
  std::string out = absl::StrCat(r.series.size(), " series:");
  for (const ResultSeries& s : r.series) {
    absl::StrAppend(&out, "\n      ", s.labels.ToString(), " ",
                    s.vs.empty() ? std::string("-") : FormatValue(s.vs[0]));
  }
  return out;
}

std::string DescribeExpected(const Expected& e) {
  if (e.has_scalar && e.series.empty())
    return absl::StrCat("scalar ", FormatValue(e.scalar));
  std::vector<const Expected::Entry*> entries;
  for (const auto& [k, v] : e.series)
    entries.push_back(&v);
  std::sort(entries.begin(), entries.end(),
            [](const Expected::Entry* a, const Expected::Entry* b) { return a->pos < b->pos; });
  std::string out = absl::StrCat(entries.size(), " series:");
  for (const auto* en : entries) {
    absl::StrAppend(&out, "\n      ", en->labels.ToString(), " ", FormatValue(en->value));
  }
  return out;
}

// Compares an instant result with the expectation; returns "" when it matches.
std::string Compare(const Expected& exp, const QueryResult& r, bool ordered) {
  switch (r.type) {
    case ResultType::kMatrix:
      return "received range result on instant evaluation";
    case ResultType::kString:
      return "received string result";
    case ResultType::kScalar:
      if (!exp.has_scalar)
        return "expected a vector, got a scalar";
      if (!AlmostEqual(exp.scalar, r.scalar)) {
        return absl::StrCat("expected scalar ", FormatValue(exp.scalar), " but got ",
                            FormatValue(r.scalar));
      }
      return "";
    case ResultType::kVector:
      break;
  }
  std::map<std::string, bool> seen;
  for (size_t pos = 0; pos < r.series.size(); ++pos) {
    const ResultSeries& s = r.series[pos];
    std::string key(s.labels.bytes());
    auto it = exp.series.find(key);
    if (it == exp.series.end()) {
      return absl::StrCat("unexpected metric ", s.labels.ToString(), " in result");
    }
    if (ordered && it->second.pos != static_cast<int>(pos) + 1) {
      return absl::StrCat("expected metric ", s.labels.ToString(), " at position ", it->second.pos,
                          " but was at ", pos + 1);
    }
    if (!AlmostEqual(it->second.value, s.vs[0])) {
      return absl::StrCat("expected ", FormatValue(it->second.value), " for ", s.labels.ToString(),
                          " but got ", FormatValue(s.vs[0]));
    }
    seen[key] = true;
  }
  for (const auto& [key, e] : exp.series) {
    if (!seen.count(key)) {
      return absl::StrCat("expected metric ", e.labels.ToString(), " not found");
    }
  }
  if (exp.has_scalar)
    return "expected a scalar, got a vector";
  return "";
}

// The middle step of a range result as an instant result.
QueryResult MiddleStep(const QueryResult& range, int64_t t, bool scalar) {
  QueryResult out;
  out.type = scalar ? ResultType::kScalar : ResultType::kVector;
  for (const ResultSeries& s : range.series) {
    for (size_t i = 0; i < s.ts.size(); ++i) {
      if (s.ts[i] != t)
        continue;
      if (scalar) {
        out.scalar = s.vs[i];
      } else {
        ResultSeries rs;
        rs.labels = s.labels;
        rs.ts.push_back(t);
        rs.vs.push_back(s.vs[i]);
        out.series.push_back(std::move(rs));
      }
      break;
    }
  }
  return out;
}

// ----- @ pinning -----------------------------------------------------------------------------

bool IsAtUnsafeName(std::string_view name) {
  static const char* kNames[] = {"days_in_month",  "day_of_month", "day_of_week", "day_of_year",
                                 "hour",           "minute",       "month",       "year",
                                 "predict_linear", "time",         "timestamp"};
  for (const char* n : kNames) {
    if (name == n)
      return true;
  }
  return false;
}

// Sets `@ ts` on every selector and subquery outside subqueries that lack a numeric `@`;
// returns false when the expression calls a function whose value depends on the eval time.
void PinAt(promql::Expr* e, int64_t ts, bool* unsafe) {
  switch (e->kind) {
    case promql::ExprKind::kVectorSelector: {
      auto* vs = e->As<promql::VectorSelector>();
      if (vs->at != promql::AtModifier::kTimestamp) {
        vs->at = promql::AtModifier::kTimestamp;
        vs->at_ms = ts;
      }
      return;
    }
    case promql::ExprKind::kMatrixSelector:
      PinAt(e->As<promql::MatrixSelector>()->vector, ts, unsafe);
      return;
    case promql::ExprKind::kSubquery: {
      auto* sq = e->As<promql::Subquery>();
      if (sq->at != promql::AtModifier::kTimestamp) {
        sq->at = promql::AtModifier::kTimestamp;
        sq->at_ms = ts;
      }
      return;  // nothing inside a subquery with @ is changed (or inspected)
    }
    case promql::ExprKind::kParen:
      PinAt(e->As<promql::Paren>()->expr, ts, unsafe);
      return;
    case promql::ExprKind::kStepInvariant:
      PinAt(e->As<promql::StepInvariant>()->expr, ts, unsafe);
      return;
    case promql::ExprKind::kUnary:
      PinAt(e->As<promql::Unary>()->expr, ts, unsafe);
      return;
    case promql::ExprKind::kBinary:
      PinAt(e->As<promql::Binary>()->lhs, ts, unsafe);
      PinAt(e->As<promql::Binary>()->rhs, ts, unsafe);
      return;
    case promql::ExprKind::kAggregate: {
      auto* a = e->As<promql::Aggregate>();
      if (a->param != nullptr)
        PinAt(a->param, ts, unsafe);
      PinAt(a->expr, ts, unsafe);
      return;
    }
    case promql::ExprKind::kCall: {
      auto* c = e->As<promql::Call>();
      if (IsAtUnsafeName(c->func->name))
        *unsafe = true;
      for (promql::Expr* a : c->args)
        PinAt(a, ts, unsafe);
      return;
    }
    default:
      return;
  }
}

// ----- Script execution ----------------------------------------------------------------------

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
    --e;
  return std::string(s.substr(b, e - b));
}

class Runner {
 public:
  Runner(std::string_view file, const RunOptions& options, RunStats& stats)
      : file_(file),
        engine_(options.engine),
        store_(options.make_storage ? options.make_storage() : std::make_unique<MemoryQueryable>()),
        stats_(stats) {}

  void Run(std::string_view content) {
    std::vector<std::string> lines;
    {
      std::string_view rest = content;
      while (true) {
        size_t nl = rest.find('\n');
        std::string l = Trim(rest.substr(0, nl));
        if (!l.empty() && l[0] == '#')
          l.clear();
        lines.push_back(std::move(l));
        if (nl == std::string_view::npos)
          break;
        rest.remove_prefix(nl + 1);
      }
    }
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& l = lines[i];
      if (l.empty())
        continue;
      std::string cmd;
      for (char c : l.substr(0, l.find_first_of(" \t"))) {
        cmd += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (cmd == "clear") {
        store_->Clear();
      } else if (cmd == "load") {
        i = Load(lines, i);
      } else if (cmd.rfind("eval", 0) == 0) {
        i = Eval(lines, i);
      } else {
        Fail(static_cast<int>(i) + 1, l, absl::StrCat("invalid command \"", l, "\""));
      }
    }
  }

 private:
  void Fail(int line, std::string expr, std::string msg) {
    stats_.failed++;
    stats_.failures.push_back(Failure{std::string(file_), line, std::move(expr), std::move(msg)});
  }

  size_t Load(const std::vector<std::string>& lines, size_t i) {
    static const re2::RE2 kLoad(R"(^load\s+(.+?)$)");
    std::string gap_str;
    size_t start = i;
    if (!re2::RE2::FullMatch(lines[i], kLoad, &gap_str)) {
      Fail(static_cast<int>(i) + 1, lines[i], "invalid load command. (load <step:duration>)");
    }
    absl::StatusOr<int64_t> gap = ParseDuration(gap_str);
    bool ok = gap.ok();
    if (!ok)
      Fail(static_cast<int>(start) + 1, lines[i], std::string(gap.status().message()));
    // As Prometheus: within one block, a later definition of the same series replaces the
    // earlier one.
    std::map<std::string, SeriesDesc> defs;
    while (i + 1 < lines.size() && !lines[i + 1].empty()) {
      ++i;
      absl::StatusOr<SeriesDesc> desc = ParseSeriesDesc(lines[i]);
      if (!desc.ok()) {
        Fail(static_cast<int>(i) + 1, lines[i], std::string(desc.status().message()));
        continue;
      }
      defs[std::string(desc->labels.bytes())] = *std::move(desc);
    }
    if (!ok)
      return i;
    for (const auto& [key, desc] : defs) {
      int64_t t = 0;
      for (const SequenceValue& v : desc.values) {
        if (!v.omitted) {
          if (absl::Status st = store_->Load(desc.labels, t, v.value); !st.ok()) {
            Fail(static_cast<int>(start) + 1, lines[start], std::string(st.message()));
            return i;
          }
        }
        t += *gap;
      }
    }
    return i;
  }

  size_t Eval(const std::vector<std::string>& lines, size_t i) {
    static const re2::RE2 kEval(R"(^eval(?:_(fail|ordered))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$)");
    std::string mod, at, expr;
    const size_t eval_line = i;
    if (!re2::RE2::FullMatch(lines[i], kEval, &mod, &at, &expr)) {
      Fail(static_cast<int>(i) + 1, lines[i],
           "invalid evaluation command. (eval[_fail|_ordered] instant [at <offset:duration>] "
           "<query>");
      while (i + 1 < lines.size() && !lines[i + 1].empty())
        ++i;
      return i;
    }
    Expected exp;
    std::string parse_error;
    for (int j = 1; i + 1 < lines.size() && !lines[i + 1].empty(); ++j) {
      ++i;
      const std::string& def = lines[i];
      if (std::optional<double> f = ParseExpectedNumber(def); f.has_value()) {
        exp.has_scalar = true;
        exp.scalar = *f;
        break;
      }
      absl::StatusOr<SeriesDesc> desc = ParseSeriesDesc(def);
      if (!desc.ok()) {
        parse_error = absl::StrCat("line ", i + 1, ": ", desc.status().message());
        continue;
      }
      if (desc->values.size() > 1) {
        parse_error = "expecting multiple values in instant evaluation not allowed";
        continue;
      }
      double v = desc->values.empty() ? 0 : desc->values[0].value;
      exp.series[std::string(desc->labels.bytes())] = Expected::Entry{j, desc->labels, v};
    }
    const int line_no = static_cast<int>(eval_line) + 1;
    if (!parse_error.empty()) {
      Fail(line_no, expr, parse_error);
      return i;
    }
    absl::StatusOr<int64_t> offset = ParseDuration(at);
    if (!offset.ok()) {
      Fail(line_no, expr, absl::StrCat("invalid step definition: ", offset.status().message()));
      return i;
    }
    std::string err = RunEval(expr, *offset, mod == "fail", mod == "ordered", exp);
    if (err.empty()) {
      stats_.passed++;
    } else {
      Fail(line_no, expr, err);
    }
    return i;
  }

  static std::optional<double> ParseExpectedNumber(std::string_view s) {
    // strconv.ParseInt(s, 0, 64) then strconv.ParseFloat(s, 64).
    std::string str(s);
    if (str.empty())
      return std::nullopt;
    if (str.find_first_of(" \t{}") != std::string::npos)
      return std::nullopt;
    std::optional<double> v = ParseNumberToken(str);
    return v;
  }

  std::string RunEval(const std::string& expr, int64_t t, bool fail, bool ordered,
                      const Expected& exp) {
    absl::StatusOr<promql::ParsedQuery> parsed = promql::Parse(expr);
    if (!parsed.ok())
      return absl::StrCat("parse error: ", parsed.status().message());

    // The query as written, then the @-pinned variants.
    struct Case {
      const promql::Expr* root;
      int64_t t;
    };

    std::vector<Case> cases{{parsed->root(), t}};
    absl::StatusOr<promql::ParsedQuery> pinned = promql::Parse(expr);
    bool unsafe = false;
    PinAt(pinned->root(), t, &unsafe);
    if (!unsafe) {
      std::vector<int64_t> times = {-10 * t, 0, t / 5, t, 10 * t};
      if (t == 0)
        times = {-1000, 0, 1000};
      for (int64_t et : times)
        cases.push_back({pinned->root(), et});
    }
    for (const Case& c : cases) {
      std::string where = c.root == parsed->root()
                              ? std::string()
                              : absl::StrCat(" (with @ ", t, "ms, evaluated at ", c.t, "ms)");
      absl::StatusOr<QueryResult> r = engine_.Evaluate(*store_, *c.root, c.t, c.t, 0, true);
      if (!r.ok()) {
        if (fail)
          continue;
        return absl::StrCat("error evaluating query", where, ": ", r.status().message());
      }
      if (fail)
        return absl::StrCat("expected error evaluating query", where, " but got none");
      std::string cmp = Compare(exp, *r, ordered);
      if (!cmp.empty()) {
        return absl::StrCat(cmp, where, "\n    expected: ", DescribeExpected(exp),
                            "\n    got: ", DescribeResult(*r));
      }
      absl::StatusOr<QueryResult> rr =
          engine_.Evaluate(*store_, *c.root, c.t - 60000, c.t + 60000, 60000, false);
      if (!rr.ok()) {
        return absl::StrCat("error evaluating query in range mode", where, ": ",
                            rr.status().message());
      }
      if (ordered)
        continue;
      QueryResult mid = MiddleStep(*rr, c.t, r->type == ResultType::kScalar);
      cmp = Compare(exp, mid, false);
      if (!cmp.empty()) {
        return absl::StrCat(cmp, " (range mode)", where, "\n    expected: ", DescribeExpected(exp),
                            "\n    got: ", DescribeResult(mid));
      }
    }
    return "";
  }

  std::string_view file_;
  Engine engine_;
  std::unique_ptr<LoadableQueryable> store_;
  RunStats& stats_;
};

}  // namespace

absl::StatusOr<SeriesDesc> ParseSeriesDesc(std::string_view line) {
  Cursor c(line);
  SeriesDesc out;
  std::vector<std::pair<std::string, std::string>> pairs;
  c.SkipSpace();
  std::string metric_name;
  if (c.Peek() != '{') {
    std::string_view name = c.Ident();
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("bad series: ", ToAbsl(line)));
    }
    metric_name = std::string(name);
  }
  if (c.Consume('{')) {
    while (!c.Consume('}')) {
      std::string_view name = c.Ident();
      if (name.empty() || !c.Consume('=')) {
        return absl::InvalidArgumentError(absl::StrCat("bad labels: ", ToAbsl(line)));
      }
      PAODIN_ASSIGN_OR_RETURN(std::string value, c.Quoted());
      pairs.emplace_back(std::string(name), std::move(value));
      if (!c.Consume(',')) {
        if (!c.Consume('}')) {
          return absl::InvalidArgumentError(absl::StrCat("bad labels: ", ToAbsl(line)));
        }
        break;
      }
    }
  }
  PAODIN_ASSIGN_OR_RETURN(out.labels, Labels::FromPairs(std::move(pairs)));
  if (!metric_name.empty()) {
    // As Prometheus: a name before the braces overrides a __name__ label inside them.
    LabelsBuilder b(out.labels);
    b.Set(kMetricName, metric_name);
    out.labels = b.Build();
  }
  while (!c.AtEnd()) {
    std::string_view tok = c.Token();
    PAODIN_RETURN_IF_ERROR(ParseValueItem(tok, out.values));
  }
  return out;
}

bool AlmostEqual(double a, double b) {
  if (std::isnan(a) && std::isnan(b))
    return true;
  if (a == b)
    return true;
  double diff = std::fabs(a - b);
  const double min_normal = std::numeric_limits<double>::min();
  const double epsilon = 0.000001;
  if (a == 0 || b == 0 || diff < min_normal)
    return diff < epsilon * min_normal;
  return diff / (std::fabs(a) + std::fabs(b)) < epsilon;
}

void RunScript(std::string_view content, std::string_view file, const RunOptions& options,
               RunStats& stats) {
  Runner r(file, options, stats);
  r.Run(content);
}

absl::Status RunFile(const std::string& path, const RunOptions& options, RunStats& stats) {
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  RunScript(ss.str(), path, options, stats);
  return absl::OkStatus();
}

std::string FormatFailure(const Failure& f) {
  return absl::StrCat(f.file, ":", f.line, ": ", f.expr, "\n    ", f.message);
}

}  // namespace paodin::engine::promqltest
