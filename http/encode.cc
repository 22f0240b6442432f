#include "http/encode.h"

#include <algorithm>

#include "engine/util/status_macros.h"
#include "http/json.h"

namespace paodin::http {
namespace {

void AppendWarnings(std::string& out, const std::vector<std::string>& warnings) {
  if (warnings.empty())
    return;
  out.append(",\"warnings\":[");
  for (size_t i = 0; i < warnings.size(); ++i) {
    if (i > 0)
      out.push_back(',');
    AppendJsonString(out, warnings[i]);
  }
  out.push_back(']');
}

// A [<ts>,"<value>"] pair of a vector or matrix.
void AppendSamplePair(std::string& out, int64_t t, double v) {
  out.push_back('[');
  AppendSampleTimestamp(out, t);
  out.append(",\"");
  AppendSampleValue(out, v);
  out.append("\"]");
}

std::string_view ResultTypeName(ResultType type) {
  switch (type) {
    case ResultType::kMatrix:
      return "matrix";
    case ResultType::kVector:
      return "vector";
    case ResultType::kScalar:
      return "scalar";
    case ResultType::kString:
      return "string";
  }
  return "vector";
}

void AppendStats(std::string& out, const engine::QueryStats& stats, const ExecTimings& timings) {
  out.append(",\"stats\":{\"timings\":{\"evalTotalTime\":");
  AppendGoJsonFloat(out, timings.eval_seconds);
  out.append(",\"resultSortTime\":0,\"queryPreparationTime\":0,\"innerEvalTime\":");
  AppendGoJsonFloat(out, timings.eval_seconds);
  out.append(",\"execQueueTime\":");
  AppendGoJsonFloat(out, timings.exec_queue_seconds);
  out.append(",\"execTotalTime\":");
  AppendGoJsonFloat(out, timings.exec_queue_seconds + timings.eval_seconds);
  out.append("},\"samples\":{\"totalQueryableSamples\":");
  AppendInt(out, stats.samples_scanned);
  out.append(",\"peakSamples\":");
  AppendInt(out, stats.peak_samples);
  out.append("}}");
}

}  // namespace

absl::Status JsonOut::Flush() {
  if (buf_.empty())
    return absl::OkStatus();
  absl::Status status = sink_->Write(buf_);
  buf_.clear();
  return status;
}

void AppendLabels(std::string& out, const engine::Labels& labels) {
  out.push_back('{');
  bool first = true;
  for (engine::Label l : labels) {
    if (!first)
      out.push_back(',');
    first = false;
    AppendJsonString(out, l.name);
    out.push_back(':');
    AppendJsonString(out, l.value);
  }
  out.push_back('}');
}

absl::Status WriteQueryResponse(const QueryResult& result, bool with_stats,
                                const ExecTimings& timings, JsonOut& out) {
  std::string& b = out.buf();
  b.append("{\"status\":\"success\",\"data\":{\"resultType\":\"");
  b.append(ResultTypeName(result.type));
  b.append("\",\"result\":");
  switch (result.type) {
    case ResultType::kScalar:
      b.push_back('[');
      AppendFloatTimestamp(b, result.t_ms);
      b.append(",\"");
      AppendScalarValue(b, result.scalar);
      b.append("\"]");
      break;
    case ResultType::kString:
      b.push_back('[');
      AppendFloatTimestamp(b, result.t_ms);
      b.push_back(',');
      AppendJsonString(b, result.str);
      b.push_back(']');
      break;
    case ResultType::kVector:
      b.push_back('[');
      for (size_t i = 0; i < result.series.size(); ++i) {
        const ResultSeries& s = result.series[i];
        if (i > 0)
          b.push_back(',');
        b.append("{\"metric\":");
        AppendLabels(b, s.labels);
        b.append(",\"value\":");
        if (s.ts.empty() || s.vs.empty()) {
          AppendSamplePair(b, result.t_ms, 0);
        } else {
          AppendSamplePair(b, s.ts.front(), s.vs.front());
        }
        b.push_back('}');
        PAODIN_RETURN_IF_ERROR(out.MaybeFlush());
      }
      b.push_back(']');
      break;
    case ResultType::kMatrix:
      b.push_back('[');
      for (size_t i = 0; i < result.series.size(); ++i) {
        const ResultSeries& s = result.series[i];
        if (i > 0)
          b.push_back(',');
        b.append("{\"metric\":");
        AppendLabels(b, s.labels);
        b.append(",\"values\":[");
        size_t n = std::min(s.ts.size(), s.vs.size());
        for (size_t p = 0; p < n; ++p) {
          if (p > 0)
            b.push_back(',');
          AppendSamplePair(b, s.ts[p], s.vs[p]);
          if ((p & 1023) == 1023)
            PAODIN_RETURN_IF_ERROR(out.MaybeFlush());
        }
        b.append("]}");
        PAODIN_RETURN_IF_ERROR(out.MaybeFlush());
      }
      b.push_back(']');
      break;
  }
  if (with_stats)
    AppendStats(b, result.stats, timings);
  b.push_back('}');
  AppendWarnings(b, result.warnings);
  b.push_back('}');
  return out.Flush();
}

namespace {

// {"status":"success","data":[items...],"warnings":[...]}, flushing as the buffer fills.
template <typename T, typename AppendItem>
absl::Status WriteArrayResponse(const std::vector<T>& items,
                                const std::vector<std::string>& warnings, JsonOut& out,
                                AppendItem append_item) {
  std::string& b = out.buf();
  b.append("{\"status\":\"success\",\"data\":[");
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      b.push_back(',');
    append_item(b, items[i]);
    PAODIN_RETURN_IF_ERROR(out.MaybeFlush());
  }
  b.push_back(']');
  AppendWarnings(b, warnings);
  b.push_back('}');
  return out.Flush();
}

}  // namespace

