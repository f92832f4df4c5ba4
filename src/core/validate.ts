/** Turning valibot issues into IoTA field errors, for API bodies, config files and CLI input alike. */

import * as v from "valibot";
import { IotaError } from "./errors.ts";
import type { FieldError } from "./problem.ts";

/** Field errors for valibot issues; the field is the dotted path (`names.3`), `(body)` for the root. */
export function fieldErrors(issues: readonly v.BaseIssue<unknown>[]): FieldError[] {
  return issues.map((issue) => ({
    field: issue.path?.map((item) => String(item.key)).join(".") || "(body)",
    message: plainMessage(issue),
  }));
}

/**
 * The issue's message, with valibot's generic wording for a missing field or a non-object replaced by one a
 * person can act on. Hint: schemas that set their own message keep it; only the library defaults start "Invalid ".
 */
function plainMessage(issue: v.BaseIssue<unknown>): string {
  if (!issue.message.startsWith("Invalid ")) return issue.message;
  if (issue.message.startsWith("Invalid key:") && issue.input === undefined) return "is required";
  // Hint: strict objects refuse a field they do not know rather than drop it, so a misspelt one is never ignored.
  if (issue.kind === "schema" && issue.expected === "never")
    return "is not a known field (check the spelling)";
  if (issue.kind === "schema" && issue.expected === "Object")
    return `must be a JSON object, got ${issue.received}`;
  return issue.message;
}

/** Parses `input` with `schema`; on failure throws a 400 {@link IotaError} naming every bad field. */
export function parseOrThrow<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  what = "request body",
): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const errors = fieldErrors(result.issues);
  const summary = errors.map((e) => `${e.field}: ${e.message}`).join("; ");
  throw new IotaError("invalid", `Invalid ${what}: ${summary}`, { errors });
}
