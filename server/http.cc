#include "server/http.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <spdlog/logger.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "engine/base/json.h"
#include "server/log.h"

namespace portolan::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Bytes read while waiting for the start of a request.
constexpr size_t kFirstReadSize = 4096;
// A connection's read buffer is shrunk back when a large request grew it beyond this.
constexpr size_t kIdleBufferCapacity = 64 * 1024;
// How long a closing connection waits for the client's end (TCP FIN / TLS close_notify) while
// discarding what it still sends, so the client reads the response before the socket is closed.
constexpr std::chrono::milliseconds kMaxLinger{1000};

std::string_view SV(beast::string_view s) { return std::string_view(s.data(), s.size()); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  const asio::ip::address addr = ep.address();
  std::string host = addr.to_string();
  if (addr.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

std::string OpenSslMessage(const beast::error_code& ec) {
  std::string message = ec.message();
  ERR_clear_error();
  return message;
}

// The 503 written (best effort) to connections beyond max_connections.
const std::string& OverloadResponse() {
  static const std::string* response = [] {
    const std::string body =
        R"({"ok":false,"error":"service_unavailable","message":"too many connections"})";
    return new std::string(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  }();
  return *response;
}

class SessionBase;

// State shared by the server and its connections. Connections hold it by shared_ptr, so it
// outlives any of them whatever the destruction order.
struct Shared {
  HttpOptions options;
  HttpHandler handler;
  std::unique_ptr<ssl::context> tls;  // set: HTTPS only
  std::shared_ptr<spdlog::logger> log;
  std::atomic<bool> stopping{false};

  std::mutex mu;               // guards what follows
  std::condition_variable cv;  // notified when `sessions` drops to 0
  size_t sessions = 0;         // open connections (reserved at accept)
  uint64_t next_id = 0;
  std::unordered_map<uint64_t, std::weak_ptr<SessionBase>> registry;

  std::atomic<int64_t> last_overload_warning_ms{0};

  size_t BodyLimit(std::string_view path) const {
    return options.body_limit ? options.body_limit(path) : kDefaultBodyLimit;
  }

  std::vector<std::shared_ptr<SessionBase>> LiveSessions() {
    std::vector<std::shared_ptr<SessionBase>> out;
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [id, weak] : registry) {
      if (auto s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  }
};

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  SessionBase(std::shared_ptr<Shared> shared, uint64_t id, std::string client)
      : shared_(std::move(shared)), id_(id), client_(std::move(client)) {}
  SessionBase(const SessionBase&) = delete;
  SessionBase& operator=(const SessionBase&) = delete;

  virtual ~SessionBase() {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->registry.erase(id_);
    if (--shared_->sessions == 0) shared_->cv.notify_all();
  }

  // Starts the connection (on its strand).
  virtual void Run() = 0;
  // Thread-safe: closes the connection if it is idle (handshaking or waiting for a request).
  virtual void RequestStop() = 0;
  // Closes the socket. Only while no worker thread runs the io_context.
  virtual void ForceClose() = 0;

 protected:
  std::shared_ptr<Shared> shared_;
  const uint64_t id_;
  const std::string client_;
};

template <bool kTls>
class Session final : public SessionBase {
 public:
  using Stream = std::conditional_t<kTls, ssl::stream<beast::tcp_stream>, beast::tcp_stream>;

  template <class... Args>
  Session(std::shared_ptr<Shared> shared, uint64_t id, std::string client, Args&&... args)
      : SessionBase(std::move(shared), id, std::move(client)),
        stream_(std::forward<Args>(args)...) {}

  void Run() override {
    asio::dispatch(stream_.get_executor(), [self = Self()] { self->Begin(); });
  }

  void RequestStop() override {
    asio::post(stream_.get_executor(), [self = Self()] {
      if (self->phase_ == Phase::kHandshake || self->phase_ == Phase::kIdle) self->Close();
    });
  }

  void ForceClose() override { Close(); }

 private:
  enum class Phase { kHandshake, kIdle, kReading, kHandling, kWriting, kClosing };

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  const HttpOptions& options() const { return shared_->options; }

  void Begin() {
    if (shared_->stopping) {
      Close();
      return;
    }
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      Lowest().expires_after(options().read_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = Self()](const beast::error_code& ec) {
                                if (ec) {
                                  self->shared_->log->debug("TLS handshake with {} failed: {}",
                                                            self->client_, ec.message());
                                  ERR_clear_error();
                                  self->Close();
                                  return;
                                }
                                self->WaitForRequest();
                              });
    } else {
      WaitForRequest();
    }
  }

  // Between requests: waits (idle_timeout; read_timeout on a new connection) for a first byte.
  void WaitForRequest() {
    phase_ = Phase::kIdle;
    if (shared_->stopping) {
      Close();
      return;
    }
    if (buffer_.size() > 0) {  // pipelined
      ReadHeader();
      return;
    }
    if (buffer_.capacity() > kIdleBufferCapacity) buffer_.shrink_to_fit();
    Lowest().expires_after(first_request_ ? options().read_timeout : options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstReadSize),
                            [self = Self()](const beast::error_code& ec, size_t n) {
                              if (ec) {
                                self->Close();
                                return;
                              }
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    phase_ = Phase::kReading;
    started_ = SteadyClock::now();
    log_method_ = "-";
    log_path_ = "-";
    head_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(
        std::min<size_t>(options().header_limit, std::numeric_limits<uint32_t>::max())));
    parser_->body_limit(boost::none);  // checked against the path's limit once it is known
    // One deadline for the whole request: headers, an optional 100 Continue and the body.
    Lowest().expires_after(options().read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = Self()](const beast::error_code& ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(const beast::error_code& ec) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    const auto& req = parser_->get();
    log_method_ = std::string(SV(req.method_string()));
    const std::string_view target = SV(req.target());
    log_path_ = std::string(target.substr(0, target.find('?')));
    head_ = req.method() == http::verb::head;
    try {
      body_limit_ = shared_->BodyLimit(log_path_);
    } catch (const std::exception& e) {
      shared_->log->error("body_limit failed on {} {}: {}", log_method_, log_path_, e.what());
      SendError(500, "internal_error", "internal server error");
      return;
    } catch (...) {
      shared_->log->error("body_limit failed on {} {}", log_method_, log_path_);
      SendError(500, "internal_error", "internal server error");
      return;
    }
    if (const auto length = parser_->content_length(); length && *length > body_limit_) {
      SendTooLarge();
      return;
    }
    parser_->body_limit(body_limit_);
    if (parser_->is_done()) {
      Handle();
      return;
    }
    if (req.version() >= 11 && beast::iequals(req[http::field::expect], "100-continue")) {
      continue_ = http::response<http::empty_body>(http::status::continue_, req.version());
      http::async_write(stream_, continue_, [self = Self()](const beast::error_code& ec, size_t) {
        if (ec) {
          self->Close();
          return;
        }
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = Self()](const beast::error_code& ec, size_t) {
                       if (ec) {
                         self->OnReadError(ec);
                         return;
                       }
                       self->Handle();
                     });
  }

  void OnReadError(const beast::error_code& ec) {
    static const beast::error_category& http_category =
        http::make_error_code(http::error::bad_target).category();
    if (ec == http::error::body_limit) {
      SendTooLarge();
    } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      SendError(431, "headers_too_large",
                "request headers exceed " + std::to_string(options().header_limit) + " bytes");
    } else if (ec.category() == http_category && ec != http::error::end_of_stream &&
               ec != http::error::partial_message) {
      SendError(400, "bad_request", "malformed HTTP request: " + ec.message());
    } else {
      // The client went away, timed out (beast::error::timeout), or TLS failed: nobody to answer.
      if (ec == beast::error::timeout) {
        shared_->log->debug("closing connection from {}: request not received within {}ms", client_,
                            options().read_timeout.count());
      }
      if constexpr (kTls) ERR_clear_error();
      Close();
    }
  }

  void SendTooLarge() {
    SendError(413, "payload_too_large",
              "request body exceeds " + std::to_string(body_limit_) + " bytes");
  }

  // An error response, then close: the rest of the request is not read.
  void SendError(int status, std::string_view code, const std::string& message) {
    keep_alive_ = false;
    linger_ = true;
    Build(JsonError(status, code, message), 11);
    Write();
  }

  void Handle() {
    phase_ = Phase::kHandling;
    http::request<http::string_body> msg = parser_->release();
    parser_.reset();

    HttpRequest request;
    request.method = std::string(SV(msg.method_string()));
    request.target = std::string(SV(msg.target()));
    const size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) {
      request.query = ParseQuery(std::string_view(request.target).substr(question + 1));
    }
    for (const auto& field : msg) {
      request.headers.emplace_back(Lower(SV(field.name_string())), std::string(SV(field.value())));
    }
    request.body = std::move(msg.body());
    request.client = client_;

    HttpResponse response;
    bool ok = false;
    try {
      response = shared_->handler(request);
      ok = true;
    } catch (const std::exception& e) {
      shared_->log->error("handler failed on {} {}: {}", log_method_, log_path_, e.what());
    } catch (...) {
      shared_->log->error("handler failed on {} {}: unknown exception", log_method_, log_path_);
    }
    if (!ok) response = JsonError(500, "internal_error", "internal server error");

    keep_alive_ = msg.keep_alive() && !shared_->stopping;
    linger_ = false;
    Build(std::move(response), msg.version());
    Write();
  }

  // Why `r` cannot be sent as is ("" when it can).
  static std::string Invalid(const HttpResponse& r) {
    if (r.status < 200 || r.status > 599) return "status " + std::to_string(r.status);
    if (HasLineBreakOrNul(r.content_type)) return "Content-Type with a line break";
    for (const auto& [name, value] : r.headers) {
      if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
        return "header name '" + name + "'";
      }
      if (HasLineBreakOrNul(value)) return "header '" + name + "' with a line break";
    }
    return "";
  }

  void Build(HttpResponse r, unsigned version) {
    if (std::string why = Invalid(r); !why.empty()) {
      shared_->log->error("invalid response from handler for {} {}: {}", log_method_, log_path_,
                          why);
      r = JsonError(500, "internal_error", "internal server error");
    }
    try {
      BuildUnchecked(std::move(r), version);
    } catch (const std::exception& e) {
      shared_->log->error("cannot build the response for {} {}: {}", log_method_, log_path_,
                          e.what());
      BuildUnchecked(JsonError(500, "internal_error", "internal server error"), version);
    }
  }

  void BuildUnchecked(HttpResponse r, unsigned version) {
    res_ = {};
    res_.version(version);
    res_.result(static_cast<unsigned>(r.status));
    const bool bodyless = r.status == 204 || r.status == 304;
    if (!r.content_type.empty() && !bodyless) {
      res_.set(http::field::content_type, r.content_type);
    }
    for (const auto& [name, value] : r.headers) {
      if (beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
          beast::iequals(name, "connection")) {
        continue;
      }
      res_.insert(name, value);
    }
    if (bodyless) {
      res_.body().clear();
    } else if (head_) {
      res_.content_length(r.body.size());  // the length a GET would have; no body is sent
    } else {
      res_.body() = std::move(r.body);
      res_.prepare_payload();
    }
    if (!keep_alive_) {
      res_.set(http::field::connection, "close");
    } else if (version < 11) {
      res_.set(http::field::connection, "keep-alive");
    }
  }

  void Write() {
    phase_ = Phase::kWriting;
    log_status_ = res_.result_int();
    log_bytes_ = res_.body().size();
    Lowest().expires_after(options().write_timeout);
    http::async_write(stream_, res_,
                      [self = Self()](const beast::error_code& ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(const beast::error_code& ec) {
    const double ms =
        std::chrono::duration<double, std::milli>(SteadyClock::now() - started_).count();
    LogAccess({log_method_, log_path_, log_status_, log_bytes_, ms, client_});
    if (ec) {
      Close();
      return;
    }
    if (!keep_alive_ || shared_->stopping) {
      Shutdown();
      return;
    }
    first_request_ = false;
    res_ = {};
    WaitForRequest();
  }

  // Graceful close after a response: signal the end of our side, then wait briefly for the
  // client's while discarding what it still sends. Closing with unread input would reset the
  // connection, and a reset can destroy the response before the client reads it.
  void Shutdown() {
    phase_ = Phase::kClosing;
    Lowest().expires_after(std::min<std::chrono::milliseconds>(options().read_timeout, kMaxLinger));
    if constexpr (kTls) {
      if (!linger_) {
        // close_notify, then the client's close_notify (or its FIN, an error, the deadline).
        stream_.async_shutdown([self = Self()](const beast::error_code&) {
          ERR_clear_error();
          self->Close();
        });
        return;
      }
    } else {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    Discard();
  }

  void Discard() {
    stream_.async_read_some(buffer_.prepare(kFirstReadSize),
                            [self = Self()](const beast::error_code& ec, size_t) {
                              if (ec) {
                                if constexpr (kTls) ERR_clear_error();
                                self->Close();
                                return;
                              }
                              self->Discard();
                            });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  http::response<http::empty_body> continue_;
  Phase phase_ = Phase::kHandshake;
  bool first_request_ = true;
  bool keep_alive_ = false;
  bool linger_ = false;  // the request was not read to its end
  bool head_ = false;
  bool closed_ = false;
  size_t body_limit_ = kDefaultBodyLimit;
  SteadyClock::time_point started_;
  std::string log_method_ = "-";
  std::string log_path_ = "-";
  int log_status_ = 0;
  size_t log_bytes_ = 0;
};

int NoPassphrase(char*, int, int, void*) { return 0; }

// The oldest OpenSSL error on this thread's queue (or `fallback`), clearing the queue.
std::string OpenSslErrorQueue(const char* fallback) {
  const unsigned long code = ERR_get_error();
  std::string message = fallback;
  if (const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr) {
    message = reason;
  } else if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    message = buf;
  }
  ERR_clear_error();
  return message;
}

Status CheckReadable(const std::string& path, std::string_view what) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return InvalidArgument("cannot read TLS " + std::string(what) + " file '" + path +
                           "': " + std::error_code(errno, std::generic_category()).message());
  }
  std::fclose(f);
  return Status::Ok();
}

Result<std::unique_ptr<ssl::context>> MakeTlsContext(const std::string& cert,
                                                     const std::string& key) {
  PORTOLAN_RETURN_IF_ERROR(CheckReadable(cert, "certificate"));
  PORTOLAN_RETURN_IF_ERROR(CheckReadable(key, "private key"));
  std::unique_ptr<ssl::context> ctx;
  try {
    ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  } catch (const std::exception& e) {
    ERR_clear_error();
    return Internal(std::string("cannot create a TLS context: ") + e.what());
  }
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  beast::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  ctx->use_certificate_chain_file(cert, ec);
  if (ec) {
    return InvalidArgument("invalid TLS certificate file '" + cert + "': " + OpenSslMessage(ec));
  }
  // The key is parsed here rather than by SSL_CTX_use_PrivateKey_file so that an unparsable key
  // and a key not matching the certificate get distinct messages, and so that an encrypted key
  // fails instead of prompting for a passphrase on the terminal.
  EVP_PKEY* pkey = nullptr;
  if (BIO* bio = BIO_new_file(key.c_str(), "r")) {
    pkey = PEM_read_bio_PrivateKey(bio, nullptr, NoPassphrase, nullptr);
    BIO_free(bio);
  }
  if (pkey == nullptr) {
    return InvalidArgument("invalid TLS private key file '" + key +
                           "': expected an unencrypted PEM private key (" +
                           OpenSslErrorQueue("none found") + ")");
  }
  const bool key_set = SSL_CTX_use_PrivateKey(native, pkey) == 1;
  EVP_PKEY_free(pkey);
  if (!key_set || SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return InvalidArgument("TLS private key file '" + key +
                           "' does not match the certificate in '" + cert + "'");
  }
  return ctx;
}

}  // namespace

struct HttpServer::Impl {
  explicit Impl(std::shared_ptr<Shared> s)
      : shared(std::move(s)),
        acceptor(asio::make_strand(ioc)),
        accept_retry(acceptor.get_executor()),
        work(asio::make_work_guard(ioc)) {}

  void Accept() {
    acceptor.async_accept(asio::make_strand(ioc),
                          [this](const beast::error_code& ec, tcp::socket socket) {
                            OnAccept(ec, std::move(socket));
                          });
  }

  void OnAccept(const beast::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || shared->stopping) return;
    if (ec == asio::error::connection_aborted) {  // the client gave up before the accept
      Accept();
      return;
    }
    if (ec) {
      // E.g. out of file descriptors: retry shortly instead of spinning.
      shared->log->warn("accept failed: {}", ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](const beast::error_code& wait_ec) {
        if (!wait_ec && !shared->stopping) Accept();
      });
      return;
    }
    beast::error_code ignored;
    const tcp::endpoint peer = socket.remote_endpoint(ignored);
    socket.set_option(tcp::no_delay(true), ignored);

    uint64_t id = 0;
    bool over_limit = false;
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      if (shared->sessions >= shared->options.max_connections) {
        over_limit = true;
      } else {
        ++shared->sessions;
        id = shared->next_id++;
      }
    }
    if (over_limit) {
      RejectOverLimit(socket, peer);
    } else {
      std::shared_ptr<SessionBase> session;
      if (shared->tls) {
        session = std::make_shared<Session<true>>(shared, id, FormatEndpoint(peer),
                                                  std::move(socket), *shared->tls);
      } else {
        session =
            std::make_shared<Session<false>>(shared, id, FormatEndpoint(peer), std::move(socket));
      }
      {
        std::lock_guard<std::mutex> lock(shared->mu);
        shared->registry.emplace(id, session);
      }
      session->Run();
    }
    Accept();
  }

  void RejectOverLimit(tcp::socket& socket, const tcp::endpoint& peer) {
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now().time_since_epoch())
            .count();
    int64_t last = shared->last_overload_warning_ms.load();
    if (now_ms - last >= 1000 &&
        shared->last_overload_warning_ms.compare_exchange_strong(last, now_ms)) {
      shared->log->warn("refusing connection from {}: {} connections open (max_connections)",
                        FormatEndpoint(peer), shared->options.max_connections);
    }
    beast::error_code ignored;
    if (!shared->tls) {
      // Best effort, never blocking: the socket buffer of a new connection is empty.
      socket.non_blocking(true, ignored);
      socket.write_some(asio::buffer(OverloadResponse()), ignored);
    }
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  void RunWorker() {
    t_worker_of = this;
    while (true) {
      try {
        ioc.run();
        break;
      } catch (const std::exception& e) {
        shared->log->error("uncaught exception on a server thread: {}", e.what());
      } catch (...) {
        shared->log->error("uncaught exception on a server thread");
      }
    }
    t_worker_of = nullptr;
  }

  bool OnWorkerThread() const { return t_worker_of == this; }

  static thread_local const Impl* t_worker_of;

  std::shared_ptr<Shared> shared;
  asio::io_context ioc;  // before the I/O objects, so it is destroyed after them
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  std::string url;

  std::mutex stop_mu;  // serializes Stop()
  std::mutex state_mu;
  std::condition_variable state_cv;
  bool stopped = false;  // guarded by state_mu
  std::thread stopper;   // guarded by state_mu: completes a Stop() requested from a handler
};

