// Go-compatible text formatting used by the PromQL front end, so that our messages and printed
// expressions match Prometheus' byte for byte: strconv.Quote / QuoteRune, fmt's %v, %f and
// %#U, and strconv.ParseFloat / ParseInt(s, 0, 64) as the parser applies them to number tokens.
#ifndef PAODIN_ENGINE_PROMQL_GO_FORMAT_H_
#define PAODIN_ENGINE_PROMQL_GO_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paodin::engine::promql {

// Decodes one UTF-8 rune at s[pos] as Go's utf8.DecodeRuneInString: (0xFFFD, 1) for an invalid
// or truncated sequence, (-1, 0) at the end of `s`.
struct DecodedRune {
  int32_t rune;
  int width;
};

DecodedRune DecodeRune(std::string_view s, size_t pos);

// Appends the UTF-8 encoding of `rune` (0xFFFD for an invalid one).
void AppendUtf8(std::string& out, int32_t rune);

// Go's strconv.IsPrint, approximated: ASCII graphic and space, and every non-ASCII rune except
// C1 controls, U+00AD, the surrogates, noncharacters U+FFFE/U+FFFF and line/paragraph
// separators.
bool GoIsPrint(int32_t rune);

// Go's %q of a rune: 'a', '\n', '\x01', '\u00ad'; -1 (end of input) prints as '\uFFFD' does.
std::string GoQuoteRune(int32_t rune);

// Go's %#U: "U+0071 'q'" (the character only when printable).
std::string GoUnicodeFormat(int32_t rune);

// Go's %q of a string (strconv.Quote). With `escape_replacement_char`, U+FFFD is written as
// \ufffd (Go keeps it raw, but the PromQL lexer rejects a raw U+FFFD inside a string, so the
// printer escapes it to keep print(parse(q)) parseable).
std::string GoQuoteString(std::string_view s, bool escape_replacement_char = false);

// Go's %.Nq: quotes the first `max_runes` runes of `s`.
std::string GoQuotePrefix(std::string_view s, size_t max_runes);

// Go's %v / strconv.FormatFloat(v, 'g', -1, 64): 1, 0.5, 1e+06, 1.5e-07, +Inf, -Inf, NaN.
std::string GoFormatFloat(double v);

// Go's %f: six decimals, "+Inf", "-Inf", "NaN".
std::string GoFormatFloatF(double v);

// Parses a number token as Prometheus does: strconv.ParseInt(s, 0, 64) first (so "0x1f" and
// octal "017" work), then strconv.ParseFloat(s, 64). On failure returns nullopt and sets
// `error` to Go's text ("strconv.ParseFloat: parsing \"1e\": invalid syntax").
std::optional<double> GoParseNumber(std::string_view s, std::string* error);

}  // namespace paodin::engine::promql

#endif  // PAODIN_ENGINE_PROMQL_GO_FORMAT_H_
