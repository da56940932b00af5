#include "mapping/payload_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "engine/base/json.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define PORTOLAN_STREAM_X86 1
#endif

namespace portolan::mapping {

bool CanStream(const PayloadOptions& options) { return options.items_path.empty(); }

namespace {

// ---------------------------------------------------------------------------------------------
// Block kernels: 64 input bytes -> bit masks (bit i = byte i). Strings are found the simdjson
// way: a quote is real unless escaped by an odd run of backslashes; prefix-XOR of the real
// quotes gives the bytes inside strings (opening quote included, closing quote excluded).

constexpr uint64_t kEven = 0x5555555555555555ULL;

struct BlockMasks {
  uint64_t quote;   // unescaped '"'
  uint64_t in_str;  // inside a string (from its opening quote up to, excluding, its closing one)
  uint64_t open;    // '{' or '[' outside strings
  uint64_t close;   // '}' or ']' outside strings
  uint64_t nl;      // '\n'
};

struct KernelState {
  uint64_t prev_escaped = 0;    // 1 if the next block's first byte is escaped
  uint64_t prev_in_string = 0;  // all ones if the previous block ended inside a string
};

using Kernel = void (*)(const char* p, size_t blocks, KernelState* state, BlockMasks* out);

inline uint64_t EscapedBits(uint64_t backslash, uint64_t* prev_escaped) {
  backslash &= ~*prev_escaped;
  const uint64_t follows_escape = (backslash << 1) | *prev_escaped;
  const uint64_t odd_starts = backslash & ~kEven & ~follows_escape;
  uint64_t on_even;
  *prev_escaped = __builtin_add_overflow(odd_starts, backslash, &on_even) ? 1 : 0;
  return (kEven ^ (on_even << 1)) & follows_escape;
}

inline uint64_t PrefixXorPortable(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

// in_str, open and close from the prefix-XOR of the real quotes and the raw bracket masks.
// (The kernels keep the KernelState carries in locals: through the pointer, every block would
// wait on a store-to-load round trip.)
inline void Derive(uint64_t open, uint64_t close, uint64_t in_str_prefix,
                   uint64_t* prev_in_string, BlockMasks* m) {
  m->in_str = in_str_prefix ^ *prev_in_string;
  *prev_in_string = static_cast<uint64_t>(static_cast<int64_t>(m->in_str) >> 63);
  m->open = open & ~m->in_str;
  m->close = close & ~m->in_str;
}

void KernelScalar(const char* p, size_t blocks, KernelState* st, BlockMasks* out) {
  uint64_t prev_escaped = st->prev_escaped, prev_in_string = st->prev_in_string;
  for (size_t k = 0; k < blocks; ++k, p += 64) {
    uint64_t quote = 0, backslash = 0, nl = 0, open = 0, close = 0;
    for (int i = 0; i < 64; ++i) {
      const uint64_t bit = uint64_t{1} << i;
      switch (p[i]) {
        case '"': quote |= bit; break;
        case '\\': backslash |= bit; break;
        case '\n': nl |= bit; break;
        case '{':
        case '[': open |= bit; break;
        case '}':
        case ']': close |= bit; break;
        default: break;
      }
    }
    BlockMasks& m = out[k];
    m.quote = quote & ~EscapedBits(backslash, &prev_escaped);
    m.nl = nl;
    Derive(open, close, PrefixXorPortable(m.quote), &prev_in_string, &m);
  }
  st->prev_escaped = prev_escaped;
  st->prev_in_string = prev_in_string;
}

#ifdef PORTOLAN_STREAM_X86

inline uint64_t Mask16x4(__m128i a, __m128i b, __m128i c, __m128i d) {
  return static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(a))) |
         (static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(b))) << 16) |
         (static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(c))) << 32) |
         (static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(d))) << 48);
}

