/** Group and device names in the path: each checked, a bad one a 400 naming its parameter and what is wrong with it. */

import type { Context } from "hono";
import * as v from "valibot";
import { invalidField } from "../../core/errors.ts";
import { NameSchema } from "../../core/wire.ts";

/**
 * The segment of the request's path that holds `param`, as the client sent it (still percent-encoded). Hint:
 * a parameter matches one whole segment, and the router splits the path before decoding it, so the segments
 * of the route's pattern and of the path line up.
 */
function rawSegment(c: Context, param: string): string {
  const index = c.req.routePath.split("/").indexOf(`:${param}`);
  const url = c.req.url;
  const start = url.indexOf("/", url.indexOf("://") + 3);
  const end = url.slice(start).search(/[?#]/);
  const path = end < 0 ? url.slice(start) : url.slice(start, start + end);
  return path.split("/")[index] ?? "";
}

/** Whether `segment` decodes: each `%` begins a `%XX` escape, and the escapes spell UTF-8. */
function decodes(segment: string): boolean {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
}

/**
 * A path parameter that must be a valid name; 400 naming the parameter otherwise. Hint: hono hands on a
 * segment it cannot decode as it came (`%ZZ`), which the name rules would blame on its letters, so a `%` left
 * in the value is checked against the segment as sent first.
 */
export function nameParam(c: Context, param: "group" | "device"): string {
  const value = c.req.param(param) ?? "";
  if (value.includes("%") && !decodes(rawSegment(c, param)))
    throw invalidField(param, "is not valid percent-encoding");
  const result = v.safeParse(NameSchema, value);
  if (!result.success)
    throw invalidField(param, result.issues[0]?.message ?? "is not a valid name");
  return result.output;
}
