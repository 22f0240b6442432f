#include "tests/differential/result_compare.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/differential/json.h"

namespace paodin::differential {
namespace {

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Malformed(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed prometheus response: ", Sv(what)));
}

// A [time, "value"] pair.
absl::Status ReadPoint(const JsonValue& point, int64_t& t, double& v) {
  if (point.kind != JsonValue::Kind::kArray || point.items.size() != 2 ||
      point.items[1].kind != JsonValue::Kind::kString) {
    return Malformed("point is not [t, \"v\"]");
  }
  absl::StatusOr<int64_t> ts = ParsePromTime(point.items[0].text);
  if (!ts.ok())
    return ts.status();
  absl::StatusOr<double> val = ParsePromValue(point.items[1].text);
  if (!val.ok())
    return val.status();
  t = *ts;
  v = *val;
  return absl::OkStatus();
}

absl::Status ReadMetric(const JsonValue* metric, AnswerSeries& s) {
  if (metric == nullptr || metric->kind != JsonValue::Kind::kObject) {
    return Malformed("series without metric");
  }
  for (const auto& [name, value] : metric->members)
    s.labels.emplace_back(name, value.text);
  std::sort(s.labels.begin(), s.labels.end());
  return absl::OkStatus();
}

std::string FormatValue(double v) { return absl::StrFormat("%.17g", v); }

std::string FormatSeries(const AnswerSeries& s, size_t max_points = 4) {
  std::string out = FormatLabels(s.labels);
  out += " [";
  for (size_t i = 0; i < s.ts.size() && i < max_points; ++i) {
    absl::StrAppend(&out, i ? " " : "", FormatValue(s.vs[i]), "@", s.ts[i]);
  }
  if (s.ts.size() > max_points)
    absl::StrAppend(&out, " ... (", s.ts.size(), " points)");
  out += "]";
  return out;
}

bool LabelsLess(const AnswerSeries& a, const AnswerSeries& b) { return a.labels < b.labels; }

// Compares the points of two series with equal labels.
void ComparePoints(const AnswerSeries& want, const AnswerSeries& got, const CompareOptions& opts,
                   std::vector<std::string>& diffs, size_t max_lines) {
  size_t i = 0, j = 0;
  while ((i < want.ts.size() || j < got.ts.size()) && diffs.size() < max_lines) {
    if (j >= got.ts.size() || (i < want.ts.size() && want.ts[i] < got.ts[j])) {
      diffs.push_back(absl::StrCat("  ", FormatLabels(want.labels), " @", want.ts[i],
                                   ": missing point, want ", FormatValue(want.vs[i])));
      ++i;
    } else if (i >= want.ts.size() || got.ts[j] < want.ts[i]) {
      diffs.push_back(absl::StrCat("  ", FormatLabels(got.labels), " @", got.ts[j],
                                   ": extra point ", FormatValue(got.vs[j])));
      ++j;
    } else {
      if (!ValuesMatch(want.vs[i], got.vs[j], opts)) {
        diffs.push_back(absl::StrCat("  ", FormatLabels(want.labels), " @", want.ts[i], ": want ",
                                     FormatValue(want.vs[i]), " got ", FormatValue(got.vs[j])));
      }
      ++i;
      ++j;
    }
  }
}

// Prometheus names the two clashing series of a many-to-many match as "[current, earlier]",
// where "earlier" depends on the order of the right-hand vector; after an aggregation that
// order comes from a Go map and changes from run to run. So "[A, B]" also matches "[B, A]".
bool SameUpToPairOrder(std::string_view want, std::string_view got) {
  static constexpr std::string_view kPrefix = "found duplicate series for the match group";
  if (!want.starts_with(kPrefix) || !got.starts_with(kPrefix))
    return false;
  size_t open = want.find(": [");
  size_t close = want.find("];");
  size_t sep = want.find("}, {", open);
  if (open == std::string_view::npos || close == std::string_view::npos ||
      sep == std::string_view::npos || sep > close) {
    return false;
  }
  std::string_view a = want.substr(open + 3, sep + 1 - (open + 3));
  std::string_view b = want.substr(sep + 3, close - (sep + 3));
  std::string swapped =
      absl::StrCat(Sv(want.substr(0, open + 3)), Sv(b), ", ", Sv(a), Sv(want.substr(close)));
  return swapped == got;
}

}  // namespace

std::string FormatLabels(const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string out;
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (name == "__name__")
      out = value;
  }
  out += "{";
  for (const auto& [name, value] : labels) {
    if (name == "__name__")
      continue;
    absl::StrAppend(&out, first ? "" : ", ", name, "=\"", value, "\"");
    first = false;
  }
  out += "}";
  return out;
}

