#include "cli/format/go_template.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/format/go_json.h"
#include "cli/format/table_writer.h"
#include "cli/format/units.h"
#include "common/status.h"
#include "fmt/format.h"

namespace berth::cli::tmpl {

namespace {

// absl::StrCat that also takes std::string_view (Debian's Abseil is C++14).
inline void CatOne(std::string* out, std::string_view s) { out->append(s); }
inline void CatOne(std::string* out, const std::string& s) { out->append(s); }
inline void CatOne(std::string* out, const char* s) { out->append(s); }
inline void CatOne(std::string* out, absl::string_view s) { out->append(s.data(), s.size()); }
template <typename T>
requires std::is_arithmetic_v<T>
inline void CatOne(std::string* out, T v) { out->append(std::to_string(v)); }
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (CatOne(&out, args), ...);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Lexer

namespace {

enum class Tok {
  kText,
  kLeftDelim,
  kRightDelim,
  kSpace,
  kField,     // .Name (text holds "Name")
  kDot,       // .
  kVariable,  // $ or $name (text holds "$name")
  kIdent,
  kString,  // text holds the unquoted value
  kNumber,
  kBool,
  kNil,
  kPipe,
  kLParen,
  kRParen,
  kComma,
  kDeclare,  // :=
  kAssign,   // =
  kKeyword,  // if else end range with break continue define template block
  kEOF,
};

struct Item {
  Tok tok;
  std::string text;
  int pos = 0;
  std::string src;  // original spelling
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  // On error: returns false with err_ and err_pos_ set.
  bool Run(std::vector<Item>* items) {
    items_ = items;
    size_t pos = 0;
    bool trim_next = false;
    while (pos <= s_.size()) {
      size_t open = s_.find("{{", pos);
      size_t text_end = open == std::string_view::npos ? s_.size() : open;
      size_t text_start = pos;
      if (trim_next) {
        while (text_start < text_end && IsSpace(s_[text_start])) ++text_start;
        trim_next = false;
      }
      bool trim_left = open != std::string_view::npos && open + 3 < s_.size() + 1 &&
                       open + 2 < s_.size() && s_[open + 2] == '-' && open + 3 < s_.size() &&
                       IsSpace(s_[open + 3]);
      size_t te = text_end;
      if (trim_left) {
        while (te > text_start && IsSpace(s_[te - 1])) --te;
      }
      if (te > text_start) {
        Emit(Tok::kText, std::string(s_.substr(text_start, te - text_start)),
             static_cast<int>(text_start));
      }
      if (open == std::string_view::npos) break;
      size_t p = open + 2;
      if (trim_left) p += 2;
      // Comment.
      if (s_.substr(p, 2) == "/*") {
        size_t end = s_.find("*/", p + 2);
        if (end == std::string_view::npos) return Fail("unclosed comment", p);
        p = end + 2;
        if (s_.substr(p, 4) == " -}}") {
          trim_next = true;
          p += 4;
        } else if (s_.substr(p, 2) == "}}") {
          p += 2;
        } else {
          return Fail("comment ends before closing delimiter", p);
        }
        pos = p;
        continue;
      }
      Emit(Tok::kLeftDelim, "{{", static_cast<int>(open));
      if (!LexAction(&p, &trim_next)) return false;
      pos = p;
    }
    Emit(Tok::kEOF, "", static_cast<int>(s_.size()));
    return true;
  }

  std::string err_;
  size_t err_pos_ = 0;

 private:
  void Emit(Tok tok, std::string text, int pos, std::string src = "") {
    items_->push_back(Item{tok, std::move(text), pos, std::move(src)});
  }
  bool Fail(std::string msg, size_t pos) {
    err_ = std::move(msg);
    err_pos_ = pos;
    return false;
  }

  bool LexAction(size_t* pp, bool* trim_next) {
    size_t p = *pp;
    int paren = 0;
    while (true) {
      if (p >= s_.size()) return Fail("unclosed action", p);
      char c = s_[p];
      if (IsSpace(c)) {
        size_t start = p;
        while (p < s_.size() && IsSpace(s_[p])) ++p;
        if (s_.substr(p, 3) == "-}}") {
          // " -}}": right trim marker.
          Emit(Tok::kRightDelim, "}}", static_cast<int>(p));
          *trim_next = true;
          *pp = p + 3;
          return true;
        }
        Emit(Tok::kSpace, " ", static_cast<int>(start));
        continue;
      }
      if (s_.substr(p, 2) == "}}") {
        if (paren > 0) return Fail("unclosed left paren", p);
        Emit(Tok::kRightDelim, "}}", static_cast<int>(p));
        *pp = p + 2;
        return true;
      }
      size_t start = p;
      if (c == '"') {
        std::string val;
        ++p;
        while (true) {
          if (p >= s_.size() || s_[p] == '\n') return Fail("unterminated quoted string", start);
          char d = s_[p];
          if (d == '"') break;
          if (d == '\\') {
            ++p;
            if (p >= s_.size()) return Fail("unterminated quoted string", start);
            char e = s_[p];
            switch (e) {
              case 'n':
                val += '\n';
                break;
              case 't':
                val += '\t';
                break;
              case 'r':
                val += '\r';
                break;
              case 'a':
                val += '\a';
                break;
              case 'b':
                val += '\b';
                break;
              case 'f':
                val += '\f';
                break;
              case 'v':
                val += '\v';
                break;
              case '\\':
                val += '\\';
                break;
              case '"':
                val += '"';
                break;
              case '\'':
                val += '\'';
                break;
              case 'x': {
                if (p + 2 >= s_.size()) return Fail("invalid syntax", start);
                val += static_cast<char>(std::stoi(std::string(s_.substr(p + 1, 2)), nullptr, 16));
                p += 2;
                break;
              }
              case 'u':
              case 'U': {
                size_t n = e == 'u' ? 4 : 8;
                if (p + n >= s_.size()) return Fail("invalid syntax", start);
                auto cp = static_cast<uint32_t>(
                    std::stoul(std::string(s_.substr(p + 1, n)), nullptr, 16));
                AppendUtf8(cp, &val);
                p += n;
                break;
              }
              default:
                return Fail("invalid syntax", start);
            }
            ++p;
            continue;
          }
          val += d;
          ++p;
        }
        ++p;
        Emit(Tok::kString, val, static_cast<int>(start), std::string(s_.substr(start, p - start)));
        continue;
      }
      if (c == '`') {
        size_t end = s_.find('`', p + 1);
        if (end == std::string_view::npos) return Fail("unterminated raw quoted string", start);
        Emit(Tok::kString, std::string(s_.substr(p + 1, end - p - 1)), static_cast<int>(start),
             std::string(s_.substr(start, end + 1 - start)));
        p = end + 1;
        continue;
      }
      if (c == '\'') {
        // Character constant: a number.
        size_t end = s_.find('\'', p + 1);
        if (end == std::string_view::npos) return Fail("unterminated character constant", start);
        std::string_view body = s_.substr(p + 1, end - p - 1);
        int64_t value = 0;
        if (body.size() == 2 && body[0] == '\\') {
          switch (body[1]) {
            case 'n':
              value = '\n';
              break;
            case 't':
              value = '\t';
              break;
            default:
              value = body[1];
          }
        } else if (!body.empty()) {
          value = static_cast<unsigned char>(body[0]);
        }
        Emit(Tok::kNumber, std::to_string(value), static_cast<int>(start),
             std::string(s_.substr(start, end + 1 - start)));
        p = end + 1;
        continue;
      }
      if (c == '$') {
        ++p;
        while (p < s_.size() && IsAlnum(s_[p])) ++p;
        Emit(Tok::kVariable, std::string(s_.substr(start, p - start)), static_cast<int>(start));
        continue;
      }
      if (c == '.') {
        if (p + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[p + 1]))) {
          LexNumber(&p);
          continue;
        }
        ++p;
        if (p < s_.size() && IsAlnum(s_[p])) {
          while (p < s_.size() && IsAlnum(s_[p])) ++p;
          Emit(Tok::kField, std::string(s_.substr(start + 1, p - start - 1)),
               static_cast<int>(start));
        } else {
          Emit(Tok::kDot, ".", static_cast<int>(start));
        }
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(c)) ||
          ((c == '-' || c == '+') && p + 1 < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[p + 1])) || s_[p + 1] == '.'))) {
        LexNumber(&p);
        continue;
      }
      if (IsAlnum(c)) {
        while (p < s_.size() && IsAlnum(s_[p])) ++p;
        std::string word(s_.substr(start, p - start));
        static const char* kKeywords[] = {"if",    "else",     "end",    "range",    "with",
                                          "break", "continue", "define", "template", "block"};
        Tok tok = Tok::kIdent;
        for (const char* k : kKeywords) {
          if (word == k) tok = Tok::kKeyword;
        }
        if (word == "true" || word == "false") tok = Tok::kBool;
        if (word == "nil") tok = Tok::kNil;
        Emit(tok, word, static_cast<int>(start));
        continue;
      }
      switch (c) {
        case '|':
          Emit(Tok::kPipe, "|", static_cast<int>(start));
          ++p;
          continue;
        case '(':
          ++paren;
          Emit(Tok::kLParen, "(", static_cast<int>(start));
          ++p;
          continue;
        case ')':
          --paren;
          if (paren < 0) return Fail("unexpected right paren U+0029 ')'", start);
          Emit(Tok::kRParen, ")", static_cast<int>(start));
          ++p;
          continue;
        case ',':
          Emit(Tok::kComma, ",", static_cast<int>(start));
          ++p;
          continue;
        case ':':
          if (s_.substr(p, 2) == ":=") {
            Emit(Tok::kDeclare, ":=", static_cast<int>(start));
            p += 2;
            continue;
          }
          return Fail("expected :=", start);
        case '=':
          Emit(Tok::kAssign, "=", static_cast<int>(start));
          ++p;
          continue;
        default:
          break;
      }
      return Fail(fmt::format("unrecognized character in action: U+{:04X} '{}'",
                              static_cast<unsigned char>(c), c),
                  start);
    }
  }

  void LexNumber(size_t* pp) {
    size_t start = *pp;
    size_t p = start;
    if (s_[p] == '+' || s_[p] == '-') ++p;
    while (p < s_.size() && (IsAlnum(s_[p]) || s_[p] == '.' ||
                             ((s_[p] == '+' || s_[p] == '-') &&
                              (s_[p - 1] == 'e' || s_[p - 1] == 'E' || s_[p - 1] == 'p')))) {
      ++p;
    }
    Emit(Tok::kNumber, std::string(s_.substr(start, p - start)), static_cast<int>(start));
    *pp = p;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view s_;
  std::vector<Item>* items_ = nullptr;
};

}  // namespace

