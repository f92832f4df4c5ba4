/** The flags that set a group's enrollment (add group, set group), checked before anything is sent. */

import {
  changeEnrollment,
  ENROLLMENT_MODES,
  type Enrollment,
  type EnrollmentChange,
  MAX_ENROLL_PER_HOUR,
} from "../core/enrollment.ts";
import { namePatternProblem } from "../core/name-pattern.ts";
import { usageError } from "./exit-codes.ts";
import { type Flag, integerFlag, type ParsedArgs, stringFlag } from "./flags.ts";

/** `--enrollment`, `--name-pattern`, `--enroll-per-hour`. */
export const ENROLLMENT_FLAGS: Flag[] = [
  {
    name: "enrollment",
    type: "string",
    value: "registered|any",
    help: "registered: the group's secret provisions only devices created in advance (default); any: it also creates devices named by --name-pattern on first provisioning",
  },
  {
    name: "name-pattern",
    type: "string",
    value: "PATTERN",
    help: "with --enrollment any: the names the secret may create (* any run of characters, ? one), e.g. 'dev-*'",
  },
  {
    name: "enroll-per-hour",
    type: "string",
    value: "N",
    help: "with --enrollment any: at most N devices created per hour (default 1000)",
  },
];

const FLAG_OF: Record<string, string> = {
  enrollment: "--enrollment",
  namePattern: "--name-pattern",
  enrollPerHour: "--enroll-per-hour",
};

/** The change the flags ask for, each flag checked on its own. */
export function enrollmentFlags(args: ParsedArgs): EnrollmentChange {
  const change: EnrollmentChange = {};
  const mode = stringFlag(args, "enrollment");
  if (mode !== undefined) {
    const known = ENROLLMENT_MODES.find((m) => m === mode);
    if (known === undefined)
      throw usageError(`--enrollment must be registered or any, got ${JSON.stringify(mode)}`);
    change.enrollment = known;
  }
  const pattern = stringFlag(args, "name-pattern");
  if (pattern !== undefined) {
    const problem = namePatternProblem(pattern);
    if (problem !== undefined)
      throw usageError(`--name-pattern ${JSON.stringify(pattern)} ${problem}`);
    change.namePattern = pattern;
  }
  const perHour = integerFlag(args, "enroll-per-hour", 1, MAX_ENROLL_PER_HOUR);
  if (perHour !== undefined) change.enrollPerHour = perHour;
  return change;
}

/** Checks `change` against the group's current enrollment as the service will; a usage error naming the flag. */
export function checkEnrollment(current: Enrollment, change: EnrollmentChange): void {
  const result = changeEnrollment(current, change);
  if (!result.ok)
    throw usageError(
      `${FLAG_OF[result.field] ?? result.field} ${result.message.replace(/"enrollment": "any"/g, "--enrollment any")}`,
    );
}
