#include "mapping/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <utility>

#include "engine/base/json.h"
#include "mapping/internal/python.h"

namespace portolan::mapping {

namespace {

struct Member {
  std::string key;  // coerced to str, as pydantic does for dict keys
  YAML::Node key_node;
  YAML::Node value;
};
using Members = std::vector<Member>;

const YAML::Node* FindMember(const Members& members, std::string_view key) {
  for (const auto& m : members) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

// YAML 1.2 core-schema resolution of a plain scalar, spelled as Python's str() spells the
// parsed value (pydantic v1 `str` fields accept int, float and bool and call str() on them).
enum class ScalarType { kNull, kBool, kInt, kFloat, kString };
struct ScalarValue {
  ScalarType type = ScalarType::kString;
  std::string python_str;  // what a pydantic `str` field holds
  bool boolean = false;
  double number = 0;
};

std::string DecimalIntStr(std::string_view digits_with_sign) {
  bool negative = !digits_with_sign.empty() && digits_with_sign[0] == '-';
  if (!digits_with_sign.empty() && (digits_with_sign[0] == '-' || digits_with_sign[0] == '+')) {
    digits_with_sign.remove_prefix(1);
  }
  size_t nz = digits_with_sign.find_first_not_of('0');
  if (nz == std::string_view::npos) return "0";
  return (negative ? "-" : "") + std::string(digits_with_sign.substr(nz));
}

ScalarValue ResolveScalar(const YAML::Node& node) {
  ScalarValue out;
  if (node.IsNull()) {
    out.type = ScalarType::kNull;
    out.python_str = "None";
    return out;
  }
  const std::string& text = node.Scalar();
  const std::string& tag = node.Tag();
  out.python_str = text;
  // Quoted and block scalars carry the non-specific tag "!": always strings.
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return out;

  static const std::regex kBool("true|True|TRUE|false|False|FALSE");
  static const std::regex kInt10("[-+]?[0-9]+");
  static const std::regex kInt8("0o[0-7]+");
  static const std::regex kInt16("0x[0-9a-fA-F]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  static const std::regex kInf("[-+]?\\.(inf|Inf|INF)");
  static const std::regex kNan("\\.(nan|NaN|NAN)");

  if (std::regex_match(text, kBool)) {
    out.type = ScalarType::kBool;
    out.boolean = text[0] == 't' || text[0] == 'T';
    out.python_str = out.boolean ? "True" : "False";
  } else if (std::regex_match(text, kInt10)) {
    out.type = ScalarType::kInt;
    out.python_str = DecimalIntStr(text);
    out.number = std::strtod(text.c_str(), nullptr);
  } else if (std::regex_match(text, kInt8) || std::regex_match(text, kInt16)) {
    int base = text[1] == 'o' ? 8 : 16;
    errno = 0;
    unsigned long long v = std::strtoull(text.c_str() + 2, nullptr, base);
    if (errno == 0) {
      out.type = ScalarType::kInt;
      out.python_str = std::to_string(v);
      out.number = static_cast<double>(v);
    }
  } else if (std::regex_match(text, kFloat) || std::regex_match(text, kInf) ||
             std::regex_match(text, kNan)) {
    out.type = ScalarType::kFloat;
    if (std::regex_match(text, kNan)) {
      out.number = std::nan("");
    } else if (std::regex_match(text, kInf)) {
      out.number = text[0] == '-' ? -HUGE_VAL : HUGE_VAL;
    } else {
      out.number = std::strtod(text.c_str(), nullptr);
    }
    out.python_str = internal::PythonFloatRepr(out.number);
  }
  return out;
}

const char* NodeKindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "an object";
    case YAML::NodeType::Undefined:
      return "missing";
  }
  return "?";
}

// What a jq field may hold besides a jq string.
enum class Allow { kJq, kJqOrNull, kJqOrQuery, kJqOrQueryOrNull };

}  // namespace

// Walks the YAML tree, validating as Ocean's pydantic models do, and compiles the programs.
class ConfigLoader {
 public:
  ConfigLoader(std::string_view name, const LoadOptions& options) : name_(name) {
    config_.name_ = std::string(name);
    config_.options_ = options;
  }