// ---------------------------------------------------------------------------
// Tree

struct Pipe;

enum class ArgKind { kField, kDot, kVariable, kIdent, kLiteral, kNil, kPipe };

struct Arg {
  ArgKind kind = ArgKind::kLiteral;
  std::string name;                // function or variable name
  std::vector<std::string> chain;  // fields: .A.B, $x.A, (pipe).A
  Json literal;
  std::shared_ptr<Pipe> pipe;
  int pos = 0;
  std::string src;
};

struct Command {
  std::vector<Arg> args;
  int pos = 0;
  std::string src;
};

struct Pipe {
  std::vector<std::string> decl;
  bool is_assign = false;
  std::vector<Command> cmds;
  int pos = 0;
  std::string src;
};

struct Node {
  enum Kind { kList, kText, kAction, kIf, kRange, kWith, kBreak, kContinue } kind = kList;
  std::string text;
  std::shared_ptr<Pipe> pipe;
  std::vector<std::unique_ptr<Node>> children;
  std::unique_ptr<Node> list;
  std::unique_ptr<Node> else_list;
  int pos = 0;
};

namespace {

int LineOf(std::string_view text, int pos) {
  int line = 1;
  for (int i = 0; i < pos && i < static_cast<int>(text.size()); ++i) {
    if (text[static_cast<size_t>(i)] == '\n') ++line;
  }
  return line;
}

class Parser {
 public:
  Parser(std::string_view text, const std::string& name, const FuncMap& funcs,
         std::vector<Item> items)
      : text_(text), name_(name), funcs_(funcs), items_(std::move(items)) {}

  absl::StatusOr<std::unique_ptr<Node>> Parse() {
    vars_ = {"$"};
    auto list = std::make_unique<Node>();
    list->kind = Node::kList;
    while (Peek().tok != Tok::kEOF) {
      std::string stop;
      auto n = TextOrAction(&stop);
      if (!n.ok()) return n.status();
      if (!stop.empty()) return Error(Cat("unexpected {{", stop, "}}"), last_pos_);
      if (*n) list->children.push_back(std::move(*n));
    }
    return list;
  }

 private:
  const Item& Peek() { return items_[idx_]; }
  const Item& Next() {
    last_pos_ = items_[idx_].pos;
    return items_[idx_ < items_.size() - 1 ? idx_++ : idx_];
  }
  const Item& PeekNonSpace() {
    while (items_[idx_].tok == Tok::kSpace) ++idx_;
    return items_[idx_];
  }
  const Item& NextNonSpace() {
    PeekNonSpace();
    return Next();
  }

  absl::Status Error(std::string_view msg, int pos) const {
    return absl::InvalidArgumentError(Cat("template: ", name_, ":", LineOf(text_, pos), ": ", msg));
  }

  // Parses one text or action; an {{end}} or {{else}} sets *stop.
  absl::StatusOr<std::unique_ptr<Node>> TextOrAction(std::string* stop) {
    const Item& it = Next();
    if (it.tok == Tok::kText) {
      auto n = std::make_unique<Node>();
      n->kind = Node::kText;
      n->text = it.text;
      n->pos = it.pos;
      return n;
    }
    if (it.tok != Tok::kLeftDelim) return Error("unexpected " + it.text, it.pos);
    const Item& first = PeekNonSpace();
    if (first.tok == Tok::kKeyword) {
      std::string kw = first.text;
      int pos = first.pos;
      Next();
      if (kw == "end" || kw == "else") {
        *stop = kw;
        if (kw == "end") {
          if (PeekNonSpace().tok != Tok::kRightDelim) return Error("unexpected token in end", pos);
          Next();
        }
        return std::unique_ptr<Node>();
      }
      if (kw == "if" || kw == "range" || kw == "with") return Control(kw, pos);
      if (kw == "break" || kw == "continue") {
        if (range_depth_ == 0) return Error(Cat("{{", kw, "}} outside {{range}}"), pos);
        if (PeekNonSpace().tok != Tok::kRightDelim) {
          return Error(Cat("unexpected token in {{", kw, "}}"), pos);
        }
        Next();
        auto n = std::make_unique<Node>();
        n->kind = kw == "break" ? Node::kBreak : Node::kContinue;
        n->pos = pos;
        return n;
      }
      return Error(Cat("{{", kw, "}} is not supported"), pos);
    }
    auto n = std::make_unique<Node>();
    n->kind = Node::kAction;
    n->pos = first.pos;
    auto pipe = Pipeline("command", Tok::kRightDelim);
    if (!pipe.ok()) return pipe.status();
    n->pipe = std::move(*pipe);
    return n;
  }

