// A minimal JSON reader for the Prometheus HTTP API responses the differential test reads.
// Numbers are kept as their source text (Prometheus sends sample values as strings anyway), so
// nothing is lost to a float conversion.
//
//   PAODIN_ASSIGN_OR_RETURN(JsonValue doc, ParseJson(body));
//   const JsonValue* data = doc.Find("data");
#ifndef PAODIN_TESTS_DIFFERENTIAL_JSON_H_
#define PAODIN_TESTS_DIFFERENTIAL_JSON_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace paodin::differential {

// One JSON value: a tagged tree.
struct JsonValue {
  // The kind of value.
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  Kind kind = Kind::kNull;
  // kBool: the value.
  bool boolean = false;
  // kString: the decoded string; kNumber: the number's source text.
  std::string text;
  // kArray: the elements.
  std::vector<JsonValue> items;
  // kObject: the members in document order.
  std::vector<std::pair<std::string, JsonValue>> members;

  // The member named `key` of an object, or null when absent or not an object.
  const JsonValue* Find(std::string_view key) const;
};

// Parses one JSON document (surrounding whitespace allowed). Fails with InvalidArgument naming
// the byte offset of the first error.
absl::StatusOr<JsonValue> ParseJson(std::string_view text);

}  // namespace paodin::differential

#endif  // PAODIN_TESTS_DIFFERENTIAL_JSON_H_
