// Golden cases for the mapping: tests/golden/mapping/<case>/. The rules are in
// tests/golden/README.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "engine/base/json.h"
#include "engine/jq/document.h"
#include "mapping/payload.h"
#include "mapping/processor.h"

namespace portolan::mapping {
namespace {

namespace fs = std::filesystem;

fs::path GoldenRoot() {
  fs::path relative = "tests/golden/mapping";
  if (fs::exists(relative)) return relative;
  return fs::path(PORTOLAN_SOURCE_DIR) / relative;
}

std::vector<std::string> Cases() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(GoldenRoot())) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string Pretty(const json::Value& v) {
  json::WriteOptions o;
  o.pretty = true;
  o.sort_keys = true;
  return json::Write(v, o);
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// A unified-style line diff (LCS) of two pretty-printed documents.
std::string Diff(const std::string& expected, const std::string& actual) {
  std::vector<std::string> a = Lines(expected), b = Lines(actual);
  size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::string out;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      out += "  " + a[i] + "\n";
      ++i;
      ++j;
    } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out += "+ " + b[j++] + "\n";
    } else {
      out += "- " + a[i++] + "\n";
    }
  }
  return out;
}

json::Value ErrorJson(const ItemError& e) {
  json::Value v = json::Value::MakeObject();
  v.Set("resource", static_cast<uint64_t>(e.resource));
  v.Set("kind", e.kind);
  v.Set("index", static_cast<uint64_t>(e.index));
  if (e.element) v.Set("element", static_cast<uint64_t>(*e.element));
  v.Set("scope", e.scope == ItemError::Scope::kBatch ? "batch" : "item");
  v.Set("message", e.message);
  return v;
}

// Every key of `expected` must match in `actual`; "message" by substring.
bool MatchesRecord(const json::Value& expected, const json::Value& actual) {
  if (!expected.is_object()) return false;
  for (const auto& [key, value] : expected.as_object()) {
    const json::Value* got = actual.Find(key);
    if (key == "message" && value.is_string()) {
      if (!got || !got->is_string() ||
          got->as_string().find(value.as_string()) == std::string::npos) {
        return false;
      }
    } else if (!got || *got != value) {
      return false;
    }
  }
  return true;
}

bool MatchesRecords(const json::Value& expected, const json::Value& actual) {
  const json::Array empty;
  const json::Array& e = expected.is_array() ? expected.as_array() : empty;
  const json::Array& a = actual.as_array();
  if (e.size() != a.size()) return false;
  for (size_t i = 0; i < e.size(); ++i) {
    if (!MatchesRecord(e[i], a[i])) return false;
  }
  return true;
}

// Every case runs on each jq engine: libjq alone, and the native evaluator (with its libjq
// fallback) both on json::Value items and on item texts, the path `portolan map` takes.
enum class Path { kLibjq, kNative, kNativeTexts };

class MappingGoldenTest : public testing::TestWithParam<std::tuple<std::string, Path>> {};