void KernelSse2(const char* p, size_t blocks, KernelState* st, BlockMasks* out) {
  const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), nl = _mm_set1_epi8('\n');
  const __m128i x20 = _mm_set1_epi8(0x20), ob = _mm_set1_epi8('{'), cb = _mm_set1_epi8('}');
  uint64_t prev_escaped = st->prev_escaped, prev_in_string = st->prev_in_string;
  for (size_t k = 0; k < blocks; ++k, p += 64) {
    __m128i v[4];
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * j));
    }
    __m128i mq[4], mb[4], mn[4], mo[4], mc[4];
    for (int j = 0; j < 4; ++j) {
      mq[j] = _mm_cmpeq_epi8(v[j], q);
      mb[j] = _mm_cmpeq_epi8(v[j], bs);
      mn[j] = _mm_cmpeq_epi8(v[j], nl);
      // '{' 0x7B and '[' 0x5B (and '}' / ']') differ only in bit 0x20.
      const __m128i lower = _mm_or_si128(v[j], x20);
      mo[j] = _mm_cmpeq_epi8(lower, ob);
      mc[j] = _mm_cmpeq_epi8(lower, cb);
    }
    const uint64_t quote = Mask16x4(mq[0], mq[1], mq[2], mq[3]);
    const uint64_t backslash = Mask16x4(mb[0], mb[1], mb[2], mb[3]);
    BlockMasks& m = out[k];
    m.nl = Mask16x4(mn[0], mn[1], mn[2], mn[3]);
    m.quote = quote & ~EscapedBits(backslash, &prev_escaped);
    Derive(Mask16x4(mo[0], mo[1], mo[2], mo[3]),
           Mask16x4(mc[0], mc[1], mc[2], mc[3]), PrefixXorPortable(m.quote), &prev_in_string, &m);
  }
  st->prev_escaped = prev_escaped;
  st->prev_in_string = prev_in_string;
}

__attribute__((target("avx2"))) inline uint64_t Mask32x2(__m256i lo, __m256i hi) {
  return static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(lo))) |
         (static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(hi))) << 32);
}

__attribute__((target("avx2,pclmul"))) void KernelAvx2(const char* p, size_t blocks,
                                                        KernelState* st, BlockMasks* out) {
  const __m256i q = _mm256_set1_epi8('"'), bs = _mm256_set1_epi8('\\'),
                nl = _mm256_set1_epi8('\n');
  const __m256i x20 = _mm256_set1_epi8(0x20), ob = _mm256_set1_epi8('{'),
                cb = _mm256_set1_epi8('}');
  const __m128i ones = _mm_set1_epi8(static_cast<char>(0xFF));
  uint64_t prev_escaped = st->prev_escaped, prev_in_string = st->prev_in_string;
  for (size_t k = 0; k < blocks; ++k, p += 64) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    const uint64_t quote = Mask32x2(_mm256_cmpeq_epi8(a, q), _mm256_cmpeq_epi8(b, q));
    const uint64_t backslash = Mask32x2(_mm256_cmpeq_epi8(a, bs), _mm256_cmpeq_epi8(b, bs));
    const __m256i la = _mm256_or_si256(a, x20), lb = _mm256_or_si256(b, x20);
    BlockMasks& m = out[k];
    m.nl = Mask32x2(_mm256_cmpeq_epi8(a, nl), _mm256_cmpeq_epi8(b, nl));
    m.quote = quote & ~EscapedBits(backslash, &prev_escaped);
    const uint64_t in_str_prefix = static_cast<uint64_t>(_mm_cvtsi128_si64(
        _mm_clmulepi64_si128(_mm_set_epi64x(0, static_cast<long long>(m.quote)), ones, 0)));
    Derive(Mask32x2(_mm256_cmpeq_epi8(la, ob), _mm256_cmpeq_epi8(lb, ob)),
           Mask32x2(_mm256_cmpeq_epi8(la, cb), _mm256_cmpeq_epi8(lb, cb)), in_str_prefix,
           &prev_in_string, &m);
  }
  st->prev_escaped = prev_escaped;
  st->prev_in_string = prev_in_string;
}

bool Avx2Supported() {
  static const bool supported =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul");
  return supported;
}

#endif  // PORTOLAN_STREAM_X86

std::atomic<int> g_kernel_override{static_cast<int>(internal::ScanKernel::kAuto)};

