#include "storeapi/client/store_client.h"

#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "engine/util/strings.h"

namespace paodin::storeapi {

absl::StatusOr<engine::Labels> LabelsFromProto(
    const google::protobuf::RepeatedPtrField<thanos::Label>& labels) {
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(labels.size());
  for (const thanos::Label& l : labels)
    pairs.emplace_back(l.name(), l.value());
  return engine::Labels::FromPairs(std::move(pairs));
}

absl::StatusOr<EndpointInfo> EndpointInfoFromProto(const thanos::info::InfoResponse& resp) {
  EndpointInfo info;
  info.component_type = resp.componenttype();
  for (const thanos::ZLabelSet& set : resp.label_sets()) {
    auto labels = LabelsFromProto(set.labels());
    if (!labels.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("invalid external label set: {}", ToStd(labels.status().message())));
    }
    info.label_sets.push_back(*std::move(labels));
  }
  if (resp.has_store()) {
    info.has_store_api = true;
    info.min_time = resp.store().min_time();
    info.max_time = resp.store().max_time();
    info.supports_without_replica_labels = resp.store().supports_without_replica_labels();
    info.supports_sharding = resp.store().supports_sharding();
  }
  return info;
}

std::shared_ptr<grpc::Channel> MakeStoreChannel(std::string_view address,
                                                const ChannelOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_recv_message_bytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, options.keepalive_time_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options.keepalive_timeout_ms);
  // Each endpoint gets its own connection even when two resolve to one address.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(std::string(address), grpc::InsecureChannelCredentials(), args);
}

StoreClient::StoreClient(std::string address, std::shared_ptr<grpc::Channel> channel)
    : address_(std::move(address)),
      channel_(std::move(channel)),
      store_(thanos::Store::NewStub(channel_)),
      info_(thanos::info::Info::NewStub(channel_)) {}

}  // namespace paodin::storeapi
