/** The dashboard's addresses: pages and their filters live in the URL fragment; the token never does. */

/** The group page's filters, as the operator chose them. */
export interface GroupQuery {
  /** Name prefix. */
  q?: string;
  state?: string;
  /** "true" online, "false" offline. */
  online?: string;
  /** "24h" or "7d": expiring before now plus that. */
  expiring?: string;
  /** "true": overdue renewals only. */
  overdue?: string;
  /** The page after this cursor. */
  cursor?: string;
}

/** One page of the dashboard. */
export type Route =
  | { page: "overview"; cursor?: string }
  | { page: "group"; group: string; query: GroupQuery }
  | { page: "device"; group: string; device: string }
  | { page: "not-found"; hash: string };

const QUERY_KEYS = ["q", "state", "online", "expiring", "overdue", "cursor"] as const;

/** The route a fragment (`#/groups/room2-lights?state=revoked`) names. */
export function parseRoute(hash: string): Route {
  const [path = "", search = ""] = hash.replace(/^#/, "").split("?", 2);
  const params = new URLSearchParams(search);
  const parts = segments(path);
  if (parts === undefined) return { page: "not-found", hash };
  if (parts.length === 0) {
    const cursor = params.get("cursor");
    return cursor ? { page: "overview", cursor } : { page: "overview" };
  }
  if (parts[0] === "groups" && parts.length === 2)
    return { page: "group", group: parts[1] as string, query: groupQuery(params) };
  if (parts[0] === "groups" && parts[2] === "devices" && parts.length === 4)
    return { page: "device", group: parts[1] as string, device: parts[3] as string };
  return { page: "not-found", hash };
}

/**
 * The decoded segments of a fragment's path; undefined when one is not a name: a broken escape, or `.` and
 * `..`, which the browser would resolve against the API's path when the page asks for it.
 */
function segments(path: string): string[] | undefined {
  const parts: string[] = [];
  for (const raw of path.split("/")) {
    if (raw === "") continue;
    let part: string;
    try {
      part = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (part === "." || part === ".." || part.includes("/")) return undefined;
    parts.push(part);
  }
  return parts;
}

function groupQuery(params: URLSearchParams): GroupQuery {
  const query: GroupQuery = {};
  for (const key of QUERY_KEYS) {
    const value = params.get(key);
    if (value) query[key] = value;
  }
  return query;
}

/** The fragment of a route. */
export function routeHash(route: Route): string {
  switch (route.page) {
    case "overview":
      return route.cursor ? `#/?cursor=${encodeURIComponent(route.cursor)}` : "#/";
    case "group": {
      const params = new URLSearchParams();
      for (const key of QUERY_KEYS) {
        const value = route.query[key];
        if (value) params.set(key, value);
      }
      const search = params.toString();
      return `#/groups/${encodeURIComponent(route.group)}${search ? `?${search}` : ""}`;
    }
    case "device":
      return `#/groups/${encodeURIComponent(route.group)}/devices/${encodeURIComponent(route.device)}`;
    case "not-found":
      return route.hash;
  }
}
