#include "storeapi/server/convert.h"

#include <utility>

#include <fmt/format.h>

#include "engine/util/status_macros.h"
#include "engine/util/strings.h"

namespace paodin::storeapi {
namespace {

bool ValidLabelName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!(alpha || (i > 0 && c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

absl::StatusOr<std::vector<engine::Matcher>> MatchersFromProto(
    const google::protobuf::RepeatedPtrField<thanos::LabelMatcher>& matchers) {
  std::vector<engine::Matcher> out;
  out.reserve(matchers.size());
  for (const thanos::LabelMatcher& m : matchers) {
    engine::MatchType type;
    switch (m.type()) {
      case thanos::LabelMatcher::EQ:
        type = engine::MatchType::kEqual;
        break;
      case thanos::LabelMatcher::NEQ:
        type = engine::MatchType::kNotEqual;
        break;
      case thanos::LabelMatcher::RE:
        type = engine::MatchType::kRegexMatch;
        break;
      case thanos::LabelMatcher::NRE:
        type = engine::MatchType::kRegexNoMatch;
        break;
      default:
        return absl::InvalidArgumentError(fmt::format("unknown matcher type {} for label {}",
                                                      static_cast<int>(m.type()), m.name()));
    }
    absl::StatusOr<engine::Matcher> matcher = engine::Matcher::Make(type, m.name(), m.value());
    if (!matcher.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("bad matcher for label {}: {}", m.name(), ToStd(matcher.status().message())));
    }
    out.push_back(*std::move(matcher));
  }
  return out;
}

void LabelsToProto(const engine::Labels& labels,
                   google::protobuf::RepeatedPtrField<thanos::Label>* out) {
  out->Reserve(out->size() + static_cast<int>(labels.size()));
  for (engine::Label l : labels) {
    thanos::Label* p = out->Add();
    p->set_name(l.name.data(), l.name.size());
    p->set_value(l.value.data(), l.value.size());
  }
}

absl::StatusOr<std::string> GoUnquote(std::string_view s) {
  auto bad = [s] { return absl::InvalidArgumentError(fmt::format("invalid quoted string {}", s)); };
  if (s.size() < 2) {
    return bad();
  }
  if (s.front() == '`') {
    if (s.back() != '`' || s.substr(1, s.size() - 2).find('`') != std::string_view::npos) {
      return bad();
    }
    return std::string(s.substr(1, s.size() - 2));
  }
  if (s.front() != '"' || s.back() != '"') {
    return bad();
  }
  std::string out;
  std::string_view body = s.substr(1, s.size() - 2);
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '"' || c == '\n') {
      return bad();
    }
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= body.size()) {
      return bad();
    }
    c = body[i];
    switch (c) {
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
      case '\\':
        out.push_back('\\');
        break;
      case '"':
        out.push_back('"');
        break;
      case 'x':
      case 'u':
      case 'U': {
        const size_t n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (size_t k = 1; k <= n; ++k) {
          const int d = i + k < body.size() ? HexDigit(body[i + k]) : -1;
          if (d < 0) {
            return bad();
          }
          v = v * 16 + static_cast<uint32_t>(d);
        }
        i += n;
        if (c == 'x') {
          out.push_back(static_cast<char>(v));
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) {
            return bad();
          }
          AppendUtf8(out, v);
        }
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          uint32_t v = 0;
          for (size_t k = 0; k < 3; ++k) {
            if (i + k >= body.size() || body[i + k] < '0' || body[i + k] > '7') {
              return bad();
            }
            v = v * 8 + static_cast<uint32_t>(body[i + k] - '0');
          }
          if (v > 255) {
            return bad();
          }
          i += 2;
          out.push_back(static_cast<char>(v));
          break;
        }
        return bad();
    }
  }
  return out;
}

absl::StatusOr<engine::Labels> ParseExternalLabels(std::span<const std::string> flags) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& flag : flags) {
    const size_t eq = flag.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(
          fmt::format("unrecognized label {}", engine::GoQuote(flag)));
    }
    std::string name = flag.substr(0, eq);
    if (!ValidLabelName(name)) {
      return absl::InvalidArgumentError(fmt::format("unsupported format for label {}", flag));
    }
    absl::StatusOr<std::string> value = GoUnquote(std::string_view(flag).substr(eq + 1));
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("unquote label value of {}: {}", flag, ToStd(value.status().message())));
    }
    pairs.emplace_back(std::move(name), *std::move(value));
  }
  return engine::Labels::FromPairs(std::move(pairs));
}

bool MatchExternalLabels(const engine::Labels& external, std::vector<engine::Matcher>* matchers) {
  if (external.empty()) {
    return true;
  }
  std::vector<engine::Matcher> rest;
  rest.reserve(matchers->size());
  for (engine::Matcher& m : *matchers) {
    if (!external.Has(m.name())) {
      rest.push_back(std::move(m));
      continue;
    }
    if (!m.Matches(external.Get(m.name()))) {
      return false;
    }
  }
  *matchers = std::move(rest);
  return true;
}

absl::StatusOr<std::vector<engine::Matcher>> SeriesRequestMatchers(
    const thanos::SeriesRequest& request) {
  PAODIN_ASSIGN_OR_RETURN(std::vector<engine::Matcher> matchers,
                          MatchersFromProto(request.matchers()));
  if (request.min_time() > request.max_time()) {
    return absl::InvalidArgumentError(
        fmt::format("min_time {} is after max_time {}", request.min_time(), request.max_time()));
  }
  if (matchers.empty()) {
    return absl::InvalidArgumentError(kNoMatchersExcludingExternal);
  }
  return matchers;
}

thanos::info::InfoResponse DataStoreInfo(std::string_view component, const engine::Labels& external,
                                         int64_t min_time, int64_t max_time) {
  thanos::info::InfoResponse response;
  response.set_componenttype(std::string(component));
  if (!external.empty()) {
    LabelsToProto(external, response.add_label_sets()->mutable_labels());
  }
  thanos::info::StoreInfo* store = response.mutable_store();
  store->set_min_time(min_time);
  store->set_max_time(max_time);
  store->set_supports_sharding(false);
  store->set_supports_without_replica_labels(true);
  thanos::info::TSDBInfo* tsdb = store->add_tsdb_infos();
  LabelsToProto(external, tsdb->mutable_labels()->mutable_labels());
  tsdb->set_min_time(min_time);
  tsdb->set_max_time(max_time);
  return response;
}

}  // namespace paodin::storeapi
