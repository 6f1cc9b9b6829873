#include "cli/format/go_json.h"

#include <charconv>
#include <cmath>

#include "cli/format/units.h"
#include "fmt/format.h"

namespace berth::cli {
namespace {

// Decodes one UTF-8 rune at s[i]; returns its length, or 0 if invalid.
size_t DecodeRune(std::string_view s, size_t i, uint32_t* rune) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *rune = c;
    return 1;
  }
  size_t len = 0;
  uint32_t r = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    r = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    r = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    r = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    r = (r << 6) | (cc & 0x3F);
  }
  if ((len == 2 && r < 0x80) || (len == 3 && r < 0x800) || (len == 4 && r < 0x10000) ||
      r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
    return 0;
  }
  *rune = r;
  return len;
}

void MarshalString(std::string_view s, bool escape_html, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out->push_back('\\');
        out->push_back(static_cast<char>(c));
      } else if (c == '\n') {
        out->append("\\n");
      } else if (c == '\r') {
        out->append("\\r");
      } else if (c == '\t') {
        out->append("\\t");
      } else if (c < 0x20 || (escape_html && (c == '<' || c == '>' || c == '&'))) {
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
      } else {
        out->push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    uint32_t r = 0;
    size_t len = DecodeRune(s, i, &r);
    if (len == 0) {
      out->append("\\ufffd");
      ++i;
      continue;
    }
    if (r == 0x2028 || r == 0x2029) {
      out->append(r == 0x2028 ? "\\u2028" : "\\u2029");
    } else {
      out->append(s.substr(i, len));
    }
    i += len;
  }
  out->push_back('"');
}

void Marshal(const OrderedJson& v, bool escape_html, std::string* out) {
  switch (v.type()) {
    case OrderedJson::value_t::null:
    case OrderedJson::value_t::discarded:
      out->append("null");
      break;
    case OrderedJson::value_t::boolean:
      out->append(v.get<bool>() ? "true" : "false");
      break;
    case OrderedJson::value_t::number_integer:
      out->append(std::to_string(v.get<int64_t>()));
      break;
    case OrderedJson::value_t::number_unsigned:
      out->append(std::to_string(v.get<uint64_t>()));
      break;
    case OrderedJson::value_t::number_float:
      out->append(GoJsonFloat(v.get<double>()));
      break;
    case OrderedJson::value_t::string:
      MarshalString(v.get_ref<const std::string&>(), escape_html, out);
      break;
    case OrderedJson::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : v) {
        if (!first) out->push_back(',');
        first = false;
        Marshal(e, escape_html, out);
      }
      out->push_back(']');
      break;
    }
    case OrderedJson::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.items()) {
        if (!first) out->push_back(',');
        first = false;
        MarshalString(k, escape_html, out);
        out->push_back(':');
        Marshal(e, escape_html, out);
      }
      out->push_back('}');
      break;
    }
    case OrderedJson::value_t::binary:
      out->append("null");
      break;
  }
}

}  // namespace

std::string GoJsonMarshal(const OrderedJson& value, bool escape_html) {
  std::string out;
  Marshal(value, escape_html, &out);
  return out;
}

std::string GoJsonFloat(double value) {
  if (!std::isfinite(value)) return "null";
  double a = std::fabs(value);
  char buf[64];
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    std::string s(buf, r.ptr);
    // Go: e-07 -> e-7.
    auto e = s.find('e');
    if (e != std::string::npos && e + 2 < s.size() && s[e + 2] == '0') s.erase(e + 2, 1);
    return s;
  }
  auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

std::string GoJsonIndent(std::string_view src, std::string_view prefix, std::string_view indent) {
  std::string out;
  int depth = 0;
  bool need_indent = false;
  auto newline = [&] {
    out.push_back('\n');
    out.append(prefix);
    for (int i = 0; i < depth; ++i) out.append(indent);
  };
  for (size_t i = 0; i < src.size(); ++i) {
    char c = src[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (need_indent && c != ']' && c != '}') {
      need_indent = false;
      ++depth;
      newline();
    }
    switch (c) {
      case '"': {
        size_t j = i + 1;
        while (j < src.size() && src[j] != '"') {
          if (src[j] == '\\') ++j;
          ++j;
        }
        if (j >= src.size()) return std::string(src);
        out.append(src.substr(i, j - i + 1));
        i = j;
        break;
      }
      case '{':
      case '[':
        out.push_back(c);
        need_indent = true;
        break;
      case ',':
        out.push_back(c);
        newline();
        break;
      case ':':
        out.append(": ");
        break;
      case '}':
      case ']':
        if (need_indent) {
          need_indent = false;  // empty object or array stays compact
        } else {
          --depth;
          newline();
        }
        out.push_back(c);
        break;
      default:
        out.push_back(c);
        break;
    }
  }
  return out;
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      uint32_t r = 0;
      size_t len = DecodeRune(s, i, &r);
      if (len == 0) {
        out.append(fmt::format("\\x{:02x}", c));
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '\a':
        out.append("\\a");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\v':
        out.append("\\v");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '"':
        out.append("\\\"");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out.append(fmt::format("\\x{:02x}", c));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
  return out;
}

std::string Ellipsis(std::string_view s, int max_width) {
  if (max_width <= 0) return "";
  // Rune boundaries.
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  if (static_cast<int>(starts.size()) <= max_width) return std::string(s);
  if (max_width == 1) return std::string(s.substr(0, starts.size() > 1 ? starts[1] : s.size()));
  return std::string(s.substr(0, starts[static_cast<size_t>(max_width - 1)])) + "…";
}

}  // namespace berth::cli