  absl::StatusOr<std::unique_ptr<Node>> Control(const std::string& kw, int pos) {
    size_t mark = vars_.size();
    if (kw == "range") ++range_depth_;
    auto pipe = Pipeline(kw, Tok::kRightDelim);
    if (!pipe.ok()) return pipe.status();
    auto n = std::make_unique<Node>();
    n->kind = kw == "if" ? Node::kIf : kw == "range" ? Node::kRange : Node::kWith;
    n->pos = pos;
    n->pipe = std::move(*pipe);
    std::string stop;
    auto list = ItemList(&stop);
    if (!list.ok()) return list.status();
    n->list = std::move(*list);
    if (kw == "range") --range_depth_;
    if (stop == "else") {
      const Item& after = PeekNonSpace();
      if ((kw == "if" || kw == "with") && after.tok == Tok::kKeyword && after.text == kw) {
        // {{else if ...}}: a nested control that shares our {{end}}.
        int epos = after.pos;
        Next();
        auto nested = Control(kw, epos);
        if (!nested.ok()) return nested.status();
        auto else_list = std::make_unique<Node>();
        else_list->kind = Node::kList;
        else_list->children.push_back(std::move(*nested));
        n->else_list = std::move(else_list);
        vars_.resize(mark);
        return n;
      }
      if (after.tok != Tok::kRightDelim) return Error("unexpected token in else", after.pos);
      Next();
      auto else_list = ItemList(&stop);
      if (!else_list.ok()) return else_list.status();
      if (stop != "end") return Error("expected end; found {{else}}", last_pos_);
      n->else_list = std::move(*else_list);
    }
    vars_.resize(mark);
    return n;
  }

  absl::StatusOr<std::unique_ptr<Node>> ItemList(std::string* stop) {
    auto list = std::make_unique<Node>();
    list->kind = Node::kList;
    while (true) {
      if (Peek().tok == Tok::kEOF) return Error("unexpected EOF", Peek().pos);
      std::string s;
      auto n = TextOrAction(&s);
      if (!n.ok()) return n.status();
      if (!s.empty()) {
        *stop = s;
        return list;
      }
      list->children.push_back(std::move(*n));
    }
  }

  absl::StatusOr<std::shared_ptr<Pipe>> Pipeline(const std::string& context, Tok end) {
    auto pipe = std::make_shared<Pipe>();
    const Item& start = PeekNonSpace();
    pipe->pos = start.pos;
    // Declarations: $x := / $x = / $i, $x :=
    if (start.tok == Tok::kVariable) {
      size_t save = idx_;
      Next();
      const Item& op = PeekNonSpace();
      if (op.tok == Tok::kDeclare || op.tok == Tok::kAssign) {
        pipe->is_assign = op.tok == Tok::kAssign;
        pipe->decl.push_back(start.text);
        Next();
      } else if (op.tok == Tok::kComma && context == "range") {
        Next();
        const Item& second = NextNonSpace();
        if (second.tok != Tok::kVariable)
          return Error("range can only initialize variables", op.pos);
        const Item& op2 = NextNonSpace();
        if (op2.tok != Tok::kDeclare && op2.tok != Tok::kAssign) {
          return Error("range can only initialize variables", op2.pos);
        }
        pipe->is_assign = op2.tok == Tok::kAssign;
        pipe->decl.push_back(start.text);
        pipe->decl.push_back(second.text);
      } else {
        idx_ = save;
      }
      if (!pipe->decl.empty()) {
        for (const auto& v : pipe->decl) {
          if (pipe->is_assign) {
            if (std::find(vars_.begin(), vars_.end(), v) == vars_.end()) {
              return Error(Cat("undefined variable \"", v, "\""), start.pos);
            }
          } else {
            vars_.push_back(v);
          }
        }
      }
    }
    while (true) {
      const Item& it = PeekNonSpace();
      if (it.tok == end) {
        Next();
        if (pipe->cmds.empty()) return Error(Cat("missing value for ", context), it.pos);
        pipe->src = std::string(
            text_.substr(static_cast<size_t>(pipe->pos), static_cast<size_t>(it.pos - pipe->pos)));
        while (!pipe->src.empty() && IsSpace(pipe->src.back())) pipe->src.pop_back();
        return pipe;
      }
      if (it.tok == Tok::kEOF) return Error("unclosed action", it.pos);
      auto cmd = ParseCommand(end);
      if (!cmd.ok()) return cmd.status();
      pipe->cmds.push_back(std::move(*cmd));
    }
  }

  absl::StatusOr<Command> ParseCommand(Tok end) {
    Command cmd;
    cmd.pos = PeekNonSpace().pos;
    int end_pos = cmd.pos;
    while (true) {
      const Item& it = PeekNonSpace();
      if (it.tok == end || it.tok == Tok::kPipe || it.tok == Tok::kEOF || it.tok == Tok::kRParen) {
        if (it.tok == Tok::kRParen && end != Tok::kRParen) {
          return Error("unexpected \")\" in operand", it.pos);
        }
        if (cmd.args.empty()) return Error("missing value for command", it.pos);
        if (it.tok == Tok::kPipe) {
          Next();
          if (PeekNonSpace().tok == end) return Error("missing command", it.pos);
        }
        cmd.src = std::string(
            text_.substr(static_cast<size_t>(cmd.pos), static_cast<size_t>(end_pos - cmd.pos)));
        return cmd;
      }
      auto arg = Operand();
      if (!arg.ok()) return arg.status();
      end_pos = Peek().pos;
      cmd.args.push_back(std::move(*arg));
    }
  }

  absl::StatusOr<Arg> Operand() {
    const Item& it = Next();
    Arg a;
    a.pos = it.pos;
    switch (it.tok) {
      case Tok::kField:
        a.kind = ArgKind::kField;
        a.chain.push_back(it.text);
        break;
      case Tok::kDot:
        a.kind = ArgKind::kDot;
        break;
      case Tok::kVariable:
        if (std::find(vars_.begin(), vars_.end(), it.text) == vars_.end()) {
          return Error(Cat("undefined variable \"", it.text, "\""), it.pos);
        }
        a.kind = ArgKind::kVariable;
        a.name = it.text;
        break;
      case Tok::kIdent:
        if (funcs_.find(it.text) == funcs_.end()) {
          return Error(Cat("function \"", it.text, "\" not defined"), it.pos);
        }
        a.kind = ArgKind::kIdent;
        a.name = it.text;
        break;
      case Tok::kString:
        a.kind = ArgKind::kLiteral;
        a.literal = it.text;
        break;
      case Tok::kBool:
        a.kind = ArgKind::kLiteral;
        a.literal = it.text == "true";
        break;
      case Tok::kNil:
        a.kind = ArgKind::kNil;
        break;
      case Tok::kNumber: {
        a.kind = ArgKind::kLiteral;
        std::string t = it.text;
        std::string clean;
        for (char c : t) {
          if (c != '_') clean += c;
        }
        char* endp = nullptr;
        errno = 0;
        long long iv = std::strtoll(clean.c_str(), &endp, 0);
        if (*endp == '\0' && errno == 0) {
          a.literal = static_cast<int64_t>(iv);
        } else {
          double dv = std::strtod(clean.c_str(), &endp);
          if (*endp != '\0') return Error(Cat("bad number syntax: \"", t, "\""), it.pos);
          a.literal = dv;
        }
        break;
      }
      case Tok::kLParen: {
        a.kind = ArgKind::kPipe;
        auto pipe = Pipeline("parenthesized pipeline", Tok::kRParen);
        if (!pipe.ok()) return pipe.status();
        a.pipe = std::move(*pipe);
        break;
      }
      default:
        return Error(Cat("unexpected \"", it.text, "\" in operand"), it.pos);
    }
    // Field chain directly after the term: $x.A, (pipe).A, .A.B
    while (Peek().tok == Tok::kField) {
      if (a.kind == ArgKind::kLiteral || a.kind == ArgKind::kNil || a.kind == ArgKind::kIdent ||
          a.kind == ArgKind::kDot) {
        return Error("unexpected . after term", Peek().pos);
      }
      a.chain.push_back(Next().text);
    }
    a.src = std::string(
        text_.substr(static_cast<size_t>(a.pos), static_cast<size_t>(Peek().pos - a.pos)));
    return a;
  }

