// A small structured logger writing logfmt or JSON lines to stderr, as Thanos does:
//   ts=2026-11-27T07:30:00.123Z level=info caller=query msg="listening" address=0.0.0.0:10902
// Thread-safe; one write(2) per line.
#ifndef PAODIN_ENGINE_UTIL_LOG_H_
#define PAODIN_ENGINE_UTIL_LOG_H_

#include <initializer_list>
#include <string_view>
#include <utility>

#include "absl/status/status.h"

namespace paodin::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

enum class Format { kLogfmt, kJson };

// Sets the minimum level and the line format for the whole process. `level` is one of
// debug|info|warn|error and `format` one of logfmt|json (the names Thanos' --log.level and
// --log.format take).
absl::Status Configure(std::string_view level, std::string_view format);

// True when a line at `level` would be written.
bool Enabled(Level level);

using Field = std::pair<std::string_view, std::string_view>;

// Writes one line: `msg` plus key/value fields. `component` goes into the `caller` key.
void Write(Level level, std::string_view component, std::string_view msg,
           std::initializer_list<Field> fields = {});

inline void Debug(std::string_view component, std::string_view msg,
                  std::initializer_list<Field> fields = {}) {
  if (Enabled(Level::kDebug)) {
    Write(Level::kDebug, component, msg, fields);
  }
}

inline void Info(std::string_view component, std::string_view msg,
                 std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, component, msg, fields);
}

inline void Warn(std::string_view component, std::string_view msg,
                 std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, component, msg, fields);
}

inline void Error(std::string_view component, std::string_view msg,
                  std::initializer_list<Field> fields = {}) {
  Write(Level::kError, component, msg, fields);
}

// Formats one line without writing it (for tests): no trailing newline.
std::string FormatLine(Format format, Level level, std::string_view ts, std::string_view component,
                       std::string_view msg, std::initializer_list<Field> fields);

}  // namespace paodin::log

#endif  // PAODIN_ENGINE_UTIL_LOG_H_
