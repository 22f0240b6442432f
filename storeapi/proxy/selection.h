// Which stores a request goes to: time-range overlap, external labels compatible with the
// matchers, and the optional storeMatch[] address filter (Thanos' ProxyStore.matchingStores).
#ifndef PAODIN_STOREAPI_PROXY_SELECTION_H_
#define PAODIN_STOREAPI_PROXY_SELECTION_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "engine/model/labels.h"
#include "engine/model/matcher.h"
#include "storeapi/client/store_client.h"

namespace paodin::storeapi {

// True when one external label set could hold series the matchers select: it is
// incompatible only if it has a label named by a matcher and that matcher rejects the value.
bool LabelSetMatches(std::span<const engine::Matcher> matchers, const engine::Labels& set);

// True when any label set matches (a store without label sets always does).
bool LabelSetsMatch(std::span<const engine::Matcher> matchers,
                    std::span<const engine::Labels> sets);

// True when `address` satisfies at least one matcher set (only `__address__` matchers count)
// or there are no sets.
bool AddressMatches(std::span<const std::vector<engine::Matcher>> store_matchers,
                    std::string_view address);

// Checks request matchers against the querier's own --selector-label set (Thanos'
// matchesExternalLabels in ProxyStore): returns false when a matcher on a selector label
// rejects that label's value (the request then has an empty answer); otherwise returns true
// and puts the matchers on names that are not selector labels into *remaining, in order.
// With no selector labels every matcher remains.
bool MatchSelectorLabels(std::span<const engine::Matcher> matchers,
                         const engine::Labels& selector_labels,
                         std::vector<engine::Matcher>* remaining);

// The stores whose data may answer a request for [min_time, max_time] (inclusive) with these
// matchers, in input order.
std::vector<StoreRef> SelectStores(std::span<const StoreRef> stores, int64_t min_time,
                                   int64_t max_time, std::span<const engine::Matcher> matchers,
                                   std::span<const std::vector<engine::Matcher>> store_matchers);

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_PROXY_SELECTION_H_
