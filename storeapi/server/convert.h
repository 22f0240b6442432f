// Conversions between StoreAPI protobuf types and the engine's model, shared by StoreAPI
// backends.
#ifndef PAODIN_STOREAPI_SERVER_CONVERT_H_
#define PAODIN_STOREAPI_SERVER_CONVERT_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/thanos/info.pb.h"
#include "proto/thanos/store.pb.h"
#include "proto/thanos/types.pb.h"

#include "absl/status/statusor.h"
#include "engine/model/labels.h"
#include "engine/model/matcher.h"

namespace paodin::storeapi {

// Converts request matchers. Fails with InvalidArgument on an unknown type or a regex that does
// not compile (the message names the matcher).
absl::StatusOr<std::vector<engine::Matcher>> MatchersFromProto(
    const google::protobuf::RepeatedPtrField<thanos::LabelMatcher>& matchers);

// Appends `labels` in order to a repeated thanos.Label field.
void LabelsToProto(const engine::Labels& labels,
                   google::protobuf::RepeatedPtrField<thanos::Label>* out);

// Parses external labels given as flags in Thanos' syntax, `name="value"` (the value quoted as
// a Go string literal, double quotes or backquotes). Fails with InvalidArgument for a missing
// '=', an invalid name, an unquoted value or a repeated name.
absl::StatusOr<engine::Labels> ParseExternalLabels(std::span<const std::string> flags);

// Go's strconv.Unquote for "..." (with escapes) and `...` literals.
absl::StatusOr<std::string> GoUnquote(std::string_view s);

// Splits external labels out of `matchers`: returns false when some matcher names an external
// label whose value it rejects (the store can hold no matching series); otherwise removes the
// matchers on external label names from `matchers` and returns true. After false, `matchers`
// is unspecified.
bool MatchExternalLabels(const engine::Labels& external, std::vector<engine::Matcher>* matchers);

// The InvalidArgument message of a Series request left without matchers once the matchers on
// external labels are removed.
inline constexpr const char* kNoMatchersExcludingExternal =
    "no matchers specified (excluding external labels)";

// Checks a Series request as every data backend does and returns its matchers: they convert
// (see MatchersFromProto), min_time <= max_time, and there is at least one. InvalidArgument
// otherwise, with Thanos' messages.
absl::StatusOr<std::vector<engine::Matcher>> SeriesRequestMatchers(
    const thanos::SeriesRequest& request);

// The Info answer of a data backend: `component`, the external labels as its one label set (none
// when empty, also as the TSDB info's labels), the time range, no sharding, and support for
// without_replica_labels.
thanos::info::InfoResponse DataStoreInfo(std::string_view component, const engine::Labels& external,
                                         int64_t min_time, int64_t max_time);

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_SERVER_CONVERT_H_
