// libFuzzer target: any bytes through the SeriesResponse wire reader must parse or fail cleanly,
// and a parsed frame's views must stay inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "storeapi/client/wire_reader.h"

namespace {

void CheckInside(std::string_view outer, std::string_view inner) {
  if (inner.empty())
    return;
  if (inner.data() < outer.data() || inner.data() + inner.size() > outer.data() + outer.size())
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  paodin::storeapi::SeriesResponseView view;
  if (!paodin::storeapi::ParseSeriesResponse(bytes, &view).ok())
    return 0;
  CheckInside(bytes, view.warning());
  for (size_t i = 0; i < view.series_count(); ++i) {
    for (const paodin::storeapi::WireLabel& l : view.labels(i)) {
      CheckInside(bytes, l.name);
      CheckInside(bytes, l.value);
    }
    for (const paodin::storeapi::WireChunk& c : view.chunks(i))
      CheckInside(bytes, c.raw_data);
  }
  return 0;
}
