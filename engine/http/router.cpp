#include "engine/http/router.h"

#include <utility>

#include "common/log.h"

namespace berth::engine::http {

std::vector<Router::Token> Router::Compile(std::string_view pattern) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < pattern.size()) {
    size_t open = pattern.find('{', i);
    if (open == std::string_view::npos) {
      tokens.push_back({Token::Kind::kLiteral, std::string(pattern.substr(i))});
      break;
    }
    if (open > i)
      tokens.push_back({Token::Kind::kLiteral, std::string(pattern.substr(i, open - i))});
    size_t close = pattern.find('}', open);
    if (close == std::string_view::npos) {
      LogError("http router: unterminated capture in pattern {}", pattern);
      tokens.push_back({Token::Kind::kLiteral, std::string(pattern.substr(open))});
      break;
    }
    std::string_view inner = pattern.substr(open + 1, close - open - 1);
    size_t colon = inner.find(':');
    std::string name(inner.substr(0, colon));
    std::string_view re = colon == std::string_view::npos ? "" : inner.substr(colon + 1);
    if (re == ".*") {
      tokens.push_back({Token::Kind::kRest, name, true});
    } else if (re == ".+") {
      tokens.push_back({Token::Kind::kRest, name, false});
    } else if (re == "[^/]*") {
      tokens.push_back({Token::Kind::kSegment, name, true});
    } else {
      if (!re.empty() && re != "[^/]+") {
        LogError("http router: unsupported regexp {} in pattern {}; matching one segment", re,
                 pattern);
      }
      tokens.push_back({Token::Kind::kSegment, name, false});
    }
    i = close + 1;
  }
  return tokens;
}

bool Router::MatchTokens(const std::vector<Token>& tokens, size_t ti, std::string_view path,
                         size_t pi, std::vector<std::string_view>* captures) {
  if (ti == tokens.size()) return pi == path.size();
  const Token& t = tokens[ti];
  if (t.kind == Token::Kind::kLiteral) {
    if (path.substr(pi, t.text.size()) != t.text) return false;
    return MatchTokens(tokens, ti + 1, path, pi + t.text.size(), captures);
  }
  size_t max_end = path.size();
  if (t.kind == Token::Kind::kSegment) {
    size_t slash = path.find('/', pi);
    if (slash != std::string_view::npos) max_end = slash;
  }
  size_t min_end = t.allow_empty ? pi : pi + 1;
  // Greedy: the longest capture that lets the rest match, as a regexp's ".*" would.
  if (max_end < min_end) return false;
  for (size_t end = max_end;; --end) {
    captures->push_back(path.substr(pi, end - pi));
    if (MatchTokens(tokens, ti + 1, path, end, captures)) return true;
    captures->pop_back();
    if (end == min_end) return false;
  }
}

void Router::Add(std::string method, std::string pattern, Handler h) {
  routes_.push_back(Route{std::move(method), Compile(pattern), std::move(h)});
}

const Handler* Router::FindMethod(std::string_view method, std::string_view path,
                                  std::map<std::string, std::string>* params) const {
  std::vector<std::string_view> captures;
  for (const Route& r : routes_) {
    if (r.method != method) continue;
    captures.clear();
    if (!MatchTokens(r.tokens, 0, path, 0, &captures)) continue;
    if (params != nullptr) {
      params->clear();
      size_t c = 0;
      for (const Token& t : r.tokens) {
        if (t.kind != Token::Kind::kLiteral) (*params)[t.text] = std::string(captures[c++]);
      }
    }
    return &r.handler;
  }
  return nullptr;
}

const Handler* Router::Find(std::string_view method, std::string_view path,
                            std::map<std::string, std::string>* params) const {
  const Handler* h = FindMethod(method, path, params);
  if (h == nullptr && method == "HEAD") h = FindMethod("GET", path, params);
  return h;
}

}  // namespace berth::engine::http
