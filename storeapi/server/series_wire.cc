#include "storeapi/server/series_wire.h"

#include <cstdint>
#include <cstring>

#include "engine/util/varint.h"

namespace paodin::storeapi {
namespace {

// Wire types: 0 varint, 1 fixed64, 2 length-delimited.
constexpr char Tag(int field, int wire_type) { return static_cast<char>(field << 3 | wire_type); }

// A length-delimited field's size: tag, length, body.
size_t FieldSize(size_t body) { return 1 + engine::VarintSize(body) + body; }

// proto3 leaves out fields holding their default value; int64 is a varint of the two's
// complement, so a negative one takes 10 bytes.
size_t Int64FieldSize(int64_t v) {
  return v == 0 ? 0 : 1 + engine::VarintSize(static_cast<uint64_t>(v));
}

size_t LabelSize(const engine::Label& l) {
  return (l.name.empty() ? 0 : FieldSize(l.name.size())) +
         (l.value.empty() ? 0 : FieldSize(l.value.size()));
}

// thanos.Chunk{type: XOR (0, left out), data, hash}.
size_t RawChunkSize(const ChunkView& c) {
  return (c.data.empty() ? 0 : FieldSize(c.data.size())) +
         (c.hash == 0 ? 0 : 1 + engine::VarintSize(c.hash));
}

size_t AggrChunkSize(const ChunkView& c) {
  return Int64FieldSize(c.min_time) + Int64FieldSize(c.max_time) + FieldSize(RawChunkSize(c));
}

char* WriteBytesField(int field, std::string_view s, char* p) {
  *p++ = Tag(field, 2);
  p = engine::PutVarint(p, s.size());
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

char* WriteInt64Field(int field, int64_t v, char* p) {
  if (v == 0)
    return p;
  *p++ = Tag(field, 0);
  return engine::PutVarint(p, static_cast<uint64_t>(v));
}

}  // namespace

void AppendSeriesField(const engine::Labels& labels, std::span<const ChunkView> chunks,
                       std::string* out) {
  size_t body = 0;
  for (const engine::Label& l : labels)
    body += FieldSize(LabelSize(l));
  for (const ChunkView& c : chunks)
    body += FieldSize(AggrChunkSize(c));
  const size_t at = out->size();
  out->resize(at + FieldSize(body));
  char* p = out->data() + at;
  *p++ = Tag(1, 2);
  p = engine::PutVarint(p, body);
  for (const engine::Label& l : labels) {
    *p++ = Tag(1, 2);  // Series.labels
    p = engine::PutVarint(p, LabelSize(l));
    if (!l.name.empty())
      p = WriteBytesField(1, l.name, p);
    if (!l.value.empty())
      p = WriteBytesField(2, l.value, p);
  }
  for (const ChunkView& c : chunks) {
    *p++ = Tag(2, 2);  // Series.chunks
    p = engine::PutVarint(p, AggrChunkSize(c));
    p = WriteInt64Field(1, c.min_time, p);
    p = WriteInt64Field(2, c.max_time, p);
    *p++ = Tag(3, 2);  // AggrChunk.raw
    p = engine::PutVarint(p, RawChunkSize(c));
    if (!c.data.empty())
      p = WriteBytesField(2, c.data, p);
    if (c.hash != 0) {
      *p++ = Tag(3, 0);
      p = engine::PutVarint(p, c.hash);
    }
  }
}

size_t BatchHeaderSize(size_t body_bytes) { return 1 + engine::VarintSize(body_bytes); }

void WriteBatchHeader(size_t body_bytes, char* dst) {
  *dst++ = Tag(4, 2);  // SeriesResponse.batch
  engine::PutVarint(dst, body_bytes);
}

}  // namespace paodin::storeapi
