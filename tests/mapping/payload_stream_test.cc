#include "mapping/payload_stream.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/pipeline.h"
#include "mapping/payload.h"

namespace portolan::mapping {
namespace {

namespace fs = std::filesystem;
using internal::ScanKernel;

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    std::string name = "portolan_stream_test_";
    name.append(std::to_string(::getpid())).append("_").append(std::to_string(counter++));
    path_ = fs::temp_directory_path() / name;
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  fs::path path_;
};

struct Item {
  std::string text;
  ItemSource source;
  int column;
  long element;
  uint64_t offset;
};

struct Streamed {
  std::vector<Item> items;
  std::vector<size_t> batch_sizes;
  std::vector<size_t> first_indexes;
  Status status;
};

Streamed Stream(const std::vector<std::string>& paths, StreamOptions options = {}) {
  Streamed out;
  out.status = StreamPayloads(paths, options, [&](ItemBatch batch) {
    out.batch_sizes.push_back(batch.items.size());
    out.first_indexes.push_back(batch.first_index);
    for (const ItemText& t : batch.items) {
      out.items.push_back({std::string(t.text), t.source, t.column, t.element, t.offset});
      // The padding after each item lies inside one of the batch's buffers.
      const char* end = t.text.data() + t.text.size();
      bool padded = false;
      for (const auto& b : batch.buffers) {
        padded |= end >= b->data() && end + kItemPadding <= b->data() + b->size();
      }
      EXPECT_TRUE(padded) << "no padding after item " << out.items.size();
    }
    return Status::Ok();
  });
  return out;
}

// Streams one text (as file "p.json") with a small batch size.
Streamed StreamText(const std::string& text, size_t chunk = 64, size_t batch = 3) {
  TempDir dir;
  StreamOptions options;
  options.chunk_bytes = chunk;
  options.batch_size = batch;
  Streamed s = Stream({dir.Write("p.json", text)}, options);
  for (Item& item : s.items) item.source.file = fs::path(item.source.file).filename().string();
  if (!s.status.ok()) {
    // Messages start with the temp path; keep the file name.
    const std::string& m = s.status.message();
    const size_t at = m.find("p.json");
    if (at != std::string::npos) s.status = Status(s.status.code(), m.substr(at));
  }
  return s;
}

std::vector<std::string> Texts(const Streamed& s) {
  std::vector<std::string> texts;
  for (const Item& item : s.items) texts.push_back(item.text);
  return texts;
}

// The first error a caller sees: the stream's, or a parse error in an item (relocated).
Status StreamAndParse(const std::string& path, const StreamOptions& options,
                      std::vector<std::string>* items = nullptr) {
  return StreamPayloads({path}, options, [&](ItemBatch batch) -> Status {
    for (const ItemText& t : batch.items) {
      auto parsed = json::Parse(t.text);
      if (!parsed.ok()) return ItemParseError(t, parsed.status());
      if (items) items->push_back(json::Write(*parsed));
    }
    return Status::Ok();
  });
}

// ---------------------------------------------------------------------------------------------

TEST(PayloadStreamTest, JsonLines) {
  auto s = StreamText("{\"a\":1}\n{\"a\":2}\n\n  {\"a\":3}  \n{}\n");
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(Texts(s), (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "{\"a\":3}", "{}"}));
  EXPECT_EQ(s.items[2].source.line, 4);
  EXPECT_EQ(s.items[2].column, 3);
  EXPECT_EQ(s.items[2].source.position, 2u);
  EXPECT_EQ(s.items[2].source.file, "p.json");
  EXPECT_EQ(s.items[2].element, -1);
  EXPECT_EQ(s.items[2].offset, 19u);
  EXPECT_EQ(s.items[3].source.line, 5);
  EXPECT_EQ(s.batch_sizes, (std::vector<size_t>{3, 1}));
  EXPECT_EQ(s.first_indexes, (std::vector<size_t>{0, 3}));
}