Kernel KernelFor(internal::ScanKernel k) {
  switch (k) {
#ifdef PORTOLAN_STREAM_X86
    case internal::ScanKernel::kSse2: return &KernelSse2;
    case internal::ScanKernel::kAvx2: return Avx2Supported() ? &KernelAvx2 : nullptr;
#else
    case internal::ScanKernel::kSse2:
    case internal::ScanKernel::kAvx2: return nullptr;
#endif
    case internal::ScanKernel::kScalar: return &KernelScalar;
    case internal::ScanKernel::kAuto: break;
  }
  if (Kernel avx2 = KernelFor(internal::ScanKernel::kAvx2)) return avx2;
  if (Kernel sse2 = KernelFor(internal::ScanKernel::kSse2)) return sse2;
  return &KernelScalar;
}

// ---------------------------------------------------------------------------------------------
// Messages.

// Parses the first JSON value of `text` as payload.cc's reader would at that point: a parse
// error status ("line L, column C: ..." relative to `text`), or OK with the value's type.
Status ParseFirstValue(std::string_view text, json::Type* type) {
  bool got = false;
  Status st = json::ParseSequence(text, [&](json::Value v, int) -> Status {
    got = true;
    *type = v.type();
    return Internal("stop");
  });
  if (got) return Status::Ok();
  if (!st.ok()) return st;
  return InvalidArgument("line 1, column 1: The document is empty.");
}

// "line L, column C: rest" -> (L, C, rest). False for other messages.
bool SplitLocation(const std::string& msg, long* line, long* column, std::string* rest) {
  if (msg.rfind("line ", 0) != 0) return false;
  const char* s = msg.c_str() + 5;
  char* end = nullptr;
  *line = std::strtol(s, &end, 10);
  if (end == s || std::strncmp(end, ", column ", 9) != 0) return false;
  s = end + 9;
  *column = std::strtol(s, &end, 10);
  if (end == s || std::strncmp(end, ": ", 2) != 0) return false;
  *rest = end + 2;
  return true;
}

std::string Location(const std::string& file, long line, long column) {
  return file + ": line " + std::to_string(line) + ", column " + std::to_string(column);
}

// A parse error for text that starts at (line0, column0) of `file` -> file coordinates.
Status Relocate(const Status& error, const std::string& file, long line0, long column0) {
  long line, column;
  std::string rest;
  if (!SplitLocation(error.message(), &line, &column, &rest)) {
    return Status(error.code(), file + ":" + std::to_string(line0) + ": " + error.message());
  }
  const long file_line = line0 + line - 1;
  const long file_column = line == 1 ? column0 + column - 1 : column;
  return Status(error.code(), Location(file, file_line, file_column) + ": " + rest);
}

constexpr unsigned char kBom[3] = {0xEF, 0xBB, 0xBF};

inline int Ctz(uint64_t x) { return __builtin_ctzll(x); }
inline int HighBit(uint64_t x) { return 63 - __builtin_clzll(x); }