thread_local const HttpServer::Impl* HttpServer::Impl::t_worker_of = nullptr;

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpOptions options, HttpHandler handler) {
  if (!handler) return InvalidArgument("HttpServer: no handler");
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return InvalidArgument(
        "HTTPS needs both a certificate (tls_cert) and a private key (tls_key); only the " +
        std::string(options.tls_cert.empty() ? "key" : "certificate") + " is set");
  }
  if (options.threads < 0) return InvalidArgument("HttpServer: threads must be >= 0");
  if (options.max_connections == 0) {
    return InvalidArgument("HttpServer: max_connections must be > 0");
  }

  auto shared = std::make_shared<Shared>();
  shared->log = Logger("http");
  if (!options.tls_cert.empty()) {
    PORTOLAN_ASSIGN_OR_RETURN(shared->tls, MakeTlsContext(options.tls_cert, options.tls_key));
  }
  shared->handler = std::move(handler);
  shared->options = std::move(options);
  const HttpOptions& opts = shared->options;

  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(shared);
  } catch (const std::exception& e) {
    return Internal(std::string("cannot create the server's I/O context: ") + e.what());
  }

  beast::error_code ec;
  tcp::endpoint endpoint;
  const asio::ip::address address = asio::ip::make_address(opts.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, opts.port);
  } else {
    tcp::resolver resolver(impl->ioc);
    auto results = resolver.resolve(opts.host, std::to_string(opts.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      return InvalidArgument("cannot resolve host '" + opts.host +
                             "': " + (ec ? ec.message() : std::string("no address")));
    }
    endpoint = results.begin()->endpoint();
  }
  std::string where = FormatEndpoint(endpoint);
  if (endpoint.address().to_string() != opts.host) where = opts.host + " (" + where + ")";
  tcp::acceptor& acceptor = impl->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); ec) {
    return Internal("cannot open a socket to listen on " + where + ": " + ec.message());
  }
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (acceptor.bind(endpoint, ec); ec) {
    return FailedPrecondition("cannot listen on " + where + ": " + ec.message());
  }
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return FailedPrecondition("cannot listen on " + where + ": " + ec.message());
  }
  impl->port = acceptor.local_endpoint(ec).port();
  if (ec) return Internal("cannot read the bound address for " + where + ": " + ec.message());
  std::string url_host = opts.host;
  if (url_host.find(':') != std::string::npos) url_host = "[" + url_host + "]";  // IPv6
  impl->url = std::string(shared->tls ? "https://" : "http://") + url_host + ":" +
              std::to_string(impl->port);

  impl->Accept();
  const int threads = opts.threads > 0
                          ? opts.threads
                          : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  try {
    for (int i = 0; i < threads; ++i) {
      impl->threads.emplace_back([raw = impl.get()] { raw->RunWorker(); });
    }
  } catch (const std::exception& e) {
    std::unique_ptr<HttpServer> partial(new HttpServer(std::move(impl)));
    partial->Stop();
    return Internal(std::string("cannot start the server threads: ") + e.what());
  }
  shared->log->info("listening on {}", impl->url);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() {
  Stop();
  std::thread stopper;
  {
    std::lock_guard<std::mutex> lock(impl_->state_mu);
    stopper = std::move(impl_->stopper);
  }
  if (stopper.joinable()) stopper.join();
}