TEST(PayloadStreamTest, OneArrayOnOneLineAndPrettyPrinted) {
  auto line = StreamText(R"([{"a":1},{"a":[2,{"b":3}]} , {}])");
  ASSERT_TRUE(line.status.ok()) << line.status.message();
  EXPECT_EQ(Texts(line), (std::vector<std::string>{R"({"a":1})", R"({"a":[2,{"b":3}]})", "{}"}));
  EXPECT_EQ(line.items[1].element, 1);
  EXPECT_EQ(line.items[1].column, 10);
  EXPECT_EQ(line.items[2].source.position, 2u);

  auto pretty =
      StreamText("[\n  {\n    \"a\": 1\n  },\n  {\n    \"b\": [\n      2\n    ]\n  }\n]\n");
  ASSERT_TRUE(pretty.status.ok()) << pretty.status.message();
  ASSERT_EQ(pretty.items.size(), 2u);
  EXPECT_EQ(pretty.items[0].text, "{\n    \"a\": 1\n  }");
  EXPECT_EQ(pretty.items[1].source.line, 5);  // where the element starts
  EXPECT_EQ(pretty.items[1].column, 3);
  EXPECT_EQ(pretty.items[1].element, 1);

  auto empty = StreamText("[]\n[ ]\n[\n]");
  ASSERT_TRUE(empty.status.ok()) << empty.status.message();
  EXPECT_TRUE(empty.items.empty());
}

TEST(PayloadStreamTest, JsonLinesOfArraysConcatenateTheirElements) {
  auto s = StreamText("[{\"a\":1},{\"a\":2}]\n[{\"a\":3}]\n{\"a\":4}\n[]\n");
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  ASSERT_EQ(s.items.size(), 4u);
  EXPECT_EQ(s.items[2].source.line, 2);
  EXPECT_EQ(s.items[2].element, 0);
  EXPECT_EQ(s.items[3].element, -1);
  EXPECT_EQ(s.items[3].source.position, 3u);
}

TEST(PayloadStreamTest, ConcatenatedObjectsOnOneLine) {
  auto s = StreamText(R"({"a":1}{"a":2} {"a":{"b":{}}}	{"c":[]})");
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(Texts(s), (std::vector<std::string>{R"({"a":1})", R"({"a":2})", R"({"a":{"b":{}}})",
                                                R"({"c":[]})"}));
  EXPECT_EQ(s.items[1].column, 8);
  EXPECT_EQ(s.items[3].column, 31);
}

TEST(PayloadStreamTest, PrettyPrintedObjectsSpanningLines) {
  const std::string text = "{\n  \"a\": {\n    \"b\": [1, 2]\n  }\n}\n{\n  \"c\": \"}\"\n}";
  auto s = StreamText(text);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  ASSERT_EQ(s.items.size(), 2u);
  EXPECT_EQ(s.items[0].text, "{\n  \"a\": {\n    \"b\": [1, 2]\n  }\n}");
  EXPECT_EQ(s.items[1].source.line, 6);
  EXPECT_EQ(s.items[1].text, "{\n  \"c\": \"}\"\n}");
}

TEST(PayloadStreamTest, StringsWithBracketsQuotesAndBackslashes) {
  const std::vector<std::string> items = {
      R"({"s":"}]{[","t":"\"}"})",
      R"({"s":"\\","t":"{"})",
      R"({"s":"\\\"}","u":"\\\\"})",
      R"({"s":"a\nb\r\n\t\u0022}\u005c"})",
      R"({"s":"\/\b\f","k\"}":"v"})",
      "{\"" + std::string(150, '\\') + "\":\"" + std::string(77, ']') + "\"}",
      "{\"s\":\"" + std::string(63, 'x') + "\\\"" + std::string(64, '{') + "\"}",
  };
  std::string text;
  for (const auto& item : items) text += item + "\n";
  for (size_t chunk : {64, 100, 1 << 20}) {
    auto s = StreamText(text, chunk);
    ASSERT_TRUE(s.status.ok()) << s.status.message();
    EXPECT_EQ(Texts(s), items);
    for (const Item& item : s.items) EXPECT_TRUE(json::Parse(item.text).ok()) << item.text;
  }
}

