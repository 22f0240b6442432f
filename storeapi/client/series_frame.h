// One Series stream frame as gRPC hands it to the client, read with the hand-written wire
// reader (wire_reader.h) instead of the generated thanos.SeriesResponse message. The
// SerializationTraits specialization below lets a gRPC call deliver frames of this type:
//
//   grpc::internal::ClientCallbackReaderFactory<SeriesFrame>::Create(channel, method, ctx,
//                                                                    &request, reactor);
//
// and the reactor reads frame.status() and frame.view(). A frame is reused for every read.
#ifndef PAODIN_STOREAPI_CLIENT_SERIES_FRAME_H_
#define PAODIN_STOREAPI_CLIENT_SERIES_FRAME_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/impl/serialization_traits.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "storeapi/client/wire_reader.h"

namespace paodin::storeapi {

// The bytes of one received frame (kept alive while the view is used) and their parse.
class SeriesFrame {
 public:
  SeriesFrame() = default;
  SeriesFrame(const SeriesFrame&) = delete;
  SeriesFrame& operator=(const SeriesFrame&) = delete;

  // Takes the message bytes out of `buffer` (left empty) and parses them: a single slice is
  // viewed in place (the frame keeps a reference to it), several are copied into one new buffer.
  // The outcome is in status(); the previous content is dropped (chunks that share it keep it).
  void Assign(grpc::ByteBuffer* buffer);

  // Copies `bytes` and parses them (tests, benchmarks).
  void AssignBytes(std::string_view bytes);

  // Drops the frame's reference to its bytes and its views once converted, so an idle (paused)
  // stream holds no frame.
  void Release();

  // OK when the last frame parsed; else why it is malformed (view() is then unspecified).
  const absl::Status& status() const { return status_; }

  // The parsed frame; views valid until the next Assign.
  const SeriesResponseView& view() const { return view_; }

  // Size of the frame on the wire.
  size_t wire_bytes() const { return wire_bytes_; }

  // Shares the frame's bytes: the views of view() stay valid while a copy of this lives, so a
  // received chunk can point into its frame instead of being copied out. Null when empty.
  const std::shared_ptr<const char[]>& owner() const { return owner_; }

 private:
  void Parse(std::string_view bytes);

  std::vector<grpc::Slice> slices_;  // scratch for ByteBuffer::Dump
  std::shared_ptr<const char[]> owner_;
  SeriesResponseView view_;
  absl::Status status_;
  size_t wire_bytes_ = 0;
};

}  // namespace paodin::storeapi

namespace grpc {

// Lets gRPC deliver a received message as a SeriesFrame. Deserialize always succeeds so that
// the reactor sees a malformed frame (frame->status()) and fails the stream with a message,
// rather than gRPC silently ending the reads.
template <>
class SerializationTraits<paodin::storeapi::SeriesFrame, void> {
 public:
  static Status Deserialize(ByteBuffer* buffer, paodin::storeapi::SeriesFrame* frame) {
    frame->Assign(buffer);
    return Status::OK;
  }
};

}  // namespace grpc

#endif  // PAODIN_STOREAPI_CLIENT_SERIES_FRAME_H_