  Result<MappingConfig> Load(std::string_view text) {
    config_.text_ = std::string(text);
    YAML::Node root;
    try {
      root = YAML::Load(config_.text_);
    } catch (const YAML::Exception& e) {
      return InvalidArgument(Where(e.mark) + e.msg);
    }
    try {
      PORTOLAN_RETURN_IF_ERROR(LoadRoot(root));
    } catch (const YAML::Exception& e) {
      // Not expected: every node is type-checked before use. Keep it out of callers anyway.
      return Internal(Where(e.mark) + "reading the YAML: " + e.msg);
    }
    return std::move(config_);
  }

 private:
  std::string Where(const YAML::Mark& mark) const {
    if (mark.is_null()) return name_ + ": ";
    return name_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
           ": ";
  }

  Status Error(const YAML::Node& at, const std::string& field, const std::string& what) const {
    YAML::Mark mark = at.IsDefined() ? at.Mark() : YAML::Mark::null_mark();
    return InvalidArgument(Where(mark) + (field.empty() ? "" : field + ": ") + what);
  }

  // The members of a YAML mapping; keys are coerced to str, duplicates are an error.
  Result<Members> MapMembers(const YAML::Node& node, const std::string& field) {
    if (!node.IsMap()) {
      return Error(node, field, std::string("must be an object, not ") + NodeKindName(node));
    }
    Members members;
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies: `it->` yields a proxy that dies with the full expression.
      const YAML::Node key = it->first;
      if (!key.IsScalar() && !key.IsNull()) {
        return Error(key, field, "keys must be scalars");
      }
      std::string k = key.IsNull() ? "None" : ResolveScalar(key).python_str;
      if (!seen.insert(k).second) {
        return Error(key, field.empty() ? k : field + "." + k, "duplicate key");
      }
      members.push_back({std::move(k), key, it->second});
    }
    return members;
  }

  // Ocean ignores unknown keys; where integrations add none, a typo is likely, so say so. An
  // entity field directly under `port.entity` is a mapping indented one level too shallow.
  void WarnUnknown(const Members& members, std::initializer_list<std::string_view> known,
                   const std::string& field, bool under_entity = false) {
    static const std::set<std::string, std::less<>> kEntityFields = {
        "identifier", "title", "blueprint", "icon", "team", "properties", "relations"};
    for (const auto& m : members) {
      if (std::find(known.begin(), known.end(), m.key) != known.end()) continue;
      std::string w =
          Where(m.key_node.Mark()) + field + "." + m.key + ": unknown key, ignored (as Ocean does)";
      if (under_entity && kEntityFields.count(m.key)) {
        w += "; did you mean port.entity.mappings." + m.key + "?";
      }
      config_.warnings.push_back(std::move(w));
    }
  }

  Result<bool> Bool(const YAML::Node& node, const std::string& field) {
    // pydantic v1 bool: true/false, 0/1 and the strings it knows.
    if (node.IsScalar()) {
      ScalarValue v = ResolveScalar(node);
      if (v.type == ScalarType::kBool) return v.boolean;
      if (v.type == ScalarType::kInt && (v.number == 0 || v.number == 1)) return v.number == 1;
      std::string s;
      for (unsigned char c : node.Scalar()) s.push_back(static_cast<char>(std::tolower(c)));
      static const std::set<std::string> kTrue = {"1", "on", "t", "true", "y", "yes"};
      static const std::set<std::string> kFalse = {"0", "off", "f", "false", "n", "no"};
      if (kTrue.count(s)) return true;
      if (kFalse.count(s)) return false;
    }
    return Error(node, field, "must be a boolean");
  }

  Result<std::string> String(const YAML::Node& node, const std::string& field) {
    if (node.IsScalar()) return ResolveScalar(node).python_str;
    return Error(node, field, std::string("must be a string, not ") + NodeKindName(node));
  }

  // A jq leaf. `rel` is the path Ocean reports (relative to the mapping, or "selector.query").
  Result<JqExpr> Jq(const YAML::Node& node, const std::string& field, const std::string& rel,
                    bool allow_null) {
    JqExpr e;
    e.path = rel;
    if (node.IsDefined() && !node.Mark().is_null()) {
      e.line = node.Mark().line + 1;
      e.column = node.Mark().column + 1;
    }
    if (node.IsNull()) {
      if (!allow_null) return Error(node, field, "must be a jq string, not null");
      e.is_null = true;
      e.text = "null";
      return e;
    }
    if (!node.IsScalar()) {
      return Error(node, field, std::string("must be a jq string, not ") + NodeKindName(node));
    }
    e.text = ResolveScalar(node).python_str;
    return e;
  }

