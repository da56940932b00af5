// jq_fuzz: differential testing of the native jq evaluator against libjq 1.6 on random programs
// and payloads (tools/gen/jq_fuzz_gen.h), for long runs; tests/jq/native_diff_test.cc runs a
// bounded version in the test suite.
//
//   jq_fuzz [--seed N] [--iterations N | --seconds S] [--payloads K] [--batch B] [--verbose]
//           [--keep-going[=MAX]] [--no-minimize] [--leak-check] [--show-fallbacks N]
//   jq_fuzz --program 'JQ' --input 'JSON'     check one case (libjq compiled alone)
//   jq_fuzz --sample N [--seed N]             print N generated programs and K payloads
//
// Stops at the first mismatch (exit 1) after printing it, minimized, with the command that
// reproduces it; --keep-going collects up to MAX distinct mismatches (the first of each kind),
// then prints how many of each kind were seen. Exit 0 when none is found. --leak-check (in a
// -DPORTOLAN_SANITIZE=ON build) runs LeakSanitizer after every case and names the first that
// leaks. JQ_FUZZ_TRACE=1 prints every case before libjq evaluates it.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "tools/gen/jq_fuzz_gen.h"

namespace portolan::gen::jqfuzz {
namespace {

// ---------------------------------------------------------------------------------------------
// Minimization: greedy reduction of the payload (structure-preserving, scalars keep their
// spelling) and of the program (token ranges and bracketed groups), keeping any mismatch.

// True when the case still fails the same way (Signature), so reduction does not drift to
// another bug.
Reproducer* reproducer = nullptr;  // set while minimizing

bool Fails(const std::string& program, const std::string& payload, const std::string& signature,
           long* budget) {
  if (*budget <= 0) return false;
  --*budget;
  for (const Mismatch& m : reproducer->Check(program, payload)) {
    if (Signature(m) == signature) return true;
  }
  return false;
}

struct J {
  enum Type { kScalar, kArray, kObject } type = kScalar;
  std::string raw;                                  // scalars, as written
  std::vector<std::pair<std::string, J>> members;   // raw keys
  std::vector<J> elems;
};

void SkipWs(std::string_view s, size_t* i) {
  while (*i < s.size() && (s[*i] == ' ' || s[*i] == '\n' || s[*i] == '\t' || s[*i] == '\r')) ++*i;
}
size_t StringEnd(std::string_view s, size_t i) {  // s[i] == '"'; index after the closing quote
  ++i;
  while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
  return i + 1;
}
bool ParseJ(std::string_view s, size_t* i, J* out) {
  SkipWs(s, i);
  if (*i >= s.size()) return false;
  if (s[*i] == '{' || s[*i] == '[') {
    const bool obj = s[*i] == '{';
    out->type = obj ? J::kObject : J::kArray;
    ++*i;
    SkipWs(s, i);
    if (*i < s.size() && s[*i] == (obj ? '}' : ']')) {
      ++*i;
      return true;
    }
    while (true) {
      if (obj) {
        SkipWs(s, i);
        if (*i >= s.size() || s[*i] != '"') return false;
        const size_t end = StringEnd(s, *i);
        std::string key(s.substr(*i, end - *i));
        *i = end;
        SkipWs(s, i);
        if (*i >= s.size() || s[*i] != ':') return false;
        ++*i;
        J v;
        if (!ParseJ(s, i, &v)) return false;
        out->members.emplace_back(std::move(key), std::move(v));
      } else {
        J v;
        if (!ParseJ(s, i, &v)) return false;
        out->elems.push_back(std::move(v));
      }
      SkipWs(s, i);
      if (*i >= s.size()) return false;
      if (s[*i] == ',') {
        ++*i;
        continue;
      }
      if (s[*i] == (obj ? '}' : ']')) {
        ++*i;
        return true;
      }
      return false;
    }
  }
  const size_t start = *i;
  if (s[*i] == '"') {
    *i = StringEnd(s, *i);
  } else {
    while (*i < s.size() && std::strchr(",]} \n\t\r", s[*i]) == nullptr) ++*i;
  }
  out->type = J::kScalar;
  out->raw = std::string(s.substr(start, *i - start));
  return true;
}
void WriteJ(const J& j, std::string* out) {
  switch (j.type) {
    case J::kScalar: *out += j.raw; return;
    case J::kArray:
      out->push_back('[');
      for (size_t i = 0; i < j.elems.size(); ++i) {
        if (i > 0) out->push_back(',');
        WriteJ(j.elems[i], out);
      }
      out->push_back(']');
      return;
    case J::kObject:
      out->push_back('{');
      for (size_t i = 0; i < j.members.size(); ++i) {
        if (i > 0) out->push_back(',');
        *out += j.members[i].first + ":";
        WriteJ(j.members[i].second, out);
      }
      out->push_back('}');
      return;
  }
}
std::string TextOf(const J& j) {
  std::string s;
  WriteJ(j, &s);
  return s;
}

// Every J reachable from `root` (pre-order), to address candidates by index.
void Nodes(J* j, std::vector<J*>* out) {
  out->push_back(j);
  for (auto& m : j->members) Nodes(&m.second, out);
  for (auto& e : j->elems) Nodes(&e, out);
}

std::string MinimizePayload(const std::string& program, std::string payload,
                            const std::string& sig, long* budget) {
  J root;
  size_t pos = 0;
  if (!ParseJ(payload, &pos, &root)) return payload;
  bool progress = true;
  while (progress && *budget > 0) {
    progress = false;
    for (size_t n = 0; !progress; ++n) {
      // Collected again each time: restoring a node reallocates its descendants.
      std::vector<J*> nodes;
      Nodes(&root, &nodes);
      if (n >= nodes.size()) break;
      J* j = nodes[n];
      // Replace the node by one of its children, or by a simpler value.
      std::vector<J> replacements;
      for (auto& m : j->members) replacements.push_back(m.second);
      for (auto& e : j->elems) replacements.push_back(e);
      if (j->type != J::kScalar || j->raw != "null") {
        J null_value;
        null_value.raw = "null";
        replacements.push_back(null_value);
      }
      if (j->type == J::kScalar && j->raw.size() > 2 && j->raw[0] == '"') {
        J empty;
        empty.raw = "\"\"";
        replacements.push_back(empty);
      }
      for (J& r : replacements) {
        J saved = *j;
        *j = r;
        if (TextOf(root).size() < payload.size() && Fails(program, TextOf(root), sig, budget)) {
          payload = TextOf(root);
          progress = true;
          break;
        }
        *j = saved;
      }
      if (progress) break;
      // Drop members / elements one at a time.
      for (size_t k = 0; k < j->members.size() && !progress; ++k) {
        auto saved = j->members;
        j->members.erase(j->members.begin() + static_cast<long>(k));
        if (Fails(program, TextOf(root), sig, budget)) {
          payload = TextOf(root);
          progress = true;
        } else {
          j->members = saved;
        }
      }
      for (size_t k = 0; k < j->elems.size() && !progress; ++k) {
        auto saved = j->elems;
        j->elems.erase(j->elems.begin() + static_cast<long>(k));
        if (Fails(program, TextOf(root), sig, budget)) {
          payload = TextOf(root);
          progress = true;
        } else {
          j->elems = saved;
        }
      }
    }
  }
  return payload;
}

// jq tokens, good enough for reduction: string literals (with interpolations) are one token.
std::vector<std::string> Tokens(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\n' || c == '\t') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    if (c == '"' || c == '\'') {
      int depth = 0;  // inside \( ... ) interpolations
      bool in_inner = false;
      while (j < s.size()) {
        if (depth == 0 && !in_inner) {
          if (s[j] == '\\' && j + 1 < s.size() && s[j + 1] == '(') {
            depth = 1;
            j += 2;
            continue;
          }
          if (s[j] == '\\') {
            j += 2;
            continue;
          }
          if (s[j] == c) {
            ++j;
            break;
          }
          ++j;
        } else {
          // Inside an interpolation: track parentheses, skip nested strings.
          if (s[j] == '"') {
            ++j;
            while (j < s.size() && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
            ++j;
            continue;
          }
          if (s[j] == '(') ++depth;
          if (s[j] == ')') --depth;
          ++j;
        }
      }
    } else if (c == '.' && j < s.size() && (std::isalpha(static_cast<unsigned char>(s[j])) || s[j] == '_')) {
      while (j < s.size() && ident(s[j])) ++j;
    } else if (c == '$' || ident(c)) {
      while (j < s.size() && (ident(s[j]) || (std::isdigit(static_cast<unsigned char>(c)) &&
                                               (s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
                                                ((s[j] == '-' || s[j] == '+') &&
                                                 (s[j - 1] == 'e' || s[j - 1] == 'E')))))) {
        ++j;
      }
    } else if (j < s.size()) {
      const std::string_view two = s.substr(i, 2);
      if (two == "==" || two == "!=" || two == "<=" || two == ">=" || two == "//" ||
          two == "|=" || two == "+=" || two == "-=") {
        j = i + 2;
      }
    }
    out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string Join(const std::vector<std::string>& t) {
  std::string s;
  for (size_t i = 0; i < t.size(); ++i) {
    if (i > 0) {
      const char a = s.back(), b = t[i][0];
      const bool word = std::isalnum(static_cast<unsigned char>(a)) || a == '_';
      const bool tight =
          (a == '.' && (b == '"' || b == '[')) || b == '?' || b == ',' || b == ')' || b == ']' ||
          b == '}' || b == ':' || a == '(' || a == '[' || a == '{' ||
          (b == '(' && word && !std::isdigit(static_cast<unsigned char>(t[i - 1][0]))) ||
          (b == '[' && (word || a == ']' || a == ')' || a == '"' || a == '?')) ||
          (b == '.' && t[i].size() > 1 && (a == ']' || a == ')')) ||
          a == ':' ||  // .[1:2] (and {a:1}, which reads as well)
          (a == '-' && i >= 2 && (t[i - 2] == "[" || t[i - 2] == ":" || t[i - 2] == "("));
      if (!tight) s.push_back(' ');
    }
    s += t[i];
  }
  return s;
}

std::string MinimizeProgram(std::string program, const std::string& payload,
                            const std::string& sig, long* budget) {
  bool progress = true;
  while (progress && *budget > 0) {
    progress = false;
    std::vector<std::string> t = Tokens(program);
    auto attempt = [&](std::vector<std::string> cand) {
      if (cand.empty()) return false;
      const std::string text = Join(cand);
      if (text.size() >= program.size() && text != program) {
        if (text.size() > program.size()) return false;
      }
      if (text == program) return false;
      if (Fails(text, payload, sig, budget)) {
        program = text;
        return true;
      }
      return false;
    };
    // Bracketed groups: replace by a simple value, or by their content.
    for (size_t a = 0; a < t.size() && !progress; ++a) {
      if (t[a] != "(" && t[a] != "[" && t[a] != "{") continue;
      const std::string open = t[a];
      const std::string close = open == "(" ? ")" : open == "[" ? "]" : "}";
      int depth = 0;
      size_t b = a;
      for (; b < t.size(); ++b) {
        if (t[b] == open) ++depth;
        if (t[b] == close && --depth == 0) break;
      }
      if (b >= t.size()) continue;
      for (const char* r : {".", "null", "1", "\"a\""}) {
        std::vector<std::string> c(t.begin(), t.begin() + static_cast<long>(a));
        c.push_back(r);
        c.insert(c.end(), t.begin() + static_cast<long>(b) + 1, t.end());
        if (attempt(c)) {
          progress = true;
          break;
        }
      }
      if (!progress && open == "(") {
        std::vector<std::string> c = t;
        c.erase(c.begin() + static_cast<long>(b));
        c.erase(c.begin() + static_cast<long>(a));
        if (attempt(c)) progress = true;
      }
    }
    // Token ranges, large to small.
    for (size_t len = t.size() / 2; len >= 1 && !progress; len /= 2) {
      for (size_t a = 0; a + len <= t.size() && !progress; ++a) {
        std::vector<std::string> c(t.begin(), t.begin() + static_cast<long>(a));
        c.insert(c.end(), t.begin() + static_cast<long>(a + len), t.end());
        if (attempt(c)) progress = true;
      }
      if (len == 1) break;
    }
    // Simpler literals.
    for (size_t a = 0; a < t.size() && !progress; ++a) {
      for (const char* r : {"\"a\"", "\"\"", "1", "0"}) {
        if (t[a] == r || !(t[a][0] == '"' || std::isdigit(static_cast<unsigned char>(t[a][0])))) {
          continue;
        }
        std::vector<std::string> c = t;
        c[a] = r;
        if (Join(c).size() < program.size() && attempt(c)) {
          progress = true;
          break;
        }
      }
    }
  }
  return program;
}

Mismatch Minimize(const Mismatch& m) {
  // A program try costs a libjq compile (~20 ms); payload tries reuse the compiled program.
  long payload_budget = 4000, program_budget = 400;
  Reproducer cache;
  reproducer = &cache;
  const std::string sig = Signature(m);
  Mismatch out = m;
  if (!Fails(m.program, m.payload, sig, &payload_budget)) return m;  // not reproducible alone
  out.payload = MinimizePayload(m.program, m.payload, sig, &payload_budget);
  out.program = MinimizeProgram(m.program, out.payload, sig, &program_budget);
  out.payload = MinimizePayload(out.program, out.payload, sig, &payload_budget);
  for (const Mismatch& again : cache.Check(out.program, out.payload)) {
    if (Signature(again) != sig) continue;
    out.path = again.path;
    out.native = again.native;
    out.libjq = again.libjq;
    return out;
  }
  return m;  // lost on the way (should not happen)
}

// ---------------------------------------------------------------------------------------------

}  // namespace
}  // namespace portolan::gen::jqfuzz

// LeakSanitizer's interface, present only in sanitizer builds.
extern "C" __attribute__((weak)) int __lsan_do_recoverable_leak_check();

namespace portolan::gen::jqfuzz {
namespace {

// The case libjq is evaluating, for the crash handler: libjq 1.6 aborts or crashes on a few
// inputs (see engine/jq/README.md), which ends the run; the handler names the case.
std::string crash_program, crash_payload;

void OnCrash(int sig) {
  auto put = [](const char* s, size_t n) {
    while (n > 0) {
      const ssize_t w = write(2, s, n);
      if (w <= 0) return;
      s += w;
      n -= static_cast<size_t>(w);
    }
  };
  const char* what = sig == SIGSEGV ? "SIGSEGV" : sig == SIGABRT ? "SIGABRT" : sig == SIGFPE ? "SIGFPE" : "signal";
  put("\njq_fuzz: ", 10);
  put(what, std::strlen(what));
  put(" while libjq evaluated\n  program: ", 34);
  put(crash_program.data(), crash_program.size());
  put("\n  payload: ", 12);
  put(crash_payload.data(), crash_payload.size());
  put("\n", 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

int Usage() {
  std::fprintf(stderr,
               "usage: jq_fuzz [--seed N] [--iterations N | --seconds S] [--payloads K] "
               "[--batch B] [--verbose] [--keep-going[=MAX]] [--no-minimize] [--leak-check]\n"
               "               [--show-fallbacks N]\n"
               "       jq_fuzz --program 'JQ' --input 'JSON'\n"
               "       jq_fuzz --sample N [--seed N] [--payloads K]\n");
  return 2;
}

int Main(int argc, char** argv) {
  Options options;
  long iterations = -1;
  double seconds = -1;
  bool verbose = false;
  long keep_going = 0;  // 0: stop at the first mismatch
  bool minimize = true;
  long sample = 0;
  long show_fallbacks = 0;  // print that many cases where native fell back (at the end)
  std::string program, input;
  bool have_program = false, have_input = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "jq_fuzz: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seed") {
      options.seed = std::strtoull(value("--seed"), nullptr, 10);
    } else if (a == "--iterations") {
      iterations = std::strtol(value("--iterations"), nullptr, 10);
    } else if (a == "--seconds") {
      seconds = std::strtod(value("--seconds"), nullptr);
    } else if (a == "--payloads") {
      options.payloads = static_cast<int>(std::strtol(value("--payloads"), nullptr, 10));
    } else if (a == "--batch") {
      options.batch = static_cast<int>(std::strtol(value("--batch"), nullptr, 10));
    } else if (a == "--verbose") {
      verbose = true;
    } else if (a == "--keep-going") {
      keep_going = 50;
    } else if (a.rfind("--keep-going=", 0) == 0) {
      keep_going = std::strtol(argv[i] + 13, nullptr, 10);
    } else if (a == "--leak-check") {  // sanitizer builds: name the program that leaks
      options.after_libjq = [](const std::string& program, const std::string& payload) {
        if (__lsan_do_recoverable_leak_check != nullptr && __lsan_do_recoverable_leak_check()) {
          std::fprintf(stderr, "LEAK after program: %s\n  payload: %s\n", program.c_str(),
                       payload.c_str());
          std::exit(1);
        }
      };
    } else if (a == "--show-fallbacks") {
      show_fallbacks = std::strtol(value("--show-fallbacks"), nullptr, 10);
    } else if (a == "--no-minimize") {
      minimize = false;
    } else if (a == "--sample") {
      sample = std::strtol(value("--sample"), nullptr, 10);
    } else if (a == "--program") {
      program = value("--program");
      have_program = true;
    } else if (a == "--input") {
      input = value("--input");
      have_input = true;
    } else {
      return Usage();
    }
  }
  if (options.payloads < (sample > 0 ? 0 : 1) || options.batch < 1) return Usage();
  options.before_libjq = [](const std::string& program, const std::string& payload) {
    crash_program = program;
    crash_payload = payload;
  };
  for (int sig : {SIGSEGV, SIGABRT, SIGFPE, SIGBUS}) signal(sig, OnCrash);

  if (have_program || have_input) {
    if (!have_program) return Usage();
    if (!have_input) input = "null";
    std::string report;
    const std::vector<Mismatch> found = CheckOne(program, input, &report);
    std::printf("%s", report.c_str());
    std::printf("%s\n", found.empty() ? "OK" : "MISMATCH");
    return found.empty() ? 0 : 1;
  }

  if (sample > 0) {
    ProgramGen programs(options.seed);
    PayloadGen payloads(options.seed ^ 0x9E3779B97F4A7C15ull);
    for (long i = 0; i < sample; ++i) std::printf("%s\n", programs.Next().c_str());
    for (int i = 0; i < options.payloads; ++i) {
      std::string text = payloads.Next();
      std::replace(text.begin(), text.end(), '\n', ' ');  // newlines only occur between tokens
      std::printf("payload: %s\n", text.c_str());
    }
    return 0;
  }

  if (iterations < 0 && seconds < 0) iterations = 10000;
  std::printf("jq_fuzz: seed %llu, %s, %d payloads per batch of %d programs\n",
              static_cast<unsigned long long>(options.seed),
              iterations >= 0 ? (std::to_string(iterations) + " programs").c_str()
                              : (std::to_string(seconds) + " s").c_str(),
              options.payloads, options.batch);
  std::fflush(stdout);

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  double last_report = 0;
  Fuzzer fuzzer(options);
  std::set<std::string> seen;  // distinct minimized mismatches
  long distinct = 0;
  size_t notes_printed = 0, rejects_printed = 0;
  std::set<std::string> seen_notes;
  std::map<std::string, long> by_signature;
  while (true) {
    const long done = fuzzer.stats().programs;
    if (iterations >= 0 && done >= iterations) break;
    if (seconds >= 0 && elapsed() >= seconds) break;
    const int n = iterations >= 0 ? static_cast<int>(std::min<long>(options.batch, iterations - done))
                                  : options.batch;
    std::vector<Mismatch> found;
    fuzzer.RunBatch(n, &found);
    for (; notes_printed < fuzzer.notes().size(); ++notes_printed) {
      const Mismatch& note = fuzzer.notes()[notes_printed];
      if (!seen_notes.insert(note.native + note.libjq).second && !verbose) continue;
      std::printf("NOTE: payload parsers disagree (libjq %s): %s (shown once)\n  payload: %.400s\n",
                  note.libjq.c_str(), note.native.c_str(), note.payload.c_str());
    }
    if (verbose) {
      for (; rejects_printed < fuzzer.rejects().size(); ++rejects_printed) {
        std::printf("NOTE: libjq rejects: %s\n", fuzzer.rejects()[rejects_printed].c_str());
      }
    }
    for (const Mismatch& m : found) {
      if (verbose || !minimize) std::printf("%s", m.Describe().c_str());
      // Per kind of mismatch, only the first few are minimized and shown (value differences
      // are always minimized: their kind says little).
      const std::string sig = Signature(m);
      const long same = ++by_signature[sig];
      if (keep_going > 0 && same > 1 && m.native.rfind("value", 0) != 0) continue;
      const Mismatch small = minimize && m.path.rfind("harness", 0) != 0 ? Minimize(m) : m;
      const std::string key = small.program + "\n" + small.payload + "\n" + small.path;
      if (!seen.insert(key).second) continue;
      ++distinct;
      if (minimize) {
        const bool changed = small.program != m.program || small.payload != m.payload;
        std::printf("%s%s  kind: %s\n", changed ? "minimized " : "", small.Describe().c_str(),
                    sig.c_str());
        if (changed) std::printf("  (original program: %s)\n", m.program.c_str());
      }
      std::fflush(stdout);
      if (keep_going == 0 || distinct >= keep_going) break;
    }
    if (distinct > 0 && (keep_going == 0 || distinct >= keep_going)) break;
    if (elapsed() - last_report >= (verbose ? 1.0 : 10.0)) {
      last_report = elapsed();
      const Stats& s = fuzzer.stats();
      std::printf("[%6.0f s] programs %ld (%.0f/s), native accepts %.1f%%, fallback %.2f%%, "
                  "failures %ld\n",
                  elapsed(), s.programs, static_cast<double>(s.programs) / elapsed(),
                  100 * s.AcceptRate(), 100 * s.FallbackRate(), s.failures);
      std::fflush(stdout);
    }
  }
  for (long k = 0; k < show_fallbacks && k < static_cast<long>(fuzzer.fallbacks().size()); ++k) {
    const Mismatch& f = fuzzer.fallbacks()[static_cast<size_t>(k)];
    std::printf("FALLBACK (%s): %s\n  libjq: %.200s\n  payload: %.300s\n", f.path.c_str(),
                f.program.c_str(), f.libjq.c_str(), f.payload.c_str());
  }
  if (!by_signature.empty()) {
    std::printf("mismatches by kind:\n");
    for (const auto& [sig, count] : by_signature) std::printf("  %6ld  %s\n", count, sig.c_str());
  }
  const double t = elapsed();
  std::printf("%s after %.1f s (%.0f programs/s): %s\n", distinct > 0 ? "FAIL" : "OK", t,
              static_cast<double>(fuzzer.stats().programs) / t, fuzzer.stats().Summary().c_str());
  return distinct > 0 ? 1 : 0;
}

}  // namespace
}  // namespace portolan::gen::jqfuzz

int main(int argc, char** argv) { return portolan::gen::jqfuzz::Main(argc, argv); }