uint16_t HttpServer::port() const { return impl_->port; }

std::string HttpServer::url() const { return impl_->url; }

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (s.OnWorkerThread()) {
    // Joining the workers from one of them would deadlock: a helper thread does the work.
    s.shared->stopping = true;
    std::lock_guard<std::mutex> lock(s.state_mu);
    if (!s.stopped && !s.stopper.joinable()) s.stopper = std::thread([this] { Stop(); });
    return;
  }
  std::lock_guard<std::mutex> stop_lock(s.stop_mu);
  {
    std::lock_guard<std::mutex> lock(s.state_mu);
    if (s.stopped) return;
  }
  Shared& shared = *s.shared;
  shared.stopping = true;

  // No new connections.
  asio::post(s.acceptor.get_executor(), [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.accept_retry.cancel();
  });
  // Idle connections close now; busy ones close after their response.
  for (const auto& session : shared.LiveSessions()) session->RequestStop();
  {
    std::unique_lock<std::mutex> lock(shared.mu);
    if (!shared.cv.wait_for(lock, shared.options.drain_timeout,
                            [&] { return shared.sessions == 0; })) {
      shared.log->warn("stopping with {} connection(s) still open after {}ms", shared.sessions,
                       shared.options.drain_timeout.count());
    }
  }

  s.work.reset();
  s.ioc.stop();
  for (std::thread& t : s.threads) {
    if (t.joinable()) t.join();
  }
  s.threads.clear();
  // No thread runs the io_context any more: close what is left directly. Their pending handlers
  // are destroyed with the io_context.
  beast::error_code ignored;
  s.acceptor.close(ignored);
  for (const auto& session : shared.LiveSessions()) session->ForceClose();
  shared.log->info("stopped");

  {
    std::lock_guard<std::mutex> lock(s.state_mu);
    s.stopped = true;
  }
  s.state_cv.notify_all();
}

