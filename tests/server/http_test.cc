#include "server/http.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/json.h"
#include "server/log.h"

namespace portolan::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using Response = http::response<http::string_body>;
using ::testing::HasSubstr;

constexpr milliseconds kClientTimeout{5000};

// A blocking HTTP client connection for tests: every operation runs on a private io_context and
// gives up after a deadline, so a misbehaving server fails the test instead of hanging it.
class Conn {
 public:
  explicit Conn(uint16_t port) : stream_(ioc_) {
    beast::error_code ec;
    stream_.socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    connected_ = !ec;
  }

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    beast::error_code result = asio::error::would_block;
    stream_.expires_after(kClientTimeout);
    asio::async_write(stream_, asio::buffer(data.data(), data.size()),
                      [&](const beast::error_code& ec, size_t) { result = ec; });
    Run();
    return !result;
  }

  // Reads one response (for a HEAD request: head = true).
  std::optional<Response> Read(bool head = false, milliseconds timeout = kClientTimeout) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    parser.skip(head);
    beast::error_code result = asio::error::would_block;
    stream_.expires_after(timeout);
    http::async_read(stream_, buffer_, parser,
                     [&](const beast::error_code& ec, size_t) { result = ec; });
    Run();
    last_error_ = result;
    if (result) return std::nullopt;
    return parser.release();
  }

  std::optional<Response> Request(std::string_view raw) {
    if (!Send(raw)) return std::nullopt;
    return Read();
  }

  // Waits until the server closes the connection (discarding anything it sends). Returns how long
  // that took, or nullopt if it stayed open for `timeout`.
  std::optional<milliseconds> WaitClosed(milliseconds timeout = kClientTimeout) {
    const auto start = std::chrono::steady_clock::now();
    stream_.expires_after(timeout);
    beast::error_code result;
    std::function<void()> read_more;
    char scratch[4096];
    read_more = [&] {
      stream_.async_read_some(asio::buffer(scratch), [&](const beast::error_code& ec, size_t) {
        if (ec) {
          result = ec;
          return;
        }
        read_more();
      });
    };
    read_more();
    Run();
    if (result == beast::error::timeout) return std::nullopt;
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  }

  const beast::error_code& last_error() const { return last_error_; }

 private:
  void Run() {
    ioc_.restart();
    ioc_.run();
  }

  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
  beast::error_code last_error_;
};

// What the echo handler saw, and its call count.
struct Recorder {
  std::atomic<int> calls{0};
  std::mutex mu;
  std::vector<HttpRequest> requests;

  HttpRequest Last() {
    std::lock_guard<std::mutex> lock(mu);
    return requests.empty() ? HttpRequest{} : requests.back();
  }
};

// Echoes the request as JSON. "/throw" throws; "/bad-header" returns a header with a line break.
HttpHandler EchoHandler(Recorder* recorder) {
  return [recorder](const HttpRequest& req) {
    recorder->calls++;
    {
      std::lock_guard<std::mutex> lock(recorder->mu);
      recorder->requests.push_back(req);
    }
    if (req.path == "/throw") throw std::runtime_error("boom");
    HttpResponse res;
    if (req.path == "/bad-header") {
      res.headers.emplace_back("X-Injected", "a\r\nSet-Cookie: x=1");
      return res;
    }
    json::Value out = json::Value::MakeObject();
    out.Set("method", req.method);
    out.Set("target", req.target);
    out.Set("path", req.path);
    json::Value query = json::Value::MakeArray();
    for (const auto& [k, v] : req.query) query.Push(json::Array{json::Value(k), json::Value(v)});
    out.Set("query", std::move(query));
    json::Value headers = json::Value::MakeObject();
    for (const auto& [k, v] : req.headers) headers.Set(k, v);
    out.Set("headers", std::move(headers));
    out.Set("body_size", static_cast<uint64_t>(req.body.size()));
    out.Set("body", req.body.size() <= 4096 ? req.body : std::string());
    out.Set("client", req.client);
    res.headers.emplace_back("X-Echo", "1");
    res.body = json::Write(out);
    return res;
  };
}

HttpOptions TestOptions() {
  HttpOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  options.read_timeout = milliseconds(2000);
  options.idle_timeout = milliseconds(2000);
  return options;
}

