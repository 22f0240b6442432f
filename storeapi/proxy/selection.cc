#include "storeapi/proxy/selection.h"

namespace paodin::storeapi {

bool LabelSetMatches(std::span<const engine::Matcher> matchers, const engine::Labels& set) {
  for (const engine::Matcher& m : matchers) {
    if (!set.Has(m.name()))
      continue;
    if (!m.Matches(set.Get(m.name())))
      return false;
  }
  return true;
}

bool LabelSetsMatch(std::span<const engine::Matcher> matchers,
                    std::span<const engine::Labels> sets) {
  if (sets.empty())
    return true;
  for (const engine::Labels& set : sets) {
    if (LabelSetMatches(matchers, set))
      return true;
  }
  return false;
}

bool AddressMatches(std::span<const std::vector<engine::Matcher>> store_matchers,
                    std::string_view address) {
  if (store_matchers.empty())
    return true;
  for (const std::vector<engine::Matcher>& set : store_matchers) {
    bool all = true;
    for (const engine::Matcher& m : set) {
      if (m.name() == "__address__" && !m.Matches(address)) {
        all = false;
        break;
      }
    }
    if (all)
      return true;
  }
  return false;
}

bool MatchSelectorLabels(std::span<const engine::Matcher> matchers,
                         const engine::Labels& selector_labels,
                         std::vector<engine::Matcher>* remaining) {
  remaining->clear();
  for (const engine::Matcher& m : matchers) {
    // Like Thanos, a selector label is looked up by value: an empty value means "absent".
    const std::string_view value = selector_labels.Get(m.name());
    if (value.empty()) {
      remaining->push_back(m);
      continue;
    }
    if (!m.Matches(value)) {
      remaining->clear();
      return false;
    }
  }
  return true;
}

std::vector<StoreRef> SelectStores(std::span<const StoreRef> stores, int64_t min_time,
                                   int64_t max_time, std::span<const engine::Matcher> matchers,
                                   std::span<const std::vector<engine::Matcher>> store_matchers) {
  std::vector<StoreRef> out;
  for (const StoreRef& s : stores) {
    if (min_time > s.info->max_time || max_time < s.info->min_time)
      continue;
    if (!AddressMatches(store_matchers, s.client->address()))
      continue;
    if (!LabelSetsMatch(matchers, s.info->label_sets))
      continue;
    out.push_back(s);
  }
  return out;
}

}  // namespace paodin::storeapi
