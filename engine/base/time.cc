#include "engine/base/time.h"

#include <chrono>
#include <cmath>
#include <cstdio>

namespace portolan {

long DaysFromCivil(long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long>(doe) - 719468;
}

void CivilFromDays(long z, long* y, unsigned* m, unsigned* d) {
  z += 719468;
  const long era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long yy = static_cast<long>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

namespace {
bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}
}  // namespace

std::optional<double> ParseIsoTime(std::string_view s) {
  int y, mo, d;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  double secs = 0;
  size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    int hh, mm, ss = 0;
    if (!Digits(s, pos + 1, 2, &hh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &mm)) {
      return std::nullopt;
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!Digits(s, pos + 1, 2, &ss)) return std::nullopt;
      pos += 3;
    }
    if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
    secs = hh * 3600.0 + mm * 60.0 + ss;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      double scale = 0.1, frac = 0;
      size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        frac += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return std::nullopt;
      secs += frac;
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        int sign = s[pos] == '+' ? 1 : -1;
        int oh, om = 0;
        if (!Digits(s, pos + 1, 2, &oh)) return std::nullopt;
        pos += 3;
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (pos < s.size()) {
          if (!Digits(s, pos, 2, &om)) return std::nullopt;
          pos += 2;
        }
        secs -= sign * (oh * 3600.0 + om * 60.0);
      }
    }
  }
  if (pos != s.size()) return std::nullopt;
  return static_cast<double>(DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))) *
             86400.0 +
         secs;
}

std::string FormatIsoTime(double t) {
  double whole = std::floor(t);
  long ms = std::lround((t - whole) * 1000.0);
  long secs = static_cast<long>(whole);
  if (ms >= 1000) {
    ms -= 1000;
    secs += 1;
  }
  long days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  long rem = secs - days * 86400;
  long y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04ld-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", y, m, d, rem / 3600,
                (rem % 3600) / 60, rem % 60, ms);
  return buf;
}

double Clock::Now() const {
  if (fixed_) return *fixed_;
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  return static_cast<double>(ms) / 1000.0;
}

}  // namespace portolan