TEST_P(MappingGoldenTest, Matches) {
  const auto& [name, path] = GetParam();
  const fs::path dir = GoldenRoot() / name;
  const fs::path error_file = dir / "expected_error.txt";
  LoadOptions load_options;
  load_options.engine = path == Path::kLibjq ? jq::Engine::kLibjq : jq::Engine::kAuto;
  auto mapper = Mapper::Load((dir / "mapping.yaml").string(), load_options);

  if (fs::exists(error_file)) {
    auto want = json::ReadFile(error_file.string());
    ASSERT_TRUE(want.ok());
    std::string expected = *want;
    while (!expected.empty() && (expected.back() == '\n' || expected.back() == '\r')) {
      expected.pop_back();
    }
    ASSERT_FALSE(mapper.ok()) << "expected a load error containing: " << expected;
    EXPECT_NE(mapper.status().message().find(expected), std::string::npos)
        << "error: " << mapper.status().message() << "\nexpected to contain: " << expected;
    return;
  }
  ASSERT_TRUE(mapper.ok()) << mapper.status().message();

  json::Value options = json::Value::MakeObject();
  if (fs::exists(dir / "options.json")) {
    auto parsed = json::ParseFile((dir / "options.json").string());
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    options = *parsed;
  }
  PayloadOptions payload_options;
  if (options.Get("items_path").is_string()) {
    payload_options.items_path = options.Get("items_path").as_string();
  }
  std::string kind = options.Get("kind").is_string() ? options.Get("kind").as_string() : "";
  size_t batch_size = options.Get("batch_size").is_number()
                          ? static_cast<size_t>(options.Get("batch_size").as_number())
                          : 0;

  auto items = ReadPayloadItems({(dir / "payload.json").string()}, payload_options);
  ASSERT_TRUE(items.ok()) << items.status().message();

  MapResult result;
  if (path == Path::kNativeTexts) {
    // Batches of item texts, as the streaming reader hands them over: in one buffer, each
    // followed by padding that is not JSON, parsed in place.
    const size_t n = batch_size > 0 ? batch_size : items->size() + 1;
    std::string buffer;
    std::vector<std::pair<size_t, size_t>> spans;
    for (const auto& item : *items) {
      const std::string text = json::Write(item);
      spans.emplace_back(buffer.size(), text.size());
      buffer += text + std::string(jq::DocParser::kPadding, '}');
    }
    RunState run;
    for (size_t start = 0; start < spans.size(); start += n) {
      std::vector<std::string_view> views;
      for (size_t i = start; i < std::min(spans.size(), start + n); ++i) {
        views.emplace_back(buffer.data() + spans[i].first, spans[i].second);
      }
      std::optional<Mapper::TextFailure> failure;
      result.Merge(mapper->MapTexts(kind, views, &run, &failure));
      ASSERT_FALSE(failure) << failure->status.message();
    }
  } else if (batch_size > 0) {
    MapStream stream(
        &*mapper, kind,
        [&](MapResult batch) {
          result.Merge(std::move(batch));
          return Status::Ok();
        },
        batch_size);
    for (auto& item : *items) ASSERT_TRUE(stream.Add(std::move(item)).ok());
    ASSERT_TRUE(stream.Finish().ok());
  } else {
    result = mapper->Map(kind, *items);
  }

  json::Value actual = json::Value::MakeObject();
  actual.Set("entities", json::Value(result.entities));
  json::Value errors = json::Value::MakeArray();
  for (const auto& e : result.errors) errors.Push(ErrorJson(e));
  json::Value misconfigured = json::Value::MakeObject();
  for (const auto& m : result.misconfigured) {
    std::string key =
        m.resource == 0 ? m.path : "resources[" + std::to_string(m.resource) + "]." + m.path;
    misconfigured.Set(key, m.jq);
  }
  json::Value warnings = json::Value::MakeArray();
  for (const auto& w : result.warnings) {
    json::Value v = json::Value::MakeObject();
    v.Set("resource", static_cast<uint64_t>(w.resource));
    v.Set("index", static_cast<uint64_t>(w.index));
    v.Set("message", w.message);
    warnings.Push(std::move(v));
  }
  json::Value config_warnings = json::Value::MakeArray();
  for (const auto& w : mapper->config().warnings) {
    json::Value v = json::Value::MakeObject();
    v.Set("message", w);
    config_warnings.Push(std::move(v));
  }
  actual.Set("errors", errors);
  actual.Set("misconfigured", misconfigured);
  actual.Set("skipped", static_cast<uint64_t>(result.skipped));
  actual.Set("filtered", static_cast<uint64_t>(result.filtered));
  actual.Set("warnings", warnings);
  actual.Set("config_warnings", config_warnings);

  auto parsed = json::ParseFile((dir / "expected.json").string());
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const json::Value& expected = *parsed;

  bool ok = expected.Get("entities") == actual.Get("entities");
  ok = ok && MatchesRecords(expected.Get("errors"), errors);
  ok = ok && (expected.Has("misconfigured") ? expected.Get("misconfigured") == misconfigured
                                            : misconfigured.size() == 0);
  ok = ok &&
       json::Value(expected.Get("skipped").is_number() ? expected.Get("skipped")
                                                       : json::Value(0)) == actual.Get("skipped");
  ok = ok && (!expected.Has("filtered") || expected.Get("filtered") == actual.Get("filtered"));
  ok = ok && MatchesRecords(expected.Get("warnings"), warnings);
  ok = ok && MatchesRecords(expected.Get("config_warnings"), config_warnings);
  EXPECT_TRUE(ok) << "case " << name << " (- expected, + actual; errors, warnings and "
                  << "config_warnings match by key subset and message substring):\n"
                  << Diff(Pretty(expected), Pretty(actual));
}

INSTANTIATE_TEST_SUITE_P(
    Golden, MappingGoldenTest,
    testing::Combine(testing::ValuesIn(Cases()),
                     testing::Values(Path::kLibjq, Path::kNative, Path::kNativeTexts)),
    [](const testing::TestParamInfo<std::tuple<std::string, Path>>& info) {
      std::string name = std::get<0>(info.param);
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      const Path path = std::get<1>(info.param);
      return name + (path == Path::kLibjq    ? "_libjq"
                     : path == Path::kNative ? "_native"
                                             : "_native_texts");
    });

}  // namespace
}  // namespace portolan::mapping
