#include "storeapi/sidecar/prometheus_api.h"

#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <snappy.h>
#include <yaml-cpp/yaml.h>

#include "engine/model/time.h"
#include "engine/util/status_macros.h"

namespace paodin::storeapi {
namespace {

using engine::Labels;

constexpr size_t kErrorBodyBytes = 4096;
constexpr std::string_view kStreamedContentType =
    "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

std::string Snippet(std::string_view body) {
  constexpr size_t kMax = 512;
  std::string s(body.substr(0, kMax));
  for (char& c : s) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  if (body.size() > kMax) {
    s += "...";
  }
  return s;
}

// The error status for a non-2xx answer of Prometheus.
absl::Status HttpStatusError(int status, std::string_view what, std::string_view message) {
  const std::string text =
      fmt::format("{}: Prometheus answered HTTP {}: {}", what, status, Snippet(message));
  if (status == 400 || status == 422) {
    return absl::InvalidArgumentError(text);
  }
  if (status == 503) {
    return absl::UnavailableError(text);
  }
  return absl::UnknownError(text);
}

// Parses Prometheus' JSON envelope {"status":"success","data":...} (JSON is read as YAML) and
// returns `data`. An "error" envelope becomes an error with Prometheus' message.
absl::StatusOr<YAML::Node> ParseEnvelope(int status, std::string_view body, std::string_view what) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(body));
  } catch (const std::exception& e) {
    if (status < 200 || status > 299) {
      return HttpStatusError(status, what, body);
    }
    return absl::InternalError(
        fmt::format("{}: response is not JSON ({}): {}", what, e.what(), Snippet(body)));
  }
  try {
    if (!root.IsMap() || !root["status"] || !root["status"].IsScalar()) {
      if (status < 200 || status > 299) {
        return HttpStatusError(status, what, body);
      }
      return absl::InternalError(
          fmt::format("{}: response is not a Prometheus API answer: {}", what, Snippet(body)));
    }
    if (root["status"].as<std::string>() != "success") {
      std::string message = root["error"] && root["error"].IsScalar()
                                ? root["error"].as<std::string>()
                                : std::string(body);
      return HttpStatusError(status, what, message);
    }
    YAML::Node data = root["data"];
    if (!data) {
      return absl::InternalError(fmt::format("{}: response has no data: {}", what, Snippet(body)));
    }
    return data;
  } catch (const std::exception& e) {
    return absl::InternalError(
        fmt::format("{}: bad response ({}): {}", what, e.what(), Snippet(body)));
  }
}

// Seconds with three decimals, as the API's time parameters take them.
std::string FormatApiTime(int64_t ms) {
  const bool negative = ms < 0;
  const uint64_t abs = negative ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  return fmt::format("{}{}.{:03}", negative ? "-" : "", abs / 1000, abs % 1000);
}

// "&start=..&end=.." (each left out when it is Prometheus' own default or beyond).
std::string TimeParams(int64_t start_ms, int64_t end_ms) {
  std::string out;
  if (start_ms > engine::kMinApiTime) {
    out += "&start=" + FormatApiTime(start_ms);
  }
  if (end_ms < engine::kMaxApiTime) {
    out += "&end=" + FormatApiTime(end_ms);
  }
  return out;
}

absl::StatusOr<HttpResponse> GetOk(HttpClient& client, const std::string& target,
                                   const engine::QueryContext& ctx) {
  return client.Get(target, ctx);
}

}  // namespace

std::string MatchersToSelector(std::span<const engine::Matcher> matchers) {
  std::string out = "{";
  for (size_t i = 0; i < matchers.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += matchers[i].ToString();
  }
  out += '}';
  return out;
}

void MatchersToRemote(std::span<const engine::Matcher> matchers,
                      google::protobuf::RepeatedPtrField<prometheus::LabelMatcher>* out) {
  for (const engine::Matcher& m : matchers) {
    prometheus::LabelMatcher* r = out->Add();
    switch (m.type()) {
      case engine::MatchType::kEqual:
        r->set_type(prometheus::LabelMatcher::EQ);
        break;
      case engine::MatchType::kNotEqual:
        r->set_type(prometheus::LabelMatcher::NEQ);
        break;
      case engine::MatchType::kRegexMatch:
        r->set_type(prometheus::LabelMatcher::RE);
        break;
      case engine::MatchType::kRegexNoMatch:
        r->set_type(prometheus::LabelMatcher::NRE);
        break;
    }
    r->set_name(m.name());
    r->set_value(m.value());
  }
}