absl::StatusOr<double> ParsePromValue(std::string_view s) {
  std::string text(s);
  if (text.empty())
    return absl::InvalidArgumentError("empty value");
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("bad value: ", text));
  }
  return v;
}

absl::StatusOr<int64_t> ParsePromTime(std::string_view s) {
  absl::StatusOr<double> v = ParsePromValue(s);
  if (!v.ok())
    return v.status();
  if (!std::isfinite(*v))
    return absl::InvalidArgumentError(absl::StrCat("bad time: ", Sv(s)));
  return static_cast<int64_t>(std::llround(*v * 1000.0));
}

absl::StatusOr<Answer> AnswerFromPrometheus(std::string_view body) {
  absl::StatusOr<JsonValue> doc = ParseJson(body);
  if (!doc.ok())
    return doc.status();
  Answer out;
  const JsonValue* status = doc->Find("status");
  if (status == nullptr)
    return Malformed("no status");
  if (status->text == "error") {
    const JsonValue* type = doc->Find("errorType");
    const JsonValue* error = doc->Find("error");
    out.error_type = type != nullptr ? type->text : "unknown";
    out.error = error != nullptr ? error->text : "";
    static constexpr std::string_view kQueryParam = "invalid parameter \"query\": ";
    if (out.error.starts_with(kQueryParam))
      out.error = out.error.substr(kQueryParam.size());
    return out;
  }
  const JsonValue* data = doc->Find("data");
  if (data == nullptr)
    return Malformed("no data");
  const JsonValue* type = data->Find("resultType");
  const JsonValue* result = data->Find("result");
  if (type == nullptr || result == nullptr)
    return Malformed("no resultType/result");
  out.type = type->text;
  if (out.type == "scalar" || out.type == "string") {
    if (result->kind != JsonValue::Kind::kArray || result->items.size() != 2) {
      return Malformed("scalar is not [t, v]");
    }
    absl::StatusOr<int64_t> t = ParsePromTime(result->items[0].text);
    if (!t.ok())
      return t.status();
    out.t_ms = *t;
    if (out.type == "string") {
      out.str = result->items[1].text;
    } else {
      absl::StatusOr<double> v = ParsePromValue(result->items[1].text);
      if (!v.ok())
        return v.status();
      out.scalar = *v;
    }
    return out;
  }
  if (result->kind != JsonValue::Kind::kArray)
    return Malformed("result is not an array");
  for (const JsonValue& item : result->items) {
    AnswerSeries s;
    if (absl::Status st = ReadMetric(item.Find("metric"), s); !st.ok())
      return st;
    if (out.type == "vector") {
      const JsonValue* value = item.Find("value");
      if (value == nullptr)
        return Malformed("vector element without value");
      int64_t t = 0;
      double v = 0;
      if (absl::Status st = ReadPoint(*value, t, v); !st.ok())
        return st;
      s.ts.push_back(t);
      s.vs.push_back(v);
    } else if (out.type == "matrix") {
      const JsonValue* values = item.Find("values");
      if (values == nullptr || values->kind != JsonValue::Kind::kArray) {
        return Malformed("matrix series without values");
      }
      for (const JsonValue& p : values->items) {
        int64_t t = 0;
        double v = 0;
        if (absl::Status st = ReadPoint(p, t, v); !st.ok())
          return st;
        s.ts.push_back(t);
        s.vs.push_back(v);
      }
    } else {
      return Malformed(absl::StrCat("unknown result type ", out.type));
    }
    out.series.push_back(std::move(s));
  }
  return out;
}

