// Bridges between std::string_view and Debian's absl::string_view. Debian builds Abseil with
// ABSL_OPTION_USE_STD_STRING_VIEW=0, so absl::string_view is its own type: absl::StrCat and
// friends do not take a std::string_view. Our APIs use std::string_view; convert at the call.
#ifndef PAODIN_ENGINE_UTIL_STRINGS_H_
#define PAODIN_ENGINE_UTIL_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace paodin {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace paodin

#endif  // PAODIN_ENGINE_UTIL_STRINGS_H_
