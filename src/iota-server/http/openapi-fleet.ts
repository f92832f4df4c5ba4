/** The fleet operations of the OpenAPI document: summaries, filtered device pages, history, metrics. */

import { admin, errors, name, ok, paging, problem, query } from "./openapi-parts.ts";

/** The filters of `GET /v1/groups/{group}/devices` (see domain/device-pages.ts for the order they give). */
export const DEVICE_FILTERS = [
  ...paging("Devices"),
  query("state", "Only devices in this state", { enum: ["created", "provisioned", "revoked"] }),
  query(
    "online",
    "Only devices online (true) or offline (false); devices never seen match neither",
    {
      type: "boolean",
    },
  ),
  query(
    "overdue",
    "Only provisioned devices whose planned renewal passed more than overdueSlackSeconds ago; the page is then ordered by renewAt (oldest first), then name",
    { type: "boolean", enum: [true] },
  ),
  query(
    "expiringBefore",
    "Only provisioned devices whose certificate's notAfter is before this time (expired ones included); without overdue the page is ordered by notAfter, then name",
    { type: "string", format: "date-time" },
  ),
  query("q", "Only names starting with this", {
    type: "string",
    pattern: "^[a-z0-9-]{1,63}$",
  }),
];

/** The fleet paths. */
export const FLEET_PATHS = {
  "/v1/status": {
    get: {
      operationId: "getFleetStatus",
      tags: ["fleet"],
      summary:
        "The tenant's fleet summary: devices by state, online/offline, expiring, overdue renewals, the renewal forecast, and one page of its groups (?limit, default 100, and ?cursor = nextCursor)",
      security: admin,
      parameters: paging("Groups"),
      responses: { 200: ok("The summary", "FleetStatus"), 400: errors[400], 401: errors[401] },
    },
  },
  "/v1/groups/{group}/status": {
    parameters: [name("group")],
    get: {
      operationId: "getGroupStatus",
      tags: ["fleet"],
      summary: "One group's fleet summary (no groups list)",
      security: admin,
      responses: { 200: ok("The summary", "FleetStatus"), ...errors },
    },
  },
  "/v1/groups/{group}/devices/{device}/history": {
    parameters: [name("group"), name("device")],
    get: {
      operationId: "getDeviceHistory",
      tags: ["fleet"],
      summary:
        "What happened to a device since it was created: created, provisioned, renewed, revoked, reset; oldest first",
      security: admin,
      responses: { 200: ok("The history", "DeviceHistory"), ...errors },
    },
  },
  "/metrics": {
    get: {
      operationId: "getMetrics",
      tags: ["fleet"],
      summary:
        'Prometheus metrics (text format 0.0.4): iota_* counters of this process and the tenant\'s fleet gauges; per-group series for the largest groups only (iota-server --metrics-groups), the rest summed under group="_other". iota-server --metrics-listen serves the same without a token on a separate listener',
      security: admin,
      responses: {
        200: {
          description: "The metrics",
          content: { "text/plain": { schema: { type: "string" } } },
        },
        401: problem("Missing or wrong admin token"),
      },
    },
  },
};
