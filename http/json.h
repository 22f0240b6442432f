// JSON text exactly as Prometheus 2.42 writes it: sample values, scalar values, timestamps and
// strings. Every function appends to a std::string, so a response is serialized straight into
// its output buffer without a document tree.
#ifndef PAODIN_HTTP_JSON_H_
#define PAODIN_HTTP_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace paodin::http {

// A vector or matrix sample value, unquoted (Prometheus jsonutil marshalValue): "NaN", "+Inf",
// "-Inf", otherwise Go's shortest round-trip digits, in exponent form ("1e-07", "1e+21") when
// 0 < |v| < 1e-6 or |v| >= 1e21 and in fixed form otherwise ("0.000001", "100").
void AppendSampleValue(std::string& out, double v);

// A scalar result value, unquoted (Go strconv.FormatFloat(v, 'f', -1, 64)): always fixed
// notation ("0.0000001", "1000000000000000000000"); NaN and infinities as above.
void AppendScalarValue(std::string& out, double v);

// A vector or matrix timestamp (Prometheus jsonutil MarshalTimestamp): unix seconds, then, only
// when the milliseconds are not a multiple of 1000, "." and exactly three digits: 1001 ->
// "1.001", 1100 -> "1.100", -1 -> "-0.001".
void AppendSampleTimestamp(std::string& out, int64_t ms);

// A scalar or string result timestamp: float64(ms)/1000 as Go's encoding/json writes it
// (shortest digits): 1100 -> "1.1", 4000 -> "4".
void AppendFloatTimestamp(std::string& out, int64_t ms);

// A JSON string with quotes, escaped as Go's encoding/json does: `"` `\` and \n \r \t
// short-escaped, other control characters and <, >, &, U+2028, U+2029 as \u00XX / \u20XX, and
// every byte of invalid UTF-8 replaced by \ufffd.
void AppendJsonString(std::string& out, std::string_view s);

// A float64 as Go's encoding/json writes it: shortest digits, fixed notation unless
// 0 < |v| < 1e-6 or |v| >= 1e21, and then a two-digit negative exponent is shortened
// ("9.89e-7", "1e+21"). REQUIRES: v is finite.
void AppendGoJsonFloat(std::string& out, double v);

// An int64 in decimal.
void AppendInt(std::string& out, int64_t v);

}  // namespace paodin::http

#endif  // PAODIN_HTTP_JSON_H_
