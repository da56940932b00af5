// gen_catalog: a deterministic catalog for the store benchmarks: N blueprints (a chain, each
// relating to the previous one through `parent`) and E entities spread over them, as raw payloads for
// tools/bench/catalog-mapping.yaml.
//
//   gen_catalog --out DIR [--blueprints 10] [--entities 100000]
// writes DIR/blueprints.json (a JSON array of Port blueprints) and DIR/entities.jsonl.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "engine/base/json.h"

using portolan::json::Value;

int main(int argc, char** argv) {
  std::string out;
  long blueprints = 10, entities = 100000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--out")) {
      out = argv[i + 1];
    } else if (!std::strcmp(argv[i], "--blueprints")) {
      blueprints = std::atol(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--entities")) {
      entities = std::atol(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: gen_catalog --out DIR [--blueprints N] [--entities N]\n");
      return 1;
    }
  }
  if (out.empty() || blueprints < 1 || entities < 1) {
    std::fprintf(stderr, "usage: gen_catalog --out DIR [--blueprints N] [--entities N]\n");
    return 1;
  }
  Value bps = Value::MakeArray();
  for (long b = 0; b < blueprints; ++b) {
    Value bp = Value::MakeObject();
    bp.Set("identifier", "bp" + std::to_string(b));
    bp.Set("title", "Blueprint " + std::to_string(b));
    Value props = Value::MakeObject();
    for (const char* p : {"name", "owner", "tier", "score", "createdAt"}) {
      Value def = Value::MakeObject();
      bool number = !std::strcmp(p, "tier") || !std::strcmp(p, "score");
      def.Set("type", number ? "number" : "string");
      if (!std::strcmp(p, "createdAt")) def.Set("format", "date-time");
      props.Set(p, std::move(def));
    }
    Value schema = Value::MakeObject();
    schema.Set("properties", std::move(props));
    bp.Set("schema", std::move(schema));
    Value rels = Value::MakeObject();
    Value rel = Value::MakeObject();  // bp0's parent relation points at itself, unused
    rel.Set("target", "bp" + std::to_string(b > 0 ? b - 1 : 0));
    rel.Set("many", false);
    rel.Set("required", false);
    rels.Set("parent", std::move(rel));
    bp.Set("relations", std::move(rels));
    bps.Push(std::move(bp));
  }
  portolan::json::WriteOptions pretty;
  pretty.pretty = true;
  std::ofstream(out + "/blueprints.json") << portolan::json::Write(bps, pretty) << "\n";

  std::ofstream f(out + "/entities.jsonl");
  const long per = (entities + blueprints - 1) / blueprints;
  uint64_t x = 88172645463325252ull;  // xorshift64: same numbers on every platform
  std::string line;
  for (long i = 0; i < entities; ++i) {
    long b = i / per, k = i % per;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    Value e = Value::MakeObject();
    e.Set("id", "e" + std::to_string(b) + "-" + std::to_string(k));
    e.Set("bp", "bp" + std::to_string(b));
    e.Set("name", "Entity " + std::to_string(i));
    e.Set("owner", "team-" + std::to_string(x % 100));
    e.Set("tier", static_cast<double>(x % 4));
    e.Set("score", static_cast<double>(x % 1000) / 10.0);
    e.Set("createdAt", "2026-10-" + std::string(x % 28 < 9 ? "0" : "") +
                           std::to_string(x % 28 + 1) + "T12:00:00Z");
    // Relate to an entity of the previous blueprint, when there is one.
    e.Set("parent", b > 0 ? Value("e" + std::to_string(b - 1) + "-" + std::to_string(x % per))
                          : Value());
    line.clear();
    portolan::json::WriteTo(e, &line);
    f << line << "\n";
  }
  std::fprintf(stderr, "gen_catalog: %ld blueprints, %ld entities in %s\n", blueprints, entities,
               out.c_str());
  return 0;
}
