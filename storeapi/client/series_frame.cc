#include "storeapi/client/series_frame.h"

#include <fmt/format.h>

namespace paodin::storeapi {

void SeriesFrame::Assign(grpc::ByteBuffer* buffer) {
  slices_.clear();
  flat_.clear();
  const grpc::Status dumped = buffer->Dump(&slices_);
  buffer->Clear();
  if (!dumped.ok()) {
    view_.Clear();
    wire_bytes_ = 0;
    status_ = absl::InternalError(
        fmt::format("cannot read the received frame: {}", dumped.error_message()));
    return;
  }
  if (slices_.size() == 1) {
    Parse(std::string_view(reinterpret_cast<const char*>(slices_[0].begin()), slices_[0].size()));
    return;
  }
  size_t total = 0;
  for (const grpc::Slice& s : slices_)
    total += s.size();
  flat_.reserve(total);
  for (const grpc::Slice& s : slices_)
    flat_.append(reinterpret_cast<const char*>(s.begin()), s.size());
  slices_.clear();
  Parse(flat_);
}

namespace {
// A flattening buffer up to this size is kept between frames; a larger one is freed.
constexpr size_t kKeptBufferBytes = 64 << 10;
}  // namespace

void SeriesFrame::Release() {
  slices_.clear();
  view_.Clear();
  if (flat_.capacity() > kKeptBufferBytes) {
    std::string().swap(flat_);
  } else {
    flat_.clear();
  }
}

void SeriesFrame::AssignBytes(std::string_view bytes) {
  slices_.clear();
  flat_.assign(bytes.data(), bytes.size());
  Parse(flat_);
}

void SeriesFrame::Parse(std::string_view bytes) {
  wire_bytes_ = bytes.size();
  status_ = ParseSeriesResponse(bytes, &view_);
}

}  // namespace paodin::storeapi