  // A search query: {combinator: <jq>, rules: [rule | query]}.
  Result<FieldNode> Query(const YAML::Node& node, const std::string& field,
                          const std::string& rel) {
    PORTOLAN_ASSIGN_OR_RETURN(Members members, MapMembers(node, field));
    const YAML::Node* combinator = FindMember(members, "combinator");
    const YAML::Node* rules = FindMember(members, "rules");
    if (!combinator) return Error(node, field, "search query: missing 'combinator'");
    if (!rules) return Error(node, field, "search query: missing 'rules'");
    FieldNode out;
    out.kind = FieldNode::Kind::kObject;
    FieldNode comb;
    comb.kind = FieldNode::Kind::kLeaf;
    PORTOLAN_ASSIGN_OR_RETURN(comb.leaf,
                              Jq(*combinator, field + ".combinator", rel + ".combinator", false));
    out.members.push_back({"combinator", std::move(comb)});
    if (!rules->IsSequence()) {
      return Error(*rules, field + ".rules",
                   std::string("must be a list, not ") + NodeKindName(*rules));
    }
    FieldNode list;
    list.kind = FieldNode::Kind::kList;
    for (size_t i = 0; i < rules->size(); ++i) {
      const YAML::Node rule = (*rules)[i];
      std::string rfield = field + ".rules[" + std::to_string(i) + "]";
      PORTOLAN_ASSIGN_OR_RETURN(Members rm, MapMembers(rule, rfield));
      bool is_rule = FindMember(rm, "property") || FindMember(rm, "operator") ||
                     FindMember(rm, "value") || !FindMember(rm, "combinator");
      if (!is_rule) {
        PORTOLAN_ASSIGN_OR_RETURN(FieldNode sub, Query(rule, rfield, rel + ".rules"));
        list.elements.push_back(std::move(sub));
        continue;
      }
      FieldNode r;
      r.kind = FieldNode::Kind::kObject;
      for (const char* key : {"property", "operator", "value"}) {
        const YAML::Node* v = FindMember(rm, key);
        if (!v) return Error(rule, rfield, std::string("search rule: missing '") + key + "'");
        FieldNode leaf;
        leaf.kind = FieldNode::Kind::kLeaf;
        PORTOLAN_ASSIGN_OR_RETURN(leaf.leaf,
                                  Jq(*v, rfield + "." + key, rel + ".rules." + key, false));
        r.members.push_back({key, std::move(leaf)});
      }
      list.elements.push_back(std::move(r));
    }
    out.members.push_back({"rules", std::move(list)});
    return out;
  }

  Result<FieldNode> Field(const YAML::Node& node, const std::string& field, const std::string& rel,
                          Allow allow) {
    bool query_ok = allow == Allow::kJqOrQuery || allow == Allow::kJqOrQueryOrNull;
    bool null_ok = allow == Allow::kJqOrNull || allow == Allow::kJqOrQueryOrNull;
    if (query_ok && node.IsMap()) return Query(node, field, rel);
    if (node.IsSequence() || node.IsMap()) {
      return Error(node, field,
                   std::string("must be a jq string") + (query_ok ? " or a search query" : "") +
                       ", not " + NodeKindName(node));
    }
    FieldNode leaf;
    leaf.kind = FieldNode::Kind::kLeaf;
    PORTOLAN_ASSIGN_OR_RETURN(leaf.leaf, Jq(node, field, rel, null_ok));
    return leaf;
  }

  Result<FieldNode> FieldMap(const YAML::Node& node, const std::string& field,
                             const std::string& rel, Allow allow) {
    PORTOLAN_ASSIGN_OR_RETURN(Members members, MapMembers(node, field));
    FieldNode out;
    out.kind = FieldNode::Kind::kObject;
    for (const auto& m : members) {
      if (allow == Allow::kJq && m.value.IsMap()) {
        return Error(m.value, field + "." + m.key,
                     "must be a jq string; nested objects are not allowed");
      }
      PORTOLAN_ASSIGN_OR_RETURN(FieldNode child,
                                Field(m.value, field + "." + m.key, rel + "." + m.key, allow));
      out.members.push_back({m.key, std::move(child)});
    }
    return out;
  }

