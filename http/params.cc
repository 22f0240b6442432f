#include "http/params.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/model/matcher.h"
#include "engine/model/time.h"
#include "engine/util/status_macros.h"
#include "engine/util/strings.h"
#include "http/api_error.h"

namespace paodin::http {
namespace {

std::string_view Msg(const absl::Status& s) { return ToStd(s.message()); }

absl::Status BadData(std::string message) { return absl::InvalidArgumentError(message); }

absl::Status BadParam(std::string_view param, std::string_view message) {
  return BadData(InvalidParam(param, message).message);
}

// Thanos' `'<param>' parameter: <cause>` wrapping.
absl::Status ThanosParamError(std::string_view param, std::string_view message) {
  return BadData(absl::StrCat("'", ToAbsl(param), "' parameter: ", ToAbsl(message)));
}

// Prometheus parseTimeParam: an empty value gives the default; errors read
// `invalid parameter "<p>": Invalid time value for '<p>': cannot parse ...`.
// `engine_time` picks the query engine's conversion (ParseApiTime, which wraps like
// UnixNano) over the metadata endpoints' (ParseApiTimestamp).
absl::StatusOr<int64_t> ParseTimeParam(const Form& form, std::string_view param, int64_t default_ms,
                                       bool engine_time) {
  std::string_view value = form.Value(param);
  if (value.empty())
    return default_ms;
  absl::StatusOr<int64_t> t =
      engine_time ? engine::ParseApiTime(value) : engine::ParseApiTimestamp(value);
  if (!t.ok()) {
    return BadParam(param, absl::StrCat("Invalid time value for '", ToAbsl(param),
                                        "': ", t.status().message()));
  }
  return *t;
}

absl::StatusOr<bool> ParseBoolParam(const Form& form, std::string_view param, bool default_value) {
  std::string_view value = form.Value(param);
  if (value.empty())
    return default_value;
  absl::StatusOr<bool> b = ParseGoBool(value);
  if (!b.ok())
    return ThanosParamError(param, Msg(b.status()));
  return *b;
}

// min(timeout parameter, --query.timeout).
absl::StatusOr<int64_t> ParseTimeout(const Form& form, const ParamDefaults& defaults) {
  std::string_view value = form.Value("timeout");
  if (value.empty())
    return defaults.query_timeout_ms;
  absl::StatusOr<int64_t> d = engine::ParseApiDuration(value);
  if (!d.ok())
    return BadParam("timeout", Msg(d.status()));
  return std::min(*d, defaults.query_timeout_ms);
}

absl::StatusOr<std::vector<MatcherSet>> ParseStoreMatchers(const Form& form,
                                                           const SelectorParser& parse_selector) {
  std::vector<MatcherSet> sets;
  for (std::string_view s : form.Values("storeMatch[]")) {
    absl::StatusOr<MatcherSet> set = parse_selector(s);
    if (!set.ok())
      return BadData(std::string(Msg(set.status())));
    sets.push_back(*std::move(set));
  }
  return sets;
}

std::vector<std::string> ReplicaLabels(const Form& form, const ParamDefaults& defaults) {
  std::vector<std::string_view> given = form.Values("replicaLabels[]");
  if (given.empty())
    return defaults.replica_labels;
  return std::vector<std::string>(given.begin(), given.end());
}

// Thanos parseDownsamplingParamMillis.
absl::StatusOr<int64_t> ParseMaxSourceResolution(const Form& form, const ParamDefaults& defaults,
                                                 int64_t auto_value_ms) {
  std::string_view value = form.Value("max_source_resolution");
  int64_t resolution = 0;
  if (defaults.auto_downsampling || value == "auto")
    resolution = auto_value_ms;
  if (!value.empty() && value != "auto") {
    absl::StatusOr<int64_t> d = engine::ParseApiDuration(value);
    if (!d.ok())
      return ThanosParamError("max_source_resolution", Msg(d.status()));
    resolution = *d;
  }
  if (resolution < 0) {
    return BadData("negative 'max_source_resolution' is not accepted. Try a positive integer");
  }
  return resolution;
}

absl::StatusOr<std::string> ParseEngine(const Form& form, const ParamDefaults& defaults) {
  std::string_view value = form.Value("engine");
  if (value.empty())
    value = defaults.default_engine;
  if (value != "prometheus" && value != "thanos") {
    return BadData(absl::StrCat("'", ToAbsl(value), "' bad engine"));
  }
  return std::string(value);
}

absl::StatusOr<int64_t> ParseLookbackDelta(const Form& form) {
  std::string_view value = form.Value("lookback_delta");
  if (value.empty())
    return 0;
  absl::StatusOr<int64_t> d = engine::ParseApiDuration(value);
  if (!d.ok())
    return ThanosParamError("lookback_delta", Msg(d.status()));
  return std::max<int64_t>(*d, 0);
}

// The Thanos parameters shared by both query endpoints, in Thanos' order, after timeout.
absl::Status ParseCommonQueryParams(const Form& form, const ParamDefaults& defaults,
                                    const SelectorParser& parse_selector, bool range,
                                    int64_t auto_resolution_ms, QueryParams& params) {
  PAODIN_ASSIGN_OR_RETURN(params.dedup, ParseBoolParam(form, "dedup", true));
  params.replica_labels = ReplicaLabels(form, defaults);
  PAODIN_ASSIGN_OR_RETURN(params.store_matchers, ParseStoreMatchers(form, parse_selector));
  if (range) {
    PAODIN_ASSIGN_OR_RETURN(params.max_source_resolution_ms,
                            ParseMaxSourceResolution(form, defaults, auto_resolution_ms));
    PAODIN_ASSIGN_OR_RETURN(params.partial_response,
                            ParseBoolParam(form, "partial_response", defaults.partial_response));
  } else {
    PAODIN_ASSIGN_OR_RETURN(params.partial_response,
                            ParseBoolParam(form, "partial_response", defaults.partial_response));
    PAODIN_ASSIGN_OR_RETURN(params.max_source_resolution_ms,
                            ParseMaxSourceResolution(form, defaults, auto_resolution_ms));
  }
  PAODIN_ASSIGN_OR_RETURN(params.engine, ParseEngine(form, defaults));
  PAODIN_ASSIGN_OR_RETURN(params.lookback_delta_ms, ParseLookbackDelta(form));
  params.stats = !form.Value("stats").empty();
  params.query = std::string(form.Value("query"));
  return absl::OkStatus();
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

absl::StatusOr<bool> ParseGoBool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True")
    return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    return false;
  }
  return BadData(
      absl::StrCat("strconv.ParseBool: parsing ", engine::GoQuote(s), ": invalid syntax"));
}

absl::StatusOr<int64_t> ParseGoInt(std::string_view s) {
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), IsDigit)) {
    return BadData(absl::StrCat("strconv.Atoi: parsing ", engine::GoQuote(s), ": invalid syntax"));
  }
  // Accumulate as a negative number, whose range includes the most negative int64.
  int64_t value = 0;
  for (char c : digits) {
    int digit = c - '0';
    if (value < (std::numeric_limits<int64_t>::min() + digit) / 10) {
      return BadData(
          absl::StrCat("strconv.Atoi: parsing ", engine::GoQuote(s), ": value out of range"));
    }
    value = value * 10 - digit;
  }
  if (!negative) {
    if (value == std::numeric_limits<int64_t>::min()) {
      return BadData(
          absl::StrCat("strconv.Atoi: parsing ", engine::GoQuote(s), ": value out of range"));
    }
    value = -value;
  }
  return value;
}

