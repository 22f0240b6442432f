// The abstract data source behind a StoreAPI gRPC server. `paodin store` serves a MemStore
// through MemStoreBackend; `paodin query --grpc-address` implements the same interface over its
// merged view of many stores, so the gRPC plumbing (StoreServer) is shared.
//
// The server calls a backend from a small worker pool, never on gRPC's own threads, so calls
// may block briefly (e.g. on upstream stores); they should check CallContext for cancellation.
#ifndef PAODIN_STOREAPI_SERVER_BACKEND_H_
#define PAODIN_STOREAPI_SERVER_BACKEND_H_

#include <atomic>
#include <memory>
#include <string>

#include "proto/thanos/info.pb.h"
#include "proto/thanos/store.pb.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/storage/queryable.h"

namespace paodin::storeapi {

// Per-call context handed to a backend.
struct CallContext {
  // Cancellation (client went away) and the client's deadline, as the engine's context.
  engine::QueryContext query;
  // The `thanos-tenant` gRPC metadata, empty when absent.
  std::string tenant;
  // The client's address, for logs.
  std::string peer;
};

// The frames of one Series call, pulled one at a time by the server as the client reads, so a
// slow client holds back the backend instead of growing a buffer. The server packs consecutive
// `series` frames into `batch` frames when the request asks for it and enforces `limit`.
class SeriesResponseStream {
 public:
  virtual ~SeriesResponseStream() = default;

  // Fills *out with the next frame (a `series`, `warning` or `hints` response) and returns true,
  // or returns false at the end of the stream. An error aborts the call with that status (mapped
  // to the gRPC code of the same number). Never called concurrently for one stream.
  virtual absl::StatusOr<bool> Next(thanos::SeriesResponse* out) = 0;

  // The fast path of streams whose every frame is a series: when EncodesSeries() is true the
  // server calls NextEncoded instead of Next. It appends the next series to *out as a serialized
  // `series` field (see AppendSeriesField in series_wire.h) and returns true, or returns false
  // at the end of the stream.
  virtual bool EncodesSeries() const { return false; }

  virtual absl::StatusOr<bool> NextEncoded(std::string* /*out*/) {
    return absl::UnimplementedError("this Series stream has no encoded form");
  }
};

// A StoreAPI data source. Errors are returned as absl::Status and sent to the client with the
// same code (InvalidArgument for bad requests).
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;

  // The thanos.info.Info answer: component type, external label sets, time range, features.
  virtual absl::StatusOr<thanos::info::InfoResponse> Info() = 0;

  // Starts a Series call. Validation errors (no matchers, bad regex, min_time > max_time) are
  // returned here, before any frame is sent.
  virtual absl::StatusOr<std::unique_ptr<SeriesResponseStream>> Series(
      const thanos::SeriesRequest& request, const CallContext& ctx) = 0;

  // Label names of the matching series in [start, end], sorted.
  virtual absl::StatusOr<thanos::LabelNamesResponse> LabelNames(
      const thanos::LabelNamesRequest& request, const CallContext& ctx) = 0;

  // Values of one label over the matching series in [start, end], sorted.
  virtual absl::StatusOr<thanos::LabelValuesResponse> LabelValues(
      const thanos::LabelValuesRequest& request, const CallContext& ctx) = 0;

  // True when every call (Info, LabelNames, LabelValues, Series and its stream's Next) only
  // computes in memory and never waits (no I/O, no lock held by a slow writer): the server then
  // runs them on gRPC's own threads and saves two thread hand-offs per call and per Series
  // frame. Backends that call out (the sidecar, the query's proxy) keep false.
  virtual bool NeverWaits() const { return false; }
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_SERVER_BACKEND_H_
