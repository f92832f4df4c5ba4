/** The methods a path takes, read from the app's own route table, for `405 Method Not Allowed` with `Allow`. */

/** Path patterns (`/v1/groups/:group`) as regular expressions, cached per pattern. */
const patterns = new Map<string, RegExp>();

function patternOf(path: string): RegExp {
  let regex = patterns.get(path);
  if (!regex) {
    const source = path
      .split("/")
      .map((part) =>
        part.startsWith(":")
          ? "[^/]+"
          : part === "*"
            ? ".*"
            : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"),
      )
      .join("/");
    // Hint: exactly the path the router matches; a trailing slash is another path, a 404 there too.
    regex = new RegExp(`^${source}$`);
    patterns.set(path, regex);
  }
  return regex;
}

/**
 * The methods of every route whose pattern matches `path` (middleware excluded), sorted; HEAD goes with
 * GET. Empty when no route has this path: then the answer is 404, not 405.
 */
export function allowedMethods(
  app: { routes: { method: string; path: string }[] },
  path: string,
): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL" || route.path.includes("*")) continue;
    if (patternOf(route.path).test(path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}
