// The HTTP(S) server core of `portolan serve`, on Boost.Beast/Asio.
//
// Contract:
//  - HTTP/1.1 with keep-alive and pipelining (HTTP/1.0: close unless "Connection: keep-alive"),
//    Content-Length and chunked request bodies, "Expect: 100-continue". Plain HTTP or, when a
//    certificate and key are configured, HTTPS only (TLS 1.2 or later).
//  - All socket I/O is asynchronous on a pool of worker threads; only the handler call itself is
//    synchronous (it may block, e.g. on a write lock; a blocked handler holds one worker thread).
//    A slow or stalled client never blocks a worker thread.
//  - Responses always carry Content-Length and Content-Type (except 204/304, which have no body),
//    and "Connection: close" when the server closes the connection afterwards.
//  - Protocol errors are answered without calling the handler, with a JSON body
//    {"ok":false,"error":"<code>","message":"..."} and the connection is closed:
//      400 bad_request (malformed HTTP), 413 payload_too_large (declared Content-Length or the
//      accumulated chunked body over the path's limit), 431 headers_too_large, and 500
//      internal_error when the handler throws or returns an invalid response. 503
//      service_unavailable is sent best-effort to connections beyond max_connections (plain HTTP;
//      TLS ones are just closed).
//  - Timeouts: a whole request (headers and body) must arrive within read_timeout of its first
//    byte; a new connection must start its first request (TLS: finish its handshake) within
//    read_timeout; a keep-alive connection may idle idle_timeout between requests; a response must
//    be written within write_timeout. On expiry the connection is closed (no response).
//  - Access log: one line per response through LogAccess() (server/log.h): method, path without
//    the query string, status, body bytes, duration, client. Header values, query strings and
//    bodies are never logged.
//  - No exception escapes this API.
#ifndef PORTOLAN_SERVER_HTTP_H_
#define PORTOLAN_SERVER_HTTP_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/status.h"

namespace portolan::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: "/v1/blueprints/a%20b/entities?upsert=true"
  // `target` without the query string, NOT percent-decoded (the router splits on '/' and then
  // decodes each segment with PercentDecode).
  std::string path;
  // The query string decoded (%XX and '+' -> space), in order, repeated keys kept; keys are kept
  // as written ("include[]"). A parameter without '=' has an empty value.
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values as sent
  std::string body;    // raw bytes (chunked bodies already de-chunked)
  std::string client;  // peer address: "127.0.0.1:53422", "[::1]:53422"

  const std::string* Header(std::string_view lower_name) const;  // the first, or nullptr
  const std::string* Query(std::string_view key) const;          // the first, or nullptr
  std::vector<std::string> QueryAll(std::string_view key) const;
};

struct HttpResponse {
  int status = 200;                               // 200..599
  std::string content_type = "application/json";  // empty: no Content-Type header
  // Extra headers (repeats allowed, e.g. Set-Cookie). Content-Length, Transfer-Encoding and
  // Connection are managed by the server and ignored here; names or values containing CR, LF or
  // NUL make the response invalid (500).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Called on a server worker thread, possibly concurrently from several threads; may block.
// Exceptions are caught and answered with 500.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpOptions {
  std::string host = "127.0.0.1";  // an address or a resolvable name
  uint16_t port = 7070;            // 0 = an ephemeral port (tests)
  std::string tls_cert, tls_key;   // PEM file paths; both set -> HTTPS only
  int threads = 0;                 // worker threads; 0 = max(2, hardware_concurrency)
  // Largest body accepted for a request with this raw path (no query); unset: 1 MiB everywhere.
  // Called concurrently from worker threads.
  std::function<size_t(std::string_view path)> body_limit;
  size_t header_limit = 16 * 1024;                 // request line and headers, in bytes
  std::chrono::milliseconds read_timeout{10000};   // a whole request (headers+body) must arrive
  std::chrono::milliseconds idle_timeout{60000};   // keep-alive connection with no request
  std::chrono::milliseconds write_timeout{30000};  // writing one response
  std::chrono::milliseconds drain_timeout{5000};   // Stop(): wait this long for open connections
  size_t max_connections = 1024;  // beyond: 503 (plain HTTP) or closed at once (TLS)
};

inline constexpr size_t kDefaultBodyLimit = 1024 * 1024;

class HttpServer {
 public:
  // Binds, listens and starts serving. Errors (a bad host, a port in use, an unreadable or
  // invalid certificate or key, only one of tls_cert/tls_key) come back as a Status naming the
  // address or file.
  static Result<std::unique_ptr<HttpServer>> Start(HttpOptions options, HttpHandler handler);

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();  // Stop()s; not from a handler

  uint16_t port() const;    // the bound port
  std::string url() const;  // "http://127.0.0.1:7070" or "https://..." ("[::1]" for IPv6)

  // Stops accepting, closes idle keep-alive connections (and connections still in their TLS
  // handshake or waiting for a first request), lets requests being read or handled finish and
  // their responses be written (with "Connection: close"), waiting at most drain_timeout, then
  // closes what is left and joins the worker threads. A handler that never returns blocks Stop().
  // Idempotent and thread-safe; called from a handler it only initiates the stop (a helper thread
  // completes it) and returns at once.
  void Stop();

  // Blocks until a Stop() (from another thread or a signal) has completed. Not from a handler.
  void Wait();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Blocks until SIGINT or SIGTERM arrives (or the server is stopped otherwise), then
// server.Stop(). The signals are handled (not fatal) only while this runs.
void StopOnSignal(HttpServer& server);

// Decodes %XX escapes (invalid ones are kept as written) and, when plus_is_space, '+' as ' '.
std::string PercentDecode(std::string_view text, bool plus_is_space = false);

// Splits and decodes a query string (without the '?'): "a=1&b=x+y&a=2" ->
// {{"a","1"},{"b","x y"},{"a","2"}}. Empty parameters ("a=1&&b") are skipped.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

// {"ok":false,"error":code,"message":message} with this status.
HttpResponse JsonError(int status, std::string_view code, std::string_view message);

}  // namespace portolan::server

#endif  // PORTOLAN_SERVER_HTTP_H_
