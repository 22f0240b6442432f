// The StoreAPI served by `paodin query --grpc-address`: a StoreBackend over the proxy's merged,
// deduplicated view of every store, so that queries can be stacked (a global query over
// regional ones). Series come out with the configured replica labels removed and replicas
// merged; their samples are re-encoded into XOR chunks of up to 120 samples. Info announces
// component "query", the union of the stores' label sets (replica labels removed, selector
// labels added) and the union of their time ranges.
#ifndef PAODIN_STOREAPI_PROXYSERVER_PROXY_BACKEND_H_
#define PAODIN_STOREAPI_PROXYSERVER_PROXY_BACKEND_H_

#include <memory>
#include <string>
#include <vector>

#include "engine/model/labels.h"
#include "storeapi/client/store_client.h"
#include "storeapi/proxy/proxy.h"
#include "storeapi/server/backend.h"

namespace paodin::storeapi {

// Configuration of a ProxyStoreBackend.
struct ProxyBackendOptions {
  // Replica labels along which replicas are merged (--query.replica-label), sorted and unique.
  // Empty: series are served as the stores send them.
  std::vector<std::string> replica_labels;
  // --selector-label: announced in Info; requests whose matchers reject them get no data, and
  // matchers on them are dropped before fan-out.
  engine::Labels selector_labels;
  // Samples per re-encoded chunk.
  int samples_per_chunk = 120;
};

// A StoreBackend over a Proxy. Thread-safe.
class ProxyStoreBackend final : public StoreBackend {
 public:
  // `proxy` must outlive the backend; `stores` is the provider the proxy uses (for Info).
  ProxyStoreBackend(const Proxy* proxy, std::shared_ptr<const StoreProvider> stores,
                    ProxyBackendOptions options);

  // Component "query", label sets and time range as described above; no sharding and no
  // without_replica_labels support (clients strip such labels themselves).
  absl::StatusOr<thanos::info::InfoResponse> Info() override;

  // InvalidArgument for no matchers (after removing selector-label matchers), a bad regex or
  // min_time > max_time; store failures follow the request's partial response strategy
  // (warning frames under WARN, the call fails under ABORT).
  absl::StatusOr<std::unique_ptr<SeriesResponseStream>> Series(const thanos::SeriesRequest& request,
                                                               const CallContext& ctx) override;

  // Label names over the stores, replica labels left out.
  absl::StatusOr<thanos::LabelNamesResponse> LabelNames(const thanos::LabelNamesRequest& request,
                                                        const CallContext& ctx) override;

  // Values of one label over the stores; none for a replica label. InvalidArgument for an
  // empty name.
  absl::StatusOr<thanos::LabelValuesResponse> LabelValues(const thanos::LabelValuesRequest& request,
                                                          const CallContext& ctx) override;

 private:
  RequestOptions MakeRequest(thanos::PartialResponseStrategy strategy, bool disabled,
                             const CallContext& ctx) const;
  bool IsReplicaLabel(std::string_view name) const;

  const Proxy* proxy_;
  std::shared_ptr<const StoreProvider> stores_;
  ProxyBackendOptions options_;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_PROXYSERVER_PROXY_BACKEND_H_