void HttpServer::Wait() {
  std::unique_lock<std::mutex> lock(impl_->state_mu);
  impl_->state_cv.wait(lock, [&] { return impl_->stopped; });
}

void StopOnSignal(HttpServer& server) {
  asio::io_context ioc(1);
  asio::signal_set signals(ioc);
  beast::error_code ec;
  signals.add(SIGINT, ec);
  signals.add(SIGTERM, ec);
  signals.async_wait([](const beast::error_code& wait_ec, int signal_number) {
    if (!wait_ec) {
      Logger("http")->info("received {}, stopping", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    }
  });
  // Also return when the server is stopped by other means.
  std::thread waiter([&] {
    server.Wait();
    asio::post(ioc, [&signals] {
      beast::error_code ignored;
      signals.cancel(ignored);
    });
  });
  ioc.run();
  server.Stop();
  waiter.join();
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view part = query.substr(start, end - start);
    if (!part.empty()) {
      const size_t eq = part.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(PercentDecode(part, true), "");
      } else {
        out.emplace_back(PercentDecode(part.substr(0, eq), true),
                         PercentDecode(part.substr(eq + 1), true));
      }
    }
    start = end + 1;
  }
  return out;
}

HttpResponse JsonError(int status, std::string_view code, std::string_view message) {
  json::Value body = json::Value::MakeObject();
  body.Set("ok", false);
  body.Set("error", code);
  body.Set("message", message);
  HttpResponse response;
  response.status = status;
  response.body = json::Write(body);
  return response;
}

const std::string* HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

const std::string* HttpRequest::Query(std::string_view key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::vector<std::string> HttpRequest::QueryAll(std::string_view key) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == key) out.push_back(v);
  }
  return out;
}

}  // namespace portolan::server
