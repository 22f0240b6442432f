// One asynchronous StoreAPI Series call (gRPC callback API: no thread per stream). Frames are
// read on gRPC's threads into a bounded buffer and handed to one consumer series by series:
// `batch` frames are unpacked, consecutive frames of the same series are joined, `hints` frames
// are ignored and `warning` frames collected. Frames are read with the hand-written wire reader
// (series_frame.h), not as generated protobuf messages; a malformed frame fails the stream. When
// the buffer is full the stream stops reading until the consumer catches up, so a fast store cannot
// make the query hold its whole answer.
//
//   auto stream = SeriesStream::Open(client, request, options);
//   StoreSeries s;
//   for (;;) {
//     PAODIN_ASSIGN_OR_RETURN(bool more, stream->Next(&s, ctx));
//     if (!more) break;           // end of stream, or the store failed: see store_error()
//     ...use s...
//   }
#ifndef PAODIN_STOREAPI_CLIENT_SERIES_STREAM_H_
#define PAODIN_STOREAPI_CLIENT_SERIES_STREAM_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "proto/thanos/store.grpc.pb.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/model/labels.h"
#include "engine/storage/queryable.h"
#include "storeapi/client/series_frame.h"
#include "storeapi/client/store_client.h"

namespace paodin::storeapi {

// One XOR chunk as a store sent it.
struct StoreChunk {
  int64_t min_time = 0;
  int64_t max_time = 0;
  // Raw Prometheus chunk bytes, kept alive by `owner` (a received chunk points into its frame,
  // which all the frame's chunks share) or static.
  std::string_view data;
  std::shared_ptr<const char[]> owner;
  // Index of the store the chunk came from, in the Select's store list (for messages).
  uint32_t store_index = 0;

  // Points the chunk at its own copy of `bytes`.
  void SetOwnedCopy(std::string_view bytes);

  friend bool operator==(const StoreChunk& a, const StoreChunk& b) {
    return a.min_time == b.min_time && a.max_time == b.max_time && a.data == b.data;
  }
};

// One series from one store, frames of the same series joined.
struct StoreSeries {
  engine::Labels labels;
  std::vector<StoreChunk> chunks;
};

// Approximate heap bytes held by a series (label buffer and chunk bytes).
size_t SeriesBytes(const StoreSeries& series);

// How a stream reads and what it does with the frames.
struct SeriesStreamOptions {
  // Store name used in messages (its address).
  std::string store_name;
  // Stamped on every chunk (StoreChunk::store_index).
  uint32_t store_index = 0;
  // Reading pauses once this many bytes of converted series wait for the consumer.
  size_t max_buffered_bytes = 4 << 20;
  // Inactivity limit: the stream fails when no frame arrives for this long while the consumer
  // waits for one. Zero disables it.
  std::chrono::milliseconds response_timeout{0};
  // Absolute deadline of the whole call (the Select's --query.timeout).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Labels removed from every series client-side (replica labels of a store that cannot strip
  // them). Sorted. Non-empty forces reading the whole stream and re-sorting it.
  std::vector<std::string> strip_labels;
  // Tenant sent as `thanos-tenant` metadata; empty sends none.
  std::string tenant;
  // Keep only XOR chunks (the engine decodes nothing else yet); others are dropped with a
  // warning.
  bool xor_only = true;
  // Told the call's duration and final status; may be null.
  std::shared_ptr<StoreRequestObserver> observer;
};

// An open Series call. Not thread-safe: one consumer calls Next().
class SeriesStream : private grpc::ClientReadReactor<SeriesFrame> {
 public:
  // Starts the call at once (the request is copied). Never fails: connection errors surface
  // through Next() and store_error().
  static std::unique_ptr<SeriesStream> Open(std::shared_ptr<StoreClient> client,
                                            const thanos::SeriesRequest& request,
                                            SeriesStreamOptions options);

  // Cancels the call if still running and waits until gRPC has released it.
  ~SeriesStream() override;

  SeriesStream(const SeriesStream&) = delete;
  SeriesStream& operator=(const SeriesStream&) = delete;

  // Waits for the next series and moves it into *out. Returns true for a series, false at the
  // end of the stream or when the store failed (then store_error() is not OK). Fails only
  // when the query itself must stop: `ctx` cancelled or past its deadline, or the stream's
  // deadline passed (DeadlineExceeded).
  absl::StatusOr<bool> Next(StoreSeries* out, const engine::QueryContext& ctx);

  // Why the store failed (its message names the store); OK while it has not.
  absl::Status store_error() const;

  // Warning frames received so far (cleared by the call).
  std::vector<std::string> TakeWarnings();

  // Wire bytes of all frames received so far.
  int64_t bytes_received() const;

  // Frames received so far.
  int64_t frames_received() const;

 private:
  explicit SeriesStream(std::shared_ptr<StoreClient> client, SeriesStreamOptions options);

  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

  // Converts frame_ into series appended to `ready` (in order). Returns an error for a
  // malformed frame or a protocol violation.
  absl::Status ConvertResponse(std::vector<StoreSeries>* ready, std::vector<std::string>* warns);
  // Converts series `index` of frame_.
  absl::Status AddSeries(size_t index, std::vector<StoreSeries>* ready);
  // Called with mu_ held when the call has finished: the store's error, if any.
  absl::Status FinalErrorLocked() const;

  std::shared_ptr<StoreClient> client_;
  SeriesStreamOptions options_;
  grpc::ClientContext context_;
  thanos::SeriesRequest request_;
  // The frame being read; reused for every read. Owned by the reader side.
  SeriesFrame frame_;
  // Reader-side state.
  StoreSeries pending_;  // last series, waiting for a possible continuation frame
  bool has_pending_ = false;
  std::unique_ptr<engine::Labels> last_labels_;  // for the order check
  int64_t dropped_chunks_ = 0;
  std::vector<engine::Label> label_scratch_;  // AddSeries' label list, reused

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<StoreSeries> queue_;
  size_t buffered_bytes_ = 0;
  std::vector<std::string> warnings_;
  bool read_in_flight_ = false;
  bool read_failed_ = false;    // a read returned !ok: no more reads
  bool paused_ = false;         // buffer full: the consumer restarts reading
  bool done_ = false;           // OnDone ran
  bool hold_released_ = false;  // RemoveHold called (no read will be started any more)
  bool closing_ = false;        // the destructor runs: discard frames, read until failure
  bool sorted_ = false;         // strip mode: queue sorted after the end
  bool timed_out_ = false;
  grpc::Status grpc_status_;
  absl::Status local_error_;  // protocol violation found while converting
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::steady_clock::time_point started_;
  int64_t bytes_received_ = 0;
  int64_t frames_received_ = 0;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_CLIENT_SERIES_STREAM_H_
