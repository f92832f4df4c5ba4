/** Reading an `application/problem+json` answer (RFC 9457) on the client side: one parser for iotactl and iotad. */

import * as v from "valibot";
import type { FieldError } from "./problem.ts";

/** What a client may rely on in a problem body; every member is optional, since any server (or proxy) may answer. */
export interface ParsedProblem {
  type?: string;
  status?: number;
  title?: string;
  detail?: string;
  /** Per-field reasons, when the body lists them in IoTA's `errors: [{ field, message }]` shape. */
  errors?: FieldError[];
}

// Hint: lenient on purpose: a member of the wrong type is dropped, not a reason to ignore the whole body.
const Text = v.fallback(v.optional(v.string()), undefined);
const ProblemSchema = v.looseObject({
  type: Text,
  status: v.fallback(v.optional(v.pipe(v.number(), v.integer())), undefined),
  title: Text,
  detail: Text,
  errors: v.fallback(
    v.optional(v.array(v.object({ field: v.string(), message: v.string() }))),
    undefined,
  ),
});

/**
 * The problem in an answer body, or `undefined` when the body is not a JSON object (an HTML error page
 * of a proxy, an empty body). The caller decides what to show; nothing here echoes the raw text.
 */
export function parseProblem(text: string): ParsedProblem | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const parsed = v.safeParse(ProblemSchema, json);
  if (!parsed.success) return undefined;
  const problem: ParsedProblem = {};
  const { type, status, title, detail, errors } = parsed.output;
  if (type !== undefined) problem.type = type;
  if (status !== undefined) problem.status = status;
  if (title !== undefined) problem.title = title;
  if (detail !== undefined) problem.detail = detail;
  if (errors !== undefined) problem.errors = errors;
  return problem;
}

/** The sentence to show for a problem: its `detail`, else its `title`, else `undefined`. */
export function problemMessage(problem: ParsedProblem | undefined): string | undefined {
  return problem?.detail || problem?.title || undefined;
}
