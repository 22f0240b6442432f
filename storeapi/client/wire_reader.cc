#include "storeapi/client/wire_reader.h"

#include <cstring>

#include <fmt/format.h>

namespace paodin::storeapi {

void SeriesResponseView::Clear() {
  kind_ = FrameKind::kNone;
  series_.clear();
  labels_.clear();
  chunks_.clear();
  warning_ = {};
}

namespace {

// Protobuf wire types.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLengthDelimited = 2;
constexpr uint32_t kStartGroup = 3;
constexpr uint32_t kEndGroup = 4;
constexpr uint32_t kFixed32 = 5;

// Nesting budget of messages and groups, as protobuf's default recursion limit.
constexpr int kMaxDepth = 100;

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF), the check protobuf applies to proto3 strings.
bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    // ASCII runs, eight bytes at a time.
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ULL) != 0)
        break;
      p += 8;
    }
    if (p == end)
      break;
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c == 0xE0) {
      extra = 2;
      lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      extra = 2;
    } else if (c == 0xED) {
      extra = 2;
      hi = 0x9F;
    } else if (c == 0xF0) {
      extra = 3;
      lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      extra = 3;
    } else if (c == 0xF4) {
      extra = 3;
      hi = 0x8F;
    } else {
      return false;
    }
    if (end - p <= extra)
      return false;
    if (p[1] < lo || p[1] > hi)
      return false;
    for (int i = 2; i <= extra; ++i) {
      if (p[i] < 0x80 || p[i] > 0xBF)
        return false;
    }
    p += extra + 1;
  }
  return true;
}

}  // namespace

// Recursive-descent reader over one message body [p_, end_). Each Parse* reads a message whose
// body ends at `end` and leaves p_ there.
class SeriesResponseParser {
 public:
  SeriesResponseParser(std::string_view bytes, SeriesResponseView* view)
      : base_(bytes.data()), p_(bytes.data()), view_(view) {}

  absl::Status ParseResponse(const char* end) {
    while (p_ < end) {
      uint32_t tag;
      if (!ReadTag(end, &tag))
        return Error("truncated tag");
      const uint32_t field = tag >> 3;
      const uint32_t wire_type = tag & 7;
      if (wire_type == kLengthDelimited && field >= 1 && field <= 4) {
        std::string_view body;
        if (!ReadLengthDelimited(end, &body))
          return Error("length-delimited field beyond the frame");
        const char* body_end = body.data() + body.size();
        switch (field) {
          case 1: {
            SwitchTo(FrameKind::kSeries);
            if (view_->series_.empty())
              view_->series_.emplace_back();
            p_ = body.data();
            if (absl::Status st = ParseSeries(body_end, kMaxDepth - 1); !st.ok())
              return st;
            view_->series_[0].label_end = static_cast<uint32_t>(view_->labels_.size());
            view_->series_[0].chunk_end = static_cast<uint32_t>(view_->chunks_.size());
            break;
          }
          case 2:
            if (!IsValidUtf8(body))
              return Error("warning is not valid UTF-8");
            SwitchTo(FrameKind::kWarning);
            view_->warning_ = body;
            break;
          case 3:
            SwitchTo(FrameKind::kHints);
            p_ = body.data();
            if (absl::Status st = CheckAny(body_end, kMaxDepth - 1); !st.ok())
              return st;
            break;
          case 4:
            SwitchTo(FrameKind::kBatch);
            p_ = body.data();
            if (absl::Status st = ParseBatch(body_end, kMaxDepth - 1); !st.ok())
              return st;
            break;
        }
        p_ = body_end;
        continue;
      }
      if (absl::Status st = SkipField(tag, end, kMaxDepth); !st.ok())
        return st;
    }
    return absl::OkStatus();
  }

 private:
  // A oneof member replaces a different one (protobuf clears the old member) and merges into
  // the same one.
  void SwitchTo(FrameKind kind) {
    if (view_->kind_ == kind)
      return;
    view_->Clear();
    view_->kind_ = kind;
  }

  absl::Status ParseBatch(const char* end, int depth) {
    while (p_ < end) {
      uint32_t tag;
      if (!ReadTag(end, &tag))
        return Error("truncated tag");
      if (tag == ((1 << 3) | kLengthDelimited)) {
        std::string_view body;
        if (!ReadLengthDelimited(end, &body))
          return Error("series beyond its batch");
        if (depth - 1 < 0)
          return Error("nesting too deep");
        SeriesResponseView::SeriesRange range;
        range.label_begin = static_cast<uint32_t>(view_->labels_.size());
        range.chunk_begin = static_cast<uint32_t>(view_->chunks_.size());
        p_ = body.data();
        if (absl::Status st = ParseSeries(body.data() + body.size(), depth - 1); !st.ok())
          return st;
        range.label_end = static_cast<uint32_t>(view_->labels_.size());
        range.chunk_end = static_cast<uint32_t>(view_->chunks_.size());
        view_->series_.push_back(range);
        continue;
      }
      if (absl::Status st = SkipField(tag, end, depth); !st.ok())
        return st;
    }
    return absl::OkStatus();
  }