  std::string_view text_;
  const std::string& name_;
  const FuncMap& funcs_;
  std::vector<Item> items_;
  size_t idx_ = 0;
  int last_pos_ = 0;
  std::vector<std::string> vars_;
  int range_depth_ = 0;
};

// ---------------------------------------------------------------------------
// Values

std::string GoTypeName(const Value& v) {
  if (v.missing) return "<nil>";
  switch (v.v.type()) {
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "int";
    case Json::value_t::number_float:
      return "float64";
    case Json::value_t::array:
      return "[]interface {}";
    case Json::value_t::object:
      return "map[string]interface {}";
    default:
      return "interface {}";
  }
}

bool IsNumber(const Json& j) { return j.is_number(); }
double AsDouble(const Json& j) { return j.get<double>(); }

void PrintTo(const Json& j, std::string* out) {
  switch (j.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
    case Json::value_t::binary:
      out->append("<nil>");
      break;
    case Json::value_t::string:
      out->append(j.get_ref<const std::string&>());
      break;
    case Json::value_t::boolean:
      out->append(j.get<bool>() ? "true" : "false");
      break;
    case Json::value_t::number_integer:
      out->append(std::to_string(j.get<int64_t>()));
      break;
    case Json::value_t::number_unsigned:
      out->append(std::to_string(j.get<uint64_t>()));
      break;
    case Json::value_t::number_float:
      out->append(GoFormatFloat(j.get<double>()));
      break;
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : j) {
        if (!first) out->push_back(' ');
        first = false;
        PrintTo(e, out);
      }
      out->push_back(']');
      break;
    }
    case Json::value_t::object: {
      std::vector<std::string> keys;
      for (const auto& [k, e] : j.items()) keys.push_back(k);
      std::sort(keys.begin(), keys.end());
      out->append("map[");
      bool first = true;
      for (const auto& k : keys) {
        if (!first) out->push_back(' ');
        first = false;
        out->append(k);
        out->push_back(':');
        PrintTo(j.at(k), out);
      }
      out->push_back(']');
      break;
    }
  }
}

// A map whose values are all strings is taken for a Go map[string]string:
// its missing keys are "" (docker's Labels), not nil.
bool IsStringMap(const Json& j) {
  if (!j.is_object()) return false;
  for (const auto& [k, e] : j.items()) {
    if (!e.is_string()) return false;
  }
  return true;
}

absl::Status WrongType(std::string_view expected, const Value& got) {
  return absl::InvalidArgumentError(
      Cat("wrong type for value; expected ", expected, "; got ", GoTypeName(got)));
}

absl::StatusOr<std::string> ArgString(const Value& v) {
  if (!v.missing && v.v.is_string()) return v.v.get<std::string>();
  return WrongType("string", v);
}

absl::StatusOr<int64_t> ArgInt(const Value& v) {
  if (!v.missing && v.v.is_number_integer()) return v.v.get<int64_t>();
  if (!v.missing && v.v.is_number_float()) {
    double d = v.v.get<double>();
    if (d == std::floor(d)) return static_cast<int64_t>(d);
  }
  return WrongType("int", v);
}

absl::Status WantArgs(std::string_view name, const std::vector<Value>& args, size_t want) {
  if (args.size() != want) {
    return absl::InvalidArgumentError(
        Cat("wrong number of args for ", name, ": want ", want, " got ", args.size()));
  }
  return absl::OkStatus();
}

#define BERTH_TMPL_ASSIGN(lhs, expr)            \
  auto lhs##_or = (expr);                       \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  auto lhs = std::move(*lhs##_or)

Value Str(std::string s) { return Value{Json(std::move(s)), false}; }

// Go's fmt.Sprint: spaces between operands when neither is a string.
std::string Sprint(const std::vector<Value>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    bool is_str = !args[i].missing && args[i].v.is_string();
    if (i > 0 && !is_str && !(!args[i - 1].missing && args[i - 1].v.is_string())) {
      out.push_back(' ');
    }
    out += PrintValue(args[i]);
  }
  return out;
}

// Go's fmt.Sprintf, the common verbs.
std::string Sprintf(const std::string& format, const std::vector<Value>& args) {
  std::string out;
  size_t argi = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    ++i;
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    if (format[i] == '%') {
      out.push_back('%');
      continue;
    }
    bool minus = false, plus = false, zero = false, sharp = false, space = false;
    for (; i < format.size(); ++i) {
      char f = format[i];
      if (f == '-')
        minus = true;
      else if (f == '+')
        plus = true;
      else if (f == '0')
        zero = true;
      else if (f == '#')
        sharp = true;
      else if (f == ' ')
        space = true;
      else
        break;
    }
    int width = -1, prec = -1;
    if (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
      width = 0;
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
        width = width * 10 + (format[i++] - '0');
      }
    }
    if (i < format.size() && format[i] == '.') {
      ++i;
      prec = 0;
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
        prec = prec * 10 + (format[i++] - '0');
      }
    }
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = format[i];
    if (argi >= args.size()) {
      out += Cat("%!", std::string(1, verb), "(MISSING)");
      continue;
    }
    const Value& a = args[argi++];
    std::string s;
    const Json& j = a.v;
    auto bad = [&] {
      std::string repr = PrintValue(a);
      if (!a.missing && j.is_string()) repr = j.get<std::string>();
      return Cat("%!", std::string(1, verb), "(", GoTypeName(a), "=", repr, ")");
    };
    switch (verb) {
      case 'v':
        s = PrintValue(a);
        if (sharp && !a.missing && j.is_string()) s = GoQuote(j.get<std::string>());
        break;
      case 's':
        s = PrintValue(a);
        if (prec >= 0 && static_cast<int>(s.size()) > prec)
          s = s.substr(0, static_cast<size_t>(prec));
        break;
      case 'q':
        if (!a.missing && j.is_string()) {
          s = GoQuote(j.get<std::string>());
        } else if (!a.missing && j.is_number_integer()) {
          s = "'" + std::string(1, static_cast<char>(j.get<int64_t>())) + "'";
        } else {
          s = bad();
        }
        break;
      case 'd':
        if (!a.missing && j.is_number_integer()) {
          int64_t v = j.get<int64_t>();
          s = std::to_string(v);
          if (plus && v >= 0)
            s = "+" + s;
          else if (space && v >= 0)
            s = " " + s;
        } else if (!a.missing && j.is_number_unsigned()) {
          s = std::to_string(j.get<uint64_t>());
        } else {
          s = bad();
        }
        break;
      case 'x':
      case 'X':
      case 'o':
      case 'b':
        if (!a.missing && j.is_number_integer()) {
          int64_t v = j.get<int64_t>();
          std::string spec = verb == 'b'   ? "{:b}"
                             : verb == 'o' ? "{:o}"
                             : verb == 'x' ? "{:x}"
                                           : "{:X}";
          s = fmt::format(fmt::runtime(spec), v < 0 ? -v : v);
          if (sharp && verb == 'x') s = "0x" + s;
          if (sharp && verb == 'X') s = "0X" + s;
          if (v < 0) s = "-" + s;
        } else if (!a.missing && j.is_string() && (verb == 'x' || verb == 'X')) {
          for (unsigned char ch : j.get<std::string>()) {
            s += fmt::format(fmt::runtime(verb == 'x' ? "{:02x}" : "{:02X}"), ch);
          }
        } else {
          s = bad();
        }
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'g':
        if (!a.missing && IsNumber(j)) {
          double v = AsDouble(j);
          if (verb == 'g') {
            s = GoFormatG(v, prec);
          } else {
            std::string spec = Cat("{:.", prec < 0 ? 6 : prec, verb == 'e' ? "e}" : "f}");
            s = fmt::format(fmt::runtime(spec), v);
          }
          if (plus && v >= 0) s = "+" + s;
        } else {
          s = bad();
        }
        break;
      case 't':
        if (!a.missing && j.is_boolean()) {
          s = j.get<bool>() ? "true" : "false";
        } else {
          s = bad();
        }
        break;
      case 'c':
        if (!a.missing && j.is_number_integer()) {
          s = std::string(1, static_cast<char>(j.get<int64_t>()));
        } else {
          s = bad();
        }
        break;
      default:
        s = Cat("%!", std::string(1, verb), "(", GoTypeName(a), "=", PrintValue(a), ")");
    }
    int len = RuneCount(s);
    if (width > len) {
      auto pad = static_cast<size_t>(width - len);
      if (minus) {
        s += std::string(pad, ' ');
      } else if (zero && verb != 's' && verb != 'v' && verb != 'q') {
        size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
        s.insert(sign, std::string(pad, '0'));
      } else {
        s = std::string(pad, ' ') + s;
      }
    }
    out += s;
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = argi; k < args.size(); ++k) {
      if (k > argi) out += ", ";
      out += GoTypeName(args[k]) + "=" + PrintValue(args[k]);
    }
    out += ")";
  }
  return out;
}

