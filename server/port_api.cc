#include "server/port_api.h"

#include <algorithm>

#include "engine/query/query.h"
#include "server/api_support.h"
#include "server/webhooks.h"
#include "workspace/workspace.h"

namespace portolan::server {

namespace {

using workspace::Workspace;

json::Value EntityJson(const store::Entity& e, bool exclude_calculated) {
  json::Value v = e.ToJson(!exclude_calculated);
  return v;
}

Status MissingBlueprint(const std::string& bp) {
  return Status(NotFound("blueprint '" + bp + "' does not exist")).set_port_error("not_found");
}

store::UpsertOptions UpsertOptionsOf(const HttpRequest& r) {
  store::UpsertOptions o;
  o.upsert = QueryFlag(r, "upsert", false);
  o.merge = QueryFlag(r, "merge", false);
  o.validation_only = QueryFlag(r, "validation_only", false);
  o.create_missing_related = QueryFlag(r, "create_missing_related_entities", false);
  return o;
}

// Upserts one entity body in its own transaction; fills `out` with the stored entity (derived
// values included) and `created`.
Status UpsertOne(Workspace& ws, const std::string& bp, json::Value body,
                 const store::UpsertOptions& o, json::Value* out, bool* created) {
  if (!ws.catalog().Find(bp)) return MissingBlueprint(bp);
  body.Erase("blueprint");
  if (o.validation_only) {
    // Validated by a write that is undone: nothing is written.
    std::string id;
    PORTOLAN_RETURN_IF_ERROR(ws.Validate([&]() -> Status {
      PORTOLAN_ASSIGN_OR_RETURN(store::WriteOutcome w, ws.store().Upsert(bp, body, o));
      id = w.key.identifier;
      *created = w.created;
      return Status::Ok();
    }));
    *out = body;
    if (!out->Has("identifier")) out->Set("identifier", id);
    return Status::Ok();
  }
  store::EntityKey key;
  PORTOLAN_RETURN_IF_ERROR(ws.Write([&]() -> Status {
    PORTOLAN_ASSIGN_OR_RETURN(store::WriteOutcome w, ws.store().Upsert(bp, body, o));
    key = w.key;
    *created = w.created;
    return Status::Ok();
  }));
  const store::Entity* e = ws.store().Find(key.blueprint, key.identifier);
  if (!e) return Internal("entity " + key.ToString() + " vanished after its write");
  *out = EntityJson(*e, false);
  return Status::Ok();
}

// Shallow merge of a PATCH body into a document: top-level keys replace, objects one level deep
// (schema, relations, calculationProperties, ...) merge key by key.
json::Value MergeDocument(json::Value base, const json::Value& patch) {
  for (const auto& [k, v] : patch.as_object()) {
    json::Value* cur = base.Find(k);
    if (cur && cur->is_object() && v.is_object()) {
      for (const auto& [k2, v2] : v.as_object()) cur->Set(k2, v2);
    } else {
      base.Set(k, v);
    }
  }
  return base;
}

const char* DocumentKey(const std::string& kind) {
  return kind == "webhook" ? "integration" : "page";
}

}  // namespace

std::optional<HttpResponse> PortApi::Handle(const HttpRequest& r,
                                            const std::vector<std::string>& seg) {
  const std::string& m = r.method;
  const size_t n = seg.size();
  if (n == 0) return std::nullopt;
  if (seg[0] == "blueprints") {
    if (n == 1) {
      if (m == "GET") return ListBlueprints();
      if (m == "POST") return PutBlueprint(r, nullptr, false);
      return std::nullopt;
    }
    const std::string& bp = seg[1];
    if (n == 2) {
      if (m == "GET") return GetBlueprint(bp);
      if (m == "PUT") return PutBlueprint(r, &bp, false);
      if (m == "PATCH") return PutBlueprint(r, &bp, true);
      if (m == "DELETE") return DeleteBlueprint(bp);
      return std::nullopt;
    }
    if (seg[2] == "entities") {
      if (n == 3) {
        if (m == "POST") return CreateEntity(r, bp);
        if (m == "GET") return ListEntities(r, bp);
        return std::nullopt;
      }
      if (n == 4 && seg[3] == "bulk" && m == "POST") return BulkCreate(r, bp);
      if (n == 4 && seg[3] == "search" && m == "POST") return Search(r, &bp);
      if (n == 4) {
        if (m == "GET") return GetEntity(r, bp, seg[3]);
        if (m == "PATCH") return WriteEntity(r, bp, seg[3], true);
        if (m == "PUT") return WriteEntity(r, bp, seg[3], false);
        if (m == "DELETE") return DeleteEntity(r, bp, seg[3]);
      }
      return std::nullopt;
    }
    if (n == 3 && seg[2] == "entities-count" && m == "GET") return CountEntities(bp);
    if (n == 3 && seg[2] == "all-entities" && m == "DELETE") return DeleteAll(r, bp);
    if (n == 5 && seg[2] == "bulk" && seg[3] == "entities" && seg[4] == "delete" && m == "POST") {
      return BulkDelete(r, bp);
    }
    return std::nullopt;
  }
  if (seg[0] == "entities" && n == 2 && seg[1] == "search" && m == "POST") {
    return Search(r, nullptr);
  }
  if (seg[0] == "migrations" && n == 2 && m == "GET") {
    json::Value mig = json::Value::MakeObject();
    mig.Set("id", seg[1]);
    mig.Set("status", "COMPLETE");
    json::Value v = json::Value::MakeObject();
    v.Set("migration", std::move(mig));
    return JsonResponse(std::move(v));
  }
  if ((seg[0] == "pages" || seg[0] == "webhooks") && n <= 2) {
    return Documents(r, seg[0] == "pages" ? workspace::kPageKind : workspace::kWebhookKind,
                     n == 2 ? &seg[1] : nullptr);
  }
  return std::nullopt;
}

// ---- Blueprints ------------------------------------------------------------------------------

namespace {

json::Value BlueprintJson(const model::Blueprint& bp) {
  json::Value v = bp.raw.is_object() ? bp.raw : json::Value::MakeObject();
  if (!v.Has("identifier")) v.Set("identifier", bp.identifier);
  if (!v.Has("title")) v.Set("title", bp.title);
  return v;
}

}  // namespace

HttpResponse PortApi::ListBlueprints() {
  json::Value list = json::Value::MakeArray();
  Status s = catalog_->Read([&](const Workspace& ws) {
    for (const auto& [id, bp] : ws.catalog().blueprints()) list.Push(BlueprintJson(bp));
    return Status::Ok();
  });
  if (!s.ok()) return StatusResponse(s);
  json::Value v = json::Value::MakeObject();
  v.Set("blueprints", std::move(list));
  return JsonResponse(std::move(v));
}

HttpResponse PortApi::GetBlueprint(const std::string& id) {
  json::Value out;
  Status s = catalog_->Read([&](const Workspace& ws) {
    const model::Blueprint* bp = ws.catalog().Find(id);
    if (!bp) return MissingBlueprint(id);
    out = BlueprintJson(*bp);
    return Status::Ok();
  });
  if (!s.ok()) return StatusResponse(s);
  json::Value v = json::Value::MakeObject();
  v.Set("blueprint", std::move(out));
  return JsonResponse(std::move(v));
}

HttpResponse PortApi::PutBlueprint(const HttpRequest& r, const std::string* id, bool patch) {
  auto body = BodyObject(r);
  if (!body.ok()) return StatusResponse(body.status());
  json::Value doc = std::move(*body);
  if (id) {
    const json::Value& given = doc.Get("identifier");
    if (given.is_string() && given.as_string() != *id) {
      return ErrorResponse(422, "invalid_request",
                           "the body's identifier '" + given.as_string() +
                               "' differs from the route's '" + *id + "'");
    }
  }
  json::Value out;
  int status = id ? 200 : 201;
  Status s = catalog_->WriteAlone([&](Workspace& ws) -> Status {
    if (id) {
      const model::Blueprint* existing = ws.catalog().Find(*id);
      if (!existing) return MissingBlueprint(*id);
      if (patch) doc = MergeDocument(BlueprintJson(*existing), doc);
      doc.Set("identifier", *id);
    } else {
      const json::Value& given = doc.Get("identifier");
      if (given.is_string() && ws.catalog().Find(given.as_string())) {
        return Status(AlreadyExists("blueprint '" + given.as_string() + "' already exists"))
            .set_port_error("identifier_taken");
      }
    }
    PORTOLAN_ASSIGN_OR_RETURN(model::Blueprint bp, model::ParseBlueprint(doc, "api", ""));
    std::string bp_id = bp.identifier;
    std::vector<model::Blueprint> list;
    list.push_back(std::move(bp));
    PORTOLAN_RETURN_IF_ERROR(ws.ApplyBlueprints(std::move(list)));
    out = BlueprintJson(*ws.catalog().Find(bp_id));
    return Status::Ok();
  });
  if (!s.ok()) return StatusResponse(s);
  json::Value v = json::Value::MakeObject();
  v.Set("blueprint", std::move(out));
  return JsonResponse(std::move(v), status);
}

HttpResponse PortApi::DeleteBlueprint(const std::string& id) {
  Status s = catalog_->WriteAlone([&](Workspace& ws) -> Status {
    if (!ws.catalog().Find(id)) return MissingBlueprint(id);
    return ws.DeleteBlueprint(id);
  });
  if (!s.ok()) return StatusResponse(s);
  return JsonResponse(json::Value::MakeObject());
}

// ---- Entities --------------------------------------------------------------------------------

HttpResponse PortApi::CreateEntity(const HttpRequest& r, const std::string& bp) {
  auto body = BodyObject(r);
  if (!body.ok()) return StatusResponse(body.status());
  const store::UpsertOptions o = UpsertOptionsOf(r);
  json::Value out;
  bool created = false;
  Status s = catalog_->Write(
      [&](Workspace& ws) { return UpsertOne(ws, bp, *body, o, &out, &created); });
  if (!s.ok()) return StatusResponse(s);
  json::Value v = json::Value::MakeObject();
  v.Set("entity", std::move(out));
  return JsonResponse(std::move(v), o.validation_only ? 200 : 201);
}

HttpResponse PortApi::BulkCreate(const HttpRequest& r, const std::string& bp) {
  auto body = BodyObject(r);
  if (!body.ok()) return StatusResponse(body.status());
  const json::Value& list = body->Get("entities");
  if (!list.is_array()) {
    return ErrorResponse(422, "invalid_request", "the body must be {\"entities\": [...]}");
  }
  const store::UpsertOptions o = UpsertOptionsOf(r);
  json::Value entities = json::Value::MakeArray();
  json::Value errors = json::Value::MakeArray();
  Status s = catalog_->Write([&](Workspace& ws) -> Status {
    entities = json::Value::MakeArray();  // (a write may run twice)
    errors = json::Value::MakeArray();
    if (!ws.catalog().Find(bp)) return MissingBlueprint(bp);
    for (size_t i = 0; i < list.size(); ++i) {
      const json::Value& item = list.as_array()[i];
      json::Value out;
      bool created = false;
      Status one = item.is_object()
                       ? UpsertOne(ws, bp, item, o, &out, &created)
                       : Status(InvalidArgument("entities[" + std::to_string(i) +
                                                "] is not an object"))
                             .set_port_error("bad_request");
      if (one.ok()) {
        json::Value e = json::Value::MakeObject();
        e.Set("created", created);
        e.Set("identifier", out.Get("identifier"));
        e.Set("index", static_cast<double>(i));
        entities.Push(std::move(e));
      } else {
        HttpResponse er = StatusResponse(one);
        json::Value e = json::Value::MakeObject();
        e.Set("identifier", item.is_object() ? item.Get("identifier") : json::Value());
        e.Set("index", static_cast<double>(i));
        e.Set("statusCode", er.status);
        auto parsed = json::Parse(er.body);
        e.Set("error", parsed.ok() ? parsed->Get("error") : json::Value("internal_error"));
        e.Set("message", one.message());
        errors.Push(std::move(e));
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return StatusResponse(s);
  const bool partial = errors.size() > 0;
  json::Value v = json::Value::MakeObject();
  v.Set("ok", true);
  v.Set("entities", std::move(entities));
  v.Set("errors", std::move(errors));
  return JsonResponse(std::move(v), partial ? 207 : 200);
}

HttpResponse PortApi::WriteEntity(const HttpRequest& r, const std::string& bp,
                                  const std::string& id, bool patch) {
  auto body = BodyObject(r);
  if (!body.ok()) return StatusResponse(body.status());
  const json::Value& given = body->Get("identifier");
  if (given.is_string() && given.as_string() != id) {
    return ErrorResponse(422, "invalid_request",
                         "the body's identifier '" + given.as_string() +
                             "' differs from the route's '" + id + "'");
  }
  body->Set("identifier", id);
  store::UpsertOptions o = UpsertOptionsOf(r);
  o.upsert = true;
  o.merge = patch;
  json::Value out;
  bool created = false;
  Status s = catalog_->Write([&](Workspace& ws) -> Status {
    if (patch && ws.catalog().Find(bp) && !ws.store().Find(bp, id)) {
      return Status(NotFound("entity '" + bp + "/" + id + "' does not exist"))
          .set_port_error("not_found");
    }
    return UpsertOne(ws, bp, *body, o, &out, &created);
  });
  if (!s.ok()) return StatusResponse(s);
  json::Value v = json::Value::MakeObject();
  v.Set("entity", std::move(out));
  return JsonResponse(std::move(v));
}

HttpResponse PortApi::GetEntity(const HttpRequest& r, const std::string& bp,
                                const std::string& id) {
  const bool exclude_calc = QueryFlag(r, "exclude_calculated_properties", false);
  const Projection p = ProjectionOf(r);
  json::Value out;
  Status s = catalog_->Read([&](const Workspace& ws) -> Status {
    if (!ws.catalog().Find(bp)) return MissingBlueprint(bp);
    const store::Entity* e = ws.store().Find(bp, id);
    if (!e) {
      return Status(NotFound("entity '" + bp + "/" + id + "' does not exist"))
          .set_port_error("not_found");
    }
    out = p.Apply(EntityJson(*e, exclude_calc));
    return Status::Ok();
  });
  if (!s.ok()) return StatusResponse(s);
  json::Value v = json::Value::MakeObject();
  v.Set("entity", std::move(out));
  return JsonResponse(std::move(v));
}

HttpResponse PortApi::DeleteEntity(const HttpRequest& r, const std::string& bp,
                                   const std::string& id) {
  const bool dependents = QueryFlag(r, "delete_dependents", false);
  Status s = catalog_->Write([&](Workspace& ws) -> Status {
    if (!ws.catalog().Find(bp)) return MissingBlueprint(bp);
    if (!ws.store().Find(bp, id)) {
      return Status(NotFound("entity '" + bp + "/" + id + "' does not exist"))
          .set_port_error("not_found");
    }
    return ws.DeleteEntity(bp, id, dependents).status();
  });
  if (!s.ok()) return StatusResponse(s);
  return JsonResponse(json::Value::MakeObject());
}

HttpResponse PortApi::ListEntities(const HttpRequest& r, const std::string& bp) {
  const bool exclude_calc = QueryFlag(r, "exclude_calculated_properties", false);
  const Projection p = ProjectionOf(r);
  json::Value list = json::Value::MakeArray();
  Status s = catalog_->Read([&](const Workspace& ws) -> Status {
    if (!ws.catalog().Find(bp)) return MissingBlueprint(bp);
    for (const store::Entity* e : ws.store().List(bp)) list.Push(p.Apply(EntityJson(*e, exclude_calc)));
    return Status::Ok();
  });
  if (!s.ok()) return StatusResponse(s);
  json::Value v = json::Value::MakeObject();
  v.Set("entities", std::move(list));
  return JsonResponse(std::move(v));
}

HttpResponse PortApi::CountEntities(const std::string& bp) {
  size_t count = 0;
  Status s = catalog_->Read([&](const Workspace& ws) -> Status {
    if (!ws.catalog().Find(bp)) return MissingBlueprint(bp);
    count = ws.store().Count(bp);
    return Status::Ok();
  });
  if (!s.ok()) return StatusResponse(s);
  json::Value v = json::Value::MakeObject();
  v.Set("count", static_cast<double>(count));
  return JsonResponse(std::move(v));
}

HttpResponse PortApi::BulkDelete(const HttpRequest& r, const std::string& bp) {
  auto body = BodyObject(r);
  if (!body.ok()) return StatusResponse(body.status());
  const json::Value& ids = body->Get("entities");
  if (!ids.is_array()) {
    return ErrorResponse(422, "invalid_request", "the body must be {\"entities\": [identifiers]}");
  }
  const bool dependents = QueryFlag(r, "delete_dependents", false);
  json::Value deleted = json::Value::MakeArray();
  Status s = catalog_->Write([&](Workspace& ws) -> Status {
    deleted = json::Value::MakeArray();  // (a write may run twice)
    if (!ws.catalog().Find(bp)) return MissingBlueprint(bp);
    return ws.Write([&]() -> Status {
      for (const auto& id : ids.as_array()) {
        if (!id.is_string()) {
          return Status(InvalidArgument("entities: identifiers must be strings, got " +
                                        json::Write(id)))
              .set_port_error("bad_request");
        }
        if (!ws.store().Find(bp, id.as_string())) continue;
        PORTOLAN_ASSIGN_OR_RETURN(auto gone, ws.store().Delete(bp, id.as_string(), dependents));
        for (const auto& k : gone) {
          if (k.blueprint == bp) deleted.Push(k.identifier);
        }
      }
      return Status::Ok();
    });
  });
  if (!s.ok()) return StatusResponse(s);
  json::Value v = json::Value::MakeObject();
  v.Set("deletedEntities", std::move(deleted));
  return JsonResponse(std::move(v));
}

HttpResponse PortApi::DeleteAll(const HttpRequest& r, const std::string& bp) {
  const bool dependents = QueryFlag(r, "delete_dependents", false);
  Status s = catalog_->Write([&](Workspace& ws) -> Status {
    if (!ws.catalog().Find(bp)) return MissingBlueprint(bp);
    return ws.Write([&]() -> Status {
      std::vector<std::string> ids;
      for (const store::Entity* e : ws.store().List(bp)) ids.push_back(e->identifier);
      for (const auto& id : ids) {
        if (!ws.store().Find(bp, id)) continue;
        PORTOLAN_RETURN_IF_ERROR(ws.store().Delete(bp, id, dependents).status());
      }
      return Status::Ok();
    });
  });
  if (!s.ok()) return StatusResponse(s);
  json::Value v = json::Value::MakeObject();
  v.Set("migrationId", "delete-all-" + bp);
  return JsonResponse(std::move(v));
}

HttpResponse PortApi::Search(const HttpRequest& r, const std::string* bp) {
  auto body = BodyObject(r);
  if (!body.ok()) return StatusResponse(body.status());
  // /v1/entities/search: the body is the query; per blueprint: {query, include, exclude, limit,
  // from}.
  json::Value query = bp ? body->Get("query") : *body;
  Projection p = bp ? ProjectionOf(*body) : ProjectionOf(r);
  if (!bp) {
    Projection q = ProjectionOf(r);
    if (q.empty()) q = ProjectionOf(*body);
    p = q;
    query.Erase("include");
    query.Erase("exclude");
  }
  if (!query.is_null()) {
    Status v = query::Validate(query, bp ? "/query" : "");
    if (!v.ok()) return ErrorResponse(422, "invalid_query", v.message());
  }
  size_t limit = 200;
  if (bp && body->Get("limit").is_number()) {
    double l = body->Get("limit").as_number();
    if (l < 1 || l > 1000) {
      return ErrorResponse(422, "invalid_request", "limit must be between 1 and 1000");
    }
    limit = static_cast<size_t>(l);
  }
  const std::string from = bp && body->Get("from").is_string() ? body->Get("from").as_string() : "";
  json::Value list = json::Value::MakeArray();
  json::Value next;
  Status s = catalog_->Read([&](const Workspace& ws) -> Status {
    query::Context ctx;
    ctx.now = ws.now();
    ctx.store = &ws.store();
    auto matches = [&](const store::Entity& e) -> Result<bool> {
      if (query.is_null()) return true;
      return query::Matches(query, e, ctx);
    };
    if (bp) {
      if (!ws.catalog().Find(*bp)) return MissingBlueprint(*bp);
      for (const store::Entity* e : ws.store().List(*bp)) {
        if (!from.empty() && e->identifier < from) continue;
        PORTOLAN_ASSIGN_OR_RETURN(bool ok, matches(*e));
        if (!ok) continue;
        if (list.size() == limit) {
          next = e->identifier;
          break;
        }
        list.Push(p.Apply(EntityJson(*e, false)));
      }
      return Status::Ok();
    }
    for (const auto& [id, blueprint] : ws.catalog().blueprints()) {
      for (const store::Entity* e : ws.store().List(id)) {
        PORTOLAN_ASSIGN_OR_RETURN(bool ok, matches(*e));
        if (ok) list.Push(p.Apply(EntityJson(*e, false)));
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return StatusResponse(s);
  json::Value v = json::Value::MakeObject();
  v.Set("entities", std::move(list));
  if (bp) v.Set("next", std::move(next));
  return JsonResponse(std::move(v));
}

// ---- Pages and webhooks ------------------------------------------------------------------------

HttpResponse PortApi::Documents(const HttpRequest& r, const std::string& kind,
                                const std::string* id) {
  const std::string key = DocumentKey(kind);
  const std::string what = kind == "webhook" ? "webhook" : "page";
  auto present = [&](json::Value doc) {
    return kind == "webhook" ? intake_->Present(std::move(doc), r) : doc;
  };
  const std::string& m = r.method;
  if (!id && m == "GET") {
    json::Value list = json::Value::MakeArray();
    Status s = catalog_->Read([&](const Workspace& ws) {
      for (const auto& [doc_id, text] : ws.store().ListDocuments(kind)) {
        auto doc = json::Parse(text);
        if (doc.ok()) list.Push(present(std::move(*doc)));
      }
      return Status::Ok();
    });
    if (!s.ok()) return StatusResponse(s);
    json::Value v = json::Value::MakeObject();
    v.Set(kind == "webhook" ? "integrations" : "pages", std::move(list));
    return JsonResponse(std::move(v));
  }
  if (id && m == "GET") {
    json::Value out;
    Status s = catalog_->Read([&](const Workspace& ws) -> Status {
      auto text = ws.store().GetDocument(kind, *id);
      if (!text) {
        return Status(NotFound(what + " '" + *id + "' does not exist")).set_port_error("not_found");
      }
      PORTOLAN_ASSIGN_OR_RETURN(out, json::Parse(*text));
      return Status::Ok();
    });
    if (!s.ok()) return StatusResponse(s);
    json::Value v = json::Value::MakeObject();
    v.Set(key, present(std::move(out)));
    return JsonResponse(std::move(v));
  }
  if (id && m == "DELETE") {
    Status s = catalog_->Write([&](Workspace& ws) -> Status {
      bool found = false;
      PORTOLAN_RETURN_IF_ERROR(ws.Write([&]() -> Status {
        PORTOLAN_ASSIGN_OR_RETURN(found, ws.store().DeleteDocument(kind, *id));
        return Status::Ok();
      }));
      if (!found) {
        return Status(NotFound(what + " '" + *id + "' does not exist")).set_port_error("not_found");
      }
      return Status::Ok();
    });
    if (!s.ok()) return StatusResponse(s);
    return JsonResponse(json::Value::MakeObject());
  }
  const bool create = !id && m == "POST";
  const bool replace = id && m == "PUT";
  const bool patch = id && m == "PATCH";
  if (!create && !replace && !patch) {
    return ErrorResponse(405, "method_not_allowed", m + " is not allowed here");
  }
  auto body = BodyObject(r);
  if (!body.ok()) return StatusResponse(body.status());
  json::Value out;
  Status s = catalog_->Write([&](Workspace& ws) -> Status {
    json::Value doc = *body;  // a copy: a write may run twice (catalog_service.h)
    std::optional<json::Value> existing;
    std::string doc_id;
    if (id) {
      auto text = ws.store().GetDocument(kind, *id);
      if (!text) {
        return Status(NotFound(what + " '" + *id + "' does not exist")).set_port_error("not_found");
      }
      PORTOLAN_ASSIGN_OR_RETURN(existing, json::Parse(*text));
      if (patch) doc = MergeDocument(*existing, doc);
      doc.Set("identifier", *id);
      doc_id = *id;
    } else {
      const json::Value& given = doc.Get("identifier");
      if (!given.is_string() || given.as_string().empty()) {
        return Status(InvalidArgument(what + ": \"identifier\" (a non-empty string) is required"))
            .set_port_error("bad_request");
      }
      doc_id = given.as_string();
      if (ws.store().GetDocument(kind, doc_id)) {
        return Status(AlreadyExists(what + " '" + doc_id + "' already exists"))
            .set_port_error("identifier_taken");
      }
    }
    if (kind == "webhook") {
      PORTOLAN_ASSIGN_OR_RETURN(doc, intake_->Normalize(std::move(doc),
                                                        existing ? &*existing : nullptr));
    }
    std::string text = json::Write(doc);
    PORTOLAN_RETURN_IF_ERROR(
        ws.Write([&] { return ws.store().PutDocument(kind, doc_id, std::move(text)); }));
    out = std::move(doc);
    return Status::Ok();
  });
  if (!s.ok()) return StatusResponse(s);
  json::Value v = json::Value::MakeObject();
  v.Set(key, present(std::move(out)));
  return JsonResponse(std::move(v), create ? 201 : 200);
}

}  // namespace portolan::server