TEST(PayloadStreamTest, ItemsSpanningChunkBoundaries) {
  std::string text;
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    std::string item = "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i % 97, 'x') +
                       "\",\"nested\":[{\"q\":\"\\\"" + std::string(i % 13, '\\') +
                       std::string(i % 13, '\\') + "\"}]}";
    expected.push_back(item);
    text += item + (i % 3 == 0 ? "\n" : i % 3 == 1 ? " " : "");
  }
  text += "[" + expected[0] + ",\n" + expected[1] + "]";
  expected.push_back(expected[0]);
  expected.push_back(expected[1]);
  for (size_t chunk : {7, 64, 65, 100, 333, 4096}) {
    auto s = StreamText(text, chunk, 7);
    ASSERT_TRUE(s.status.ok()) << chunk << ": " << s.status.message();
    EXPECT_EQ(Texts(s), expected) << chunk;
  }
  // A single item much larger than the chunk.
  const std::string big = "{\"big\":\"" + std::string(100000, 'y') + "\",\"a\":[" +
                          std::string(5000, '[') + std::string(5000, ']') + "]}";
  auto s = StreamText("{\"a\":1}\n" + big + "\n{\"b\":2}", 64, 2);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  ASSERT_EQ(s.items.size(), 3u);
  EXPECT_EQ(s.items[1].text, big);
  EXPECT_EQ(s.items[2].source.line, 3);
}

TEST(PayloadStreamTest, CrLfAndByteOrderMark) {
  auto s = StreamText("\xEF\xBB\xBF{\"a\":1}\r\n{\"a\":2}\r\n\r\n[\r\n {\"b\":\r\n 3}\r\n]\r\n");
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(Texts(s), (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "{\"b\":\r\n 3}"}));
  EXPECT_EQ(s.items[0].column, 1);  // counted after the mark, as payload.cc does
  EXPECT_EQ(s.items[0].offset, 0u);
  EXPECT_EQ(s.items[2].source.line, 5);
  EXPECT_EQ(s.items[2].column, 2);

  auto only_bom = StreamText("\xEF\xBB\xBF");
  EXPECT_TRUE(only_bom.status.ok());
  EXPECT_TRUE(only_bom.items.empty());
}

TEST(PayloadStreamTest, EmptyFiles) {
  for (const std::string& text :
       std::vector<std::string>{"", " ", "\n\n\r\n\t ", std::string(500, '\n')}) {
    auto s = StreamText(text);
    EXPECT_TRUE(s.status.ok()) << s.status.message();
    EXPECT_TRUE(s.items.empty());
    EXPECT_TRUE(s.batch_sizes.empty());
  }
}

TEST(PayloadStreamTest, SeveralFilesShareBatchesAndCountPositionsPerFile) {
  TempDir dir;
  const std::string a = dir.Write("a.json", R"([{"n":1},{"n":2}])");
  const std::string b = dir.Write("b.jsonl", "{\"n\":3}\n{\"n\":4}\n");
  const std::string e = dir.Write("e.json", "");
  StreamOptions options;
  options.batch_size = 3;
  auto s = Stream({a, e, b}, options);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  ASSERT_EQ(s.items.size(), 4u);
  EXPECT_EQ(s.batch_sizes, (std::vector<size_t>{3, 1}));
  EXPECT_EQ(s.items[2].source.file, b);
  EXPECT_EQ(s.items[2].source.position, 0u);
  EXPECT_EQ(s.items[1].source.position, 1u);

  auto missing = Stream({a, (fs::path(a).parent_path() / "nope.json").string()}, options);
  EXPECT_EQ(missing.status.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status.message().find("nope.json: cannot open file"), std::string::npos);
  EXPECT_EQ(missing.items.size(), 2u);  // delivered before the error
}