  absl::Status ParseSeries(const char* end, int depth) {
    if (depth < 0)
      return Error("nesting too deep");
    while (p_ < end) {
      uint32_t tag;
      if (!ReadTag(end, &tag))
        return Error("truncated tag");
      if (tag == ((1 << 3) | kLengthDelimited)) {
        std::string_view body;
        if (!ReadLengthDelimited(end, &body))
          return Error("label beyond its series");
        if (depth - 1 < 0)
          return Error("nesting too deep");
        WireLabel& label = view_->labels_.emplace_back();
        p_ = body.data();
        if (absl::Status st = ParseLabel(body.data() + body.size(), depth - 1, &label); !st.ok())
          return st;
        continue;
      }
      if (tag == ((2 << 3) | kLengthDelimited)) {
        std::string_view body;
        if (!ReadLengthDelimited(end, &body))
          return Error("chunk beyond its series");
        if (depth - 1 < 0)
          return Error("nesting too deep");
        WireChunk& chunk = view_->chunks_.emplace_back();
        p_ = body.data();
        if (absl::Status st = ParseAggrChunk(body.data() + body.size(), depth - 1, &chunk);
            !st.ok()) {
          return st;
        }
        continue;
      }
      if (absl::Status st = SkipField(tag, end, depth); !st.ok())
        return st;
    }
    return absl::OkStatus();
  }

  absl::Status ParseLabel(const char* end, int depth, WireLabel* label) {
    while (p_ < end) {
      uint32_t tag;
      if (!ReadTag(end, &tag))
        return Error("truncated tag");
      if (tag == ((1 << 3) | kLengthDelimited) || tag == ((2 << 3) | kLengthDelimited)) {
        std::string_view s;
        if (!ReadLengthDelimited(end, &s))
          return Error("label string beyond its label");
        if (!IsValidUtf8(s))
          return Error("label is not valid UTF-8");
        (tag >> 3 == 1 ? label->name : label->value) = s;
        continue;
      }
      if (absl::Status st = SkipField(tag, end, depth); !st.ok())
        return st;
    }
    return absl::OkStatus();
  }

  absl::Status ParseAggrChunk(const char* end, int depth, WireChunk* chunk) {
    while (p_ < end) {
      uint32_t tag;
      if (!ReadTag(end, &tag))
        return Error("truncated tag");
      const uint32_t field = tag >> 3;
      const uint32_t wire_type = tag & 7;
      if (wire_type == kVarint && (field == 1 || field == 2)) {
        uint64_t v;
        if (!ReadVarint(end, &v))
          return Error("truncated varint");
        (field == 1 ? chunk->min_time : chunk->max_time) = static_cast<int64_t>(v);
        continue;
      }
      if (wire_type == kLengthDelimited && field >= 3 && field <= 8) {
        std::string_view body;
        if (!ReadLengthDelimited(end, &body))
          return Error("chunk beyond its aggregate chunk");
        if (depth - 1 < 0)
          return Error("nesting too deep");
        p_ = body.data();
        if (field == 3) {
          chunk->has_raw = true;
          if (absl::Status st = ParseChunk(body.data() + body.size(), depth - 1, &chunk->raw_type,
                                           &chunk->raw_data);
              !st.ok()) {
            return st;
          }
        } else {
          // Downsampled aggregates: checked, not kept.
          int32_t type = 0;
          std::string_view data;
          if (absl::Status st = ParseChunk(body.data() + body.size(), depth - 1, &type, &data);
              !st.ok()) {
            return st;
          }
        }
        continue;
      }
      if (absl::Status st = SkipField(tag, end, depth); !st.ok())
        return st;
    }
    return absl::OkStatus();
  }

  absl::Status ParseChunk(const char* end, int depth, int32_t* type, std::string_view* data) {
    while (p_ < end) {
      uint32_t tag;
      if (!ReadTag(end, &tag))
        return Error("truncated tag");
      if (tag == ((1 << 3) | kVarint) || tag == ((3 << 3) | kVarint)) {
        uint64_t v;
        if (!ReadVarint(end, &v))
          return Error("truncated varint");
        if (tag >> 3 == 1)
          *type = static_cast<int32_t>(static_cast<uint32_t>(v));
        continue;
      }
      if (tag == ((2 << 3) | kLengthDelimited)) {
        if (!ReadLengthDelimited(end, data))
          return Error("chunk data beyond its chunk");
        continue;
      }
      if (absl::Status st = SkipField(tag, end, depth); !st.ok())
        return st;
    }
    return absl::OkStatus();
  }