  Result<FieldNode> Mappings(const YAML::Node& node, const std::string& field) {
    if (node.IsSequence()) return Error(node, field, "must be a single object, not a list");
    PORTOLAN_ASSIGN_OR_RETURN(Members members, MapMembers(node, field));
    WarnUnknown(members,
                {"identifier", "title", "blueprint", "icon", "team", "properties", "relations"},
                field);
    struct Spec {
      const char* key;
      bool required;
      Allow allow;
      bool is_map;
    };
    static const Spec kSpecs[] = {
        {"identifier", true, Allow::kJqOrQuery, false},  {"title", false, Allow::kJqOrNull, false},
        {"blueprint", true, Allow::kJq, false},          {"icon", false, Allow::kJqOrNull, false},
        {"team", false, Allow::kJqOrQueryOrNull, false}, {"properties", false, Allow::kJq, true},
        {"relations", false, Allow::kJqOrQuery, true},
    };
    FieldNode out;
    out.kind = FieldNode::Kind::kObject;
    for (const Spec& spec : kSpecs) {
      const YAML::Node* value = FindMember(members, spec.key);
      std::string f = field + "." + spec.key;
      if (!value) {
        if (spec.required) return Error(node, f, "required field is missing");
        continue;
      }
      FieldNode child;
      if (spec.is_map) {
        PORTOLAN_ASSIGN_OR_RETURN(child, FieldMap(*value, f, spec.key, spec.allow));
      } else {
        PORTOLAN_ASSIGN_OR_RETURN(child, Field(*value, f, spec.key, spec.allow));
      }
      out.members.push_back({spec.key, std::move(child)});
    }
    return out;
  }

  Result<ResourceConfig> Resource(const YAML::Node& node, size_t index) {
    std::string field = "resources[" + std::to_string(index) + "]";
    PORTOLAN_ASSIGN_OR_RETURN(Members members, MapMembers(node, field));
    ResourceConfig r;
    r.index = index;
    r.line = node.Mark().line + 1;
    r.column = node.Mark().column + 1;

    const YAML::Node* kind = FindMember(members, "kind");
    if (!kind) return Error(node, field + ".kind", "required field is missing");
    PORTOLAN_ASSIGN_OR_RETURN(r.kind, String(*kind, field + ".kind"));

    const YAML::Node* selector = FindMember(members, "selector");
    if (!selector) return Error(node, field + ".selector", "required field is missing");
    PORTOLAN_ASSIGN_OR_RETURN(Members sel, MapMembers(*selector, field + ".selector"));
    const YAML::Node* query = FindMember(sel, "query");
    if (!query) return Error(*selector, field + ".selector.query", "required field is missing");
    PORTOLAN_ASSIGN_OR_RETURN(r.selector,
                              Jq(*query, field + ".selector.query", "selector.query", false));

    const YAML::Node* port = FindMember(members, "port");
    if (!port) return Error(node, field + ".port", "required field is missing");
    PORTOLAN_ASSIGN_OR_RETURN(Members pm, MapMembers(*port, field + ".port"));
    WarnUnknown(pm, {"entity", "itemsToParse", "itemsToParseName", "itemsToParseTopLevelTransform"},
                field + ".port");
    if (const YAML::Node* itp = FindMember(pm, "itemsToParse"); itp && !itp->IsNull()) {
      PORTOLAN_ASSIGN_OR_RETURN(JqExpr e,
                                Jq(*itp, field + ".port.itemsToParse", "port.itemsToParse", false));
      if (!e.text.empty()) r.items_to_parse = std::move(e);
    }
    if (const YAML::Node* n = FindMember(pm, "itemsToParseName")) {
      PORTOLAN_ASSIGN_OR_RETURN(r.items_to_parse_name,
                                String(*n, field + ".port.itemsToParseName"));
    }
    if (const YAML::Node* n = FindMember(pm, "itemsToParseTopLevelTransform")) {
      PORTOLAN_ASSIGN_OR_RETURN(r.items_to_parse_top_level_transform,
                                Bool(*n, field + ".port.itemsToParseTopLevelTransform"));
    }
    const YAML::Node* entity = FindMember(pm, "entity");
    if (!entity) return Error(*port, field + ".port.entity", "required field is missing");
    PORTOLAN_ASSIGN_OR_RETURN(Members em, MapMembers(*entity, field + ".port.entity"));
    WarnUnknown(em, {"mappings"}, field + ".port.entity", /*under_entity=*/true);
    const YAML::Node* mappings = FindMember(em, "mappings");
    if (!mappings) {
      return Error(*entity, field + ".port.entity.mappings", "required field is missing");
    }
    PORTOLAN_ASSIGN_OR_RETURN(r.mappings, Mappings(*mappings, field + ".port.entity.mappings"));

    if (r.items_to_parse && r.items_to_parse_top_level_transform) {
      JqExpr t;
      t.path = "port.itemsToParseTopLevelTransform";
      t.line = r.items_to_parse->line;
      t.column = r.items_to_parse->column;
      t.text = ". | del(" + DeletionPath(r.items_to_parse->text).value_or(".") + ")";
      r.top_level_transform = std::move(t);
    }
    return r;
  }