absl::Status WriteSeriesResponse(const std::vector<engine::Labels>& series,
                                 const std::vector<std::string>& warnings, JsonOut& out) {
  return WriteArrayResponse(series, warnings, out,
                            [](std::string& b, const engine::Labels& l) { AppendLabels(b, l); });
}

absl::Status WriteStringsResponse(const std::vector<std::string>& values,
                                  const std::vector<std::string>& warnings, JsonOut& out) {
  return WriteArrayResponse(values, warnings, out,
                            [](std::string& b, const std::string& v) { AppendJsonString(b, v); });
}

void WriteErrorResponse(const ApiError& error, std::string& out) {
  out.append("{\"status\":\"error\",\"errorType\":\"");
  out.append(ErrorTypeName(error.type));
  out.append("\",\"error\":");
  AppendJsonString(out, error.message);
  out.push_back('}');
}

void WriteRawDataResponse(std::string_view data, std::string& out) {
  out.append("{\"status\":\"success\",\"data\":");
  out.append(data);
  out.push_back('}');
}

std::string FormatRfc3339Nano(absl::Time t) {
  std::string s = absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*S", t, absl::UTCTimeZone());
  s.push_back('Z');
  return s;
}

std::string StoresData(const std::vector<EndpointStatus>& endpoints) {
  std::vector<const EndpointStatus*> known;
  for (const EndpointStatus& e : endpoints) {
    if (!e.component_type.empty())
      known.push_back(&e);
  }
  // Group by type in key order; keep the given order inside a group.
  std::stable_sort(known.begin(), known.end(), [](const auto* a, const auto* b) {
    return a->component_type < b->component_type;
  });
  std::string out = "{";
  for (size_t i = 0; i < known.size(); ++i) {
    const EndpointStatus& e = *known[i];
    bool new_group = i == 0 || known[i - 1]->component_type != e.component_type;
    if (new_group) {
      if (i > 0)
        out.append("],");
      AppendJsonString(out, e.component_type);
      out.append(":[");
    } else {
      out.push_back(',');
    }
    out.append("{\"name\":");
    AppendJsonString(out, e.name);
    out.append(",\"lastCheck\":");
    AppendJsonString(out, FormatRfc3339Nano(e.last_check));
    out.append(",\"lastError\":");
    if (e.last_error.has_value()) {
      AppendJsonString(out, *e.last_error);
    } else {
      out.append("null");
    }
    out.append(",\"labelSets\":[");
    for (size_t l = 0; l < e.label_sets.size(); ++l) {
      if (l > 0)
        out.push_back(',');
      AppendLabels(out, e.label_sets[l]);
    }
    out.append("],\"minTime\":");
    AppendInt(out, e.min_time);
    out.append(",\"maxTime\":");
    AppendInt(out, e.max_time);
    out.push_back('}');
  }
  if (!known.empty())
    out.push_back(']');
  out.push_back('}');
  return out;
}

std::string BuildInfoData(const BuildInfo& info) {
  std::string out = "{\"version\":";
  AppendJsonString(out, info.version);
  out.append(",\"revision\":");
  AppendJsonString(out, info.revision);
  out.append(",\"branch\":");
  AppendJsonString(out, info.branch);
  out.append(",\"buildUser\":");
  AppendJsonString(out, info.build_user);
  out.append(",\"buildDate\":");
  AppendJsonString(out, info.build_date);
  out.append(",\"goVersion\":");
  AppendJsonString(out, info.go_version);
  out.push_back('}');
  return out;
}

std::string FlagsData(std::vector<std::pair<std::string, std::string>> flags) {
  std::stable_sort(flags.begin(), flags.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "{";
  for (size_t i = 0; i < flags.size(); ++i) {
    if (i > 0 && flags[i].first == flags[i - 1].first)
      continue;  // a map keeps one value
    if (out.size() > 1)
      out.push_back(',');
    AppendJsonString(out, flags[i].first);
    out.push_back(':');
    AppendJsonString(out, flags[i].second);
  }
  out.push_back('}');
  return out;
}

std::string MetadataData(
    const std::vector<std::pair<std::string, std::vector<MetricMetadata>>>& metadata) {
  std::string out = "{";
  for (size_t i = 0; i < metadata.size(); ++i) {
    if (i > 0)
      out.push_back(',');
    AppendJsonString(out, metadata[i].first);
    out.append(":[");
    const auto& entries = metadata[i].second;
    for (size_t e = 0; e < entries.size(); ++e) {
      if (e > 0)
        out.push_back(',');
      out.append("{\"type\":");
      AppendJsonString(out, entries[e].type);
      out.append(",\"help\":");
      AppendJsonString(out, entries[e].help);
      out.append(",\"unit\":");
      AppendJsonString(out, entries[e].unit);
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

}  // namespace paodin::http
