#include "http/testing/fakes.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine/util/strings.h"

namespace paodin::http::testing {
namespace {

bool IsNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

}  // namespace

absl::StatusOr<MatcherSet> FakeParseSelector(std::string_view s) {
  auto fail = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("1:1: parse error: unexpected input \"", ToAbsl(s), "\""));
  };
  MatcherSet set;
  size_t i = 0;
  std::string name;
  while (i < s.size() && IsNameChar(s[i], i == 0))
    name.push_back(s[i++]);
  if (i < s.size() && s[i] == '{') {
    ++i;
    while (i < s.size() && s[i] != '}') {
      std::string label;
      while (i < s.size() && IsNameChar(s[i], label.empty()))
        label.push_back(s[i++]);
      if (label.empty() || i + 1 >= s.size())
        return fail();
      engine::MatchType type;
      if (s.substr(i, 2) == "=~") {
        type = engine::MatchType::kRegexMatch;
        i += 2;
      } else if (s.substr(i, 2) == "!~") {
        type = engine::MatchType::kRegexNoMatch;
        i += 2;
      } else if (s.substr(i, 2) == "!=") {
        type = engine::MatchType::kNotEqual;
        i += 2;
      } else if (s[i] == '=') {
        type = engine::MatchType::kEqual;
        i += 1;
      } else {
        return fail();
      }
      if (i >= s.size() || s[i] != '"')
        return fail();
      size_t close = s.find('"', i + 1);
      if (close == std::string_view::npos)
        return fail();
      auto m = engine::Matcher::Make(type, label, std::string(s.substr(i + 1, close - i - 1)));
      if (!m.ok())
        return m.status();
      set.push_back(*m);
      i = close + 1;
      if (i < s.size() && s[i] == ',')
        ++i;
    }
    if (i >= s.size())
      return fail();
    ++i;
  }
  if (i != s.size() || (name.empty() && set.empty()))
    return fail();
  if (!name.empty()) {
    set.push_back(*engine::Matcher::Make(engine::MatchType::kEqual, "__name__", name));
  }
  return set;
}

absl::StatusOr<QueryResult> FakeBackend::InstantQuery(const InstantQueryRequest& request,
                                                      const engine::QueryContext& ctx) {
  {
    std::lock_guard<std::mutex> lock(mu);
    last_instant = request;
  }
  if (on_instant)
    return on_instant(request, ctx);
  QueryResult r;
  r.type = ResultType::kVector;
  return r;
}

absl::StatusOr<QueryResult> FakeBackend::RangeQuery(const RangeQueryRequest& request,
                                                    const engine::QueryContext& ctx) {
  {
    std::lock_guard<std::mutex> lock(mu);
    last_range = request;
  }
  if (on_range)
    return on_range(request, ctx);
  QueryResult r;
  r.type = ResultType::kMatrix;
  return r;
}

absl::StatusOr<SeriesResult> FakeBackend::Series(const MetadataRequest& request,
                                                 const engine::QueryContext& ctx) {
  {
    std::lock_guard<std::mutex> lock(mu);
    last_metadata = request;
  }
  if (on_series)
    return on_series(request);
  return SeriesResult{};
}

absl::StatusOr<StringsResult> FakeBackend::LabelNames(const MetadataRequest& request,
                                                      const engine::QueryContext& ctx) {
  {
    std::lock_guard<std::mutex> lock(mu);
    last_metadata = request;
  }
  if (on_label_names)
    return on_label_names(request);
  return StringsResult{};
}

absl::StatusOr<StringsResult> FakeBackend::LabelValues(std::string_view name,
                                                       const MetadataRequest& request,
                                                       const engine::QueryContext& ctx) {
  {
    std::lock_guard<std::mutex> lock(mu);
    last_metadata = request;
    last_label_name = std::string(name);
  }
  if (on_label_values)
    return on_label_values(name, request);
  return StringsResult{};
}

ResultSeries MakeSeries(std::vector<std::pair<std::string, std::string>> labels,
                        std::vector<std::pair<int64_t, double>> points) {
  ResultSeries s;
  s.labels = *engine::Labels::FromPairs(std::move(labels));
  for (const auto& [t, v] : points) {
    s.ts.push_back(t);
    s.vs.push_back(v);
  }
  return s;
}

QueryResult ScalarResult(int64_t t_ms, double v) {
  QueryResult r;
  r.type = ResultType::kScalar;
  r.t_ms = t_ms;
  r.scalar = v;
  return r;
}

bool WaitFor(const std::function<bool()>& done, int max_ms) {
  for (int i = 0; i < max_ms; ++i) {
    if (done())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

}  // namespace paodin::http::testing
