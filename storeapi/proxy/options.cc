#include "storeapi/proxy/options.h"

#include <algorithm>

#include <fmt/format.h>

namespace paodin::storeapi {
namespace {

bool IsValidLabelName(std::string_view name) {
  if (name.empty())
    return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseReplicaLabels(std::span<const std::string> flags) {
  std::vector<std::string> out;
  for (const std::string& flag : flags) {
    size_t start = 0;
    while (start <= flag.size()) {
      size_t end = flag.find(',', start);
      if (end == std::string::npos)
        end = flag.size();
      std::string item = flag.substr(start, end - start);
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      if (!item.empty()) {
        if (!IsValidLabelName(item)) {
          return absl::InvalidArgumentError(fmt::format("invalid replica label name {:?}", item));
        }
        out.push_back(std::move(item));
      }
      start = end + 1;
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

absl::StatusOr<DedupFunc> ParseDedupFunc(std::string_view name) {
  if (name == "penalty")
    return DedupFunc::kPenalty;
  if (name == "chain")
    return DedupFunc::kChain;
  return absl::InvalidArgumentError(
      fmt::format("unknown deduplication function {:?} (want penalty or chain)", name));
}

}  // namespace paodin::storeapi