TEST(PayloadStreamTest, ReadsStandardInput) {
  TempDir dir;
  const std::string path = dir.Write("in.jsonl", "{\"a\":1}\n[{\"a\":2}]\n");
  const int saved = ::dup(0);
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ::dup2(fd, 0);
  ::close(fd);
  auto s = Stream({"-"});
  ::dup2(saved, 0);
  ::close(saved);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(Texts(s), (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}"}));
  EXPECT_EQ(s.items[1].source.file, "-");
}

TEST(PayloadStreamTest, CanStream) {
  EXPECT_TRUE(CanStream(PayloadOptions{}));
  PayloadOptions with_path;
  with_path.items_path = "data.items";
  EXPECT_FALSE(CanStream(with_path));
}

// --- errors ---

TEST(PayloadStreamTest, ItemsMustBeObjects) {
  auto scalar = StreamText("{\"a\":1}\n\"text\"\n{\"a\":2}\n");
  EXPECT_EQ(scalar.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(scalar.status.message(),
            "p.json:2: items must be JSON objects, the value is a string");
  EXPECT_EQ(scalar.items.size(), 1u);  // the item before the error, in a final partial batch
  EXPECT_EQ(scalar.batch_sizes, (std::vector<size_t>{1}));

  EXPECT_EQ(StreamText("[{\"a\":1}, 5]").status.message(),
            "p.json:1: items must be JSON objects, element 1 of the array is a number");
  EXPECT_EQ(StreamText("[1,2,3]").status.message(),
            "p.json:1: items must be JSON objects, element 0 of the array is a number");
  EXPECT_EQ(StreamText("{}\n[{}, [1]]").status.message(),
            "p.json:2: items must be JSON objects, element 1 of the array is an array");
  EXPECT_EQ(StreamText("\n\n  null").status.message(),
            "p.json:3: items must be JSON objects, the value is a null");
  EXPECT_EQ(StreamText("true").status.message(),
            "p.json:1: items must be JSON objects, the value is a boolean");
  EXPECT_EQ(StreamText("-12.5e3{}").status.message(),
            "p.json:1: items must be JSON objects, the value is a number");
  EXPECT_EQ(StreamText("[\"a\\\"]\"]").status.message(),
            "p.json:1: items must be JSON objects, element 0 of the array is a string");
}

TEST(PayloadStreamTest, StructuralErrorsNameLineAndColumn) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"{\"a\":1}\n{\"a\":[1}\n", "p.json: line 2, column 8: Missing a comma or ']' after an "
                                   "array element."},
      {"{\"a\":1\n{\"b\":2}\n", "p.json: line 2, column 1: Missing a comma or '}' after an "
                                "object member."},
      {"{\"a\":\"x\n\"}", "p.json: line 1, column 8: Invalid escape character in string."},
      {"{\"a\":1}\n{\"b\":", "p.json: line 2, column 6: Invalid value."},
      {"{\"a\":1}\n{\"b\":\"abc", "p.json: line 2, column 10: Missing a closing quotation mark "
                                  "in string."},
      {"[{\"a\":1},", "p.json: line 1, column 10: Invalid value."},
      {"[{\"a\":1}", "p.json: line 1, column 9: Missing a comma or ']' after an array element."},
      {"[", "p.json: line 1, column 2: Invalid value."},
      {"[{\"a\":1} {\"b\":2}]", "p.json: line 1, column 10: Missing a comma or ']' after an "
                                 "array element."},
      {"[{\"a\":1},]", "p.json: line 1, column 10: Invalid value."},
      {"[,{\"a\":1}]", "p.json: line 1, column 2: Invalid value."},
      {"{\"a\":1}}", "p.json: line 1, column 8: Invalid value."},
      {"{\"a\":1}\n]", "p.json: line 2, column 1: Invalid value."},
      {"{\"a\":1}\nnul", "p.json: line 2, column 4: Invalid value."},
      {"{\"a\":1}\nxyz", "p.json: line 2, column 1: Invalid value."},
      {"{\"a\" {\"b\":1}}", "p.json: line 1, column 6: Missing a colon after a name of object "
                             "member."},
      {"\"abc", "p.json: line 1, column 5: Missing a closing quotation mark in string."},
      {"[\"a\\q\"]", "p.json: line 1, column 4: Invalid escape character in string."},
  };
  for (const Case& c : cases) {
    for (size_t chunk : {64, 1 << 20}) {
      auto s = StreamText(c.text, chunk);
      EXPECT_EQ(s.status.code(), StatusCode::kInvalidArgument) << c.text;
      EXPECT_EQ(s.status.message(), c.message) << c.text;
      // The same message as the whole-file reader.
      auto reference = ParsePayload(c.text, "p.json", {}, [](json::Value, const ItemSource&) {
        return Status::Ok();
      });
      EXPECT_EQ(reference.message(), c.message) << c.text;
    }
  }
}

