#include "highlevel-runtime/filters.h"

#include <re2/re2.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"

namespace berth::runtimed {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool IsControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
bool IsFieldChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}
bool IsOperatorChar(char c) { return c == '=' || c == '!' || c == '~' || c == '@'; }
bool IsQuote(char c) { return c == '"' || c == '/' || c == '|'; }

enum class Tok { kEof, kQuoted, kValue, kField, kSeparator, kOperator, kIllegal };

struct Token {
  Tok kind = Tok::kEof;
  size_t pos = 0;         // byte offset of its first character
  std::string_view text;  // quotes included for kQuoted
  const char* problem = "";
};

// Splits a filter into tokens. After an operator the next token is a value:
// everything up to a comma or a space (unless it starts with a quote).
class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {}

  Token Peek() const {
    Lexer copy = *this;
    return copy.Next();
  }

  Token Next() {
    while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
    const size_t start = pos_;
    if (pos_ == in_.size()) return {Tok::kEof, start, {}, ""};
    const char c = in_[pos_];
    if (IsQuote(c)) {
      value_mode_ = false;
      for (++pos_; pos_ < in_.size(); ++pos_) {
        if (in_[pos_] == '\n') break;
        if (in_[pos_] == '\\') {
          ++pos_;
          continue;
        }
        if (in_[pos_] == c) {
          ++pos_;
          return {Tok::kQuoted, start, in_.substr(start, pos_ - start), ""};
        }
      }
      pos_ = in_.size();
      return {Tok::kIllegal, start, in_.substr(start, 1), "quoted text is not terminated"};
    }
    if (c == ',' || c == '.') {
      value_mode_ = false;
      ++pos_;
      return {Tok::kSeparator, start, in_.substr(start, 1), ""};
    }
    if (IsOperatorChar(c)) {
      while (pos_ < in_.size() && IsOperatorChar(in_[pos_])) ++pos_;
      value_mode_ = true;
      return {Tok::kOperator, start, in_.substr(start, pos_ - start), ""};
    }
    if (value_mode_ && !IsControl(c)) {
      while (pos_ < in_.size() && in_[pos_] != ',' && !IsSpace(in_[pos_]) && !IsControl(in_[pos_]))
        ++pos_;
      value_mode_ = false;
      return {Tok::kValue, start, in_.substr(start, pos_ - start), ""};
    }
    if (IsFieldChar(c)) {
      while (pos_ < in_.size() && IsFieldChar(in_[pos_])) ++pos_;
      return {Tok::kField, start, in_.substr(start, pos_ - start), ""};
    }
    ++pos_;
    return {Tok::kIllegal, start, in_.substr(start, 1), "unexpected character"};
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool value_mode_ = false;
};

std::string Describe(const Token& t) {
  if (t.kind == Tok::kEof) return "the end";
  return absl::StrCat("\"", absl::CHexEscape(absl::string_view(t.text.data(), t.text.size())),
                      "\"");
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

}  // namespace

// A parse of one filter string, which knows how to word its errors.
class FilterParser {
 public:
  using Selector = Filter::Selector;
  using Op = Filter::Op;

  FilterParser(const std::string& text, const FilterSchema& schema)
      : text_(text), schema_(schema), lexer_(text) {}

  // Selectors up to the end of the text; none for a blank one.
  absl::StatusOr<Filter::Conjunction> Parse() {
    if (auto nul = text_.find('\0'); nul != std::string::npos) {
      return Error(nul, "NUL byte in a filter");
    }
    Filter::Conjunction out;
    if (lexer_.Peek().kind == Tok::kEof) return out;  // "" matches everything
    for (;;) {
      BERTH_ASSIGN_OR_RETURN(Selector s, ParseSelector());
      out.push_back(std::move(s));
      Token t = lexer_.Next();
      if (t.kind == Tok::kEof) return out;
      if (t.kind == Tok::kSeparator && t.text == ",") continue;
      if (t.kind == Tok::kIllegal) return Error(t.pos, t.problem);
      return Error(t.pos,
                   absl::StrCat("want \",\" or the end after a selector, found ", Describe(t)));
    }
  }

