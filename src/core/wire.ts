/** The API v1 wire schemas, shared by the service (to validate) and the clients (to build and read). */

import * as v from "valibot";
import { NAME_RULE, nameProblem } from "./names.ts";
import { parseDuration } from "./duration.ts";
import { ENROLLMENT_ENTRIES, type EnrollmentMode } from "./enrollment.ts";
import { MAX_GRACE_SECONDS, MAX_VALIDITY_SECONDS, MIN_VALIDITY_SECONDS } from "./profile.ts";

/** Most device names in one bulk request. */
export const BULK_MAX_NAMES = 100_000;

/** A group or device name; the message says which rule was broken. */
export const NameSchema = v.pipe(
  v.string("must be a string"),
  v.check(
    (name) => nameProblem(name) === undefined,
    (issue) => `${nameProblem(String(issue.input))}; names are ${NAME_RULE}`,
  ),
);

/** A duration (`30d`, `12h`, `90s` or whole seconds) within [min, max] seconds, output as seconds. */
export function durationSchema(min: number, max: number) {
  return v.pipe(
    v.union(
      [v.number(), v.string()],
      "must be a duration such as 30d, 12h, 90s or a number of seconds",
    ),
    v.transform((input) => parseDuration(input) ?? -1),
    v.check((s) => s >= 0, "must be a duration such as 30d, 12h, 90s or a number of seconds"),
    v.check((s) => s >= min && s <= max, `must be between ${min} and ${max} seconds`),
  );
}

/** Longest PEM text a request may carry: a P-256 device certificate or CSR is under 1,000 characters. */
export const PEM_MAX = 8192;

/** A PEM text of bounded size. */
const PemText = v.pipe(
  v.string("must be a PEM string"),
  v.maxLength(PEM_MAX, `is longer than ${PEM_MAX} characters`),
  v.includes("-----BEGIN ", "is not PEM (no BEGIN line)"),
);

/** `POST /v1/groups`; the enrollment fields are checked together by `changeEnrollment` (enrollment.ts). */
export const CreateGroupBody = v.strictObject({
  name: NameSchema,
  validity: v.optional(durationSchema(MIN_VALIDITY_SECONDS, MAX_VALIDITY_SECONDS)),
  renewGrace: v.optional(durationSchema(0, MAX_GRACE_SECONDS)),
  ...ENROLLMENT_ENTRIES,
});
export type CreateGroupBody = v.InferOutput<typeof CreateGroupBody>;

/** `POST /v1/groups/{group}/devices` with one name. */
export const CreateDeviceBody = v.strictObject({ name: NameSchema });

/** `POST /v1/groups/{group}/devices` with many names (each checked by the service, which reports the invalid ones). */
export const BulkCreateBody = v.strictObject({
  names: v.pipe(
    v.array(v.string("must be a string"), "must be an array of names"),
    v.maxLength(BULK_MAX_NAMES, `has more than ${BULK_MAX_NAMES} names; split it into batches`),
  ),
});

/** `POST /v1/groups/{group}/devices`: one name, or many. */
export const CreateDevicesBody = v.union(
  [CreateDeviceBody, BulkCreateBody],
  "must have either name (one device) or names (a list)",
);

/**
 * The schema a device-creation body is checked against: the bulk form when it has `names`, else the
 * single form, so an error names the field that is wrong (`names.3`) instead of only the union.
 */
export function createDevicesSchema(
  input: unknown,
): typeof CreateDeviceBody | typeof BulkCreateBody {
  return typeof input === "object" && input !== null && "names" in input
    ? BulkCreateBody
    : CreateDeviceBody;
}
export type CreateDevicesBody = v.InferOutput<typeof CreateDevicesBody>;

/** `POST /v1/groups/{group}/devices/{device}/reset` (the body is optional). */
export const ResetBody = v.strictObject({
  /**
   * Let any key provision the device again (its token alone suffices), for a device that lost its key.
   * Without it the device must prove it holds the key it had before the reset.
   */
  forgetKey: v.optional(v.boolean("must be true or false")),
});

/** `POST /v1/provision` */
export const ProvisionBody = v.pipe(
  v.strictObject({
    tenant: v.optional(NameSchema),
    group: NameSchema,
    device: NameSchema,
    csr: PemText,
    token: v.optional(v.pipe(v.string("must be a string"), v.maxLength(256, "is too long"))),
    secret: v.optional(v.pipe(v.string("must be a string"), v.maxLength(256, "is too long"))),
    /** After an operator's reset: proof of the key the device held before (see recovery-proof.ts). */
    proof: v.optional(
      v.strictObject({
        timestamp: v.pipe(v.string("must be an ISO 8601 time"), v.maxLength(64, "is too long")),
        signature: v.pipe(v.string("must be a base64url string"), v.maxLength(256, "is too long")),
      }),
    ),
  }),
  v.check(
    (body) => (body.token === undefined) !== (body.secret === undefined),
    "give exactly one of token and secret",
  ),
);
export type ProvisionBody = v.InferOutput<typeof ProvisionBody>;

/** `POST /v1/renew` */
export const RenewBody = v.strictObject({
  certificate: PemText,
  csr: PemText,
  timestamp: v.pipe(v.string("must be an ISO 8601 time"), v.maxLength(64, "is too long")),
  signature: v.pipe(v.string("must be a base64url string"), v.maxLength(256, "is too long")),
});
export type RenewBody = v.InferOutput<typeof RenewBody>;

/** A group as the API shows it. */
export interface GroupView {
  name: string;
  /** Certificate lifetime in seconds. */
  validity: number;
  /** Seconds after expiry during which a certificate may still renew. */
  renewGrace: number;
  createdAt: string;
  secretRotatedAt: string;
  /** `registered`: the credential provisions only devices created in advance; `any`: it may create them. */
  enrollment: EnrollmentMode;
  /** With `any`: the names the credential may create. */
  namePattern?: string;
  /** With `any`: at most this many devices created by provisioning per hour. */
  enrollPerHour?: number;
  deviceCount?: number;
  /** In the answer for one group: {@link secretCheck} of its current secret, so a holder can confirm the secret is current. */
  secretCheck?: string;
}

/** A group with its secret: only in the answer that creates or rotates it. */
export interface GroupWithSecret extends GroupView {
  provisioningSecret: string;
}

/** Device lifecycle states. */
export type DeviceState = "created" | "provisioned" | "revoked";

/** A device as the API shows it. */
export interface DeviceView {
  group: string;
  name: string;
  state: DeviceState;
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  provisionedAt: string | null;
  lastRenewal: string | null;
  createdAt: string;
  /** The next planned renewal of its current certificate; null without one. */
  renewAt: string | null;
  /** Readiness from a watched broker: true online, false offline, null never seen. */
  online: boolean | null;
  /** When its readiness last changed; null when never seen. */
  seenAt: string | null;
  /** When its group's credential created it on first provisioning (enrollment `any`); null when an operator created it. */
  enrolledAt: string | null;
}

/** The answer to a bulk creation. */
export interface BulkCreateResult {
  created: string[];
  existing: string[];
  invalid: { name: string; reason: string }[];
}

/** A page of a listing; `nextCursor` is absent on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** The answer to provision and renew. */
export interface IssuedCertificate {
  /** The device certificate, PEM. */
  certificate: string;
  /** The certificate followed by the CA certificate, PEM. */
  chain: string;
  /** The tenant CA certificate, PEM. */
  ca: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  /** When the device should renew (the same instant iotad computes from the certificate). */
  renewAt: string;
}