TEST(PayloadStreamTest, ErrorsInsideItemsAreTheParsersRelocated) {
  TempDir dir;
  const std::string text = "{\"a\":1}\n  {\"a\" 2}\n";
  const std::string path = dir.Write("p.json", text);
  Status s = StreamAndParse(path, {});
  EXPECT_EQ(s.message(), path + ": line 2, column 8: Missing a colon after a name of object "
                                "member.");
  Status reference =
      ParsePayload(text, path, {}, [](json::Value, const ItemSource&) { return Status::Ok(); });
  EXPECT_EQ(s.message(), reference.message());

  ItemText item;
  item.source.file = "f.json";
  item.source.line = 10;
  item.column = 5;
  EXPECT_EQ(ItemErrorLocation(item, 1, 3), "f.json: line 10, column 7");
  EXPECT_EQ(ItemErrorLocation(item, 3, 3), "f.json: line 12, column 3");
  EXPECT_EQ(ItemParseError(item, InvalidArgument("line 2, column 4: Bad.")).message(),
            "f.json: line 11, column 4: Bad.");
  EXPECT_EQ(ItemParseError(item, InvalidArgument("oops")).message(), "f.json:10: oops");
  EXPECT_TRUE(ItemParseError(item, Status::Ok()).ok());
}

TEST(PayloadStreamTest, CallbackErrorsStopAndPassThrough) {
  TempDir dir;
  const std::string path = dir.Write("p.jsonl", "{}\n{}\n{}\n{}\n{}\n");
  StreamOptions options;
  options.batch_size = 2;
  int calls = 0;
  Status s = StreamPayloads({path}, options, [&](ItemBatch) {
    ++calls;
    return Internal("sink failed");
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "sink failed");
  EXPECT_EQ(calls, 1);
}

// --- memory ---

TEST(PayloadStreamTest, BuffersAreReusedAndBounded) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "{\"i\":" + std::to_string(i) + ",\"s\":\"abcdefgh\"}\n";
  TempDir dir;
  const std::string path = dir.Write("p.jsonl", text);
  StreamOptions options;
  options.chunk_bytes = 4096;
  options.batch_size = 10;
  std::set<const std::string*> buffers;
  size_t max_buffer = 0, items = 0;
  Status s = StreamPayloads({path}, options, [&](ItemBatch batch) {
    EXPECT_LE(batch.buffers.size(), 2u);
    for (const auto& b : batch.buffers) {
      buffers.insert(b.get());
      max_buffer = std::max(max_buffer, b->size());
    }
    items += batch.items.size();
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(items, 20000u);
  EXPECT_GT(text.size(), 40 * 4096u);
  EXPECT_LE(buffers.size(), 4u);  // a few chunks reused, whatever the file size
  EXPECT_LE(max_buffer, 2 * 4096u + 256);
}

// The intended use: batches parsed on worker threads while the stream reads on (and reuses its
// buffers). Buffers must stay alive and untouched while any batch refers to them.
TEST(PayloadStreamTest, BatchesThroughAnOrderedPipeline) {
  std::string text;
  std::vector<std::string> expected;
  for (int i = 0; i < 3000; ++i) {
    expected.push_back("{\"i\":" + std::to_string(i) + ",\"s\":\"" + std::string(i % 50, 'z') +
                       "\"}");
    text += expected.back() + "\n";
  }
  TempDir dir;
  const std::string path = dir.Write("p.jsonl", text);
  for (int workers : {1, 4}) {
    struct Parser {};
    std::vector<std::string> got;
    OrderedPipeline<ItemBatch, std::vector<std::string>, Parser> pipeline(
        std::vector<Parser>(workers),
        [](Parser&, ItemBatch batch) -> Result<std::vector<std::string>> {
          std::vector<std::string> out;
          for (const ItemText& item : batch.items) {
            auto parsed = json::Parse(item.text);
            if (!parsed.ok()) return ItemParseError(item, parsed.status());
            out.push_back(json::Write(*parsed));
          }
          return out;
        },
        [&](std::vector<std::string> rows) {
          got.insert(got.end(), rows.begin(), rows.end());
          return Status::Ok();
        });
    StreamOptions options;
    options.chunk_bytes = 1024;
    options.batch_size = 16;
    Status s = StreamPayloads({path}, options,
                              [&](ItemBatch batch) { return pipeline.Submit(std::move(batch)); });
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_TRUE(pipeline.Finish().ok());
    EXPECT_EQ(got, expected) << workers;
  }
}

// --- cross-check against the whole-file reader ---

// prefix + i + suffix (appended: GCC 12 warns about "lit" + std::string temporaries).
std::string Name(const char* prefix, int i, const char* suffix) {
  std::string s(prefix);
  s.append(std::to_string(i)).append(suffix);
  return s;
}

// A random JSON value; strings are heavy in quotes, backslashes and brackets.
json::Value RandomValue(std::mt19937& rng, int depth) {
  std::uniform_int_distribution<int> kind(0, depth > 3 ? 4 : 6);
  auto random_string = [&]() {
    static const std::string alphabet = "ab\"\\{}[]:, \n\t/\x01\xC3\xA9";
    std::string s;
    const int n = std::uniform_int_distribution<int>(0, 12)(rng);
    for (int i = 0; i < n; ++i) {
      const int c = std::uniform_int_distribution<int>(0, 14)(rng);
      if (c == 14) {
        s += "\xC3\xA9";  // é
      } else if (c == 13 && std::uniform_int_distribution<int>(0, 9)(rng) == 0) {
        s += std::string(std::uniform_int_distribution<int>(1, 140)(rng), '\\');
      } else {
        s += alphabet[c % 14];
      }
    }
    return s;
  };
  switch (kind(rng)) {
    case 0: return json::Value();
    case 1: return json::Value(std::uniform_int_distribution<int>(0, 1)(rng) == 1);
    case 2: return json::Value(std::uniform_int_distribution<int>(-1000, 100000)(rng) / 7.0);
    case 3:
    case 4: return json::Value(random_string());
    case 5: {
      json::Value a = json::Value::MakeArray();
      const int n = std::uniform_int_distribution<int>(0, 4)(rng);
      for (int i = 0; i < n; ++i) a.Push(RandomValue(rng, depth + 1));
      return a;
    }
    default: {
      json::Value o = json::Value::MakeObject();
      const int n = std::uniform_int_distribution<int>(0, 5)(rng);
      for (int i = 0; i < n; ++i) o.Set(random_string(), RandomValue(rng, depth + 1));
      return o;
    }
  }
}

json::Value RandomObject(std::mt19937& rng) {
  json::Value o = json::Value::MakeObject();
  const int n = std::uniform_int_distribution<int>(0, 6)(rng);
  for (int i = 0; i < n; ++i) o.Set(Name("k", i, ""), RandomValue(rng, 1));
  return o;
}

std::string RandomWhitespace(std::mt19937& rng, bool allow_empty) {
  static const char* kWs[] = {"", " ", "\n", "\r\n", "\t", "  \n  ", "\n\n"};
  std::string s = kWs[std::uniform_int_distribution<int>(allow_empty ? 0 : 1, 6)(rng)];
  return s;
}

// A payload file of random objects in one of several layouts.
std::string RandomPayload(std::mt19937& rng) {
  const int layout = std::uniform_int_distribution<int>(0, 6)(rng);
  const int n = std::uniform_int_distribution<int>(0, 25)(rng);
  json::WriteOptions pretty;
  pretty.pretty = true;
  std::string text;
  if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) text += "\xEF\xBB\xBF";
  auto write = [&](const json::Value& v) {
    return json::Write(v, layout == 4 || layout == 5 ? pretty : json::WriteOptions());
  };
  switch (layout) {
    case 0:  // JSON Lines
    case 1:  // concatenated, maybe without separators
    case 2:  // concatenated with random whitespace
    case 5:  // pretty objects one after another
      for (int i = 0; i < n; ++i) {
        text += write(RandomObject(rng));
        text += layout == 0 ? "\n" : layout == 1 ? "" : RandomWhitespace(rng, true);
      }
      break;
    case 3:  // one compact array
    case 4: {  // one pretty array
      json::Value a = json::Value::MakeArray();
      for (int i = 0; i < n; ++i) a.Push(RandomObject(rng));
      text += write(a) + RandomWhitespace(rng, true);
      break;
    }
    default:  // JSON Lines of arrays and objects, with arbitrary whitespace inside arrays
      for (int i = 0; i < n; ++i) {
        if (std::uniform_int_distribution<int>(0, 1)(rng) == 0) {
          text += json::Write(RandomObject(rng));
        } else {
          const int m = std::uniform_int_distribution<int>(0, 3)(rng);
          text += "[" + RandomWhitespace(rng, true);
          for (int j = 0; j < m; ++j) {
            if (j > 0) text += RandomWhitespace(rng, true) + "," + RandomWhitespace(rng, true);
            text += json::Write(RandomObject(rng));
          }
          text += RandomWhitespace(rng, true) + "]";
        }
        text += RandomWhitespace(rng, false);
      }
      break;
  }
  return text;
}

class KernelTest : public ::testing::TestWithParam<ScanKernel> {
 protected:
  void SetUp() override {
    if (!internal::ScanKernelAvailable(GetParam())) {
      GTEST_SKIP() << "kernel not available";
    }
    internal::SetScanKernelForTesting(GetParam());
  }
  void TearDown() override { internal::SetScanKernelForTesting(ScanKernel::kAuto); }
};

TEST_P(KernelTest, SameItemsAndSourcesAsReadPayloads) {
  std::mt19937 rng(20240611);
  TempDir dir;
  for (int round = 0; round < 150; ++round) {
    const std::string text = RandomPayload(rng);
    const std::string path = dir.Write(Name("r", round, ".json"), text);
    std::vector<json::Value> ref_items;
    std::vector<ItemSource> ref_sources;
    Status ref = ReadPayloads({path}, {}, [&](json::Value v, const ItemSource& src) {
      ref_items.push_back(std::move(v));
      ref_sources.push_back(src);
      return Status::Ok();
    });
    ASSERT_TRUE(ref.ok()) << ref.message();
    const std::string_view body =
        std::string_view(text).substr(text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0);
    for (size_t chunk : {64, 200, 1 << 16}) {
      StreamOptions options;
      options.chunk_bytes = chunk;
      options.batch_size = 1 + round % 5;
      auto s = Stream({path}, options);
      ASSERT_TRUE(s.status.ok()) << s.status.message() << "\n" << text;
      ASSERT_EQ(s.items.size(), ref_items.size()) << text;
      for (size_t i = 0; i < s.items.size(); ++i) {
        const Item& item = s.items[i];
        auto parsed = json::Parse(item.text);
        ASSERT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << item.text;
        EXPECT_EQ(json::Write(*parsed), json::Write(ref_items[i]));
        EXPECT_EQ(item.source.file, ref_sources[i].file);
        EXPECT_EQ(item.source.position, ref_sources[i].position);
        if (item.element < 0) {
          EXPECT_EQ(item.source.line, ref_sources[i].line);
        } else {
          EXPECT_GE(item.source.line, ref_sources[i].line);  // the element's line, not the array's
        }
        EXPECT_EQ(body.substr(item.offset, item.text.size()), item.text);
        auto [line, column] = json::LineColumn(body, item.offset);
        EXPECT_EQ(item.source.line, line);
        EXPECT_EQ(item.column, column);
      }
      for (size_t b = 0; b < s.batch_sizes.size(); ++b) {
        EXPECT_EQ(s.first_indexes[b], b * options.batch_size);
        if (b + 1 < s.batch_sizes.size()) {
          EXPECT_EQ(s.batch_sizes[b], options.batch_size);
        }
      }
    }
  }
}

// Broken inputs: the first error a caller sees (the stream's, or an item's parse error relocated)
// is the whole-file readers'. (Where ReadPayloadInputs and ReadPayloads disagree, either is
// accepted: ReadPayloads parses a whole top-level value before handing out its elements, and
// ReadPayloadInputs flattens an array nested in the top-level array instead of rejecting it.)
TEST_P(KernelTest, SameFirstErrorAsTheWholeFileReaders) {
  std::mt19937 rng(777);
  TempDir dir;
  int errors = 0, strict = 0;
  for (int round = 0; round < 400; ++round) {
    std::string text;
    const int n = std::uniform_int_distribution<int>(1, 6)(rng);
    const bool array = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
    if (array) text += "[";
    for (int i = 0; i < n; ++i) {
      if (array && i > 0) text += ",";
      text += json::Write(RandomObject(rng));
      if (!array) text += std::uniform_int_distribution<int>(0, 1)(rng) ? "\n" : " ";
    }
    if (array) text += "]\n";
    // Damage it: drop, insert or replace a byte, or truncate.
    const size_t at = std::uniform_int_distribution<size_t>(0, text.size() - 1)(rng);
    static const std::string kBytes = "{}[]\",:\\ \n0ax\xFF";
    const char c = kBytes[std::uniform_int_distribution<size_t>(0, kBytes.size() - 1)(rng)];
    switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
      case 0: text.erase(at, 1); break;
      case 1: text.insert(at, 1, c); break;
      case 2: text[at] = c; break;
      default: text.resize(at); break;
    }
    const std::string path = dir.Write(Name("e", round, ".json"), text);
    std::vector<std::string> ref_items;
    Status ref = ReadPayloadInputs({path}, {}, [&](jq::Input in, const ItemSource&) {
      ref_items.push_back(json::Write(in.ToJson()));
      return Status::Ok();
    });
    Status whole = ReadPayloads({path}, {}, [](json::Value, const ItemSource&) {
      return Status::Ok();
    });
    bool agree = ref.message() == whole.message();
    for (size_t chunk : {64, 1 << 16}) {
      StreamOptions options;
      options.chunk_bytes = chunk;
      std::vector<std::string> items;
      Status got = StreamAndParse(path, options, &items);
      const std::string nested = "of the array is an array";
      if (got.message().size() > nested.size() &&
          got.message().compare(got.message().size() - nested.size(), nested.size(), nested) ==
              0) {
        // A complete array nested in the top-level array: rejected as soon as it ends, before
        // any later error; neither whole-file reader reports it first (see above).
        agree = false;
      } else if (agree) {
        EXPECT_EQ(got.code(), ref.code()) << text;
        EXPECT_EQ(got.message(), ref.message()) << text;
        if (ref.ok()) {
          EXPECT_EQ(items, ref_items) << text;
        }
      } else {
        EXPECT_TRUE(got.message() == ref.message() || got.message() == whole.message())
            << text << "\nstream: " << got.message() << "\ninputs: " << ref.message()
            << "\nwhole: " << whole.message();
      }
    }
    if (agree) ++strict;
    if (!ref.ok()) ++errors;
  }
  EXPECT_GT(errors, 100);
  EXPECT_GT(strict, 300);
}

INSTANTIATE_TEST_SUITE_P(Kernels, KernelTest,
                         ::testing::Values(ScanKernel::kScalar, ScanKernel::kSse2,
                                           ScanKernel::kAvx2),
                         [](const ::testing::TestParamInfo<ScanKernel>& info) {
                           switch (info.param) {
                             case ScanKernel::kScalar: return std::string("Scalar");
                             case ScanKernel::kSse2: return std::string("Sse2");
                             case ScanKernel::kAvx2: return std::string("Avx2");
                             default: return std::string("Auto");
                           }
                         });

}  // namespace
}  // namespace portolan::mapping
