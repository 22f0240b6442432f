#include "http/gzip.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/util/strings.h"
#include <zlib.h>

namespace paodin::http {

struct GzipStream::State {
  z_stream z{};
};

bool AcceptsGzip(std::string_view accept_encoding) {
  for (absl::string_view part : absl::StrSplit(ToAbsl(accept_encoding), ',')) {
    std::vector<absl::string_view> fields = absl::StrSplit(part, ';');
    absl::string_view coding = absl::StripAsciiWhitespace(fields[0]);
    if (!absl::EqualsIgnoreCase(coding, "gzip") && coding != "*")
      continue;
    bool zero_q = false;
    for (size_t i = 1; i < fields.size(); ++i) {
      absl::string_view param = absl::StripAsciiWhitespace(fields[i]);
      if (absl::StartsWithIgnoreCase(param, "q=")) {
        double q = 1;
        if (absl::SimpleAtod(param.substr(2), &q) && q == 0)
          zero_q = true;
      }
    }
    if (!zero_q)
      return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<GzipStream>> GzipStream::Create() {
  auto state = std::make_unique<State>();
  // windowBits 15 + 16 selects the gzip wrapper.
  if (deflateInit2(&state->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  return std::unique_ptr<GzipStream>(new GzipStream(std::move(state)));
}

GzipStream::GzipStream(std::unique_ptr<State> state) : state_(std::move(state)) {}

GzipStream::~GzipStream() { deflateEnd(&state_->z); }

absl::Status GzipStream::Run(std::string_view data, int flush, std::string& out) {
  z_stream& z = state_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  char buf[16384];
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = deflate(&z, flush);
    if (rc == Z_STREAM_ERROR)
      return absl::InternalError("deflate failed");
    out.append(buf, sizeof buf - z.avail_out);
    if (flush == Z_FINISH) {
      if (rc == Z_STREAM_END)
        return absl::OkStatus();
      continue;
    }
    if (z.avail_out != 0 && z.avail_in == 0)
      return absl::OkStatus();
  }
}

absl::Status GzipStream::Write(std::string_view data, std::string& out) {
  // Feed in pieces: avail_in is 32 bits.
  constexpr size_t kPiece = 1 << 30;
  while (data.size() > kPiece) {
    if (absl::Status s = Run(data.substr(0, kPiece), Z_NO_FLUSH, out); !s.ok())
      return s;
    data.remove_prefix(kPiece);
  }
  return Run(data, Z_NO_FLUSH, out);
}

absl::Status GzipStream::Flush(std::string& out) { return Run({}, Z_SYNC_FLUSH, out); }

absl::Status GzipStream::Finish(std::string& out) { return Run({}, Z_FINISH, out); }

absl::StatusOr<std::string> GzipCompress(std::string_view data) {
  absl::StatusOr<std::unique_ptr<GzipStream>> z = GzipStream::Create();
  if (!z.ok())
    return z.status();
  std::string out;
  if (absl::Status s = (*z)->Write(data, out); !s.ok())
    return s;
  if (absl::Status s = (*z)->Finish(out); !s.ok())
    return s;
  return out;
}

absl::StatusOr<std::string> GzipDecompress(std::string_view data) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK)
    return absl::InternalError("inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return absl::InvalidArgumentError(absl::StrCat("inflate failed: ", rc));
    }
    out.append(buf, sizeof buf - z.avail_out);
  } while (rc != Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

}  // namespace paodin::http