  // google.protobuf.Any: type_url (string, checked as UTF-8) and value (bytes).
  absl::Status CheckAny(const char* end, int depth) {
    while (p_ < end) {
      uint32_t tag;
      if (!ReadTag(end, &tag))
        return Error("truncated tag");
      if (tag == ((1 << 3) | kLengthDelimited) || tag == ((2 << 3) | kLengthDelimited)) {
        std::string_view s;
        if (!ReadLengthDelimited(end, &s))
          return Error("hints field beyond its hints");
        if (tag >> 3 == 1 && !IsValidUtf8(s))
          return Error("hints type URL is not valid UTF-8");
        continue;
      }
      if (absl::Status st = SkipField(tag, end, depth); !st.ok())
        return st;
    }
    return absl::OkStatus();
  }

  // Skips the value of an unknown field whose tag was just read. Groups are skipped up to their
  // matching end tag.
  absl::Status SkipField(uint32_t tag, const char* end, int depth) {
    const uint32_t field = tag >> 3;
    if (field == 0)
      return Error("field number 0");
    switch (tag & 7) {
      case kVarint: {
        uint64_t v;
        if (!ReadVarint(end, &v))
          return Error("truncated varint");
        return absl::OkStatus();
      }
      case kFixed64:
        if (end - p_ < 8)
          return Error("truncated fixed64");
        p_ += 8;
        return absl::OkStatus();
      case kFixed32:
        if (end - p_ < 4)
          return Error("truncated fixed32");
        p_ += 4;
        return absl::OkStatus();
      case kLengthDelimited: {
        std::string_view body;
        if (!ReadLengthDelimited(end, &body))
          return Error("length-delimited field beyond its message");
        return absl::OkStatus();
      }
      case kStartGroup: {
        if (depth - 1 < 0)
          return Error("nesting too deep");
        for (;;) {
          if (p_ >= end)
            return Error("unterminated group");
          uint32_t inner;
          if (!ReadTag(end, &inner))
            return Error("truncated tag");
          if ((inner & 7) == kEndGroup) {
            if ((inner >> 3) != field)
              return Error("mismatched end group");
            return absl::OkStatus();
          }
          if (absl::Status st = SkipField(inner, end, depth - 1); !st.ok())
            return st;
        }
      }
      case kEndGroup:
        return Error("unexpected end group");
      default:
        return Error("invalid wire type");
    }
  }

  // Reads a tag of at most five bytes (protobuf keeps its low 32 bits). Tag 0 is invalid.
  bool ReadTag(const char* end, uint32_t* tag) {
    uint64_t v = 0;
    for (int i = 0; i < 5; ++i) {
      if (p_ >= end)
        return false;
      const auto byte = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
      if (byte < 0x80) {
        *tag = static_cast<uint32_t>(v);
        return *tag != 0;
      }
    }
    return false;
  }

  // Reads a varint of at most ten bytes (bits past 64 are dropped, as protobuf does).
  bool ReadVarint(const char* end, uint64_t* out) {
    uint64_t v = 0;
    for (int i = 0; i < 10; ++i) {
      if (p_ >= end)
        return false;
      const auto byte = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
      if (byte < 0x80) {
        *out = v;
        return true;
      }
    }
    return false;
  }

  // Reads a length (at most five bytes) and the bytes it covers, which must end by `end`.
  bool ReadLengthDelimited(const char* end, std::string_view* out) {
    uint64_t size = 0;
    for (int i = 0;; ++i) {
      if (i == 5 || p_ >= end)
        return false;
      const auto byte = static_cast<uint8_t>(*p_++);
      size |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
      if (byte < 0x80)
        break;
    }
    if (size > static_cast<uint64_t>(end - p_))
      return false;
    *out = std::string_view(p_, size);
    p_ += size;
    return true;
  }

  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        fmt::format("malformed SeriesResponse at byte {}: {}", p_ - base_, what));
  }

  const char* base_;
  const char* p_;
  SeriesResponseView* view_;
};

absl::Status ParseSeriesResponse(std::string_view bytes, SeriesResponseView* view) {
  view->Clear();
  SeriesResponseParser parser(bytes, view);
  return parser.ParseResponse(bytes.data() + bytes.size());
}

}  // namespace paodin::storeapi
