#include "storeapi/ingest/exposition.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/model/matcher.h"
#include "engine/util/strings.h"

namespace paodin::storeapi {
namespace {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// Go's math.NaN(): what Prometheus stores for a "NaN" in an exposition file.
constexpr uint64_t kGoNaNBits = 0x7ff8000000000001ULL;

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// Quotes a snippet for an error message.
std::string Q(std::string_view s) { return engine::GoQuote(s.substr(0, 40)); }

// What the character at `pos` is, for "got ..." in messages.
std::string Got(std::string_view line, size_t pos) {
  if (pos >= line.size()) {
    return "end of line";
  }
  return Q(line.substr(pos, 1));
}

void SkipBlanks(std::string_view line, size_t* pos) {
  while (*pos < line.size() && IsBlank(line[*pos])) {
    ++*pos;
  }
}

// Scans `name{labels}` from *pos; when `out` is given collects the labels (name as __name__).
absl::Status ScanSeries(std::string_view line, size_t* pos, LabelPairs* out) {
  size_t p = *pos;
  const size_t name_start = p;
  if (p >= line.size() || !(IsNameStart(line[p]) || line[p] == ':')) {
    return absl::InvalidArgumentError(absl::StrCat("expected metric name, got ", Got(line, p)));
  }
  while (p < line.size() && (IsNameChar(line[p]) || line[p] == ':')) {
    ++p;
  }
  if (out != nullptr) {
    out->emplace_back("__name__", std::string(line.substr(name_start, p - name_start)));
  }
  if (p < line.size() && line[p] == '{') {
    ++p;
    for (;;) {
      SkipBlanks(line, &p);
      if (p < line.size() && line[p] == '}') {
        ++p;
        break;
      }
      const size_t label_start = p;
      if (p >= line.size() || !IsNameStart(line[p])) {
        return absl::InvalidArgumentError(
            absl::StrCat("expected label name or '}', got ", Got(line, p)));
      }
      while (p < line.size() && IsNameChar(line[p])) {
        ++p;
      }
      std::string_view label = line.substr(label_start, p - label_start);
      SkipBlanks(line, &p);
      if (p >= line.size() || line[p] != '=') {
        return absl::InvalidArgumentError(
            absl::StrCat("expected '=' after label name ", Q(label), ", got ", Got(line, p)));
      }
      ++p;
      SkipBlanks(line, &p);
      if (p >= line.size() || line[p] != '"') {
        return absl::InvalidArgumentError(absl::StrCat("expected '\"' to start the value of label ",
                                                       Q(label), ", got ", Got(line, p)));
      }
      ++p;
      std::string value;
      bool closed = false;
      while (p < line.size()) {
        char c = line[p++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && p < line.size()) {
          char e = line[p++];
          if (out != nullptr) {
            switch (e) {
              case '\\':
              case '"':
                value.push_back(e);
                break;
              case 'n':
                value.push_back('\n');
                break;
              default:
                value.push_back('\\');
                value.push_back(e);
            }
          }
          continue;
        }
        if (out != nullptr) {
          value.push_back(c);
        }
      }
      if (!closed) {
        return absl::InvalidArgumentError(absl::StrCat("unterminated value of label ", Q(label)));
      }
      if (out != nullptr) {
        out->emplace_back(std::string(label), std::move(value));
      }
      SkipBlanks(line, &p);
      if (p < line.size() && line[p] == ',') {
        ++p;
        continue;
      }
      if (p < line.size() && line[p] == '}') {
        ++p;
        break;
      }
      return absl::InvalidArgumentError(
          absl::StrCat("expected ',' or '}' after label ", Q(label), ", got ", Got(line, p)));
    }
  }
  *pos = p;
  return absl::OkStatus();
}

// The next blank-separated token from *pos.
std::string_view NextToken(std::string_view line, size_t* pos) {
  SkipBlanks(line, pos);
  const size_t start = *pos;
  while (*pos < line.size() && !IsBlank(line[*pos])) {
    ++*pos;
  }
  return line.substr(start, *pos - start);
}

absl::StatusOr<int64_t> ParseTimestamp(std::string_view s, ExpositionFormat format) {
  if (format == ExpositionFormat::kOpenMetrics) {
    absl::StatusOr<double> sec = ParseExpositionFloat(s);
    if (!sec.ok() || std::isnan(*sec) || std::isinf(*sec)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid timestamp ", Q(s)));
    }
    const double ms = *sec * 1000;
    // int64 range: [-2^63, 2^63).
    if (!(ms >= -9223372036854775808.0 && ms < 9223372036854775808.0)) {
      return absl::InvalidArgumentError(absl::StrCat("timestamp out of range ", Q(s)));
    }
    return static_cast<int64_t>(ms);
  }
  std::string_view t = s;
  if (!t.empty() && t[0] == '+') {
    t.remove_prefix(1);
  }
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid timestamp ", Q(s), " (expected integer milliseconds)"));
  }
  return v;
}

}  // namespace