absl::StatusOr<int> Compare(const Value& a, const Value& b) {
  bool a_nil = a.missing || a.v.is_null();
  bool b_nil = b.missing || b.v.is_null();
  if (a_nil || b_nil) {
    if (a_nil && b_nil) return 0;
    return absl::InvalidArgumentError("incompatible types for comparison");
  }
  if (IsNumber(a.v) && IsNumber(b.v)) {
    if (a.v.is_number_integer() && b.v.is_number_integer()) {
      auto x = a.v.get<int64_t>(), y = b.v.get<int64_t>();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    double x = AsDouble(a.v), y = AsDouble(b.v);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.v.is_string() && b.v.is_string()) {
    int c = a.v.get_ref<const std::string&>().compare(b.v.get_ref<const std::string&>());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.v.is_boolean() && b.v.is_boolean()) return a.v.get<bool>() == b.v.get<bool>() ? 0 : 1;
  if (a.v.is_null() && b.v.is_null()) return 0;
  if (a.v.is_array() || a.v.is_object() || b.v.is_array() || b.v.is_object()) {
    return absl::InvalidArgumentError("invalid type for comparison");
  }
  return absl::InvalidArgumentError("incompatible types for comparison");
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\0':
        out += "\xEF\xBF\xBD";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string JsEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '"':
        out += "\\\"";
        break;
      case '<':
        out += "\\u003C";
        break;
      case '>':
        out += "\\u003E";
        break;
      case '&':
        out += "\\u0026";
        break;
      case '=':
        out += "\\u003D";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string QueryEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string GoTitle(std::string_view s) {
  std::string out(s);
  bool prev_sep = true;
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    bool sep = u < 0x80 && !(std::isalnum(u) || c == '_');
    if (prev_sep && u < 0x80 && std::islower(u)) c = static_cast<char>(std::toupper(u));
    prev_sep = sep;
  }
  return out;
}

FuncMap MakeDefaultFuncs() {
  FuncMap f;
  f["and"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (a.empty())
      return absl::InvalidArgumentError("wrong number of args for and: want at least 1 got 0");
    for (const auto& v : a) {
      if (!IsTrue(v)) return v;
    }
    return a.back();
  };
  f["or"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (a.empty())
      return absl::InvalidArgumentError("wrong number of args for or: want at least 1 got 0");
    for (const auto& v : a) {
      if (IsTrue(v)) return v;
    }
    return a.back();
  };
  f["not"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (auto st = WantArgs("not", a, 1); !st.ok()) return st;
    return Value{Json(!IsTrue(a[0])), false};
  };
  f["len"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (auto st = WantArgs("len", a, 1); !st.ok()) return st;
    const Value& v = a[0];
    if (!v.missing && v.v.is_string())
      return Value{Json(static_cast<int64_t>(v.v.get_ref<const std::string&>().size())), false};
    if (!v.missing && (v.v.is_array() || v.v.is_object()))
      return Value{Json(static_cast<int64_t>(v.v.size())), false};
    return absl::InvalidArgumentError(Cat("len of type ", GoTypeName(v)));
  };
  f["index"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (a.empty())
      return absl::InvalidArgumentError("wrong number of args for index: want at least 1 got 0");
    Value cur = a[0];
    for (size_t i = 1; i < a.size(); ++i) {
      if (cur.missing || cur.v.is_null()) return absl::InvalidArgumentError("index of untyped nil");
      if (cur.v.is_object()) {
        if (a[i].missing || !a[i].v.is_string()) {
          return absl::InvalidArgumentError(
              Cat("value has type ", GoTypeName(a[i]), "; should be string"));
        }
        const auto& key = a[i].v.get_ref<const std::string&>();
        auto it = cur.v.find(key);
        if (it == cur.v.end()) {
          cur = IsStringMap(cur.v) ? Str("") : Value{Json(), false};
        } else {
          cur = Value{*it, false};
        }
      } else if (cur.v.is_array() || cur.v.is_string()) {
        auto idx = ArgInt(a[i]);
        if (!idx.ok())
          return absl::InvalidArgumentError(
              Cat("cannot index slice/array with type ", GoTypeName(a[i])));
        size_t n = cur.v.is_array() ? cur.v.size() : cur.v.get_ref<const std::string&>().size();
        if (*idx < 0 || static_cast<size_t>(*idx) >= n) {
          return absl::InvalidArgumentError(Cat("index out of range: ", *idx));
        }
        if (cur.v.is_array()) {
          cur = Value{cur.v[static_cast<size_t>(*idx)], false};
        } else {
          cur = Value{Json(static_cast<int64_t>(static_cast<unsigned char>(
                          cur.v.get_ref<const std::string&>()[static_cast<size_t>(*idx)]))),
                      false};
        }
      } else {
        return absl::InvalidArgumentError(Cat("can't index item of type ", GoTypeName(cur)));
      }
    }
    return cur;
  };
  f["slice"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (a.empty())
      return absl::InvalidArgumentError("wrong number of args for slice: want at least 1 got 0");
    const Value& v = a[0];
    if (v.missing || !(v.v.is_array() || v.v.is_string())) {
      return absl::InvalidArgumentError(Cat("can't slice item of type ", GoTypeName(v)));
    }
    int64_t n = v.v.is_array() ? static_cast<int64_t>(v.v.size())
                               : static_cast<int64_t>(v.v.get_ref<const std::string&>().size());
    int64_t lo = 0, hi = n;
    if (a.size() > 1) {
      auto x = ArgInt(a[1]);
      if (!x.ok()) return x.status();
      lo = *x;
    }
    if (a.size() > 2) {
      auto x = ArgInt(a[2]);
      if (!x.ok()) return x.status();
      hi = *x;
    }
    if (lo < 0 || hi < lo || hi > n)
      return absl::InvalidArgumentError(Cat("index out of range: ", hi > n ? hi : lo));
    if (v.v.is_string())
      return Str(v.v.get_ref<const std::string&>().substr(static_cast<size_t>(lo),
                                                          static_cast<size_t>(hi - lo)));
    Json out = Json::array();
    for (int64_t i = lo; i < hi; ++i) out.push_back(v.v[static_cast<size_t>(i)]);
    return Value{out, false};
  };
  auto cmp = [](std::string name, std::function<bool(int)> pred) {
    return [name, pred](const std::vector<Value>& a) -> absl::StatusOr<Value> {
      if (auto st = WantArgs(name, a, 2); !st.ok()) return st;
      auto c = Compare(a[0], a[1]);
      if (!c.ok()) return c.status();
      return Value{Json(pred(*c)), false};
    };
  };
  f["eq"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (a.size() < 2) return absl::InvalidArgumentError("missing argument for comparison");
    for (size_t i = 1; i < a.size(); ++i) {
      bool a_nil = a[0].missing || a[0].v.is_null();
      bool b_nil = a[i].missing || a[i].v.is_null();
      if (a_nil && b_nil) return Value{Json(true), false};
      if (a_nil || b_nil) continue;
      auto c = Compare(a[0], a[i]);
      if (!c.ok()) return c.status();
      if (*c == 0) return Value{Json(true), false};
    }
    return Value{Json(false), false};
  };
  f["ne"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (auto st = WantArgs("ne", a, 2); !st.ok()) return st;
    bool a_nil = a[0].missing || a[0].v.is_null();
    bool b_nil = a[1].missing || a[1].v.is_null();
    if (a_nil || b_nil) return Value{Json(a_nil != b_nil), false};
    auto c = Compare(a[0], a[1]);
    if (!c.ok()) return c.status();
    return Value{Json(*c != 0), false};
  };
  f["lt"] = cmp("lt", [](int c) { return c < 0; });
  f["le"] = cmp("le", [](int c) { return c <= 0; });
  f["gt"] = cmp("gt", [](int c) { return c > 0; });
  f["ge"] = cmp("ge", [](int c) { return c >= 0; });
  f["print"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> { return Str(Sprint(a)); };
  f["println"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    std::string out;
    for (size_t i = 0; i < a.size(); ++i) {
      if (i > 0) out.push_back(' ');
      out += PrintValue(a[i]);
    }
    return Str(out + "\n");
  };
  f["printf"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (a.empty())
      return absl::InvalidArgumentError("wrong number of args for printf: want at least 1 got 0");
    auto format = ArgString(a[0]);
    if (!format.ok()) return format.status();
    return Str(Sprintf(*format, std::vector<Value>(a.begin() + 1, a.end())));
  };
  f["html"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    return Str(HtmlEscape(Sprint(a)));
  };
  f["js"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    return Str(JsEscape(Sprint(a)));
  };
  f["urlquery"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    return Str(QueryEscape(Sprint(a)));
  };
  f["call"] = [](const std::vector<Value>&) -> absl::StatusOr<Value> {
    return absl::InvalidArgumentError("call is not supported");
  };
  // docker's templates.basicFunctions.
  f["json"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (auto st = WantArgs("json", a, 1); !st.ok()) return st;
    return Str(a[0].missing ? "null" : GoJsonMarshal(a[0].v));
  };
  f["split"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (auto st = WantArgs("split", a, 2); !st.ok()) return st;
    BERTH_TMPL_ASSIGN(s, ArgString(a[0]));
    BERTH_TMPL_ASSIGN(sep, ArgString(a[1]));
    Json out = Json::array();
    if (sep.empty()) {
      for (size_t i = 0; i < s.size();) {
        size_t n = 1;
        while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
        out.push_back(s.substr(i, n));
        i += n;
      }
    } else {
      for (auto part : absl::StrSplit(s, sep)) out.push_back(std::string(part));
    }
    return Value{out, false};
  };
  f["join"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (auto st = WantArgs("join", a, 2); !st.ok()) return st;
    if (a[0].missing || !(a[0].v.is_array() || a[0].v.is_null()))
      return WrongType("[]string", a[0]);
    BERTH_TMPL_ASSIGN(sep, ArgString(a[1]));
    std::string out;
    bool first = true;
    for (const auto& e : a[0].v) {
      if (!first) out += sep;
      first = false;
      out += PrintValue(Value{e, false});
    }
    return Str(out);
  };
  f["title"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (auto st = WantArgs("title", a, 1); !st.ok()) return st;
    BERTH_TMPL_ASSIGN(s, ArgString(a[0]));
    return Str(GoTitle(s));
  };
  f["lower"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (auto st = WantArgs("lower", a, 1); !st.ok()) return st;
    BERTH_TMPL_ASSIGN(s, ArgString(a[0]));
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return Str(s);
  };
  f["upper"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (auto st = WantArgs("upper", a, 1); !st.ok()) return st;
    BERTH_TMPL_ASSIGN(s, ArgString(a[0]));
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return Str(s);
  };
  f["pad"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (auto st = WantArgs("pad", a, 3); !st.ok()) return st;
    BERTH_TMPL_ASSIGN(s, ArgString(a[0]));
    BERTH_TMPL_ASSIGN(prefix, ArgInt(a[1]));
    BERTH_TMPL_ASSIGN(suffix, ArgInt(a[2]));
    if (s.empty()) return Str(s);
    return Str(std::string(static_cast<size_t>(std::max<int64_t>(prefix, 0)), ' ') + s +
               std::string(static_cast<size_t>(std::max<int64_t>(suffix, 0)), ' '));
  };
  f["truncate"] = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (auto st = WantArgs("truncate", a, 2); !st.ok()) return st;
    BERTH_TMPL_ASSIGN(s, ArgString(a[0]));
    BERTH_TMPL_ASSIGN(n, ArgInt(a[1]));
    if (static_cast<int64_t>(s.size()) < n) return Str(s);
    return Str(s.substr(0, static_cast<size_t>(std::max<int64_t>(n, 0))));
  };
  return f;
}

FuncMap MakeHeaderFuncs() {
  FuncMap f;
  auto identity = [](const std::vector<Value>& a) -> absl::StatusOr<Value> {
    if (a.empty()) return Str("");
    return a[0];
  };
  for (const char* name : {"json", "split", "join", "title", "lower", "upper", "truncate"}) {
    f[name] = identity;
  }
  return f;
}

}  // namespace

