// Protobuf wire encoding of Series frames without building messages: the store's hot path
// writes a series' labels and chunk bytes straight into the frame gRPC sends, where protobuf
// would copy each chunk into an arena string and then again into the frame.
#ifndef PAODIN_STOREAPI_SERVER_SERIES_WIRE_H_
#define PAODIN_STOREAPI_SERVER_SERIES_WIRE_H_

#include <cstddef>
#include <span>
#include <string>

#include "engine/model/labels.h"
#include "storeapi/memstore/memstore.h"

namespace paodin::storeapi {

// Appends field 1 (length-delimited) holding a thanos.Series with `labels` and one raw XOR
// AggrChunk per element of `chunks`: the same bytes protobuf's serializer writes for that
// message. Field 1 is both SeriesResponse.series and SeriesBatch.series, so the result is a
// whole single-series frame or one entry of a batch.
void AppendSeriesField(const engine::Labels& labels, std::span<const ChunkView> chunks,
                       std::string* out);

// Bytes a SeriesResponse.batch header (tag and length) takes for a batch body of `body_bytes`;
// at most kMaxBatchHeaderBytes.
size_t BatchHeaderSize(size_t body_bytes);
inline constexpr size_t kMaxBatchHeaderBytes = 11;

// Writes that header into dst[0, BatchHeaderSize(body_bytes)).
void WriteBatchHeader(size_t body_bytes, char* dst);

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_SERVER_SERIES_WIRE_H_