absl::StatusOr<double> ParseExpositionFloat(std::string_view s) {
  std::string_view t = s;
  bool negative = false;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    negative = t[0] == '-';
    t.remove_prefix(1);
  }
  const std::string lower = absl::AsciiStrToLower(ToAbsl(t));
  if (lower == "inf" || lower == "infinity") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (lower == "nan") {
    double nan;
    std::memcpy(&nan, &kGoNaNBits, sizeof nan);
    return nan;
  }
  std::chars_format fmt = std::chars_format::general;
  if (lower.size() > 2 && lower[0] == '0' && lower[1] == 'x') {
    t.remove_prefix(2);
    fmt = std::chars_format::hex;
  }
  double v = 0;
  if (t.empty() || !(std::isdigit(static_cast<unsigned char>(t[0])) || t[0] == '.')) {
    return absl::InvalidArgumentError(absl::StrCat("invalid value ", Q(s)));
  }
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v, fmt);
  if (ec == std::errc::result_out_of_range) {
    return absl::InvalidArgumentError(absl::StrCat("value out of range ", Q(s)));
  }
  if (ec != std::errc() || ptr != t.data() + t.size()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid value ", Q(s)));
  }
  return negative ? -v : v;
}

ExpositionFormat DetectExpositionFormat(std::string_view tail) {
  size_t end = tail.size();
  while (end > 0 && (tail[end - 1] == '\n' || tail[end - 1] == '\r' || IsBlank(tail[end - 1]))) {
    --end;
  }
  std::string_view body = tail.substr(0, end);
  const size_t nl = body.rfind('\n');
  std::string_view last = nl == std::string_view::npos ? body : body.substr(nl + 1);
  return last == "# EOF" ? ExpositionFormat::kOpenMetrics : ExpositionFormat::kPrometheusText;
}

ExpositionParser::ExpositionParser(ExpositionFormat format) : format_(format) {}

absl::StatusOr<bool> ExpositionParser::ParseLine(std::string_view line, ExpositionSample* out) {
  ++line_;
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  size_t pos = 0;
  SkipBlanks(line, &pos);
  if (pos == line.size()) {
    return false;
  }
  auto fail = [this](std::string_view msg) {
    return absl::InvalidArgumentError(absl::StrCat("line ", line_, ": ", ToAbsl(msg)));
  };
  if (eof_seen_) {
    return fail("unexpected content after # EOF");
  }
  if (line[pos] == '#') {
    std::string_view comment = line.substr(pos);
    if (comment == "# EOF") {
      if (format_ == ExpositionFormat::kOpenMetrics) {
        eof_seen_ = true;
      }
      return false;
    }
    for (std::string_view keyword : {"# HELP", "# TYPE", "# UNIT"}) {
      if (comment.substr(0, keyword.size()) == keyword) {
        std::string_view rest = comment.substr(keyword.size());
        size_t p = 0;
        std::string_view name = NextToken(rest, &p);
        if (name.empty()) {
          return fail(absl::StrCat(ToAbsl(keyword), " without a metric name"));
        }
      }
    }
    return false;
  }
  const size_t series_start = pos;
  if (absl::Status st = ScanSeries(line, &pos, nullptr); !st.ok()) {
    return fail(ToStd(st.message()));
  }
  std::string_view series = line.substr(series_start, pos - series_start);
  if (pos >= line.size() || !IsBlank(line[pos])) {
    return fail(
        absl::StrCat("expected a space and a value after ", Q(series), ", got ", Got(line, pos)));
  }
  std::string_view value_text = NextToken(line, &pos);
  if (value_text.empty()) {
    return fail(absl::StrCat("expected a value after ", Q(series)));
  }
  absl::StatusOr<double> value = ParseExpositionFloat(value_text);
  if (!value.ok()) {
    return fail(ToStd(value.status().message()));
  }
  std::string_view ts_text = NextToken(line, &pos);
  if (ts_text.empty() || ts_text[0] == '#') {
    return fail(absl::StrCat("expected a timestamp for ", Q(series), ", got none"));
  }
  absl::StatusOr<int64_t> ts = ParseTimestamp(ts_text, format_);
  if (!ts.ok()) {
    return fail(ToStd(ts.status().message()));
  }
  SkipBlanks(line, &pos);
  if (pos < line.size() && line[pos] != '#') {
    return fail(absl::StrCat("unexpected ", Q(line.substr(pos)), " after the timestamp"));
  }
  if (pos < line.size() && format_ == ExpositionFormat::kPrometheusText) {
    return fail("unexpected '#' after the timestamp (exemplars need OpenMetrics)");
  }
  out->series = series;
  out->value = *value;
  out->timestamp_ms = *ts;
  return true;
}

