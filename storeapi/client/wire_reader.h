// A hand-written reader of the protobuf wire form of `thanos.SeriesResponse` (one Series stream
// frame). It reads one contiguous byte span and produces views into it, so a frame costs no
// protobuf message objects and no string per label or chunk: the stream copies each label once
// into its Labels buffer and a series' chunk bytes once into one buffer its StoreChunks share.
//
// It accepts exactly what the generated protobuf parser accepts: unknown fields of every wire
// type (and known fields with an unexpected wire type, which protobuf also treats as unknown)
// are skipped, repeated occurrences of a oneof member or sub-message merge like protobuf
// merges them, and proto3 strings must be valid UTF-8. Malformed input returns an error and is
// never read out of bounds.
//
//   SeriesResponseView view;
//   PAODIN_RETURN_IF_ERROR(ParseSeriesResponse(bytes, &view));
//   for (size_t i = 0; i < view.series_count(); ++i) { view.labels(i); view.chunks(i); }
#ifndef PAODIN_STOREAPI_CLIENT_WIRE_READER_H_
#define PAODIN_STOREAPI_CLIENT_WIRE_READER_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace paodin::storeapi {

// One `thanos.Label`, viewing the frame's bytes.
struct WireLabel {
  std::string_view name;
  std::string_view value;
};

// One `thanos.AggrChunk`: its time range and its raw chunk (the aggregate chunks of downsampled
// blocks are checked for well-formedness and otherwise ignored).
struct WireChunk {
  int64_t min_time = 0;
  int64_t max_time = 0;
  // Whether the `raw` field was present.
  bool has_raw = false;
  // raw.type (thanos.Chunk.Encoding; XOR is 0).
  int32_t raw_type = 0;
  // raw.data, viewing the frame's bytes.
  std::string_view raw_data;
};

// Which member of the SeriesResponse oneof a frame holds.
enum class FrameKind { kNone, kSeries, kWarning, kHints, kBatch };

// The parsed content of one frame. Views stay valid while the parsed bytes live. Reusable:
// ParseSeriesResponse clears it first and keeps the vectors' capacity.
class SeriesResponseView {
 public:
  // Which oneof member the frame holds.
  FrameKind kind() const { return kind_; }

  // Series in the frame: 1 for kSeries, any number for kBatch, 0 otherwise.
  size_t series_count() const { return series_.size(); }

  // Labels of series `i` (< series_count()), in wire order.
  std::span<const WireLabel> labels(size_t i) const {
    return std::span<const WireLabel>(labels_).subspan(
        series_[i].label_begin, series_[i].label_end - series_[i].label_begin);
  }

  // Chunks of series `i` (< series_count()), in wire order.
  std::span<const WireChunk> chunks(size_t i) const {
    return std::span<const WireChunk>(chunks_).subspan(
        series_[i].chunk_begin, series_[i].chunk_end - series_[i].chunk_begin);
  }

  // The warning text of a kWarning frame.
  std::string_view warning() const { return warning_; }

  // Forgets the content (keeps capacity).
  void Clear();

 private:
  friend class SeriesResponseParser;

  struct SeriesRange {
    uint32_t label_begin = 0;
    uint32_t label_end = 0;
    uint32_t chunk_begin = 0;
    uint32_t chunk_end = 0;
  };

  FrameKind kind_ = FrameKind::kNone;
  std::vector<SeriesRange> series_;
  std::vector<WireLabel> labels_;
  std::vector<WireChunk> chunks_;
  std::string_view warning_;
};

// Parses one serialized `thanos.SeriesResponse` into *view (views into `bytes`). Returns
// InvalidArgument, naming the byte offset, for input the protobuf parser would reject; *view is
// then unspecified.
absl::Status ParseSeriesResponse(std::string_view bytes, SeriesResponseView* view);

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_CLIENT_WIRE_READER_H_