absl::StatusOr<Labels> ParseConfigResponse(int status, std::string_view body) {
  constexpr std::string_view kWhat = "reading Prometheus configuration";
  PAODIN_ASSIGN_OR_RETURN(YAML::Node data, ParseEnvelope(status, body, kWhat));
  std::vector<std::pair<std::string, std::string>> pairs;
  try {
    if (!data.IsMap() || !data["yaml"] || !data["yaml"].IsScalar()) {
      return absl::InternalError(fmt::format("{}: no data.yaml in {}", kWhat, Snippet(body)));
    }
    YAML::Node config = YAML::Load(data["yaml"].as<std::string>());
    YAML::Node external = config["global"] ? config["global"]["external_labels"] : YAML::Node();
    if (external && !external.IsNull()) {
      if (!external.IsMap()) {
        return absl::InternalError(fmt::format("{}: global.external_labels is not a map", kWhat));
      }
      for (const auto& kv : external) {
        pairs.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(fmt::format("{}: bad configuration YAML: {}", kWhat, e.what()));
  }
  absl::StatusOr<Labels> labels = Labels::FromPairs(std::move(pairs));
  if (!labels.ok()) {
    return absl::InternalError(
        fmt::format("{}: bad external labels: {}", kWhat, std::string(labels.status().message())));
  }
  return labels;
}

absl::StatusOr<std::optional<int64_t>> ParseLowestTimestamp(std::string_view text) {
  constexpr std::string_view kName = "prometheus_tsdb_lowest_timestamp ";
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) {
      eol = text.size();
    }
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.substr(0, kName.size()) != kName) {
      continue;
    }
    std::string value(line.substr(kName.size()));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) {
      value.pop_back();
    }
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0' || std::isnan(v)) {
      return absl::InternalError(
          fmt::format("bad prometheus_tsdb_lowest_timestamp value {:?}", value));
    }
    // An empty TSDB reports MaxInt64 (as a float).
    if (v >= 9.2e18) {
      return std::nullopt;
    }
    if (v <= -9.2e18) {
      return std::numeric_limits<int64_t>::min();
    }
    return static_cast<int64_t>(v);
  }
  return absl::NotFoundError("no prometheus_tsdb_lowest_timestamp in Prometheus' /metrics");
}

absl::StatusOr<std::vector<std::string>> ParseStringListResponse(int status,
                                                                 std::string_view body) {
  constexpr std::string_view kWhat = "reading Prometheus label API";
  PAODIN_ASSIGN_OR_RETURN(YAML::Node data, ParseEnvelope(status, body, kWhat));
  std::vector<std::string> out;
  try {
    if (data.IsNull()) {
      return out;
    }
    if (!data.IsSequence()) {
      return absl::InternalError(fmt::format("{}: data is not a list", kWhat));
    }
    out.reserve(data.size());
    for (const auto& item : data) {
      out.push_back(item.as<std::string>());
    }
  } catch (const std::exception& e) {
    return absl::InternalError(fmt::format("{}: {}", kWhat, e.what()));
  }
  return out;
}

