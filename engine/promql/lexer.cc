#include "engine/promql/lexer.h"

#include <utility>

#include "engine/promql/go_format.h"

namespace paodin::engine::promql {
namespace {

constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kHexDigits = "0123456789abcdefABCDEF";

bool IsSpace(int32_t r) { return r == ' ' || r == '\t' || r == '\n' || r == '\r'; }

bool IsAlpha(int32_t r) { return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'); }

bool IsDigit(int32_t r) { return r >= '0' && r <= '9'; }

bool IsAlphaNumeric(int32_t r) { return IsAlpha(r) || IsDigit(r); }

int DigitVal(int32_t r) {
  if (r >= '0' && r <= '9')
    return r - '0';
  if (r >= 'a' && r <= 'f')
    return r - 'a' + 10;
  if (r >= 'A' && r <= 'F')
    return r - 'A' + 10;
  return 16;
}

struct Keyword {
  std::string_view word;
  TokenType type;
};

constexpr Keyword kKeywords[] = {
    {"and", TokenType::kLand},
    {"or", TokenType::kLor},
    {"unless", TokenType::kLunless},
    {"atan2", TokenType::kAtan2},
    {"sum", TokenType::kSum},
    {"avg", TokenType::kAvg},
    {"count", TokenType::kCount},
    {"min", TokenType::kMin},
    {"max", TokenType::kMax},
    {"group", TokenType::kGroup},
    {"stddev", TokenType::kStddev},
    {"stdvar", TokenType::kStdvar},
    {"topk", TokenType::kTopk},
    {"bottomk", TokenType::kBottomk},
    {"count_values", TokenType::kCountValues},
    {"quantile", TokenType::kQuantile},
    {"offset", TokenType::kOffset},
    {"by", TokenType::kBy},
    {"without", TokenType::kWithout},
    {"on", TokenType::kOn},
    {"ignoring", TokenType::kIgnoring},
    {"group_left", TokenType::kGroupLeft},
    {"group_right", TokenType::kGroupRight},
    {"bool", TokenType::kBool},
    {"start", TokenType::kStart},
    {"end", TokenType::kEnd},
    {"inf", TokenType::kNumber},
    {"nan", TokenType::kNumber},
};

// Case-insensitive keyword lookup (ASCII), as Prometheus lower-cases the word first.
bool LookupKeyword(std::string_view word, TokenType* type) {
  if (word.size() > 12)
    return false;
  char lower[12];
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    lower[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  std::string_view w(lower, word.size());
  for (const Keyword& k : kKeywords) {
    if (k.word == w) {
      *type = k.type;
      return true;
    }
  }
  return false;
}

}  // namespace

bool IsOperatorToken(TokenType t) { return t >= TokenType::kAdd && t <= TokenType::kLunless; }

bool IsAggregatorToken(TokenType t) { return t >= TokenType::kAvg && t <= TokenType::kTopk; }

bool IsKeywordToken(TokenType t) { return t >= TokenType::kBool && t <= TokenType::kWithout; }

std::string DescribeToken(const Token& token) {
  auto quoted = [&] {
    if (token.text.size() > 10)
      return GoQuotePrefix(token.text, 10) + "...";
    return GoQuoteString(token.text);
  };
  switch (token.type) {
    case TokenType::kEof:
      return "end of input";
    case TokenType::kError:
      return std::string(token.text);
    case TokenType::kComment:
      return "comment " + quoted();
    case TokenType::kIdentifier:
      return "identifier " + GoQuoteString(token.text);
    case TokenType::kMetricIdentifier:
      return "metric identifier " + GoQuoteString(token.text);
    case TokenType::kString:
      return "string " + quoted();
    case TokenType::kNumber:
      return "number " + quoted();
    case TokenType::kDuration:
      return "duration " + quoted();
    default:
      break;
  }
  // Prometheus 2.42 has no display name for `@`; its message shows the raw item type number.
  if (token.type == TokenType::kAt)
    return "\"<Item 57385>\" <op:@>";
  if (IsKeywordToken(token.type))
    return "<" + std::string(token.text) + ">";
  if (IsOperatorToken(token.type))
    return "<op:" + std::string(token.text) + ">";
  if (IsAggregatorToken(token.type))
    return "<aggr:" + std::string(token.text) + ">";
  return quoted();
}

int32_t Lexer::NextRune() {
  if (pos_ < input_.size() && static_cast<unsigned char>(input_[pos_]) < 0x80) {
    width_ = 1;
    return static_cast<unsigned char>(input_[pos_++]);
  }
  DecodedRune d = DecodeRune(input_, pos_);
  width_ = static_cast<size_t>(d.width);
  pos_ += width_;
  return d.rune;
}

int32_t Lexer::PeekRune() {
  if (pos_ < input_.size() && static_cast<unsigned char>(input_[pos_]) < 0x80) {
    return static_cast<unsigned char>(input_[pos_]);
  }
  return DecodeRune(input_, pos_).rune;
}

bool Lexer::Accept(std::string_view valid) {
  int32_t r = NextRune();
  if (r >= 0 && r < 0x80 && valid.find(static_cast<char>(r)) != std::string_view::npos) {
    return true;
  }
  Backup();
  return false;
}

void Lexer::AcceptRun(std::string_view valid) {
  while (Accept(valid)) {
  }
}

Token Lexer::Emit(TokenType type) {
  Token t{type, static_cast<int32_t>(start_), static_cast<int32_t>(pos_),
          input_.substr(start_, pos_ - start_)};
  start_ = pos_;
  return t;
}

Token Lexer::Error(std::string message) {
  error_ = std::move(message);
  done_ = true;
  return Token{TokenType::kError, static_cast<int32_t>(start_), static_cast<int32_t>(pos_), error_};
}

Token Lexer::Next() {
  if (done_) {
    start_ = pos_;
    return Token{TokenType::kEof, static_cast<int32_t>(pos_), static_cast<int32_t>(pos_), {}};
  }
  for (;;) {
    if (duration_next_) {
      duration_next_ = false;
      return LexDuration();
    }
    if (input_.substr(pos_).starts_with('#'))
      return LexLineComment();
    int32_t r = PeekRune();
    if (IsSpace(r)) {
      while (IsSpace(PeekRune()))
        NextRune();
      start_ = pos_;
      continue;
    }
    return brace_open_ ? LexInsideBraces() : LexStatement();
  }
}

Token Lexer::LexLineComment() {
  pos_ += 1;
  for (int32_t r = NextRune(); r != '\n' && r != '\r' && r != -1;)
    r = NextRune();
  Backup();
  return Emit(TokenType::kComment);
}

Token Lexer::LexStatement() {
  int32_t r = NextRune();
  switch (r) {
    case -1:
      if (paren_depth_ != 0)
        return Error("unclosed left parenthesis");
      if (bracket_open_)
        return Error("unclosed left bracket");
      done_ = true;
      return Emit(TokenType::kEof);
    case ',':
      return Emit(TokenType::kComma);
    case '*':
      return Emit(TokenType::kMul);
    case '/':
      return Emit(TokenType::kDiv);
    case '%':
      return Emit(TokenType::kMod);
    case '+':
      return Emit(TokenType::kAdd);
    case '-':
      return Emit(TokenType::kSub);
    case '^':
      return Emit(TokenType::kPow);
    case '=': {
      int32_t t = PeekRune();
      if (t == '=') {
        NextRune();
        return Emit(TokenType::kEqlc);
      }
      if (t == '~')
        return Error("unexpected character after '=': " + GoQuoteRune(t));
      return Emit(TokenType::kEql);
    }
    case '!': {
      int32_t t = NextRune();
      if (t != '=')
        return Error("unexpected character after '!': " + GoQuoteRune(t));
      return Emit(TokenType::kNeq);
    }
    case '<':
      if (PeekRune() == '=') {
        NextRune();
        return Emit(TokenType::kLte);
      }
      return Emit(TokenType::kLss);
    case '>':
      if (PeekRune() == '=') {
        NextRune();
        return Emit(TokenType::kGte);
      }
      return Emit(TokenType::kGtr);
    case '"':
    case '\'':
      return LexString(r);
    case '`':
      return LexRawString();
    case '(':
      ++paren_depth_;
      return Emit(TokenType::kLeftParen);
    case ')': {
      Token t = Emit(TokenType::kRightParen);
      if (--paren_depth_ < 0)
        return Error("unexpected right parenthesis ')'");
      return t;
    }
    case '{':
      brace_open_ = true;
      return Emit(TokenType::kLeftBrace);
    case '[': {
      if (bracket_open_)
        return Error("unexpected left bracket '['");
      got_colon_ = false;
      Token t = Emit(TokenType::kLeftBracket);
      while (IsSpace(PeekRune()))
        NextRune();
      start_ = pos_;
      bracket_open_ = true;
      duration_next_ = true;
      return t;
    }
    case ']':
      if (!bracket_open_)
        return Error("unexpected right bracket ']'");
      bracket_open_ = false;
      return Emit(TokenType::kRightBracket);
    case '@':
      return Emit(TokenType::kAt);
    default:
      break;
  }
  if (IsDigit(r) || (r == '.' && IsDigit(PeekRune()))) {
    Backup();
    return LexNumberOrDuration();
  }
  if (IsAlpha(r) || r == ':') {
    if (!bracket_open_) {
      Backup();
      return LexKeywordOrIdentifier();
    }
    // Inside brackets Prometheus 2.42 takes any letter for the subquery colon.
    if (got_colon_)
      return Error("unexpected colon " + GoQuoteRune(r));
    got_colon_ = true;
    return Emit(TokenType::kColon);
  }
  return Error("unexpected character: " + GoQuoteRune(r));
}

Token Lexer::LexInsideBraces() {
  int32_t r = NextRune();
  switch (r) {
    case -1:
      return Error("unexpected end of input inside braces");
    case ',':
      return Emit(TokenType::kComma);
    case '"':
    case '\'':
      return LexString(r);
    case '`':
      return LexRawString();
    case '=':
      if (NextRune() == '~')
        return Emit(TokenType::kEqlRegex);
      Backup();
      return Emit(TokenType::kEql);
    case '!': {
      int32_t nr = NextRune();
      if (nr == '~')
        return Emit(TokenType::kNeqRegex);
      if (nr == '=')
        return Emit(TokenType::kNeq);
      return Error("unexpected character after '!' inside braces: " + GoQuoteRune(nr));
    }
    case '{':
      return Error("unexpected left brace '{'");
    case '}':
      brace_open_ = false;
      return Emit(TokenType::kRightBrace);
    default:
      break;
  }
  if (IsAlpha(r)) {
    while (IsAlphaNumeric(PeekRune()))
      NextRune();
    return Emit(TokenType::kIdentifier);
  }
  return Error("unexpected character inside braces: " + GoQuoteRune(r));
}

Token Lexer::LexString(int32_t quote) {
  for (;;) {
    int32_t r = NextRune();
    if (r == quote)
      break;
    if (r == '\\') {
      int32_t ch = NextRune();
      int n = 0;
      uint32_t base = 0, max = 0;
      switch (ch) {
        case 'a':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
        case 'v':
        case '\\':
          continue;
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
          n = 3, base = 8, max = 255;
          break;
        case 'x':
          ch = NextRune();
          n = 2, base = 16, max = 255;
          break;
        case 'u':
          ch = NextRune();
          n = 4, base = 16, max = 0x10ffff;
          break;
        case 'U':
          ch = NextRune();
          n = 8, base = 16, max = 0x10ffff;
          break;
        case -1:
          return Error("escape sequence not terminated");
        default:
          if (ch == quote)
            continue;
          return Error("unknown escape sequence " + GoUnicodeFormat(ch));
      }
      uint32_t x = 0;
      while (n > 0) {
        auto d = static_cast<uint32_t>(DigitVal(ch));
        if (d >= base) {
          if (ch == -1)
            return Error("escape sequence not terminated");
          return Error("illegal character " + GoUnicodeFormat(ch) + " in escape sequence");
        }
        x = x * base + d;
        if (--n > 0)
          ch = NextRune();
      }
      if (x > max || (x >= 0xd800 && x < 0xe000)) {
        return Error("escape sequence is an invalid Unicode code point");
      }
      continue;
    }
    if (r == 0xfffd)
      return Error("invalid UTF-8 rune");
    if (r == -1 || r == '\n')
      return Error("unterminated quoted string");
  }
  return Emit(TokenType::kString);
}

Token Lexer::LexRawString() {
  for (;;) {
    int32_t r = NextRune();
    if (r == '`')
      break;
    if (r == 0xfffd)
      return Error("invalid UTF-8 rune");
    if (r == -1)
      return Error("unterminated raw string");
  }
  return Emit(TokenType::kString);
}

bool Lexer::ScanNumber() {
  std::string_view digits = kDigits;
  if (Accept("0") && Accept("xX"))
    digits = kHexDigits;
  AcceptRun(digits);
  if (Accept("."))
    AcceptRun(digits);
  if (Accept("eE")) {
    Accept("+-");
    AcceptRun(kDigits);
  }
  return !IsAlphaNumeric(PeekRune());
}

bool Lexer::AcceptRemainingDuration() {
  if (!Accept("smhdwy"))
    return false;
  Accept("s");
  while (Accept(kDigits)) {
    AcceptRun(kDigits);
    if (!Accept("smhdw"))
      return false;
    Accept("s");
  }
  return !IsAlphaNumeric(NextRune());
}

Token Lexer::LexNumberOrDuration() {
  if (ScanNumber())
    return Emit(TokenType::kNumber);
  if (AcceptRemainingDuration()) {
    Backup();
    return Emit(TokenType::kDuration);
  }
  return Error("bad number or duration syntax: " +
               GoQuoteString(input_.substr(start_, pos_ - start_)));
}

Token Lexer::LexDuration() {
  if (ScanNumber())
    return Error("missing unit character in duration");
  if (!AcceptRemainingDuration()) {
    return Error("bad duration syntax: " + GoQuoteString(input_.substr(start_, pos_ - start_)));
  }
  Backup();
  return Emit(TokenType::kDuration);
}

Token Lexer::LexKeywordOrIdentifier() {
  for (;;) {
    int32_t r = NextRune();
    if (IsAlphaNumeric(r) || r == ':')
      continue;
    Backup();
    break;
  }
  std::string_view word = input_.substr(start_, pos_ - start_);
  TokenType type;
  if (LookupKeyword(word, &type))
    return Emit(type);
  if (word.find(':') != std::string_view::npos)
    return Emit(TokenType::kMetricIdentifier);
  return Emit(TokenType::kIdentifier);
}

}  // namespace paodin::engine::promql