Answer AnswerFromEngine(const absl::StatusOr<engine::QueryResult>& result) {
  Answer out;
  if (!result.ok()) {
    switch (result.status().code()) {
      case absl::StatusCode::kInvalidArgument:
        out.error_type = "bad_data";
        break;
      case absl::StatusCode::kFailedPrecondition:
      case absl::StatusCode::kResourceExhausted:
        out.error_type = "execution";
        break;
      case absl::StatusCode::kDeadlineExceeded:
        out.error_type = "timeout";
        break;
      case absl::StatusCode::kCancelled:
        out.error_type = "canceled";
        break;
      default:
        out.error_type = absl::StatusCodeToString(result.status().code());
    }
    out.error = std::string(result.status().message());
    return out;
  }
  const engine::QueryResult& r = *result;
  switch (r.type) {
    case engine::ResultType::kScalar:
      out.type = "scalar";
      out.t_ms = r.t_ms;
      out.scalar = r.scalar;
      return out;
    case engine::ResultType::kString:
      out.type = "string";
      out.t_ms = r.t_ms;
      out.str = r.str;
      return out;
    case engine::ResultType::kVector:
      out.type = "vector";
      break;
    case engine::ResultType::kMatrix:
      out.type = "matrix";
      break;
  }
  for (const engine::ResultSeries& rs : r.series) {
    AnswerSeries s;
    for (const engine::Label& l : rs.labels) {
      s.labels.emplace_back(std::string(l.name), std::string(l.value));
    }
    std::sort(s.labels.begin(), s.labels.end());
    s.ts = rs.ts;
    s.vs = rs.vs;
    out.series.push_back(std::move(s));
  }
  return out;
}

bool ValuesMatch(double want, double got, const CompareOptions& opts) {
  if (std::isnan(want) || std::isnan(got))
    return std::isnan(want) && std::isnan(got);
  if (std::isinf(want) || std::isinf(got))
    return want == got;
  if (want == got)
    return true;
  double diff = std::fabs(want - got);
  if (diff <= opts.abs_tolerance)
    return true;
  return diff <= opts.rel_tolerance * std::max(std::fabs(want), std::fabs(got));
}

