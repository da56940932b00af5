#include "server/api_support.h"

namespace portolan::server {

HttpResponse JsonResponse(json::Value body, int status, bool port_shape) {
  if (port_shape && body.is_object() && !body.Has("ok")) {
    json::Value out = json::Value::MakeObject();
    out.Set("ok", true);
    for (auto& [k, v] : body.as_object()) out.Set(k, std::move(v));
    body = std::move(out);
  }
  HttpResponse r;
  r.status = status;
  r.body = json::Write(body);
  return r;
}

HttpResponse ErrorResponse(int status, std::string_view error, std::string_view message) {
  return JsonError(status, error, message);
}

HttpResponse StatusResponse(const Status& s) {
  const std::string& pe = s.port_error();
  switch (s.code()) {
    case StatusCode::kNotFound: return ErrorResponse(404, "not_found", s.message());
    case StatusCode::kAlreadyExists:
      return ErrorResponse(409, pe.empty() ? "identifier_taken" : pe, s.message());
    case StatusCode::kFailedPrecondition:
      if (pe == "required_relation") return ErrorResponse(422, pe, s.message());
      return ErrorResponse(409, pe.empty() ? "conflict" : pe, s.message());
    case StatusCode::kInvalidArgument:
      if (pe == "bad_request") return ErrorResponse(400, pe, s.message());
      return ErrorResponse(422, pe.empty() ? "invalid_request" : pe, s.message());
    case StatusCode::kUnimplemented: return ErrorResponse(501, "not_implemented", s.message());
    default: return ErrorResponse(500, "internal_error", s.message());
  }
}

std::vector<std::string> PathSegments(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(PercentDecode(path.substr(i, j - i), /*plus_is_space=*/false));
    i = j + 1;
  }
  return out;
}

bool QueryFlag(const HttpRequest& r, std::string_view key, bool fallback) {
  const std::string* v = r.Query(key);
  if (!v) return fallback;
  if (*v == "true" || *v == "1" || v->empty()) return true;
  if (*v == "false" || *v == "0") return false;
  return fallback;
}

Result<json::Value> BodyObject(const HttpRequest& r) {
  if (r.body.empty()) {
    return Status(InvalidArgument("the request has no body; a JSON object is expected"))
        .set_port_error("bad_request");
  }
  auto v = json::Parse(r.body);
  if (!v.ok()) {
    return Status(InvalidArgument("the body is not valid JSON: " + v.status().message()))
        .set_port_error("bad_request");
  }
  if (!v->is_object()) {
    return Status(InvalidArgument("the body must be a JSON object")).set_port_error("bad_request");
  }
  return std::move(*v);
}

namespace {

void SplitInto(const std::vector<std::string>& values, std::vector<std::string>* out) {
  for (const auto& v : values) {
    size_t i = 0;
    while (i <= v.size()) {
      size_t j = v.find(',', i);
      if (j == std::string::npos) j = v.size();
      if (j > i) out->push_back(v.substr(i, j - i));
      i = j + 1;
    }
  }
}

// Removes `path` (dotted) from v.
void RemovePath(json::Value* v, std::string_view path) {
  size_t dot = path.find('.');
  if (!v->is_object()) return;
  if (dot == std::string_view::npos) {
    v->Erase(path);
    return;
  }
  if (json::Value* child = v->Find(path.substr(0, dot))) RemovePath(child, path.substr(dot + 1));
}

// Copies `path` (dotted) from `from` into `to`.
void CopyPath(const json::Value& from, json::Value* to, std::string_view path) {
  if (!from.is_object()) return;
  size_t dot = path.find('.');
  std::string_view head = path.substr(0, dot);
  const json::Value* child = from.Find(head);
  if (!child) return;
  if (dot == std::string_view::npos) {
    to->Set(head, *child);
    return;
  }
  json::Value* target = to->Find(head);
  if (!target || !target->is_object()) target = &to->Set(head, json::Value::MakeObject());
  CopyPath(*child, target, path.substr(dot + 1));
}

}  // namespace

json::Value Projection::Apply(json::Value entity) const {
  if (!include.empty()) {
    json::Value out = json::Value::MakeObject();
    for (const auto& p : include) CopyPath(entity, &out, p);
    entity = std::move(out);
  }
  for (const auto& p : exclude) RemovePath(&entity, p);
  return entity;
}

Projection ProjectionOf(const HttpRequest& r) {
  Projection p;
  for (const char* k : {"include", "include[]"}) SplitInto(r.QueryAll(k), &p.include);
  for (const char* k : {"exclude", "exclude[]"}) SplitInto(r.QueryAll(k), &p.exclude);
  return p;
}

Projection ProjectionOf(const json::Value& body) {
  Projection p;
  for (const auto& [key, list] : {std::pair{"include", &p.include}, {"exclude", &p.exclude}}) {
    const json::Value& v = body.Get(key);
    if (!v.is_array()) continue;
    for (const auto& e : v.as_array()) {
      if (e.is_string()) list->push_back(e.as_string());
    }
  }
  return p;
}

}  // namespace portolan::server
