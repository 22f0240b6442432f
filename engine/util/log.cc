#include "engine/util/log.h"

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/util/strings.h"
#include <unistd.h>

namespace paodin::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::atomic<Format> g_format{Format::kLogfmt};

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

bool NeedsQuoting(std::string_view s) {
  if (s.empty()) {
    return true;
  }
  for (char c : s) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
      return true;
    }
  }
  return false;
}

// Appends `s` as a JSON/logfmt double-quoted string with escapes.
void AppendQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\r':
        out.append("\\r");
        break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void AppendLogfmt(std::string& out, std::string_view key, std::string_view value) {
  if (!out.empty()) {
    out.push_back(' ');
  }
  out.append(key);
  out.push_back('=');
  if (NeedsQuoting(value)) {
    AppendQuoted(out, value);
  } else {
    out.append(value);
  }
}

void AppendJson(std::string& out, std::string_view key, std::string_view value) {
  if (out.size() > 1) {
    out.push_back(',');
  }
  AppendQuoted(out, key);
  out.push_back(':');
  AppendQuoted(out, value);
}

}  // namespace

absl::Status Configure(std::string_view level, std::string_view format) {
  Level parsed_level;
  if (level == "debug") {
    parsed_level = Level::kDebug;
  } else if (level == "info") {
    parsed_level = Level::kInfo;
  } else if (level == "warn") {
    parsed_level = Level::kWarn;
  } else if (level == "error") {
    parsed_level = Level::kError;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown log level \"", ToAbsl(level), "\": want debug, info, warn or error"));
  }
  Format parsed_format;
  if (format == "logfmt") {
    parsed_format = Format::kLogfmt;
  } else if (format == "json") {
    parsed_format = Format::kJson;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown log format \"", ToAbsl(format), "\": want logfmt or json"));
  }
  g_min_level.store(static_cast<int>(parsed_level));
  g_format.store(parsed_format);
  return absl::OkStatus();
}

bool Enabled(Level level) { return static_cast<int>(level) >= g_min_level.load(); }

std::string FormatLine(Format format, Level level, std::string_view ts, std::string_view component,
                       std::string_view msg, std::initializer_list<Field> fields) {
  std::string out;
  if (format == Format::kJson) {
    out.push_back('{');
    AppendJson(out, "ts", ts);
    AppendJson(out, "level", LevelName(level));
    AppendJson(out, "caller", component);
    AppendJson(out, "msg", msg);
    for (const Field& field : fields) {
      AppendJson(out, field.first, field.second);
    }
    out.push_back('}');
    return out;
  }
  AppendLogfmt(out, "ts", ts);
  AppendLogfmt(out, "level", LevelName(level));
  AppendLogfmt(out, "caller", component);
  AppendLogfmt(out, "msg", msg);
  for (const Field& field : fields) {
    AppendLogfmt(out, field.first, field.second);
  }
  return out;
}

void Write(Level level, std::string_view component, std::string_view msg,
           std::initializer_list<Field> fields) {
  if (!Enabled(level)) {
    return;
  }
  std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::string line = FormatLine(g_format.load(), level, ts, component, msg, fields);
  line.push_back('\n');
  // A single write keeps concurrent lines whole.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace paodin::log