// ---------------------------------------------------------------------------
// Execution

namespace {

enum class Flow { kNormal, kBreak, kContinue };

class Exec {
 public:
  Exec(const std::string& name, std::string_view text, const FuncMap& funcs,
       const ExecOptions& opts, std::string* out)
      : name_(name), text_(text), funcs_(funcs), opts_(opts), out_(out) {}

  absl::Status Run(const Node& root, const Value& data) {
    vars_.push_back({"$", data});
    Flow flow = Flow::kNormal;
    return Walk(data, root, &flow);
  }

 private:
  absl::Status Errorf(int pos, std::string_view at, std::string_view msg) const {
    int line = 1;
    int col = 0;
    for (int i = 0; i < pos && i < static_cast<int>(text_.size()); ++i) {
      if (text_[static_cast<size_t>(i)] == '\n') {
        ++line;
        col = 0;
      } else {
        ++col;
      }
    }
    return absl::InvalidArgumentError(Cat("template: ", name_, ":", line, ":", col,
                                          ": executing \"", name_, "\" at <", at, ">: ", msg));
  }

  absl::Status Walk(const Value& dot, const Node& node, Flow* flow) {
    switch (node.kind) {
      case Node::kList:
        for (const auto& child : node.children) {
          BERTH_RETURN_IF_ERROR(Walk(dot, *child, flow));
          if (*flow != Flow::kNormal) return absl::OkStatus();
        }
        return absl::OkStatus();
      case Node::kText:
        out_->append(node.text);
        return absl::OkStatus();
      case Node::kAction: {
        auto v = EvalPipe(dot, *node.pipe);
        if (!v.ok()) return v.status();
        if (node.pipe->decl.empty()) out_->append(PrintValue(*v));
        return absl::OkStatus();
      }
      case Node::kIf:
      case Node::kWith: {
        size_t mark = vars_.size();
        auto v = EvalPipe(dot, *node.pipe);
        if (!v.ok()) return v.status();
        absl::Status st;
        if (IsTrue(*v)) {
          st = Walk(node.kind == Node::kWith ? *v : dot, *node.list, flow);
        } else if (node.else_list) {
          st = Walk(dot, *node.else_list, flow);
        }
        vars_.resize(mark);
        return st;
      }
      case Node::kRange:
        return WalkRange(dot, node, flow);
      case Node::kBreak:
        *flow = Flow::kBreak;
        return absl::OkStatus();
      case Node::kContinue:
        *flow = Flow::kContinue;
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  absl::Status WalkRange(const Value& dot, const Node& node, Flow* flow) {
    size_t mark = vars_.size();
    // The pipeline's own declarations are the loop variables, set per item.
    Pipe bare = *node.pipe;
    std::vector<std::string> decl = bare.decl;
    bare.decl.clear();
    auto v = EvalPipe(dot, bare);
    if (!v.ok()) return v.status();
    for (const auto& d : decl) {
      if (!node.pipe->is_assign) vars_.push_back({d, Value::Missing()});
    }
    size_t body_mark = vars_.size();
    auto one = [&](const Value& key, const Value& elem) -> absl::Status {
      if (decl.size() == 1) {
        SetVar(decl[0], elem);
      } else if (decl.size() == 2) {
        SetVar(decl[0], key);
        SetVar(decl[1], elem);
      }
      Flow f = Flow::kNormal;
      auto st = Walk(elem, *node.list, &f);
      vars_.resize(body_mark);
      if (!st.ok()) return st;
      if (f == Flow::kBreak) *flow = Flow::kBreak;
      return absl::OkStatus();
    };
    bool any = false;
    const Value& val = *v;
    if (!val.missing && val.v.is_array()) {
      for (size_t i = 0; i < val.v.size(); ++i) {
        any = true;
        BERTH_RETURN_IF_ERROR(
            one(Value{Json(static_cast<int64_t>(i)), false}, Value{val.v[i], false}));
        if (*flow == Flow::kBreak) break;
      }
    } else if (!val.missing && val.v.is_object()) {
      std::vector<std::string> keys;
      for (const auto& [k, e] : val.v.items()) keys.push_back(k);
      std::sort(keys.begin(), keys.end());
      for (const auto& k : keys) {
        any = true;
        BERTH_RETURN_IF_ERROR(one(Str(k), Value{val.v.at(k), false}));
        if (*flow == Flow::kBreak) break;
      }
    } else if (!val.missing && val.v.is_number_integer()) {
      for (int64_t i = 0; i < val.v.get<int64_t>(); ++i) {
        any = true;
        BERTH_RETURN_IF_ERROR(one(Value{Json(i), false}, Value{Json(i), false}));
        if (*flow == Flow::kBreak) break;
      }
    } else if (!val.missing && !val.v.is_null()) {
      vars_.resize(mark);
      return Errorf(node.pipe->pos, node.pipe->src,
                    Cat("range can't iterate over ", PrintValue(val)));
    }
    *flow = Flow::kNormal;
    vars_.resize(mark);
    if (!any && node.else_list) return Walk(dot, *node.else_list, flow);
    return absl::OkStatus();
  }

  void SetVar(const std::string& name, const Value& v) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->first == name) {
        it->second = v;
        return;
      }
    }
    vars_.push_back({name, v});
  }