std::vector<std::string> CompareAnswers(const Answer& want, const Answer& got,
                                        const CompareOptions& opts, size_t max_lines) {
  std::vector<std::string> diffs;
  if (!want.error_type.empty() || !got.error_type.empty()) {
    if (want.error_type.empty()) {
      diffs.push_back(absl::StrCat("prometheus succeeded (", want.type, ", ", want.series.size(),
                                   " series), we failed: ", got.error_type, ": ", got.error));
    } else if (got.error_type.empty()) {
      diffs.push_back(absl::StrCat("prometheus failed (", want.error_type, ": ", want.error,
                                   "), we succeeded (", got.type, ", ", got.series.size(),
                                   " series)"));
    } else if (want.error_type != got.error_type) {
      diffs.push_back(absl::StrCat("error type: prometheus ", want.error_type, " (", want.error,
                                   "), we ", got.error_type, " (", got.error, ")"));
    } else if (opts.compare_messages && want.error != got.error &&
               !SameUpToPairOrder(want.error, got.error)) {
      diffs.push_back(absl::StrCat("error message (", want.error_type, "):\n    prometheus: ",
                                   want.error, "\n    ours:       ", got.error));
    }
    return diffs;
  }
  if (want.type != got.type) {
    diffs.push_back(absl::StrCat("result type: prometheus ", want.type, ", we ", got.type));
    return diffs;
  }
  if (want.type == "scalar" || want.type == "string") {
    if (want.t_ms != got.t_ms) {
      diffs.push_back(absl::StrCat("time: prometheus ", want.t_ms, ", we ", got.t_ms));
    }
    if (want.type == "scalar" && !ValuesMatch(want.scalar, got.scalar, opts)) {
      diffs.push_back(absl::StrCat("scalar: prometheus ", FormatValue(want.scalar), ", we ",
                                   FormatValue(got.scalar)));
    }
    if (want.type == "string" && want.str != got.str) {
      diffs.push_back(absl::StrCat("string: prometheus \"", want.str, "\", we \"", got.str, "\""));
    }
    return diffs;
  }

  std::vector<AnswerSeries> w = want.series;
  std::vector<AnswerSeries> g = got.series;
  if (opts.ordered && want.type == "vector") {
    // The order is part of the answer; equal values may come in either order (ties).
    size_t n = std::min(w.size(), g.size());
    for (size_t i = 0; i < n && diffs.size() < max_lines; ++i) {
      if (!ValuesMatch(w[i].vs[0], g[i].vs[0], opts)) {
        diffs.push_back(absl::StrCat("order: element ", i, " prometheus ", FormatSeries(w[i]),
                                     ", we ", FormatSeries(g[i])));
        break;
      }
    }
  }
  std::sort(w.begin(), w.end(), LabelsLess);
  std::sort(g.begin(), g.end(), LabelsLess);
  size_t i = 0, j = 0;
  while ((i < w.size() || j < g.size()) && diffs.size() < max_lines) {
    if (j >= g.size() || (i < w.size() && w[i].labels < g[j].labels)) {
      diffs.push_back(absl::StrCat("missing series: ", FormatSeries(w[i])));
      ++i;
    } else if (i >= w.size() || g[j].labels < w[i].labels) {
      diffs.push_back(absl::StrCat("extra series: ", FormatSeries(g[j])));
      ++j;
    } else {
      ComparePoints(w[i], g[j], opts, diffs, max_lines);
      ++i;
      ++j;
    }
  }
  if (diffs.size() >= max_lines)
    diffs.push_back("  ...");
  return diffs;
}

int64_t CountInexactValues(const Answer& want, const Answer& got, std::string* worst) {
  int64_t worst_ulps = 0;
  auto note = [&](const AnswerSeries* s, size_t j, double a, double b) {
    if (worst == nullptr || std::isnan(a) || std::isnan(b))
      return;
    int64_t ia, ib;
    std::memcpy(&ia, &a, sizeof a);
    std::memcpy(&ib, &b, sizeof b);
    int64_t ulps = (ia < 0) != (ib < 0) ? INT64_MAX : (ia > ib ? ia - ib : ib - ia);
    if (ulps <= worst_ulps)
      return;
    worst_ulps = ulps;
    *worst = absl::StrCat(s != nullptr ? FormatLabels(s->labels) : "scalar",
                          s != nullptr ? absl::StrCat(" @", s->ts[j]) : "", ": prometheus ",
                          FormatValue(a), " ours ", FormatValue(b), " (", ulps, " ulps)");
  };
  auto differs = [](double a, double b) { return !(a == b || (std::isnan(a) && std::isnan(b))); };
  if (!want.error_type.empty() || !got.error_type.empty() || want.type != got.type)
    return 0;
  if (want.type == "scalar") {
    if (!differs(want.scalar, got.scalar))
      return 0;
    note(nullptr, 0, want.scalar, got.scalar);
    return 1;
  }
  std::vector<AnswerSeries> w = want.series;
  std::vector<AnswerSeries> g = got.series;
  std::sort(w.begin(), w.end(), LabelsLess);
  std::sort(g.begin(), g.end(), LabelsLess);
  int64_t inexact = 0;
  for (size_t i = 0; i < w.size() && i < g.size(); ++i) {
    if (w[i].labels != g[i].labels || w[i].ts != g[i].ts)
      continue;
    for (size_t j = 0; j < w[i].vs.size(); ++j) {
      if (!differs(w[i].vs[j], g[i].vs[j]))
        continue;
      ++inexact;
      note(&w[i], j, w[i].vs[j], g[i].vs[j]);
    }
  }
  return inexact;
}

}  // namespace paodin::differential