  absl::Status Error(size_t pos, absl::string_view what) const {
    std::string where =
        pos >= text_.size() ? std::string("at the end") : absl::StrCat("at column ", pos + 1);
    return absl::InvalidArgumentError(
        absl::StrCat("invalid filter \"", absl::CHexEscape(text_), "\" ", where, ": ", what));
  }

  // The text between the quotes of a quoted token, escapes resolved.
  absl::StatusOr<std::string> Unquote(const Token& t) const {
    const char quote = t.text.front();
    const bool regexp_quote = quote != '"';
    std::string out;
    size_t i = 1;
    const size_t end = t.text.size() - 1;
    while (i < end) {
      char c = t.text[i];
      if (c != '\\') {
        out.push_back(c);
        ++i;
        continue;
      }
      const size_t at = t.pos + i;
      const char e = i + 1 < end ? t.text[i + 1] : '\0';
      i += 2;
      switch (e) {
        case 'a':
          out.push_back('\a');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'v':
          out.push_back('\v');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t v = 0;
          for (size_t k = 0; k < digits; ++k) {
            int d = i + k < end ? HexDigit(t.text[i + k]) : -1;
            if (d < 0) {
              return Error(at, absl::StrCat("\\", std::string(1, e), " wants ", digits,
                                            " hexadecimal digits"));
            }
            v = v << 4 | static_cast<uint32_t>(d);
          }
          i += digits;
          if (e == 'x') {
            out.push_back(static_cast<char>(v));
          } else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
            return Error(at, "escape is not a Unicode code point");
          } else {
            AppendUtf8(v, &out);
          }
          break;
        }
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7': {
          uint32_t v = static_cast<uint32_t>(e - '0');
          for (size_t k = 0; k < 2; ++k) {
            char d = i + k < end ? t.text[i + k] : '\0';
            if (d < '0' || d > '7') return Error(at, "octal escape wants 3 digits");
            v = v << 3 | static_cast<uint32_t>(d - '0');
          }
          i += 2;
          if (v > 255) return Error(at, "octal escape above \\377");
          out.push_back(static_cast<char>(v));
          break;
        }
        default:
          if (e == quote) {
            out.push_back(e);
          } else if (regexp_quote && e != '\0') {
            out.push_back('\\');  // /\d+/: the regexp's own escape
            out.push_back(e);
          } else {
            return Error(
                at, absl::StrCat("unknown escape \"\\", absl::CHexEscape(std::string(1, e)), "\""));
          }
      }
    }
    return out;
  }

  absl::StatusOr<std::string> Field() {
    Token t = lexer_.Next();
    if (t.kind == Tok::kField) return std::string(t.text);
    if (t.kind == Tok::kQuoted) return Unquote(t);
    if (t.kind == Tok::kIllegal) return Error(t.pos, t.problem);
    return Error(t.pos, absl::StrCat("want a field name (letters, digits, '_', '-') or a quoted "
                                     "one, found ",
                                     Describe(t)));
  }

  // The path as Lookup gets it, or an error if the schema lacks it.
  absl::StatusOr<Filter::FieldPath> CheckPath(std::vector<std::string> path, size_t pos) const {
    if (path.front() == "labels") {
      if (path.size() == 1) return Error(pos, "\"labels\" wants a key: labels.KEY");
      std::vector<std::string> key(path.begin() + 1, path.end());
      return Filter::FieldPath{"labels", absl::StrJoin(key, ".")};
    }
    std::string joined = absl::StrJoin(path, ".");
    if (std::find(schema_.fields.begin(), schema_.fields.end(), joined) == schema_.fields.end()) {
      return Error(pos,
                   absl::StrCat("unknown field \"", absl::CHexEscape(joined), "\" (", schema_.kind,
                                " have ", absl::StrJoin(schema_.fields, ", "), ", labels.KEY)"));
    }
    return path;
  }

  absl::StatusOr<Selector> ParseSelector() {
    Selector s;
    const size_t start = lexer_.Peek().pos;
    std::vector<std::string> path;
    BERTH_ASSIGN_OR_RETURN(std::string first, Field());
    path.push_back(std::move(first));
    while (lexer_.Peek().kind == Tok::kSeparator && lexer_.Peek().text == ".") {
      lexer_.Next();
      BERTH_ASSIGN_OR_RETURN(std::string next, Field());
      path.push_back(std::move(next));
    }
    BERTH_ASSIGN_OR_RETURN(s.path, CheckPath(std::move(path), start));

    Token next = lexer_.Peek();
    if (next.kind == Tok::kEof || (next.kind == Tok::kSeparator && next.text == ",")) {
      s.op = Op::kPresent;
      return s;
    }
    Token op = lexer_.Next();
    if (op.kind != Tok::kOperator) {
      if (op.kind == Tok::kIllegal) return Error(op.pos, op.problem);
      return Error(op.pos, absl::StrCat("want an operator (==, !=, ~= or @=), \",\" or the end, "
                                        "found ",
                                        Describe(op)));
    }
    if (op.text == "==") {
      s.op = Op::kEqual;
    } else if (op.text == "!=") {
      s.op = Op::kNotEqual;
    } else if (op.text == "~=") {
      s.op = Op::kMatches;
    } else if (op.text == "@=") {
      s.op = Op::kContains;
    } else {
      return Error(op.pos,
                   absl::StrCat("unsupported operator ", Describe(op), " (want ==, !=, ~= or @=)"));
    }

    Token value = lexer_.Next();
    if (value.kind == Tok::kValue || value.kind == Tok::kField) {
      s.value = std::string(value.text);
    } else if (value.kind == Tok::kQuoted) {
      BERTH_ASSIGN_OR_RETURN(s.value, Unquote(value));
    } else if (value.kind == Tok::kIllegal) {
      return Error(value.pos, value.problem);
    } else {
      return Error(value.pos,
                   absl::StrCat("want a value after ", Describe(op), ", found ", Describe(value)));
    }
    if (s.op == Op::kMatches) {
      RE2::Options options;
      options.set_log_errors(false);
      auto re = std::make_shared<const RE2>(s.value, options);
      if (!re->ok()) {
        return Error(value.pos, absl::StrCat("bad regular expression: ", re->error()));
      }
      s.regexp = std::move(re);
    }
    return s;
  }

 private:
  const std::string& text_;
  const FilterSchema& schema_;
  Lexer lexer_;
};

absl::StatusOr<Filter> Filter::Parse(const std::vector<std::string>& filters,
                                     const FilterSchema& schema) {
  Filter filter;
  for (const std::string& text : filters) {
    BERTH_ASSIGN_OR_RETURN(Conjunction c, FilterParser(text, schema).Parse());
    filter.any_.push_back(std::move(c));
  }
  return filter;
}

bool Filter::Matches(const Selector& s, Lookup lookup) {
  std::optional<std::string> value = lookup(s.path);
  switch (s.op) {
    case Op::kPresent:
      return value.has_value();
    case Op::kEqual:
      return value.has_value() && *value == s.value;
    case Op::kNotEqual:
      return value.value_or("") != s.value;
    case Op::kMatches:
      return RE2::PartialMatch(value.value_or(""), *s.regexp);
    case Op::kContains:
      return value.value_or("").find(s.value) != std::string::npos;
  }
  return false;
}

bool Filter::Matches(Lookup lookup) const {
  if (any_.empty()) return true;
  for (const Conjunction& all : any_) {
    bool ok = true;
    for (const Selector& s : all) {
      if (!Matches(s, lookup)) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

}  // namespace berth::runtimed
