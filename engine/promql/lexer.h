// The PromQL lexer: Prometheus 2.42's token rules (keywords are case-insensitive, durations and
// numbers share a scanner, strings in three quote styles with Go escapes, `#` comments), with
// its error messages. Used by the parser; exposed for tests.
#ifndef PAODIN_ENGINE_PROMQL_LEXER_H_
#define PAODIN_ENGINE_PROMQL_LEXER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace paodin::engine::promql {

enum class TokenType : uint8_t {
  kError,
  kEof,
  kComment,
  kIdentifier,
  kMetricIdentifier,
  kNumber,
  kString,
  kDuration,
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kEql,  // "=" (label matching)
  kColon,
  // Operators.
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEqlc,  // "=="
  kNeq,
  kLss,
  kLte,
  kGtr,
  kGte,
  kEqlRegex,
  kNeqRegex,
  kAt,
  kAtan2,
  kLand,
  kLor,
  kLunless,
  // Aggregators.
  kAvg,
  kBottomk,
  kCount,
  kCountValues,
  kGroup,
  kMax,
  kMin,
  kQuantile,
  kStddev,
  kStdvar,
  kSum,
  kTopk,
  // Keywords.
  kBool,
  kBy,
  kGroupLeft,
  kGroupRight,
  kIgnoring,
  kOffset,
  kOn,
  kWithout,
  // @ modifier preprocessors.
  kStart,
  kEnd,
};

// True for operator tokens (+ ... unless, including =~ !~ and @).
bool IsOperatorToken(TokenType t);
// True for sum, avg, ..., quantile.
bool IsAggregatorToken(TokenType t);
// True for bool, by, group_left, group_right, ignoring, offset, on, without.
bool IsKeywordToken(TokenType t);

// One token. `text` is the token's source text (for kError: the error message).
struct Token {
  TokenType type = TokenType::kEof;
  int32_t pos = 0;  // byte offset of the first character
  int32_t end = 0;  // byte offset after the last character
  std::string_view text;
};

// How Prometheus names a token in "unexpected ..." messages: `<by>`, `<op:+>`, `<aggr:sum>`,
// `"("`, `identifier "foo"`, `number "1"`, `string "\"ab\""`, `end of input`.
std::string DescribeToken(const Token& token);

// Splits a query into tokens, one Next() at a time. After a kError token every further call
// returns kEof.
class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  // The next token, comments included.
  Token Next();

  // The input being scanned.
  std::string_view input() const { return input_; }

 private:
  int32_t NextRune();
  int32_t PeekRune();

  void Backup() { pos_ -= width_; }

  bool Accept(std::string_view valid);
  void AcceptRun(std::string_view valid);
  Token Emit(TokenType type);
  Token Error(std::string message);
  bool ScanNumber();
  bool AcceptRemainingDuration();
  Token LexStatement();
  Token LexInsideBraces();
  Token LexString(int32_t quote);
  Token LexRawString();
  Token LexNumberOrDuration();
  Token LexDuration();
  Token LexKeywordOrIdentifier();
  Token LexLineComment();

  std::string_view input_;
  size_t pos_ = 0;
  size_t start_ = 0;
  size_t width_ = 0;
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool got_colon_ = false;
  bool duration_next_ = false;  // a '[' was just emitted: scan a duration
  bool done_ = false;
  std::string error_;
};

}  // namespace paodin::engine::promql

#endif  // PAODIN_ENGINE_PROMQL_LEXER_H_