absl::StatusOr<std::vector<Labels>> ParseSeriesResponse(int status, std::string_view body) {
  constexpr std::string_view kWhat = "reading Prometheus series API";
  PAODIN_ASSIGN_OR_RETURN(YAML::Node data, ParseEnvelope(status, body, kWhat));
  std::vector<Labels> out;
  try {
    if (data.IsNull()) {
      return out;
    }
    if (!data.IsSequence()) {
      return absl::InternalError(fmt::format("{}: data is not a list", kWhat));
    }
    for (const auto& item : data) {
      if (!item.IsMap()) {
        return absl::InternalError(fmt::format("{}: a series is not a map", kWhat));
      }
      std::vector<std::pair<std::string, std::string>> pairs;
      for (const auto& kv : item) {
        pairs.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
      }
      absl::StatusOr<Labels> labels = Labels::FromPairs(std::move(pairs));
      if (!labels.ok()) {
        return absl::InternalError(
            fmt::format("{}: {}", kWhat, std::string(labels.status().message())));
      }
      out.push_back(*std::move(labels));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(fmt::format("{}: {}", kWhat, e.what()));
  }
  return out;
}

absl::StatusOr<Labels> FetchExternalLabels(HttpClient& client, const engine::QueryContext& ctx) {
  PAODIN_ASSIGN_OR_RETURN(HttpResponse r, GetOk(client, "/api/v1/status/config", ctx));
  return ParseConfigResponse(r.status, r.body);
}

absl::StatusOr<std::optional<int64_t>> FetchLowestTimestamp(HttpClient& client,
                                                            const engine::QueryContext& ctx) {
  PAODIN_ASSIGN_OR_RETURN(HttpResponse r, GetOk(client, "/metrics", ctx));
  if (r.status != 200) {
    return HttpStatusError(r.status, "reading Prometheus /metrics", r.body);
  }
  return ParseLowestTimestamp(r.body);
}

absl::StatusOr<std::vector<std::string>> FetchLabelNames(HttpClient& client,
                                                         std::span<const engine::Matcher> matchers,
                                                         int64_t start_ms, int64_t end_ms,
                                                         const engine::QueryContext& ctx) {
  std::string target = "/api/v1/labels?";
  if (!matchers.empty()) {
    target += "match[]=" + UrlEncode(MatchersToSelector(matchers));
  }
  target += TimeParams(start_ms, end_ms);
  PAODIN_ASSIGN_OR_RETURN(HttpResponse r, GetOk(client, target, ctx));
  return ParseStringListResponse(r.status, r.body);
}

absl::StatusOr<std::vector<std::string>> FetchLabelValues(HttpClient& client, std::string_view name,
                                                          std::span<const engine::Matcher> matchers,
                                                          int64_t start_ms, int64_t end_ms,
                                                          const engine::QueryContext& ctx) {
  std::string target = "/api/v1/label/" + UrlEncode(name) + "/values?";
  if (!matchers.empty()) {
    target += "match[]=" + UrlEncode(MatchersToSelector(matchers));
  }
  target += TimeParams(start_ms, end_ms);
  PAODIN_ASSIGN_OR_RETURN(HttpResponse r, GetOk(client, target, ctx));
  return ParseStringListResponse(r.status, r.body);
}

absl::StatusOr<std::vector<Labels>> FetchSeries(HttpClient& client,
                                                std::span<const engine::Matcher> matchers,
                                                int64_t start_ms, int64_t end_ms,
                                                const engine::QueryContext& ctx) {
  std::string target = "/api/v1/series?match[]=" + UrlEncode(MatchersToSelector(matchers)) +
                       TimeParams(start_ms, end_ms);
  PAODIN_ASSIGN_OR_RETURN(HttpResponse r, GetOk(client, target, ctx));
  return ParseSeriesResponse(r.status, r.body);
}

absl::StatusOr<std::unique_ptr<RemoteReadStream>> RemoteReadStream::Start(
    HttpClient& client, const prometheus::ReadRequest& request, size_t max_frame_bytes,
    const engine::QueryContext& ctx) {
  std::string raw;
  if (!request.SerializeToString(&raw)) {
    return absl::InternalError("cannot serialize the remote read request");
  }
  std::string compressed;
  snappy::Compress(raw.data(), raw.size(), &compressed);
  PAODIN_ASSIGN_OR_RETURN(std::unique_ptr<HttpBodyStream> body,
                          client.Post("/api/v1/read", std::move(compressed),
                                      {{"Content-Encoding", "snappy"},
                                       {"Content-Type", "application/x-protobuf"},
                                       {"X-Prometheus-Remote-Read-Version", "0.1.0"}},
                                      ctx));
  if (body->status() != 200) {
    std::string message;
    std::string piece;
    while (message.size() < kErrorBodyBytes) {
      if (!body->Read(kErrorBodyBytes, &piece).ok() || piece.empty()) {
        break;
      }
      message += piece;
    }
    return HttpStatusError(body->status(), "remote read", message);
  }
  if (body->content_type() != kStreamedContentType) {
    return absl::InternalError(fmt::format(
        "remote read from {}: expected Content-Type {:?}, got {:?} (STREAMED_XOR_CHUNKS needs "
        "Prometheus 2.13 or later)",
        client.url(), kStreamedContentType, body->content_type()));
  }
  return std::unique_ptr<RemoteReadStream>(
      new RemoteReadStream(std::move(body), max_frame_bytes, client.url()));
}

absl::StatusOr<bool> RemoteReadStream::Next(prometheus::ChunkedReadResponse* out) {
  constexpr size_t kReadBytes = 256 * 1024;
  for (;;) {
    absl::StatusOr<std::optional<std::string_view>> frame = reader_.Next();
    if (!frame.ok()) {
      return absl::Status(
          frame.status().code(),
          fmt::format("remote read from {}: {}", url_, std::string(frame.status().message())));
    }
    if (frame->has_value()) {
      const std::string_view message = **frame;
      if (!out->ParseFromArray(message.data(), static_cast<int>(message.size()))) {
        return absl::DataLossError(
            fmt::format("remote read from {}: frame {} is not a ChunkedReadResponse", url_,
                        reader_.frames() - 1));
      }
      return true;
    }
    if (eof_) {
      if (absl::Status st = reader_.Finish(); !st.ok()) {
        return absl::Status(
            st.code(), fmt::format("remote read from {}: {}", url_, std::string(st.message())));
      }
      return false;
    }
    PAODIN_RETURN_IF_ERROR(body_->Read(kReadBytes, &piece_));
    if (piece_.empty()) {
      eof_ = true;
    } else {
      bytes_ += static_cast<int64_t>(piece_.size());
      reader_.Feed(piece_);
    }
  }
}

}  // namespace paodin::storeapi
