/**
 * What a group's provisioning credential may do, the group's enrollment: `registered` (the default)
 * provisions only devices created in advance; `any` also creates a device on its first provisioning,
 * when its name matches the group's pattern, at most `enrollPerHour` new devices per hour.
 */

import * as v from "valibot";
import { NAME_PATTERN_RULE, namePatternProblem } from "./name-pattern.ts";

/** The enrollment modes. */
export const ENROLLMENT_MODES = ["registered", "any"] as const;
/** One enrollment mode. */
export type EnrollmentMode = (typeof ENROLLMENT_MODES)[number];

/** New devices an `any` group creates per hour unless it says otherwise. */
export const DEFAULT_ENROLL_PER_HOUR = 1000;
/** The most an operator may allow. */
export const MAX_ENROLL_PER_HOUR = 1_000_000;
/** The window the per-group limit counts in. */
export const ENROLL_WINDOW_MS = 3600_000;

/** A group's enrollment, whole. */
export type Enrollment =
  | { enrollment: "registered"; namePattern: null; enrollPerHour: null }
  | { enrollment: "any"; namePattern: string; enrollPerHour: number };

/** The enrollment of a group that never said otherwise. */
export const REGISTERED: Enrollment = {
  enrollment: "registered",
  namePattern: null,
  enrollPerHour: null,
};

/** A change to the enrollment: any of its fields. */
export interface EnrollmentChange {
  enrollment?: EnrollmentMode | undefined;
  namePattern?: string | undefined;
  enrollPerHour?: number | undefined;
}

/** `{ enrollment, namePattern, enrollPerHour }` as API bodies (group creation and change) take them. */
export const ENROLLMENT_ENTRIES = {
  enrollment: v.optional(v.picklist(ENROLLMENT_MODES, 'must be "registered" or "any"')),
  namePattern: v.optional(
    v.pipe(
      v.string(`must be a string: ${NAME_PATTERN_RULE}`),
      v.check(
        (p) => namePatternProblem(p) === undefined,
        (issue) => namePatternProblem(String(issue.input)) ?? "is not a pattern",
      ),
    ),
  ),
  enrollPerHour: v.optional(
    v.pipe(
      v.number("must be a whole number"),
      v.integer("must be a whole number"),
      v.minValue(1, "must be at least 1"),
      v.maxValue(MAX_ENROLL_PER_HOUR, `must be at most ${MAX_ENROLL_PER_HOUR}`),
    ),
  ),
};

/** `PATCH /v1/groups/{group}`: a change to the group's enrollment; at least one field. */
export const PatchGroupBody = v.pipe(
  v.strictObject(ENROLLMENT_ENTRIES),
  v.check(
    (body) => Object.keys(body).length > 0,
    "give at least one of enrollment, namePattern, enrollPerHour",
  ),
);
export type PatchGroupBody = v.InferOutput<typeof PatchGroupBody>;

/**
 * The enrollment after `change` (a creation changes {@link REGISTERED}), or the field that makes it
 * inconsistent: a pattern or limit for a `registered` group means nothing, and an `any` group needs a
 * pattern, so no group ever creates names nobody chose. Switching to `registered` drops both.
 */
export function changeEnrollment(
  current: Enrollment,
  change: EnrollmentChange,
): { ok: true; enrollment: Enrollment } | { ok: false; field: string; message: string } {
  const mode = change.enrollment ?? current.enrollment;
  if (mode === "registered") {
    for (const field of ["namePattern", "enrollPerHour"] as const)
      if (change[field] !== undefined)
        return {
          ok: false,
          field,
          message: `applies only to a group with "enrollment": "any" (this one provisions only devices created in advance)`,
        };
    return { ok: true, enrollment: REGISTERED };
  }
  const namePattern = change.namePattern ?? current.namePattern;
  if (namePattern === null)
    return {
      ok: false,
      field: "namePattern",
      message: `is required with "enrollment": "any": the names the group's credential may create, e.g. "dev-*"`,
    };
  const enrollPerHour = change.enrollPerHour ?? current.enrollPerHour ?? DEFAULT_ENROLL_PER_HOUR;
  return { ok: true, enrollment: { enrollment: "any", namePattern, enrollPerHour } };
}