  absl::StatusOr<Value> EvalPipe(const Value& dot, const Pipe& pipe) {
    Value value = Value::Missing();
    bool has_final = false;
    for (const auto& cmd : pipe.cmds) {
      auto v = EvalCommand(dot, cmd, has_final ? &value : nullptr);
      if (!v.ok()) return v.status();
      value = std::move(*v);
      has_final = true;
    }
    for (const auto& d : pipe.decl) {
      if (pipe.is_assign) {
        SetVar(d, value);
      } else {
        vars_.push_back({d, value});
      }
    }
    return value;
  }

  const Func* FindFunc(const std::string& name) const {
    if (opts_.override_funcs) {
      auto it = opts_.override_funcs->find(name);
      if (it != opts_.override_funcs->end()) return &it->second;
    }
    auto it = funcs_.find(name);
    return it == funcs_.end() ? nullptr : &it->second;
  }

  absl::StatusOr<Value> EvalCommand(const Value& dot, const Command& cmd, const Value* final) {
    const Arg& first = cmd.args[0];
    switch (first.kind) {
      case ArgKind::kIdent:
        return CallFunction(dot, cmd, final);
      case ArgKind::kField:
        return EvalChain(dot, dot, first, first.chain, cmd, final);
      case ArgKind::kVariable: {
        auto base = LookupVar(first.name);
        if (first.chain.empty()) {
          if (cmd.args.size() > 1 || final) {
            return Errorf(first.pos, first.src, "can't give argument to non-function " + first.src);
          }
          return base;
        }
        return EvalChain(dot, base, first, first.chain, cmd, final);
      }
      case ArgKind::kPipe: {
        auto base = EvalPipe(dot, *first.pipe);
        if (!base.ok()) return base.status();
        if (first.chain.empty()) {
          if (cmd.args.size() > 1 || final) {
            return Errorf(first.pos, first.src, "can't give argument to non-function " + first.src);
          }
          return base;
        }
        return EvalChain(dot, *base, first, first.chain, cmd, final);
      }
      case ArgKind::kDot:
      case ArgKind::kLiteral:
      case ArgKind::kNil:
        if (cmd.args.size() > 1 || final) {
          return Errorf(first.pos, first.src, "can't give argument to non-function " + first.src);
        }
        if (first.kind == ArgKind::kNil) return Errorf(first.pos, "nil", "nil is not a command");
        return EvalArg(dot, first);
    }
    return Value::Missing();
  }

