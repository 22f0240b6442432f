#include "storeapi/client/series_frame.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace paodin::storeapi {

void SeriesFrame::Assign(grpc::ByteBuffer* buffer) {
  slices_.clear();
  owner_.reset();
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
    // The slice itself owns the bytes; the shared pointer holds a reference to it.
    auto slice = std::make_shared<grpc::Slice>(std::move(slices_[0]));
    slices_.clear();
    const char* data = reinterpret_cast<const char*>(slice->begin());
    const size_t size = slice->size();
    owner_ = std::shared_ptr<const char[]>(std::move(slice), data);
    Parse(std::string_view(data, size));
    return;
  }
  size_t total = 0;
  for (const grpc::Slice& s : slices_)
    total += s.size();
  std::shared_ptr<char[]> flat(new char[std::max<size_t>(total, 1)]);
  size_t at = 0;
  for (const grpc::Slice& s : slices_) {
    std::memcpy(flat.get() + at, s.begin(), s.size());
    at += s.size();
  }
  slices_.clear();
  owner_ = flat;
  Parse(std::string_view(flat.get(), total));
}

void SeriesFrame::Release() {
  slices_.clear();
  view_.Clear();
  owner_.reset();
}

void SeriesFrame::AssignBytes(std::string_view bytes) {
  slices_.clear();
  std::shared_ptr<char[]> copy(new char[std::max<size_t>(bytes.size(), 1)]);
  std::memcpy(copy.get(), bytes.data(), bytes.size());
  owner_ = copy;
  Parse(std::string_view(copy.get(), bytes.size()));
}

void SeriesFrame::Parse(std::string_view bytes) {
  wire_bytes_ = bytes.size();
  status_ = ParseSeriesResponse(bytes, &view_);
}

}  // namespace paodin::storeapi