std::unique_ptr<HttpServer> StartOrDie(HttpOptions options, HttpHandler handler) {
  auto server = HttpServer::Start(std::move(options), std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status().message();
  if (!server.ok()) return nullptr;
  return std::move(server).value();
}

json::Value ParseBody(const Response& res) {
  auto v = json::Parse(res.body());
  EXPECT_TRUE(v.ok()) << res.body();
  return v.ok() ? *v : json::Value();
}

std::string Header(const Response& res, http::field f) { return std::string(res[f]); }

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

std::string Post(std::string_view target, std::string_view body) {
  return "POST " + std::string(target) + " HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

TEST(HttpServerTest, GetSplitsPathAndDecodesQuery) {
  Recorder rec;
  auto server = StartOrDie(TestOptions(), EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->url(), "http://127.0.0.1:" + std::to_string(server->port()));

  Conn conn(server->port());
  ASSERT_TRUE(conn.connected());
  const std::string target =
      "/v1/blueprints/a%20b/entities?q=a+b%20c&x=1&x=2&include%5B%5D=p&include[]=q&flag&&e=";
  auto res = conn.Request(Get(target, "X-Custom-Header: Value One\r\n"));
  ASSERT_TRUE(res.has_value()) << conn.last_error().message();
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(Header(*res, http::field::content_type), "application/json");
  EXPECT_EQ(Header(*res, http::field::content_length), std::to_string(res->body().size()));
  EXPECT_EQ((*res)["X-Echo"], "1");

  const HttpRequest req = rec.Last();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, target);
  EXPECT_EQ(req.path, "/v1/blueprints/a%20b/entities");
  ASSERT_NE(req.Query("q"), nullptr);
  EXPECT_EQ(*req.Query("q"), "a b c");
  EXPECT_THAT(req.QueryAll("x"), ::testing::ElementsAre("1", "2"));
  EXPECT_THAT(req.QueryAll("include[]"), ::testing::ElementsAre("p", "q"));
  ASSERT_NE(req.Query("flag"), nullptr);
  EXPECT_EQ(*req.Query("flag"), "");
  ASSERT_NE(req.Query("e"), nullptr);
  EXPECT_EQ(req.Query("missing"), nullptr);
  EXPECT_EQ(req.query.size(), 7u);
  ASSERT_NE(req.Header("x-custom-header"), nullptr);
  EXPECT_EQ(*req.Header("x-custom-header"), "Value One");
  EXPECT_EQ(req.Header("X-Custom-Header"), nullptr) << "lookups use lower-case names";
  EXPECT_THAT(req.client, ::testing::StartsWith("127.0.0.1:"));

  const json::Value body = ParseBody(*res);
  EXPECT_EQ(body.Get("path").as_string(), "/v1/blueprints/a%20b/entities");
  EXPECT_EQ(body.Get("headers").Get("host").as_string(), "test");
}

TEST(HttpServerTest, PercentDecodeAndParseQuery) {
  EXPECT_EQ(PercentDecode("a%20b+c"), "a b+c");
  EXPECT_EQ(PercentDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecode("%2F%2f"), "//");
  auto q = ParseQuery("a=1&&b=x+y&a=%3D&c");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], std::make_pair(std::string("a"), std::string("1")));
  EXPECT_EQ(q[1], std::make_pair(std::string("b"), std::string("x y")));
  EXPECT_EQ(q[2], std::make_pair(std::string("a"), std::string("=")));
  EXPECT_EQ(q[3], std::make_pair(std::string("c"), std::string("")));
  EXPECT_TRUE(ParseQuery("").empty());
}