  Status LoadRoot(const YAML::Node& root) {
    if (!root.IsDefined() || root.IsNull()) {
      return InvalidArgument(name_ + ": empty mapping config");
    }
    if (root.IsScalar()) {
      return Error(root, "",
                   "expected a mapping config (an object with 'resources'), a list of "
                   "resources or one resource, not a scalar");
    }
    YAML::Node resources;
    if (root.IsSequence()) {
      resources = root;
    } else {
      PORTOLAN_ASSIGN_OR_RETURN(Members top, MapMembers(root, ""));
      if (const YAML::Node* r = FindMember(top, "resources")) {
        PORTOLAN_RETURN_IF_ERROR(TopLevelFlags(top));
        if (!r->IsSequence()) {
          return Error(*r, "resources", std::string("must be a list, not ") + NodeKindName(*r));
        }
        resources = *r;
      } else if (FindMember(top, "kind")) {
        PORTOLAN_ASSIGN_OR_RETURN(ResourceConfig one, Resource(root, 0));
        config_.resources.push_back(std::move(one));
      } else {
        return Error(root, "",
                     "expected 'resources' (a mapping config), a list of resources "
                     "or one resource with 'kind'");
      }
    }
    if (resources.IsDefined()) {
      for (size_t i = 0; i < resources.size(); ++i) {
        PORTOLAN_ASSIGN_OR_RETURN(ResourceConfig r, Resource(std::as_const(resources)[i], i));
        config_.resources.push_back(std::move(r));
      }
    }
    for (auto& r : config_.resources) CollectResource(&r);
    CompileCollected();
    return Status::Ok();
  }

  Status TopLevelFlags(const Members& top) {
    struct Flag {
      const char* key;
      bool* target;
    };
    for (Flag f : {Flag{"deleteDependentEntities", &config_.delete_dependent_entities},
                   Flag{"createMissingRelatedEntities", &config_.create_missing_related_entities},
                   Flag{"enableMergeEntity", &config_.enable_merge_entity}}) {
      if (const YAML::Node* n = FindMember(top, f.key)) {
        PORTOLAN_ASSIGN_OR_RETURN(*f.target, Bool(*n, f.key));
      }
    }
    if (const YAML::Node* n = FindMember(top, "entityDeletionThreshold")) {
      const char* field = "entityDeletionThreshold";
      if (!n->IsScalar()) return Error(*n, field, "must be a number between 0 and 1");
      ScalarValue v = ResolveScalar(*n);
      double d = v.number;
      if (v.type == ScalarType::kString) {
        // pydantic v1 float() also accepts numeric strings.
        char* end = nullptr;
        d = std::strtod(v.python_str.c_str(), &end);
        if (v.python_str.empty() || *end != '\0') {
          return Error(*n, field, "must be a number between 0 and 1");
        }
      } else if (v.type != ScalarType::kInt && v.type != ScalarType::kFloat) {
        return Error(*n, field, "must be a number between 0 and 1");
      }
      if (!(d >= 0 && d <= 1)) {
        return Error(*n, field, "must be between 0 and 1 (got " + v.python_str + ")");
      }
      config_.entity_deletion_threshold = d;
    }
    return Status::Ok();
  }

  // Collects the expression; CompileCollected compiles every distinct text once.
  void Collect(JqExpr* e) {
    if (e->is_null) {
      e->compile_error = "null is not a jq program";
      return;
    }
    pending_.push_back(e);
  }