absl::Status ValidateLabelName(std::string_view name) {
  bool ok = !name.empty();
  for (size_t i = 0; ok && i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    ok = letter || (i > 0 && IsDigit(c));
  }
  if (!ok)
    return BadData(absl::StrCat("invalid label name: ", engine::GoQuote(name)));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<MatcherSet>> ParseMatchers(const std::vector<std::string_view>& values,
                                                      const SelectorParser& parse_selector) {
  std::vector<MatcherSet> sets;
  sets.reserve(values.size());
  for (std::string_view s : values) {
    absl::StatusOr<MatcherSet> set = parse_selector(s);
    if (!set.ok())
      return BadData(std::string(Msg(set.status())));
    sets.push_back(*std::move(set));
  }
  for (const MatcherSet& set : sets) {
    bool has_non_empty = std::any_of(set.begin(), set.end(),
                                     [](const engine::Matcher& m) { return !m.MatchesEmpty(); });
    if (!has_non_empty)
      return BadData("match[] must contain at least one non-empty matcher");
  }
  return sets;
}

absl::StatusOr<ParsedInstantQuery> ParseInstantQuery(const Form& form,
                                                     const ParamDefaults& defaults,
                                                     const SelectorParser& parse_selector,
                                                     int64_t now_ms) {
  ParsedInstantQuery parsed;
  PAODIN_ASSIGN_OR_RETURN(parsed.request.time_ms,
                          ParseTimeParam(form, "time", now_ms, /*engine_time=*/true));
  PAODIN_ASSIGN_OR_RETURN(parsed.timeout_ms, ParseTimeout(form, defaults));
  PAODIN_RETURN_IF_ERROR(ParseCommonQueryParams(form, defaults, parse_selector, /*range=*/false,
                                                defaults.instant_max_source_resolution_ms,
                                                parsed.request.params));
  return parsed;
}

absl::StatusOr<ParsedRangeQuery> ParseRangeQuery(const Form& form, const ParamDefaults& defaults,
                                                 const SelectorParser& parse_selector) {
  ParsedRangeQuery parsed;
  RangeQueryRequest& r = parsed.request;
  // Validation works on the exact times (Go's time.Time); the engine gets its own
  // conversion, which wraps outside the years 1678..2262 as Prometheus' does.
  absl::StatusOr<int64_t> start = engine::ParseApiTimestamp(form.Value("start"));
  if (!start.ok())
    return BadParam("start", Msg(start.status()));
  absl::StatusOr<int64_t> end = engine::ParseApiTimestamp(form.Value("end"));
  if (!end.ok())
    return BadParam("end", Msg(end.status()));
  if (*end < *start)
    return BadParam("end", "end timestamp must not be before start time");
  r.start_ms = *engine::ParseApiTime(form.Value("start"));
  r.end_ms = *engine::ParseApiTime(form.Value("end"));

  // Go's end.Sub(start) saturates at the largest time.Duration (about 292 years).
  constexpr int64_t kMaxDurationMs = std::numeric_limits<int64_t>::max() / 1000000;
  __int128 range = static_cast<__int128>(*end) - *start;
  int64_t range_ms = range > kMaxDurationMs ? kMaxDurationMs : static_cast<int64_t>(range);

  std::string_view step_value = form.Value("step");
  if (step_value.empty()) {
    // Thanos: max(range/250, --query.default-step), in whole seconds.
    int64_t range_seconds = range_ms / 1000;
    r.step_ms = std::max(range_seconds / 250, defaults.default_step_ms / 1000) * 1000;
  } else {
    absl::StatusOr<int64_t> step = engine::ParseApiDuration(step_value);
    if (!step.ok())
      return BadParam("step", Msg(step.status()));
    r.step_ms = *step;
  }
  if (r.step_ms <= 0) {
    return BadParam(
        "step",
        "zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  // For safety, limit the number of returned points per timeseries (integer division).
  if (range_ms / r.step_ms > 11000) {
    return BadData(
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
        "resolution (?step=XX)");
  }
  PAODIN_ASSIGN_OR_RETURN(parsed.timeout_ms, ParseTimeout(form, defaults));
  PAODIN_RETURN_IF_ERROR(ParseCommonQueryParams(form, defaults, parse_selector, /*range=*/true,
                                                r.step_ms / 5, r.params));
  return parsed;
}

absl::StatusOr<MetadataRequest> ParseMetadataRequest(MetadataEndpoint endpoint, const Form& form,
                                                     const ParamDefaults& defaults,
                                                     const SelectorParser& parse_selector,
                                                     int64_t now_ms) {
  MetadataRequest r;
  std::vector<std::string_view> match = form.Values("match[]");
  if (endpoint == MetadataEndpoint::kSeries) {
    if (!form.parse_error().ok()) {
      return BadData(absl::StrCat("error parsing form values: ", form.parse_error().message()));
    }
    if (match.empty())
      return BadData("no match[] parameter provided");
  }
  int64_t default_start = engine::kMinApiTime;
  int64_t default_end = engine::kMaxApiTime;
  if (defaults.metadata_time_range_ms > 0) {
    default_start = now_ms - defaults.metadata_time_range_ms;
    default_end = now_ms;
  }
  PAODIN_ASSIGN_OR_RETURN(r.start_ms, ParseTimeParam(form, "start", default_start, false));
  PAODIN_ASSIGN_OR_RETURN(r.end_ms, ParseTimeParam(form, "end", default_end, false));
  if (r.end_ms < r.start_ms)
    return BadData("end timestamp must not be before start time");

  absl::StatusOr<std::vector<MatcherSet>> sets = ParseMatchers(match, parse_selector);
  if (!sets.ok()) {
    if (endpoint == MetadataEndpoint::kSeries)
      return BadParam("match[]", Msg(sets.status()));
    return sets.status();
  }
  r.matchers = *std::move(sets);

  if (endpoint == MetadataEndpoint::kSeries) {
    PAODIN_ASSIGN_OR_RETURN(r.dedup, ParseBoolParam(form, "dedup", true));
    r.replica_labels = ReplicaLabels(form, defaults);
  }
  PAODIN_ASSIGN_OR_RETURN(r.store_matchers, ParseStoreMatchers(form, parse_selector));
  PAODIN_ASSIGN_OR_RETURN(r.partial_response,
                          ParseBoolParam(form, "partial_response", defaults.partial_response));
  std::string_view limit = form.Value("limit");
  if (!limit.empty()) {
    absl::StatusOr<int64_t> n = ParseGoInt(limit);
    if (!n.ok())
      return BadParam("limit", Msg(n.status()));
    if (*n < 0)
      return BadParam("limit", "limit must be non-negative");
    r.limit = *n;
  }
  return r;
}

}  // namespace paodin::http