TEST(HttpServerTest, PostWithBody) {
  Recorder rec;
  auto server = StartOrDie(TestOptions(), EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  Conn conn(server->port());
  auto res = conn.Request(Post("/v1/things", R"({"a":1})"));
  ASSERT_TRUE(res.has_value()) << conn.last_error().message();
  EXPECT_EQ(res->result_int(), 200);
  const json::Value body = ParseBody(*res);
  EXPECT_EQ(body.Get("method").as_string(), "POST");
  EXPECT_EQ(body.Get("body").as_string(), R"({"a":1})");
  EXPECT_EQ(rec.Last().body, R"({"a":1})");
  EXPECT_EQ(*rec.Last().Header("content-type"), "text/plain");
}

TEST(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Recorder rec;
  auto server = StartOrDie(TestOptions(), EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  Conn conn(server->port());
  auto first = conn.Request(Get("/one"));
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->keep_alive());
  auto second = conn.Request(Post("/two", "xyz"));
  ASSERT_TRUE(second.has_value()) << conn.last_error().message();
  EXPECT_EQ(second->result_int(), 200);
  EXPECT_EQ(ParseBody(*first).Get("client"), ParseBody(*second).Get("client"));
  EXPECT_EQ(ParseBody(*second).Get("body").as_string(), "xyz");

  // Pipelined: two requests in one write, two responses in order.
  ASSERT_TRUE(conn.Send(Get("/three") + Get("/four")));
  auto third = conn.Read();
  auto fourth = conn.Read();
  ASSERT_TRUE(third.has_value() && fourth.has_value());
  EXPECT_EQ(ParseBody(*third).Get("path").as_string(), "/three");
  EXPECT_EQ(ParseBody(*fourth).Get("path").as_string(), "/four");
  EXPECT_EQ(rec.calls, 4);
}

TEST(HttpServerTest, ConnectionCloseAndHttp10CloseTheConnection) {
  Recorder rec;
  auto server = StartOrDie(TestOptions(), EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  {
    Conn conn(server->port());
    auto res = conn.Request("GET /old HTTP/1.0\r\n\r\n");
    ASSERT_TRUE(res.has_value()) << conn.last_error().message();
    EXPECT_EQ(res->version(), 10u);
    EXPECT_EQ(Header(*res, http::field::connection), "close");
    EXPECT_EQ(Header(*res, http::field::content_length), std::to_string(res->body().size()));
    auto closed = conn.WaitClosed(milliseconds(1500));
    ASSERT_TRUE(closed.has_value());
  }
  {
    Conn conn(server->port());
    auto res = conn.Request(Get("/x", "Connection: close\r\n"));
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(Header(*res, http::field::connection), "close");
    EXPECT_TRUE(conn.WaitClosed(milliseconds(1500)).has_value());
  }
  {
    Conn conn(server->port());
    auto res = conn.Request("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(Header(*res, http::field::connection), "keep-alive");
    EXPECT_TRUE(conn.Request("GET /again HTTP/1.0\r\n\r\n").has_value());
  }
}

TEST(HttpServerTest, HeadGetsLengthWithoutBody) {
  Recorder rec;
  auto server = StartOrDie(TestOptions(), EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  Conn conn(server->port());
  ASSERT_TRUE(conn.Send("HEAD /h HTTP/1.1\r\nHost: test\r\n\r\n"));
  auto head = conn.Read(/*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->result_int(), 200);
  EXPECT_TRUE(head->body().empty());
  const std::string length = Header(*head, http::field::content_length);
  EXPECT_NE(length, "");
  EXPECT_NE(length, "0");
  // The connection stays usable: no stray body bytes were sent.
  auto next = conn.Request(Get("/after"));
  ASSERT_TRUE(next.has_value()) << conn.last_error().message();
  EXPECT_EQ(ParseBody(*next).Get("path").as_string(), "/after");
}

TEST(HttpServerTest, ChunkedRequestBody) {
  Recorder rec;
  auto server = StartOrDie(TestOptions(), EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  Conn conn(server->port());
  auto res = conn.Request(
      "POST /c HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  ASSERT_TRUE(res.has_value()) << conn.last_error().message();
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(ParseBody(*res).Get("body").as_string(), "hello world");
  // Still keep-alive afterwards.
  EXPECT_TRUE(conn.Request(Get("/next")).has_value());
}

void ExpectPayloadTooLarge(const Response& res, size_t limit) {
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_EQ(Header(res, http::field::connection), "close");
  const json::Value body = ParseBody(res);
  EXPECT_EQ(body.Get("ok"), json::Value(false));
  EXPECT_EQ(body.Get("error").as_string(), "payload_too_large");
  EXPECT_EQ(body.Get("message").as_string(),
            "request body exceeds " + std::to_string(limit) + " bytes");
}

TEST(HttpServerTest, DeclaredBodyOverLimitIs413WithoutCallingTheHandler) {
  Recorder rec;
  HttpOptions options = TestOptions();
  options.body_limit = [](std::string_view) { return size_t{1024}; };
  auto server = StartOrDie(options, EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  {
    Conn conn(server->port());
    // Only the headers: the server answers before any body byte arrives.
    auto res = conn.Request("POST /big HTTP/1.1\r\nHost: test\r\nContent-Length: 1025\r\n\r\n");
    ASSERT_TRUE(res.has_value()) << conn.last_error().message();
    ExpectPayloadTooLarge(*res, 1024);
    EXPECT_TRUE(conn.WaitClosed(milliseconds(1500)).has_value());
  }
  {
    // The whole body sent at once: the client still reads the 413.
    Conn conn(server->port());
    auto res = conn.Request(Post("/big", std::string(200 * 1024, 'x')));
    ASSERT_TRUE(res.has_value()) << conn.last_error().message();
    ExpectPayloadTooLarge(*res, 1024);
  }
  {
    // "Expect: 100-continue" over the limit: 413 instead of 100.
    Conn conn(server->port());
    auto res = conn.Request(
        "POST /big HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\n"
        "Content-Length: 5000\r\n\r\n");
    ASSERT_TRUE(res.has_value());
    ExpectPayloadTooLarge(*res, 1024);
  }
  EXPECT_EQ(rec.calls, 0);
  // At the limit is fine.
  Conn conn(server->port());
  auto res = conn.Request(Post("/ok", std::string(1024, 'y')));
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(rec.calls, 1);
}

TEST(HttpServerTest, ChunkedBodyOverLimitIs413WithoutCallingTheHandler) {
  Recorder rec;
  HttpOptions options = TestOptions();
  options.body_limit = [](std::string_view) { return size_t{1024}; };
  auto server = StartOrDie(options, EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  Conn conn(server->port());
  const std::string chunk(600, 'z');
  auto res = conn.Request(
      "POST /c HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "258\r\n" +
      chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
  ASSERT_TRUE(res.has_value()) << conn.last_error().message();
  ExpectPayloadTooLarge(*res, 1024);
  EXPECT_EQ(rec.calls, 0);
}

TEST(HttpServerTest, BodyLimitPerPath) {
  Recorder rec;
  HttpOptions options = TestOptions();
  options.body_limit = [](std::string_view path) -> size_t {
    return path.substr(0, 7) == "/hooks/" ? 512 * 1024 : 1024 * 1024;
  };
  auto server = StartOrDie(options, EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  const std::string body(600 * 1024, 'b');
  {
    Conn conn(server->port());
    auto res = conn.Request(Post("/hooks/github?token=t", body));
    ASSERT_TRUE(res.has_value()) << conn.last_error().message();
    ExpectPayloadTooLarge(*res, 512 * 1024);
  }
  {
    Conn conn(server->port());
    auto res = conn.Request(Post("/v1/blueprints/x/entities/bulk", body));
    ASSERT_TRUE(res.has_value()) << conn.last_error().message();
    EXPECT_EQ(res->result_int(), 200);
    EXPECT_EQ(ParseBody(*res).Get("body_size").as_number(), 600 * 1024);
  }
  {
    Conn conn(server->port());
    auto res = conn.Request("POST /v1/x HTTP/1.1\r\nHost: test\r\nContent-Length: 1048577\r\n\r\n");
    ASSERT_TRUE(res.has_value());
    ExpectPayloadTooLarge(*res, 1024 * 1024);
  }
  EXPECT_EQ(rec.calls, 1);
}

TEST(HttpServerTest, ExpectContinue) {
  Recorder rec;
  auto server = StartOrDie(TestOptions(), EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  Conn conn(server->port());
  ASSERT_TRUE(conn.Send(
      "POST /e HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  auto interim = conn.Read();
  ASSERT_TRUE(interim.has_value()) << conn.last_error().message();
  EXPECT_EQ(interim->result_int(), 100);
  EXPECT_EQ(rec.calls, 0);
  ASSERT_TRUE(conn.Send("hello"));
  auto res = conn.Read();
  ASSERT_TRUE(res.has_value()) << conn.last_error().message();
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(ParseBody(*res).Get("body").as_string(), "hello");
}

TEST(HttpServerTest, OversizedHeadersAre431AndMalformedRequestsAre400) {
  Recorder rec;
  HttpOptions options = TestOptions();
  options.header_limit = 1024;
  auto server = StartOrDie(options, EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  {
    Conn conn(server->port());
    auto res = conn.Request(Get("/h", "X-Big: " + std::string(2000, 'h') + "\r\n"));
    ASSERT_TRUE(res.has_value()) << conn.last_error().message();
    EXPECT_EQ(res->result_int(), 431);
    EXPECT_EQ(ParseBody(*res).Get("error").as_string(), "headers_too_large");
    EXPECT_EQ(Header(*res, http::field::connection), "close");
    EXPECT_TRUE(conn.WaitClosed(milliseconds(1500)).has_value());
  }
  for (const std::string& bad :
       {std::string("NOT A REQUEST\r\n\r\n"), std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n")}) {
    Conn conn(server->port());
    auto res = conn.Request(bad);
    ASSERT_TRUE(res.has_value()) << bad << ": " << conn.last_error().message();
    EXPECT_EQ(res->result_int(), 400) << bad;
    const json::Value body = ParseBody(*res);
    EXPECT_EQ(body.Get("ok"), json::Value(false));
    EXPECT_EQ(body.Get("error").as_string(), "bad_request");
    EXPECT_TRUE(body.Get("message").is_string());
    EXPECT_EQ(Header(*res, http::field::connection), "close");
  }
  EXPECT_EQ(rec.calls, 0);
}

TEST(HttpServerTest, HandlerExceptionAndInvalidResponseAre500) {
  Recorder rec;
  auto server = StartOrDie(TestOptions(), EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  Conn conn(server->port());
  auto res = conn.Request(Get("/throw"));
  ASSERT_TRUE(res.has_value()) << conn.last_error().message();
  EXPECT_EQ(res->result_int(), 500);
  const json::Value body = ParseBody(*res);
  EXPECT_EQ(body.Get("ok"), json::Value(false));
  EXPECT_EQ(body.Get("error").as_string(), "internal_error");
  EXPECT_EQ(body.Get("message").as_string().find("boom"), std::string::npos)
      << "exception text is logged, not sent";

  // A header value with CRLF (response splitting) is refused.
  res = conn.Request(Get("/bad-header"));
  ASSERT_TRUE(res.has_value()) << conn.last_error().message();
  EXPECT_EQ(res->result_int(), 500);
  EXPECT_EQ((*res)["Set-Cookie"], "");
  EXPECT_EQ((*res)["X-Injected"], "");

  // The connection and the server keep working.
  res = conn.Request(Get("/fine"));
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result_int(), 200);
}

TEST(HttpServerTest, SlowClientIsClosedAfterReadTimeoutWithoutBlockingOthers) {
  Recorder rec;
  HttpOptions options = TestOptions();
  options.threads = 1;  // a blocked worker would stall everyone
  options.read_timeout = milliseconds(300);
  auto server = StartOrDie(options, EchoHandler(&rec));
  ASSERT_NE(server, nullptr);

  Conn slow_headers(server->port());
  Conn slow_body(server->port());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(slow_headers.Send("GET /slow HTTP/1.1\r\nHost: te"));
  ASSERT_TRUE(slow_body.Send("POST /slow HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\nab"));

  // Others are served meanwhile, on the single worker thread.
  for (int i = 0; i < 3; ++i) {
    Conn conn(server->port());
    auto res = conn.Request(Get("/fast"));
    ASSERT_TRUE(res.has_value()) << conn.last_error().message();
    EXPECT_EQ(res->result_int(), 200);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(250));

  for (Conn* conn : {&slow_headers, &slow_body}) {
    auto closed = conn->WaitClosed(milliseconds(1800));
    ASSERT_TRUE(closed.has_value()) << "the server did not close a stalled connection";
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_GE(elapsed, milliseconds(250));
    EXPECT_LT(elapsed, milliseconds(1500));
  }
  EXPECT_EQ(rec.calls, 3);
}

TEST(HttpServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  Recorder rec;
  HttpOptions options = TestOptions();
  options.idle_timeout = milliseconds(200);
  auto server = StartOrDie(options, EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  Conn conn(server->port());
  ASSERT_TRUE(conn.Request(Get("/a")).has_value());
  auto closed = conn.WaitClosed(milliseconds(1500));
  ASSERT_TRUE(closed.has_value());
  EXPECT_GE(*closed, milliseconds(150));
}

TEST(HttpServerTest, StopDrainsAnInFlightRequestAndClosesIdleConnections) {
  std::atomic<bool> entered{false};
  auto handler = [&](const HttpRequest& req) {
    if (req.path == "/slow") {
      entered = true;
      std::this_thread::sleep_for(milliseconds(300));
    }
    HttpResponse res;
    res.body = R"({"ok":true})";
    return res;
  };
  auto server = StartOrDie(TestOptions(), handler);
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();

  Conn idle(port);
  ASSERT_TRUE(idle.Request(Get("/quick")).has_value());

  std::optional<Response> slow_response;
  std::thread client([&] {
    Conn conn(port);
    slow_response = conn.Request(Get("/slow"));
  });
  while (!entered) std::this_thread::sleep_for(milliseconds(5));
  const auto start = std::chrono::steady_clock::now();
  server->Stop();
  const auto stop_took = std::chrono::steady_clock::now() - start;
  client.join();

  ASSERT_TRUE(slow_response.has_value());
  EXPECT_EQ(slow_response->result_int(), 200);
  EXPECT_EQ(slow_response->body(), R"({"ok":true})");
  EXPECT_EQ(Header(*slow_response, http::field::connection), "close");
  EXPECT_LT(stop_took, milliseconds(1500));
  // The idle keep-alive connection was closed, and nothing listens any more.
  EXPECT_TRUE(idle.WaitClosed(milliseconds(500)).has_value());
  Conn after(port);
  EXPECT_FALSE(after.connected() && after.Request(Get("/x")).has_value());
  server->Stop();  // idempotent
  server->Wait();  // returns at once
}

TEST(HttpServerTest, StopFromAHandlerAndWait) {
  HttpServer* self = nullptr;
  std::atomic<bool> ready{false};
  auto handler = [&](const HttpRequest& req) {
    while (!ready) std::this_thread::sleep_for(milliseconds(1));
    if (req.path == "/stop") self->Stop();
    return HttpResponse{};
  };
  auto server = StartOrDie(TestOptions(), handler);
  ASSERT_NE(server, nullptr);
  self = server.get();
  ready = true;
  {
    Conn conn(server->port());
    auto res = conn.Request(Get("/stop"));
    ASSERT_TRUE(res.has_value()) << conn.last_error().message();
    EXPECT_EQ(res->result_int(), 200);
    EXPECT_EQ(Header(*res, http::field::connection), "close");
  }
  server->Wait();
}

TEST(HttpServerTest, StopOnSignalReturnsWhenStoppedElsewhere) {
  auto server = StartOrDie(TestOptions(), [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_NE(server, nullptr);
  std::thread waiter([&] { StopOnSignal(*server); });
  std::this_thread::sleep_for(milliseconds(20));
  server->Stop();
  waiter.join();
}

bool SigtermIsCaught() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigCgt:", 0) == 0) {
      const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
      return (mask >> (SIGTERM - 1)) & 1;
    }
  }
  return false;
}

TEST(HttpServerTest, StopOnSignalStopsOnSigterm) {
  ASSERT_FALSE(SigtermIsCaught()) << "the test needs SIGTERM to have its default disposition";
  auto server = StartOrDie(TestOptions(), [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    StopOnSignal(*server);
    returned = true;
  });
  // Signal only once StopOnSignal's handler is installed (otherwise SIGTERM would kill the test).
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(1500);
  while (!SigtermIsCaught() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(2));
  }
  if (!SigtermIsCaught()) {
    server->Stop();
    waiter.join();
    FAIL() << "StopOnSignal did not install a SIGTERM handler";
  }
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  waiter.join();
  EXPECT_TRUE(returned);
  server->Wait();  // already stopped
  Conn after(port);
  EXPECT_FALSE(after.connected() && after.Request(Get("/x")).has_value());
  EXPECT_FALSE(SigtermIsCaught()) << "the default disposition is restored";
}

TEST(HttpServerTest, MaxConnections) {
  Recorder rec;
  HttpOptions options = TestOptions();
  options.max_connections = 1;
  auto server = StartOrDie(options, EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  auto first = std::make_unique<Conn>(server->port());
  ASSERT_TRUE(first->Request(Get("/one")).has_value());
  {
    Conn second(server->port());
    // Accepted, then refused: a 503 (best effort) and the connection closed.
    auto res = second.Read();
    if (res.has_value()) {
      EXPECT_EQ(res->result_int(), 503);
      EXPECT_EQ(ParseBody(*res).Get("error").as_string(), "service_unavailable");
    }
    EXPECT_TRUE(second.WaitClosed(milliseconds(1000)).has_value());
  }
  EXPECT_EQ(rec.calls, 1);
  // The first connection still works; once it is gone, a new one is served.
  ASSERT_TRUE(first->Request(Get("/again")).has_value());
  first.reset();
  bool served = false;
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(1500);
  while (!served && std::chrono::steady_clock::now() < deadline) {
    Conn conn(server->port());
    auto res = conn.Request(Get("/three"));
    served = res.has_value() && res->result_int() == 200;
    if (!served) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(served);
}

TEST(HttpServerTest, ConcurrentClients) {
  Recorder rec;
  auto server = StartOrDie(TestOptions(), EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&, t] {
      Conn conn(server->port());
      for (int i = 0; i < 15; ++i) {
        const std::string body = "client " + std::to_string(t) + " request " + std::to_string(i);
        auto res = conn.Request(Post("/c", body));
        if (res && res->result_int() == 200 && ParseBody(*res).Get("body").as_string() == body)
          ok++;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok, 90);
  EXPECT_EQ(rec.calls, 90);
}

TEST(HttpServerTest, PortInUseFailsWithAClearStatus) {
  auto first = StartOrDie(TestOptions(), [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_NE(first, nullptr);
  HttpOptions options = TestOptions();
  options.port = first->port();
  auto second = HttpServer::Start(options, [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("127.0.0.1:" + std::to_string(first->port())));
  EXPECT_THAT(second.status().message(), HasSubstr("in use"));

  // An address of no local interface (TEST-NET-1): no DNS involved, fails at once.
  options.port = 0;
  options.host = "192.0.2.1";
  auto bad_host = HttpServer::Start(options, [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_FALSE(bad_host.ok());
  EXPECT_THAT(bad_host.status().message(), HasSubstr("192.0.2.1:0"));
}

// Whether `text` has the shape of `pattern`, where '#' stands for a digit.
bool Matches(std::string_view text, std::string_view pattern) {
  if (text.size() != pattern.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool ok = pattern[i] == '#' ? (text[i] >= '0' && text[i] <= '9') : text[i] == pattern[i];
    if (!ok) return false;
  }
  return true;
}

// Restores the default log output and format, whatever happens in the test.
struct LogRestorer {
  ~LogRestorer() {
    SetLogOutputForTesting(nullptr);
    ConfigureLogging("info", "text").IgnoreError();
  }
};

TEST(HttpServerTest, AccessLogHasNoQueryString) {
  std::mutex mu;
  std::vector<std::string> lines;
  LogRestorer restorer;
  SetLogOutputForTesting([&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  });
  auto captured = [&](std::string_view needle) -> std::string {
    const auto deadline = std::chrono::steady_clock::now() + milliseconds(1000);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(mu);
        for (const auto& l : lines) {
          if (l.find(needle) != std::string::npos) return l;
        }
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
    return "";
  };

  ASSERT_FALSE(ConfigureLogging("verbose", "text").ok());
  ASSERT_FALSE(ConfigureLogging("info", "xml").ok());
  ASSERT_TRUE(ConfigureLogging("info", "json").ok());
  Recorder rec;
  auto server = StartOrDie(TestOptions(), EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  {
    Conn conn(server->port());
    auto res =
        conn.Request(Get("/v1/entities?token=s3cr3t-token", "Authorization: Bearer abc\r\n"));
    ASSERT_TRUE(res.has_value());
    const std::string line = captured("\"method\"");
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    auto record = json::Parse(line);
    ASSERT_TRUE(record.ok()) << line;
    EXPECT_EQ(record->Get("level").as_string(), "info");
    EXPECT_EQ(record->Get("logger").as_string(), "http");
    EXPECT_EQ(record->Get("method").as_string(), "GET");
    EXPECT_EQ(record->Get("path").as_string(), "/v1/entities");
    EXPECT_EQ(record->Get("status").as_number(), 200);
    EXPECT_EQ(record->Get("bytes").as_number(), static_cast<double>(res->body().size()));
    EXPECT_TRUE(record->Get("ms").is_number());
    EXPECT_THAT(record->Get("client").as_string(), ::testing::StartsWith("127.0.0.1:"));
    EXPECT_TRUE(Matches(record->Get("time").as_string(), "####-##-##T##:##:##.###Z"))
        << record->Get("time").as_string();
    EXPECT_TRUE(record->Get("msg").is_string());
  }
  ASSERT_TRUE(ConfigureLogging("info", "text").ok());
  {
    Conn conn(server->port());
    auto res = conn.Request(Get("/v2/text?token=s3cr3t-token"));
    ASSERT_TRUE(res.has_value());
    const std::string line = captured("/v2/text");
    ASSERT_FALSE(line.empty());
    // "2026-12-04T16:00:00.123Z info http GET /v2/text 200 123B 0.4ms 127.0.0.1:5555\n"
    std::vector<std::string> fields;
    std::istringstream in(line);
    for (std::string field; in >> field;) fields.push_back(field);
    ASSERT_EQ(fields.size(), 9u) << line;
    EXPECT_TRUE(Matches(fields[0], "####-##-##T##:##:##.###Z")) << line;
    EXPECT_EQ(fields[1], "info");
    EXPECT_EQ(fields[2], "http");
    EXPECT_EQ(fields[3], "GET");
    EXPECT_EQ(fields[4], "/v2/text");
    EXPECT_EQ(fields[5], "200");
    EXPECT_EQ(fields[6], std::to_string(res->body().size()) + "B");
    const std::string& ms = fields[7];  // "0.4ms": one decimal
    ASSERT_GE(ms.size(), 5u) << line;
    EXPECT_TRUE(Matches(std::string_view(ms).substr(ms.size() - 5), "#.#ms")) << line;
    EXPECT_EQ(fields[8].rfind("127.0.0.1:", 0), 0u) << line;
    EXPECT_EQ(line.back(), '\n');
  }
  server.reset();
  std::lock_guard<std::mutex> lock(mu);
  for (const auto& l : lines) {
    EXPECT_EQ(l.find("s3cr3t"), std::string::npos) << l;
    EXPECT_EQ(l.find("Bearer"), std::string::npos) << l;
  }
}

// A self-signed certificate for "localhost" / 127.0.0.1, written as PEM files in a temp dir.
class TempCert {
 public:
  TempCert() {
    std::string tmpl = ::testing::TempDir() + "portolan_http_test_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) return;
    dir_ = tmpl;
    cert_ = dir_ + "/cert.pem";
    key_ = dir_ + "/key.pem";
    ok_ = Generate();
  }
  ~TempCert() {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }
  const std::string& cert() const { return cert_; }
  const std::string& key() const { return key_; }

 private:
  bool Generate() {
    EVP_PKEY* pkey = EVP_EC_gen("P-256");
    X509* x509 = X509_new();
    bool ok = pkey != nullptr && x509 != nullptr;
    ok = ok && X509_set_version(x509, 2) == 1;
    ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(x509), 1) == 1;
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(x509), -3600) != nullptr;
    ok = ok && X509_gmtime_adj(X509_getm_notAfter(x509), 24 * 3600) != nullptr;
    ok = ok && X509_set_pubkey(x509, pkey) == 1;
    if (ok) {
      X509_NAME* name = X509_get_subject_name(x509);
      ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                      reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                      0) == 1 &&
           X509_set_issuer_name(x509, name) == 1;
    }
    if (ok) {
      X509V3_CTX ctx;
      X509V3_set_ctx_nodb(&ctx);
      X509V3_set_ctx(&ctx, x509, x509, nullptr, nullptr, 0);
      X509_EXTENSION* ext =
          X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
      ok = ext != nullptr && X509_add_ext(x509, ext, -1) == 1;
      X509_EXTENSION_free(ext);
    }
    ok = ok && X509_sign(x509, pkey, EVP_sha256()) > 0;
    if (ok) {
      BIO* cert_bio = BIO_new_file(cert_.c_str(), "w");
      ok = cert_bio != nullptr && PEM_write_bio_X509(cert_bio, x509) == 1;
      BIO_free(cert_bio);
      BIO* key_bio = BIO_new_file(key_.c_str(), "w");
      ok = ok && key_bio != nullptr &&
           PEM_write_bio_PrivateKey(key_bio, pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1;
      BIO_free(key_bio);
    }
    X509_free(x509);
    EVP_PKEY_free(pkey);
    return ok;
  }

  std::string dir_, cert_, key_;
  bool ok_ = false;
};

// One HTTPS GET, verifying the server against `ca_file` for the name "localhost".
std::optional<Response> HttpsGet(uint16_t port, const std::string& ca_file, std::string_view target,
                                 int max_version = 0, std::string* error = nullptr) {
  asio::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  beast::error_code ec;
  ctx.load_verify_file(ca_file, ec);
  if (ec) {
    if (error) *error = "load_verify_file: " + ec.message();
    return std::nullopt;
  }
  ctx.set_verify_mode(ssl::verify_peer);
  if (max_version) SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
  ssl::stream<beast::tcp_stream> stream(ioc, ctx);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.set_verify_callback(ssl::host_name_verification("localhost"));
  beast::get_lowest_layer(stream).socket().connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) {
    if (error) *error = "connect: " + ec.message();
    return std::nullopt;
  }
  beast::get_lowest_layer(stream).expires_after(kClientTimeout);
  http::request<http::string_body> req(http::verb::get, std::string(target), 11);
  req.set(http::field::host, "localhost");
  beast::flat_buffer buffer;
  Response res;
  beast::error_code result = asio::error::would_block;
  std::string step = "handshake";
  stream.async_handshake(ssl::stream_base::client, [&](const beast::error_code& hs_ec) {
    if (hs_ec) {
      result = hs_ec;
      return;
    }
    step = "write";
    http::async_write(stream, req, [&](const beast::error_code& w_ec, size_t) {
      if (w_ec) {
        result = w_ec;
        return;
      }
      step = "read";
      http::async_read(stream, buffer, res,
                       [&](const beast::error_code& r_ec, size_t) { result = r_ec; });
    });
  });
  ioc.run();
  if (result) {
    if (error) *error = step + ": " + result.message();
    return std::nullopt;
  }
  return res;
}

TEST(HttpServerTest, Https) {
  TempCert cert;
  ASSERT_TRUE(cert.ok());
  Recorder rec;
  HttpOptions options = TestOptions();
  options.tls_cert = cert.cert();
  options.tls_key = cert.key();
  auto server = StartOrDie(options, EchoHandler(&rec));
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->url(), "https://127.0.0.1:" + std::to_string(server->port()));

  std::string error;
  auto res = HttpsGet(server->port(), cert.cert(), "/v1/secure?x=1", 0, &error);
  ASSERT_TRUE(res.has_value()) << error;
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(ParseBody(*res).Get("path").as_string(), "/v1/secure");

  res = HttpsGet(server->port(), cert.cert(), "/tls12", TLS1_2_VERSION, &error);
  ASSERT_TRUE(res.has_value()) << "TLS 1.2: " << error;
  EXPECT_EQ(res->result_int(), 200);

  // Plain HTTP on the HTTPS port gets no HTTP response.
  Conn plain(server->port());
  EXPECT_FALSE(plain.Request(Get("/plain")).has_value());
  EXPECT_EQ(rec.calls, 2);
}

TEST(HttpServerTest, TlsConfigurationErrorsNameTheFile) {
  TempCert cert;
  ASSERT_TRUE(cert.ok());
  auto handler = [](const HttpRequest&) { return HttpResponse{}; };

  HttpOptions options = TestOptions();
  options.tls_cert = cert.dir() + "/missing/cert.pem";
  options.tls_key = cert.key();
  auto r = HttpServer::Start(options, handler);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(options.tls_cert));

  options.tls_cert = cert.cert();
  options.tls_key = cert.dir() + "/missing/key.pem";
  r = HttpServer::Start(options, handler);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(options.tls_key));

  const std::string garbage = cert.dir() + "/garbage.pem";
  std::ofstream(garbage) << "not a certificate\n";
  options.tls_cert = garbage;
  options.tls_key = cert.key();
  r = HttpServer::Start(options, handler);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(garbage));

  options.tls_cert = cert.cert();
  options.tls_key = garbage;
  r = HttpServer::Start(options, handler);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(garbage));

  // A key that is not the certificate's.
  TempCert other;
  ASSERT_TRUE(other.ok());
  options.tls_key = other.key();
  r = HttpServer::Start(options, handler);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("does not match"));

  options.tls_key.clear();
  r = HttpServer::Start(options, handler);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("tls_key"));
}

}  // namespace
}  // namespace portolan::server
