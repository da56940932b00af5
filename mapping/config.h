// The port app config: Ocean's YAML mapping, loaded and validated as Ocean's pydantic v1 models
// do, with every jq program compiled once, here.
//
// Accepted file shapes (see docs/mapping.md §1):
//   1. the full config: a mapping with `resources:` (and the optional top-level flags);
//   2. a bare list of resources (`- kind: ...`), as the Port docs show snippets;
//   3. one resource (a mapping with `kind:` and no `resources:`).
// Shapes 2 and 3 take the default top-level flags.
//
//   deleteDependentEntities: <bool>        default true
//   createMissingRelatedEntities: <bool>   default true
//   enableMergeEntity: <bool>              default true
//   entityDeletionThreshold: <0..1>        default 0.9
//   resources:
//     - kind: <str>                        required
//       selector:
//         query: <jq>                      required; other selector keys are ignored
//       port:
//         itemsToParse: <jq>               optional
//         itemsToParseName: <str>          default "item"
//         itemsToParseTopLevelTransform: <bool>   default true
//         entity:
//           mappings:                      exactly one mapping (a list is an error)
//             identifier: <jq> | <search query>   required
//             title: <jq>
//             blueprint: <jq>                     required
//             icon: <jq>
//             team: <jq> | <search query>
//             properties: {<key>: <jq>}
//             relations: {<key>: <jq> | <search query>}
//   search query: {combinator: <jq>, rules: [{property: <jq>, operator: <jq>, value: <jq>}
//                                            | <search query>]}
//
// Every leaf string is a jq program. Plain YAML scalars become text as pydantic's `str` makes
// it from the parsed value (42 -> "42", true -> "True", 1e3 -> "1000.0"). A leaf that does not
// compile is not a load error: it evaluates to null (Ocean), and its compile error is kept.
//
// Thread-safety: a loaded MappingConfig is immutable except through the programs it owns, which
// are not thread-safe (see engine/jq/jq.h); use one MappingConfig per thread.
#ifndef PORTOLAN_MAPPING_CONFIG_H_
#define PORTOLAN_MAPPING_CONFIG_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/status.h"
#include "engine/jq/expr.h"
#include "engine/jq/jq.h"

namespace portolan::mapping {

struct LoadOptions {
  // Lets jq programs read the process environment through `env` / `$ENV` (DESIGN §2: off).
  bool allow_env = false;
  // Which jq engine evaluates the programs (engine/jq/expr.h): native where possible by default.
  jq::Engine engine = jq::Engine::kAuto;
};

// One jq program of the mapping, compiled at load.
struct JqExpr {
  std::string path;  // dotted field path: "identifier", "properties.createdAt",
                     // "relations.owner.rules.value", "selector.query", "port.itemsToParse"
  std::string text;  // the program as written, after YAML scalar coercion
  // An explicit YAML null (title/icon/team): "set" but not a program; evaluates to null.
  bool is_null = false;
  int line = 0;  // 1-based position of the value in the YAML (0 when generated)
  int column = 0;
  jq::Expr* program = nullptr;     // owned by the MappingConfig; null when it did not compile
  std::string compile_error;       // jq's message when program == nullptr

  bool compiled() const { return program != nullptr; }
};

struct FieldMember;

// The entity template: objects (entity fields, properties, relations, search queries), lists
// (search-query rules) and jq leaves.
struct FieldNode {
  enum class Kind { kLeaf, kObject, kList };
  Kind kind = Kind::kObject;
  JqExpr leaf;                       // kLeaf
  std::vector<FieldMember> members;  // kObject, in output order
  std::vector<FieldNode> elements;   // kList
};

struct FieldMember {
  std::string key;
  FieldNode node;
};

struct ResourceConfig {
  size_t index = 0;  // position in `resources`
  std::string kind;
  JqExpr selector;
  std::optional<JqExpr> items_to_parse;  // absent, null or "" -> no fan-out (Ocean: falsy)
  std::string items_to_parse_name = "item";
  bool items_to_parse_top_level_transform = true;
  // ". | del(<DeletionPath(itemsToParse) or .>)", compiled when itemsToParse is set and the
  // top-level transform is on.
  std::optional<JqExpr> top_level_transform;
  // Entity fields in output order: identifier, title, blueprint, icon, team, properties,
  // relations; only the ones written in the YAML.
  FieldNode mappings;
  int line = 0;
  int column = 0;

  const FieldNode* FindField(std::string_view key) const;
};

class MappingConfig {
 public:
  // Loads a YAML file. Errors (kInvalidArgument) read "<file>:<line>:<col>: <field>: <what>",
  // e.g. "mapping.yaml:12:7: resources[0].port.entity.mappings: must be a single object, not a
  // list"; malformed YAML reads "<file>:<line>:<col>: <yaml-cpp message>". A missing file is
  // kNotFound.
  static Result<MappingConfig> LoadFile(const std::string& path, const LoadOptions& options = {});
  // Loads YAML text; `name` stands for the file in messages.
  static Result<MappingConfig> LoadText(std::string_view yaml, std::string_view name = "mapping",
                                        const LoadOptions& options = {});

  MappingConfig(MappingConfig&&) noexcept;
  MappingConfig& operator=(MappingConfig&&) noexcept;
  ~MappingConfig();

  bool delete_dependent_entities = true;
  bool create_missing_related_entities = true;
  bool enable_merge_entity = true;
  double entity_deletion_threshold = 0.9;
  std::vector<ResourceConfig> resources;
  // Non-fatal findings: keys Ocean ignores where a typo is likely (under `port`, `port.entity`
  // and `mappings`), e.g. a `relations:` block indented one level too shallow.
  std::vector<std::string> warnings;

  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }
  const LoadOptions& options() const { return options_; }
  // Whether any program runs on the native jq evaluator (else payloads go straight to libjq).
  bool any_native() const;

  // Every jq program that failed to compile, in file order, so a CLI can warn with the field
  // path and the jq text. Each one evaluates to null (fields) or fails every item (selector).
  struct CompileProblem {
    size_t resource;
    const JqExpr* expr;
  };
  std::vector<CompileProblem> CompileProblems() const;
  // "mapping.yaml:14:23: resources[0].port.entity.mappings.title: jq '...' does not compile:
  // <jq message>" for one problem.
  std::string Describe(const CompileProblem& problem) const;

 private:
  friend class ConfigLoader;
  MappingConfig() = default;

  std::string name_;
  std::string text_;
  LoadOptions options_;
  // Compiled programs, one per distinct text; JqExpr::program points in here.
  std::vector<std::unique_ptr<jq::Expr>> programs_;
};

// The path `del()` removes from each parent before fan-out, by Ocean's text heuristic
// (extract_jq_deletion_path_revised): trim; a leading "(" keeps the text up to the first ")";
// split on "|"; skip ". as $x", ".", "$..." segments; the first segment that starts with a path
// (.word or .[...], then .word, [...] or .[...]) gives it. nullopt when none does.
//   ".fields.comments | map(select(.public))" -> ".fields.comments"
//   ". as $a | .file.content // {}" -> ".file.content"     ".items[]" -> ".items"
std::optional<std::string> DeletionPath(std::string_view expr);

}  // namespace portolan::mapping

#endif  // PORTOLAN_MAPPING_CONFIG_H_
