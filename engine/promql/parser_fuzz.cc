// libFuzzer target for the PromQL parser: no input may crash, hang or trip a sanitizer, and
// every accepted input must survive the round trip parse -> print -> parse (same tree, same
// text).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/promql/parser.h"
#include "engine/promql/printer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace paodin::engine::promql;
  std::string_view query(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ParsedQuery> first = Parse(query);
  if (!first.ok())
    return 0;
  std::string printed = Print(*first->root());
  (void)PrintTree(*first->root());
  absl::StatusOr<ParsedQuery> second = Parse(printed);
  if (!second.ok()) {
    std::fprintf(stderr, "printed form does not parse: %s\n%s\n", printed.c_str(),
                 std::string(second.status().message()).c_str());
    std::abort();
  }
  if (!EqualTrees(*first->root(), *second->root()) || Print(*second->root()) != printed) {
    std::fprintf(stderr, "round trip changed the tree: %s\n", printed.c_str());
    std::abort();
  }
  return 0;
}
