// What every route shares: Port's response and error shapes, Status -> HTTP status, path
// segments, boolean query parameters, and the include/exclude projection of entities.
#ifndef PORTOLAN_SERVER_API_SUPPORT_H_
#define PORTOLAN_SERVER_API_SUPPORT_H_

#include <string>
#include <string_view>
#include <vector>

#include "engine/base/json.h"
#include "engine/base/status.h"
#include "server/http.h"

namespace portolan::server {

// 200 (or `status`) with `body` as JSON; `ok: true` is added to objects that lack it (Port's
// shape) unless `port_shape` is false (Datadog's answers).
HttpResponse JsonResponse(json::Value body, int status = 200, bool port_shape = true);
// {ok: false, error, message} with the given status.
HttpResponse ErrorResponse(int status, std::string_view error, std::string_view message);
// The HTTP status and Port error name for a failed Status: kInvalidArgument 422 (400 for
// bad_request), kNotFound 404 not_found, kAlreadyExists 409, kFailedPrecondition 409 (422 for
// required_relation), kInternal 500.
HttpResponse StatusResponse(const Status& s);

// "/v1/blueprints/a%20b/entities" -> {"v1", "blueprints", "a b", "entities"}: split on '/', each
// segment percent-decoded. A '+' stays a '+': identifiers may hold one and never a space, and
// Ocean's quote_plus sends a '+' as %2B. Empty segments from a trailing slash are dropped.
std::vector<std::string> PathSegments(std::string_view path);

// A boolean query parameter: "true"/"1" -> true, "false"/"0" -> false, absent -> fallback.
bool QueryFlag(const HttpRequest& r, std::string_view key, bool fallback);

// The request body as a JSON object, or a 400/422-ready error naming what is wrong.
Result<json::Value> BodyObject(const HttpRequest& r);

// Port's include/exclude on an entity: dotted paths ("identifier", "properties.language");
// include keeps only those, exclude removes them. Values come from `include[]`/`include`
// query parameters, or the body's "include"/"exclude" arrays.
struct Projection {
  std::vector<std::string> include, exclude;
  bool empty() const { return include.empty() && exclude.empty(); }
  json::Value Apply(json::Value entity) const;
};
Projection ProjectionOf(const HttpRequest& r);
Projection ProjectionOf(const json::Value& body);

}  // namespace portolan::server

#endif  // PORTOLAN_SERVER_API_SUPPORT_H_
