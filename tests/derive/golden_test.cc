// Data-driven cases under tests/golden/derive/<case>/ (format: tests/golden/derive/README.md).
// Each case is loaded twice: entity by entity with incremental Apply() after every write, and
// then recomputed in full; both must give the expected values.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/derive/derive_fixture.h"

namespace portolan::derive::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Cases() {
  std::vector<std::string> out;
  fs::path root = fs::path(PORTOLAN_SOURCE_DIR) / "tests/golden/derive";
  if (!fs::exists(root)) return out;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.is_directory() && fs::exists(entry.path() / "expected.json")) {
      out.push_back(entry.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class GoldenTest : public DeriveTest, public ::testing::WithParamInterface<std::tuple<std::string, bool>> {
 protected:
  fs::path Dir() const {
    return fs::path(PORTOLAN_SOURCE_DIR) / "tests/golden/derive" / std::get<0>(GetParam());
  }
  json::Value File(const char* name) {
    auto v = json::ParseFile((Dir() / name).string());
    EXPECT_TRUE(v.ok()) << v.status().message();
    return v.ok() ? *v : json::Value();
  }

  // Compares the listed keys of the listed entities; one failure line per differing value.
  void Check(const json::Value& expected, const std::string& phase) {
    for (const auto& [bp, entities] : expected.as_object()) {
      for (const auto& [id, values] : entities.as_object()) {
        const store::Entity* e = store_->Find(bp, id);
        if (!e) {
          ADD_FAILURE() << phase << ": " << bp << "/" << id << " does not exist";
          continue;
        }
        for (const auto& [key, want] : values.as_object()) {
          json::Value got = e->Lookup(key);
          EXPECT_EQ(json::Write(got), json::Write(want))
              << phase << ": " << bp << "/" << id << "." << key;
        }
      }
    }
  }
};

TEST_P(GoldenTest, Case) {
  Options options;
  options.native_calculations = std::get<1>(GetParam());
  if (fs::exists(Dir() / "options.json")) {
    json::Value o = File("options.json");
    options.span_end_now = o.Get("span_end_now").is_bool() && o.Get("span_end_now").as_bool();
  }
  options_for_check_ = options;
  auto now_text = json::ReadFile((Dir() / "now").string());
  ASSERT_TRUE(now_text.ok()) << now_text.status().message();
  std::string trimmed = *now_text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
    trimmed.pop_back();
  }
  auto now = ParseIsoTime(trimmed);
  ASSERT_TRUE(now.has_value()) << "now: " << trimmed;
  now_ = *now;
  clock_.Set(now_);

  std::vector<json::Value> docs;
  const json::Value blueprints = File("blueprints.json");
  for (const json::Value& d : blueprints.as_array()) {
    if (d.is_string()) {
      auto doc = json::ParseFile(std::string(PORTOLAN_SOURCE_DIR) + "/" + d.as_string());
      ASSERT_TRUE(doc.ok()) << doc.status().message();
      docs.push_back(std::move(*doc));
    } else {
      docs.push_back(d);
    }
  }
  Status s = LoadDocs(docs, options);
  ASSERT_TRUE(s.ok()) << s.message();

  // Incremental: one transaction per entity.
  const json::Value entities = File("entities.json");
  for (const auto& [bp, bodies] : entities.as_object()) {
    for (json::Value body : bodies.as_array()) {
      double at = now_;
      if (const json::Value* c = body.Find("$createdAt")) {
        auto t = ParseIsoTime(c->as_string());
        ASSERT_TRUE(t.has_value()) << json::Write(*c);
        at = *t;
        body.Erase("$createdAt");
      }
      Put(bp, json::Write(body), at);
      if (HasFatalFailure()) return;
    }
  }
  clock_.Set(now_);
  json::Value expected = File("expected.json");
  Check(expected, "incremental");
  // Full recompute by a fresh engine.
  ExpectConsistent("full recompute");
  Engine fresh(store_.get(), options);
  ASSERT_TRUE(fresh.RecomputeAll(now_).ok());
  Check(expected, "full");
}

// Every case with calculations evaluated natively where possible, and on libjq only.
INSTANTIATE_TEST_SUITE_P(
    Derive, GoldenTest, ::testing::Combine(::testing::ValuesIn(Cases()), ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<std::string, bool>>& info) {
      return std::get<0>(info.param) + (std::get<1>(info.param) ? "_native" : "_libjq");
    });

}  // namespace
}  // namespace portolan::derive::testing
