// Method + path pattern routing, as moby's gorilla/mux routes.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/http/request.h"
#include "engine/http/response_writer.h"

namespace berth::engine::http {

using Handler = std::function<void(Request&, ResponseWriter&)>;

class Router {
 public:
  // pattern: "/containers/{id}/json". "{x}" matches one non-empty segment (no '/');
  // "{x:.*}" matches the rest including '/', possibly empty, and may be followed by a literal
  // suffix: "/images/{name:.*}/json" captures "127.0.0.1:5000/lib/busybox:latest" (greedy,
  // like the regexp moby's routes use). "{x:.+}" is the same but non-empty. Any other regexp
  // is treated as "{x}" and logged. Routes are tried in the order added; the first whose
  // method and pattern match wins. The server answers 404 {"message":"page not found"} when
  // nothing matches, also when only another method's route matches the path (moby sets
  // gorilla's MethodNotAllowedHandler to its not-found handler).
  void Add(std::string method, std::string pattern, Handler h);

  // The handler for method + path (decoded, version prefix removed) and its captures into
  // *params; nullptr when none matches. HEAD falls back to a GET route when no HEAD route
  // matches (the server then sends headers only).
  const Handler* Find(std::string_view method, std::string_view path,
                      std::map<std::string, std::string>* params) const;

 private:
  struct Token {
    enum class Kind { kLiteral, kSegment, kRest } kind;
    std::string text;  // literal text, or the capture's name
    bool allow_empty = false;
  };
  struct Route {
    std::string method;
    std::vector<Token> tokens;
    Handler handler;
  };
  static std::vector<Token> Compile(std::string_view pattern);
  static bool MatchTokens(const std::vector<Token>& tokens, size_t ti, std::string_view path,
                          size_t pi, std::vector<std::string_view>* captures);
  const Handler* FindMethod(std::string_view method, std::string_view path,
                            std::map<std::string, std::string>* params) const;

  std::vector<Route> routes_;
};

}  // namespace berth::engine::http
