// The StoreAPI backend of `paodin store`: serves a MemStore the way a Thanos store does.
// External labels are added to every series (overriding series labels of the same name) and
// matchers apply to the final labels; a matcher on an external label that rejects the store's
// value yields an empty result. Series come sorted by their final labels, also after
// `without_replica_labels` are stripped; chunks are the stored XOR chunks (AggrChunk.raw,
// encoding XOR, hash XXH64) overlapping [min_time, max_time], both ends inclusive.
#ifndef PAODIN_STOREAPI_SERVER_MEMSTORE_BACKEND_H_
#define PAODIN_STOREAPI_SERVER_MEMSTORE_BACKEND_H_

#include <memory>

#include "engine/model/labels.h"
#include "storeapi/memstore/memstore.h"
#include "storeapi/server/backend.h"

namespace paodin::storeapi {

// A StoreBackend over one MemStore with a set of external labels.
class MemStoreBackend final : public StoreBackend {
 public:
  // `store` may still receive appends; Info reports its time range at the time of the call.
  MemStoreBackend(std::shared_ptr<MemStore> store, engine::Labels external_labels);

  // Component "store", the external labels as the one label set (none when empty), the data's
  // time range, supports_without_replica_labels.
  absl::StatusOr<thanos::info::InfoResponse> Info() override;

  // InvalidArgument for no matchers (after removing matchers on external labels), a bad regex
  // or min_time > max_time.
  absl::StatusOr<std::unique_ptr<SeriesResponseStream>> Series(const thanos::SeriesRequest& request,
                                                               const CallContext& ctx) override;

  // Names of matching series plus the external label names (when any series matches), minus
  // without_replica_labels; `limit` > 0 truncates.
  absl::StatusOr<thanos::LabelNamesResponse> LabelNames(const thanos::LabelNamesRequest& request,
                                                        const CallContext& ctx) override;

  // Values of the label over matching series; for an external label, its value when any series
  // matches; nothing for a label in without_replica_labels. InvalidArgument for an empty name.
  absl::StatusOr<thanos::LabelValuesResponse> LabelValues(const thanos::LabelValuesRequest& request,
                                                          const CallContext& ctx) override;

  // The memstore answers from memory under short locks.
  bool NeverWaits() const override { return true; }

 private:
  std::shared_ptr<MemStore> store_;
  engine::Labels external_;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_SERVER_MEMSTORE_BACKEND_H_