inline bool IsDelimiter(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '{':
    case '}':
    case '[':
    case ']':
    case ',':
    case ':':
    case '"': return true;
    default: return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The splitter.

class Splitter {
 public:
  Splitter(const StreamOptions& options, const std::function<Status(ItemBatch)>& on_batch)
      : on_batch_(on_batch),
        batch_size_(std::max<size_t>(options.batch_size, 1)),
        chunk_(std::max<size_t>(options.chunk_bytes, 64)),
        kernel_(KernelFor(static_cast<internal::ScanKernel>(g_kernel_override.load()))) {
    batch_.items.reserve(batch_size_);
  }

  Status Run(const std::vector<std::string>& paths) {
    for (const std::string& path : paths) {
      Status s = RunFile(path);
      if (fd_ >= 0 && path != "-") ::close(fd_);
      fd_ = -1;
      if (!s.ok()) {
        if (callback_failed_) return s;
        if (!batch_.items.empty()) PORTOLAN_RETURN_IF_ERROR(Deliver());
        return s;
      }
    }
    if (!batch_.items.empty()) return Deliver();
    return Status::Ok();
  }

 private:
  enum class Mode { kBetween, kContainer, kString, kScalar };
  enum class ArrayState { kAfterOpen, kAfterComma, kAfterElement };
  static constexpr size_t kRun = 64;  // blocks classified per kernel call (4 KB)
  static constexpr size_t kReadSlice = 512 << 10;

  // --- files and buffers ---

  Status RunFile(const std::string& path) {
    file_ = path;
    if (path == "-") {
      fd_ = 0;
    } else {
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) return NotFound(path + ": cannot open file");
    }
    // Fresh state; the previous file's buffer may still hold items of the pending batch.
    if (cur_) Release(std::move(cur_));
    cur_.reset();
    cap_ = len_ = scan_ = 0;
    buf_off_ = 0;
    eof_ = false;
    ks_ = KernelState();
    lines_ = 0;
    last_nl_ = -1;
    stack_.clear();
    mode_ = Mode::kBetween;
    top_array_ = false;
    position_ = 0;

    PORTOLAN_RETURN_IF_ERROR(Fill());
    if (len_ >= 3 && std::memcmp(cur_->data(), kBom, 3) == 0) {
      scan_ = 3;
      buf_off_ = -3;  // coordinates count from after the mark, as payload.cc's
    }
    BlockMasks masks[kRun];
    while (true) {
      size_t blocks = (len_ - scan_) / 64;
      while (blocks > 0) {
        const size_t n = std::min(blocks, kRun);
        const char* p = cur_->data() + scan_;
        kernel_(p, n, &ks_, masks);
        for (size_t k = 0; k < n; ++k, p += 64) {
          const BlockMasks& m = masks[k];
          const int64_t off = buf_off_ + static_cast<int64_t>(scan_);
          scan_ += 64;
          // The common case inline: inside an item, no bracket, no newline inside a string.
          if (mode_ == Mode::kContainer && (m.open | m.close | (m.nl & m.in_str)) == 0) {
            if (m.nl) CountLines(off, m.nl);
          } else if (!Block(p, off, m)) {
            return error_;
          }
        }
        blocks -= n;
      }
      if (eof_) break;
      PORTOLAN_RETURN_IF_ERROR(Fill());
    }
    if (len_ > scan_) {  // the last partial block, padded with spaces
      char tail[64];
      std::memset(tail, ' ', sizeof tail);
      std::memcpy(tail, cur_->data() + scan_, len_ - scan_);
      kernel_(tail, 1, &ks_, masks);
      if (!Block(tail, buf_off_ + static_cast<int64_t>(scan_), masks[0])) return error_;
      scan_ = len_;
    }
    return AtEof();
  }

  // Reads until at least 64 unscanned bytes are buffered, or to the end of the file.
  Status Fill() {
    if (cap_ - len_ < std::max<size_t>(64, chunk_ / 4)) Rebuffer();
    while (len_ - scan_ < 64 && !eof_) {
      if (len_ == cap_) Rebuffer();
      // Reading a slice at a time keeps what is scanned next in the cache.
      const ssize_t n = ::read(fd_, cur_->data() + len_, std::min(cap_ - len_, kReadSlice));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Internal(file_ + ": read error: " + std::strerror(errno));
      }
      if (n == 0) {
        eof_ = true;
      } else {
        len_ += static_cast<size_t>(n);
      }
    }
    return Status::Ok();
  }

  // Moves the bytes still needed (the open item, or the unscanned rest) to a buffer with room.
  void Rebuffer() {
    const size_t keep =
        mode_ != Mode::kBetween ? static_cast<size_t>(item_start_ - buf_off_) : scan_;
    const size_t tail = len_ - keep;
    const size_t want = std::max(chunk_, 2 * tail + 128);
    std::shared_ptr<std::string> next = Acquire(want);
    if (tail > 0) std::memcpy(next->data(), cur_->data() + keep, tail);
    if (cur_) Release(std::move(cur_));
    cur_ = std::move(next);
    cap_ = cur_->size() - kItemPadding;  // nothing is read into the padding
    len_ = tail;
    scan_ -= keep;
    buf_off_ += static_cast<int64_t>(keep);
  }

  // A buffer nobody else references (batches handed out hold references), or a new one.
  std::shared_ptr<std::string> Acquire(size_t want) {
    size_t best = pool_.size();
    for (size_t i = 0; i < pool_.size(); ++i) {
      if (pool_[i].use_count() == 1 && pool_[i]->size() >= want + kItemPadding &&
          (best == pool_.size() || pool_[i]->size() < pool_[best]->size())) {
        best = i;
      }
    }
    if (best < pool_.size()) {
      std::shared_ptr<std::string> b = std::move(pool_[best]);
      pool_.erase(pool_.begin() + static_cast<long>(best));
      // Pairs with the release in the last holder's reference drop: its reads of the buffer
      // happen before our writes.
      std::atomic_thread_fence(std::memory_order_acquire);
      return b;
    }
    auto b = std::make_shared<std::string>();
    b->resize(want + kItemPadding);
    return b;
  }

  void Release(std::shared_ptr<std::string> b) {
    if (b->size() > 2 * chunk_ + 256) return;  // grown for a large item: let it go
    pool_.push_back(std::move(b));
    if (pool_.size() > 3) pool_.erase(pool_.begin());
  }

  std::string_view Text(int64_t from, int64_t to) const {
    return std::string_view(cur_->data() + (from - buf_off_), static_cast<size_t>(to - from));
  }

  // --- batches ---

  bool Emit(int64_t end) {
    if (batch_.buffers.empty() || batch_.buffers.back().get() != cur_.get()) {
      batch_.buffers.push_back(cur_);
    }
    ItemText& t = batch_.items.emplace_back();
    t.text = Text(item_start_, end);
    t.source.file = file_;
    t.source.line = item_line_;
    t.source.position = position_++;
    t.column = item_col_;
    t.element = item_element_;
    t.offset = static_cast<uint64_t>(item_start_);
    if (batch_.items.size() >= batch_size_) return Check(Deliver());
    return true;
  }

  bool Fail(Status s) {
    error_ = std::move(s);
    return false;
  }
  bool Check(Status s) { return s.ok() || Fail(std::move(s)); }

  Status Deliver() {
    ItemBatch out = std::move(batch_);
    batch_ = ItemBatch();
    batch_.first_index = out.first_index + out.items.size();
    batch_.items.reserve(batch_size_);
    Status s = on_batch_(std::move(out));
    if (!s.ok()) callback_failed_ = true;
    return s;
  }

  // --- scanning ---

  // Line and column of bit `b` of the block at file offset `off`.
  void LineColumn(const BlockMasks& m, int64_t off, int b, int* line, int* column) const {
    const uint64_t before = m.nl & ((uint64_t{1} << b) - 1);
    *line = static_cast<int>(lines_ + __builtin_popcountll(before) + 1);
    const int64_t last_nl = before ? off + HighBit(before) : last_nl_;
    *column = static_cast<int>(off + b - last_nl);
  }

  static bool IsWs(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

  // The last non-whitespace byte before file offset `at` inside the open container item (its
  // first byte, '{' or '[', is one, so the search stays inside the buffer).
  char PrevSignificant(int64_t at) const {
    const char* data = cur_->data() - buf_off_;
    const char* q = data + at - 1;
    while (IsWs(*q)) --q;
    return *q;
  }

  bool Block(const char* p, int64_t off, const BlockMasks& m) {
    const uint64_t bad_nl = m.nl & m.in_str;  // a raw newline inside a string
    const int stop = bad_nl ? Ctz(bad_nl) : 64;
    const uint64_t live = stop == 64 ? ~uint64_t{0} : (uint64_t{1} << stop) - 1;
    int i = 0;
    while (i < stop) {
      if (mode_ == Mode::kBetween) {
        int b = i;
        while (b < stop && IsWs(p[b])) ++b;
        if (b == stop) break;
        if (!ValueStart(p, off, m, b)) return false;
        i = b + 1;
      } else if (mode_ == Mode::kContainer) {
        uint64_t cand = (m.open | m.close) & (~uint64_t{0} << i) & live;
        bool ended = false;
        while (cand) {
          const int b = Ctz(cand);
          cand &= cand - 1;
          const char c = p[b];
          if (c == '{' || c == '[') {
            // Inside an object a value follows ':'; inside an array, '[' or ','.
            const char prev = PrevSignificant(off + b);
            if (stack_.back() == '{' ? prev != ':' : (prev != '[' && prev != ',')) {
              return Fail(ItemSyntaxError(off + b + 1));
            }
            stack_.push_back(c);
          } else {
            if (stack_.back() != (c == '}' ? '{' : '[')) return Fail(ItemSyntaxError(off + b + 1));
            stack_.pop_back();
            if (stack_.size() == base_) {
              if (!EndContainer(off + b + 1)) return false;
              i = b + 1;
              ended = true;
              break;
            }
          }
        }
        if (!ended) break;
      } else if (mode_ == Mode::kString) {
        const uint64_t cand = m.quote & ~m.in_str & (~uint64_t{0} << i) & live;  // closing quote
        if (!cand) break;
        return Fail(NonObjectItem(off + Ctz(cand) + 1));
      } else {  // kScalar
        for (int b = i; b < stop; ++b) {
          if (IsDelimiter(p[b])) return Fail(NonObjectItem(off + b));
        }
        break;
      }
    }
    if (bad_nl) {
      if (mode_ == Mode::kContainer || mode_ == Mode::kString) {
        return Fail(ItemSyntaxError(off + stop + 1));
      }
      int line, column;
      LineColumn(m, off, stop, &line, &column);
      return Fail(InvalidArgument(Location(file_, line, column) + ": Invalid value."));
    }
    if (m.nl) CountLines(off, m.nl);
    return true;
  }

  void CountLines(int64_t off, uint64_t nl) {
    lines_ += __builtin_popcountll(nl);
    last_nl_ = off + HighBit(nl);
  }

  // The first byte of a value (or a ',' / ']' of the top-level array) at bit `b`.
  bool ValueStart(const char* p, int64_t off, const BlockMasks& m, int b) {
    const char c = p[b];
    long element = -1;
    if (top_array_) {
      switch (array_state_) {
        case ArrayState::kAfterElement:
          if (c == ',') {
            array_state_ = ArrayState::kAfterComma;
            return true;
          }
          if (c == ']') return CloseTopArray();
          return Fail(ArrayError("[{}", m, off, b));
        case ArrayState::kAfterOpen:
          if (c == ']') return CloseTopArray();
          break;
        case ArrayState::kAfterComma:
          if (c == ']' || c == ',') return Fail(ArrayError("[{},", m, off, b));
          break;
      }
      element = element_++;
      array_state_ = ArrayState::kAfterElement;
    } else if (c == '[') {
      stack_.push_back('[');
      top_array_ = true;
      array_state_ = ArrayState::kAfterOpen;
      element_ = 0;
      return true;
    }
    item_start_ = off + b;
    item_element_ = element;
    LineColumn(m, off, b, &item_line_, &item_col_);
    if (c == '{' || c == '[') {
      base_ = stack_.size();
      stack_.push_back(c);
      mode_ = Mode::kContainer;
    } else if (c == '"') {
      mode_ = Mode::kString;
    } else {
      mode_ = Mode::kScalar;
    }
    return true;
  }

  bool CloseTopArray() {
    stack_.pop_back();
    top_array_ = false;
    return true;
  }

  bool EndContainer(int64_t end) {
    mode_ = Mode::kBetween;
    if (cur_->data()[item_start_ - buf_off_] != '{') return Fail(NonObjectItem(end));
    return Emit(end);
  }

  // A string, scalar or array item ending before `end`: its parse error, or the type error.
  Status NonObjectItem(int64_t end) {
    json::Type type = json::Type::kNull;
    Status parsed = ParseFirstValue(Text(item_start_, end), &type);
    if (!parsed.ok()) return Relocate(parsed, file_, item_line_, item_col_);
    return NotAnObjectError(file_, item_line_, item_element_, type);
  }

  // The open item is malformed at or before `end` - 1: report the parser's first error in it.
  Status ItemSyntaxError(int64_t end) {
    json::Type type;
    Status parsed = ParseFirstValue(Text(item_start_, end), &type);
    if (!parsed.ok()) return Relocate(parsed, file_, item_line_, item_col_);
    // Not expected: the parser accepted what the splitter rejected.
    const std::string_view text = Text(item_start_, end);
    const auto [line, column] = json::LineColumn(text, text.size() - 1);
    return InvalidArgument(Location(file_, item_line_ + line - 1,
                                    line == 1 ? item_col_ + column - 1 : column) +
                           ": Invalid value.");
  }

  // A bad byte between elements of the top-level array (or its end at EOF): the parser's
  // message for the same bytes after `prefix`, which puts it in the same state.
  Status ArrayErrorAt(const char* prefix, int64_t at, int line, int column) {
    std::string text = prefix;
    const int64_t avail = buf_off_ + static_cast<int64_t>(len_) - at;
    text.append(cur_->data() + (at - buf_off_), static_cast<size_t>(std::min<int64_t>(avail, 4)));
    json::Type type;
    Status parsed = ParseFirstValue(text, &type);
    const long prefix_len = static_cast<long>(std::strlen(prefix));
    if (!parsed.ok()) return Relocate(parsed, file_, line, column - prefix_len);
    return InvalidArgument(Location(file_, line, column) + ": Invalid value.");
  }

  Status ArrayError(const char* prefix, const BlockMasks& m, int64_t off, int b) {
    int line, column;
    LineColumn(m, off, b, &line, &column);
    return ArrayErrorAt(prefix, off + b, line, column);
  }

  Status AtEof() {
    const int64_t eof = buf_off_ + static_cast<int64_t>(len_);
    switch (mode_) {
      case Mode::kBetween:
        if (!top_array_) return Status::Ok();
        return ArrayErrorAt(array_state_ == ArrayState::kAfterOpen    ? "["
                            : array_state_ == ArrayState::kAfterComma ? "[{},"
                                                                      : "[{}",
                            eof, static_cast<int>(lines_ + 1), static_cast<int>(eof - last_nl_));
      case Mode::kContainer:
      case Mode::kString: return ItemSyntaxError(eof);
      case Mode::kScalar: return NonObjectItem(eof);
    }
    return Status::Ok();
  }

  const std::function<Status(ItemBatch)>& on_batch_;
  const size_t batch_size_;
  const size_t chunk_;
  const Kernel kernel_;

  ItemBatch batch_;
  bool callback_failed_ = false;
  Status error_;  // why a bool-returning step failed

  // Buffer: cur_[0, len_) holds file bytes from file offset buf_off_; [scan_, len_) unscanned.
  std::shared_ptr<std::string> cur_;
  std::vector<std::shared_ptr<std::string>> pool_;
  size_t cap_ = 0, len_ = 0, scan_ = 0;
  int64_t buf_off_ = 0;
  bool eof_ = false;
  int fd_ = -1;

  std::string file_;
  size_t position_ = 0;

  // Scanner state at the start of the next block.
  KernelState ks_;
  int64_t lines_ = 0;     // newlines before the block
  int64_t last_nl_ = -1;  // file offset of the last of them
  std::vector<char> stack_;  // open brackets, outermost first
  Mode mode_ = Mode::kBetween;
  size_t base_ = 0;          // stack size outside the open container item
  bool top_array_ = false;   // stack_ == {'['} is a top-level array being split
  ArrayState array_state_ = ArrayState::kAfterOpen;
  long element_ = 0;

  // The open item.
  int64_t item_start_ = 0;
  int item_line_ = 0, item_col_ = 0;
  long item_element_ = -1;
};

}  // namespace

Status StreamPayloads(const std::vector<std::string>& paths, const StreamOptions& options,
                      const std::function<Status(ItemBatch)>& on_batch) {
  Splitter splitter(options, on_batch);
  return splitter.Run(paths);
}

std::string ItemErrorLocation(const ItemText& item, int line_in_item, int column_in_item) {
  return Location(item.source.file, item.source.line + line_in_item - 1,
                  line_in_item == 1 ? item.column + column_in_item - 1 : column_in_item);
}

Status ItemParseError(const ItemText& item, const Status& parse_error) {
  if (parse_error.ok()) return parse_error;
  return Relocate(parse_error, item.source.file, item.source.line, item.column);
}

namespace internal {

void SetScanKernelForTesting(ScanKernel kernel) {
  g_kernel_override.store(static_cast<int>(kernel));
}

bool ScanKernelAvailable(ScanKernel kernel) { return KernelFor(kernel) != nullptr; }

}  // namespace internal

}  // namespace portolan::mapping