  // All programs at once: those in the native subset cost one libjq compile together
  // (jq::Expr::CompileAll).
  void CompileCollected() {
    std::map<std::string_view, size_t> index;  // text -> position in `texts`
    std::vector<std::string> texts;
    for (JqExpr* e : pending_) {
      if (index.emplace(e->text, texts.size()).second) texts.push_back(e->text);
    }
    jq::CompileOptions opts;
    opts.allow_env = config_.options_.allow_env;
    std::vector<Result<std::unique_ptr<jq::Expr>>> compiled =
        jq::Expr::CompileAll(texts, opts, config_.options_.engine);
    std::vector<jq::Expr*> programs(texts.size(), nullptr);
    std::vector<std::string> errors(texts.size());
    for (size_t i = 0; i < compiled.size(); ++i) {
      if (!compiled[i].ok()) {
        errors[i] = compiled[i].status().message();
        continue;
      }
      programs[i] = compiled[i]->get();
      config_.programs_.push_back(std::move(*compiled[i]));
    }
    for (JqExpr* e : pending_) {
      const size_t i = index.at(e->text);
      e->program = programs[i];
      if (!programs[i]) e->compile_error = errors[i];
    }
    pending_.clear();
  }

  void CollectTree(FieldNode* node) {
    switch (node->kind) {
      case FieldNode::Kind::kLeaf:
        Collect(&node->leaf);
        break;
      case FieldNode::Kind::kObject:
        for (auto& [key, child] : node->members) CollectTree(&child);
        break;
      case FieldNode::Kind::kList:
        for (auto& child : node->elements) CollectTree(&child);
        break;
    }
  }

  void CollectResource(ResourceConfig* r) {
    Collect(&r->selector);
    if (r->items_to_parse) Collect(&*r->items_to_parse);
    if (r->top_level_transform) Collect(&*r->top_level_transform);
    CollectTree(&r->mappings);
  }

  std::string name_;
  MappingConfig config_;
  std::vector<JqExpr*> pending_;  // in load order; compiled by CompileCollected
};

bool MappingConfig::any_native() const {
  for (const auto& p : programs_) {
    if (p->is_native()) return true;
  }
  return false;
}

MappingConfig::MappingConfig(MappingConfig&&) noexcept = default;
MappingConfig& MappingConfig::operator=(MappingConfig&&) noexcept = default;
MappingConfig::~MappingConfig() = default;

Result<MappingConfig> MappingConfig::LoadText(std::string_view yaml, std::string_view name,
                                              const LoadOptions& options) {
  ConfigLoader loader(name, options);
  return loader.Load(yaml);
}

Result<MappingConfig> MappingConfig::LoadFile(const std::string& path, const LoadOptions& options) {
  auto text = json::ReadFile(path);
  if (!text.ok()) return NotFound(text.status().message());
  return LoadText(*text, path, options);
}

const FieldNode* ResourceConfig::FindField(std::string_view key) const {
  for (const auto& [k, node] : mappings.members) {
    if (k == key) return &node;
  }
  return nullptr;
}

namespace {

void CollectProblems(const FieldNode& node, size_t resource,
                     std::vector<MappingConfig::CompileProblem>* out) {
  switch (node.kind) {
    case FieldNode::Kind::kLeaf:
      if (!node.leaf.compiled()) out->push_back({resource, &node.leaf});
      break;
    case FieldNode::Kind::kObject:
      for (const auto& [key, child] : node.members) CollectProblems(child, resource, out);
      break;
    case FieldNode::Kind::kList:
      for (const auto& child : node.elements) CollectProblems(child, resource, out);
      break;
  }
}

}  // namespace

std::vector<MappingConfig::CompileProblem> MappingConfig::CompileProblems() const {
  std::vector<CompileProblem> out;
  for (const auto& r : resources) {
    if (!r.selector.compiled()) out.push_back({r.index, &r.selector});
    if (r.items_to_parse && !r.items_to_parse->compiled()) {
      out.push_back({r.index, &*r.items_to_parse});
    }
    if (r.top_level_transform && !r.top_level_transform->compiled()) {
      out.push_back({r.index, &*r.top_level_transform});
    }
    CollectProblems(r.mappings, r.index, &out);
  }
  return out;
}

std::string MappingConfig::Describe(const CompileProblem& problem) const {
  const JqExpr& e = *problem.expr;
  std::string where = name_ + ":";
  if (e.line > 0) where += std::to_string(e.line) + ":" + std::to_string(e.column) + ":";
  std::string field = "resources[" + std::to_string(problem.resource) + "].";
  bool in_mapping = e.path.rfind("selector.", 0) != 0 && e.path.rfind("port.", 0) != 0;
  field += (in_mapping ? "port.entity.mappings." : "") + e.path;
  std::string effect = e.path == "selector.query" ? "every item of this resource fails"
                                                  : "the field evaluates to null";
  return where + " " + field + ": jq " + internal::PythonReprString(e.text) +
         " does not compile (" + effect + "): " + e.compile_error;
}

}  // namespace portolan::mapping