absl::Status ExpositionParser::Finish() const {
  if (format_ == ExpositionFormat::kOpenMetrics && !eof_seen_) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", line_, ": data does not end with # EOF"));
  }
  return absl::OkStatus();
}

absl::StatusOr<engine::Labels> ParseExpositionSeries(std::string_view series) {
  LabelPairs pairs;
  size_t pos = 0;
  if (absl::Status st = ScanSeries(series, &pos, &pairs); !st.ok()) {
    return st;
  }
  if (pos != series.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected ", Q(series.substr(pos)), " after the series"));
  }
  return engine::Labels::FromPairs(std::move(pairs));
}

namespace {

// Feeds lines to a parser and appends the samples to a store, caching series by their text.
class Loader {
 public:
  Loader(ExpositionFormat format, std::string_view source, MemStore* store)
      : parser_(format), source_(source), store_(store) {}

  absl::Status Line(std::string_view line) {
    ExpositionSample sample;
    absl::StatusOr<bool> is_sample = parser_.ParseLine(line, &sample);
    if (!is_sample.ok()) {
      return Prefix(is_sample.status(), false);
    }
    if (!*is_sample) {
      return absl::OkStatus();
    }
    MemStore::SeriesRef ref;
    if (auto it = refs_.find(ToAbsl(sample.series)); it != refs_.end()) {
      ref = it->second;
    } else {
      absl::StatusOr<engine::Labels> labels = ParseExpositionSeries(sample.series);
      if (!labels.ok()) {
        return Prefix(labels.status(), true);
      }
      absl::StatusOr<MemStore::SeriesRef> created = store_->GetOrCreateSeries(*labels);
      if (!created.ok()) {
        return Prefix(created.status(), true);
      }
      ref = *created;
      refs_.emplace(std::string(sample.series), ref);
    }
    if (absl::Status st = store_->Append(ref, sample.timestamp_ms, sample.value); !st.ok()) {
      return Prefix(st, true);
    }
    ++samples_;
    return absl::OkStatus();
  }

  absl::Status Finish(LoadStats* stats) {
    if (stats != nullptr) {
      stats->samples += samples_;
      stats->lines += parser_.line_number();
    }
    return Prefix(parser_.Finish(), false);
  }

 private:
  // "source:12: message"; the parser's own messages start with "line N: ".
  absl::Status Prefix(const absl::Status& st, bool add_line) const {
    if (st.ok()) {
      return st;
    }
    std::string_view msg = ToStd(st.message());
    if (!add_line && msg.substr(0, 5) == "line ") {
      msg.remove_prefix(5);
      return absl::Status(st.code(), absl::StrCat(ToAbsl(source_), ":", ToAbsl(msg)));
    }
    return absl::Status(
        st.code(), absl::StrCat(ToAbsl(source_), ":", parser_.line_number(), ": ", ToAbsl(msg)));
  }

  ExpositionParser parser_;
  std::string_view source_;
  MemStore* store_;
  absl::flat_hash_map<std::string, MemStore::SeriesRef> refs_;
  int64_t samples_ = 0;
};

}  // namespace

absl::Status LoadExposition(std::string_view input, ExpositionFormat format,
                            std::string_view source, MemStore* store, LoadStats* stats) {
  if (format == ExpositionFormat::kAuto) {
    format = DetectExpositionFormat(input.substr(input.size() > 4096 ? input.size() - 4096 : 0));
  }
  Loader loader(format, source, store);
  while (!input.empty()) {
    const size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    if (absl::Status st = loader.Line(line); !st.ok()) {
      return st;
    }
  }
  return loader.Finish(stats);
}

absl::Status LoadExpositionFile(const std::string& path, MemStore* store, LoadStats* stats) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff tail_size = std::min<std::streamoff>(size, 4096);
  std::string tail(static_cast<size_t>(tail_size), '\0');
  in.seekg(size - tail_size);
  in.read(tail.data(), tail_size);
  in.clear();
  in.seekg(0);
  Loader loader(DetectExpositionFormat(tail), path, store);
  std::string line;
  while (std::getline(in, line)) {
    if (absl::Status st = loader.Line(line); !st.ok()) {
      return st;
    }
  }
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat("reading ", path, ": ", std::strerror(errno)));
  }
  return loader.Finish(stats);
}

}  // namespace paodin::storeapi