  Value LookupVar(const std::string& name) const {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->first == name) return it->second;
    }
    return Value::Missing();
  }

  // Evaluates receiver.chain[0].chain[1]...; the last field gets the command's
  // remaining arguments and the piped value (a method call).
  absl::StatusOr<Value> EvalChain(const Value& dot, Value receiver, const Arg& node,
                                  const std::vector<std::string>& chain, const Command& cmd,
                                  const Value* final) {
    for (size_t i = 0; i < chain.size(); ++i) {
      bool last = i + 1 == chain.size();
      std::vector<Value> args;
      bool has_args = false;
      if (last && (cmd.args.size() > 1 || final) && &node == &cmd.args[0]) {
        has_args = true;
        for (size_t k = 1; k < cmd.args.size(); ++k) {
          auto a = EvalArg(dot, cmd.args[k]);
          if (!a.ok()) return a.status();
          args.push_back(std::move(*a));
        }
        if (final) args.push_back(*final);
      }
      auto next = EvalField(receiver, chain[i], node, has_args, args,
                            i == 0 && node.kind == ArgKind::kField);
      if (!next.ok()) return next.status();
      receiver = std::move(*next);
    }
    return receiver;
  }

  absl::StatusOr<Value> EvalField(const Value& receiver, const std::string& name, const Arg& node,
                                  bool has_args, const std::vector<Value>& args,
                                  bool /*from_dot*/) {
    if (opts_.methods) {
      auto m = opts_.methods(receiver, name, args);
      if (m.has_value()) {
        if (!m->ok()) {
          return Errorf(node.pos, node.src,
                        Cat("error calling ", name, ": ", m->status().message()));
        }
        return **m;
      }
    }
    if (receiver.missing) {
      if (opts_.missing_key == MissingKey::kError) {
        return Errorf(node.pos, node.src, Cat("nil data; no entry for key \"", name, "\""));
      }
      return Value::Missing();
    }
    const Json& j = receiver.v;
    if (j.is_object()) {
      if (!opts_.root_type.empty()) {
        auto it = j.find(name);
        if (it == j.end()) {
          return Errorf(node.pos, node.src,
                        Cat("can't evaluate field ", name, " in type ", opts_.root_type));
        }
        if (has_args) {
          return Errorf(node.pos, node.src,
                        Cat(name, " has arguments but cannot be invoked as function"));
        }
        return Value{*it, false};
      }
      if (has_args) {
        return Errorf(node.pos, node.src, Cat(name, " is not a method but has arguments"));
      }
      auto it = j.find(name);
      if (it != j.end()) return Value{*it, false};
      if (opts_.nil_keys != nullptr && opts_.nil_keys->count(name) > 0) return Value{Json(), false};
      if (opts_.missing_key == MissingKey::kError) {
        return Errorf(node.pos, node.src, Cat("map has no entry for key \"", name, "\""));
      }
      if (IsStringMap(j)) return Str("");
      return Value::Missing();
    }
    if (j.is_null()) {
      return Errorf(node.pos, node.src, Cat("nil pointer evaluating interface {}.", name));
    }
    return Errorf(node.pos, node.src,
                  Cat("can't evaluate field ", name, " in type ", GoTypeName(receiver)));
  }

  absl::StatusOr<Value> EvalArg(const Value& dot, const Arg& a) {
    switch (a.kind) {
      case ArgKind::kDot:
        return dot;
      case ArgKind::kLiteral:
        return Value{a.literal, false};
      case ArgKind::kNil:
        return Value{Json(), false};
      case ArgKind::kField: {
        Command c;
        c.args.push_back(a);
        return EvalChain(dot, dot, c.args[0], a.chain, c, nullptr);
      }
      case ArgKind::kVariable: {
        Value base = LookupVar(a.name);
        if (a.chain.empty()) return base;
        Command c;
        c.args.push_back(a);
        return EvalChain(dot, base, c.args[0], a.chain, c, nullptr);
      }
      case ArgKind::kPipe: {
        auto base = EvalPipe(dot, *a.pipe);
        if (!base.ok() || a.chain.empty()) return base;
        Command c;
        c.args.push_back(a);
        return EvalChain(dot, *base, c.args[0], a.chain, c, nullptr);
      }
      case ArgKind::kIdent: {
        Command c;
        c.args.push_back(a);
        c.pos = a.pos;
        c.src = a.src;
        return CallFunction(dot, c, nullptr);
      }
    }
    return Value::Missing();
  }

  absl::StatusOr<Value> CallFunction(const Value& dot, const Command& cmd, const Value* final) {
    const Arg& fn = cmd.args[0];
    const Func* f = FindFunc(fn.name);
    if (f == nullptr) {
      return Errorf(fn.pos, fn.name, Cat("function \"", fn.name, "\" not defined"));
    }
    std::vector<Value> args;
    bool lazy = fn.name == "and" || fn.name == "or";
    for (size_t k = 1; k < cmd.args.size(); ++k) {
      auto a = EvalArg(dot, cmd.args[k]);
      if (!a.ok()) return a.status();
      args.push_back(std::move(*a));
      if (lazy && (fn.name == "and" ? !IsTrue(args.back()) : IsTrue(args.back()))) {
        return args.back();
      }
    }
    if (final) args.push_back(*final);
    auto r = (*f)(args);
    if (!r.ok()) {
      std::string msg(r.status().message());
      if (msg.rfind("wrong type for value", 0) != 0 && msg.rfind("wrong number of args", 0) != 0) {
        msg = Cat("error calling ", fn.name, ": ", msg);
      }
      return Errorf(cmd.pos, cmd.src, msg);
    }
    return r;
  }

  const std::string& name_;
  std::string_view text_;
  const FuncMap& funcs_;
  const ExecOptions& opts_;
  std::string* out_;
  std::vector<std::pair<std::string, Value>> vars_;
};

}  // namespace

// ---------------------------------------------------------------------------
// Public API

std::string PrintValue(const Value& v) {
  if (v.missing) return "<no value>";
  std::string out;
  PrintTo(v.v, &out);
  return out;
}

bool IsTrue(const Value& v) {
  if (v.missing) return false;
  const Json& j = v.v;
  switch (j.type()) {
    case Json::value_t::boolean:
      return j.get<bool>();
    case Json::value_t::number_integer:
      return j.get<int64_t>() != 0;
    case Json::value_t::number_unsigned:
      return j.get<uint64_t>() != 0;
    case Json::value_t::number_float:
      return j.get<double>() != 0;
    case Json::value_t::string:
      return !j.get_ref<const std::string&>().empty();
    case Json::value_t::array:
    case Json::value_t::object:
      return !j.empty();
    default:
      return false;
  }
}

const FuncMap& DefaultFuncs() {
  static const FuncMap* funcs = new FuncMap(MakeDefaultFuncs());
  return *funcs;
}

const FuncMap& HeaderFuncs() {
  static const FuncMap* funcs = new FuncMap(MakeHeaderFuncs());
  return *funcs;
}

Template::Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

absl::StatusOr<Template> Template::Parse(std::string_view text, std::string name,
                                         const FuncMap& extra) {
  Template t;
  t.name_ = std::move(name);
  t.text_ = std::string(text);
  t.funcs_ = DefaultFuncs();
  for (const auto& [k, f] : extra) t.funcs_[k] = f;
  std::vector<Item> items;
  Lexer lexer(t.text_);
  if (!lexer.Run(&items)) {
    return absl::InvalidArgumentError(Cat("template: ", t.name_, ":",
                                          LineOf(t.text_, static_cast<int>(lexer.err_pos_)), ": ",
                                          lexer.err_));
  }
  Parser parser(t.text_, t.name_, t.funcs_, std::move(items));
  auto root = parser.Parse();
  if (!root.ok()) return root.status();
  t.root_ = std::move(*root);
  return t;
}

absl::Status Template::Execute(const Json& data, std::string* out, const ExecOptions& opts) const {
  Exec exec(name_, text_, funcs_, opts, out);
  return exec.Run(*root_, Value{data, false});
}

}  // namespace berth::cli::tmpl
