/** The OpenAPI component schemas of API v1's answers (JSON Schema 2020-12, as OpenAPI 3.1 uses it). */

import { NAME_RULE } from "../../core/names.ts";

const string = { type: "string" } as const;
const time = { type: "string", format: "date-time" } as const;
const timeOrNull = { type: ["string", "null"], format: "date-time" } as const;
const count = { type: "integer", minimum: 0 } as const;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** An object schema with every listed property required unless named in `optional`; no other properties. */
function object(
  description: string,
  properties: Record<string, object>,
  optional: string[] = [],
): object {
  return {
    type: "object",
    description,
    properties,
    required: Object.keys(properties).filter((p) => !optional.includes(p)),
    additionalProperties: false,
  };
}

const name = { type: "string", pattern: "^[a-z0-9]+(-[a-z0-9]+)*$", maxLength: 63 } as const;

const group = {
  name,
  validity: { type: "integer", description: "Certificate lifetime in seconds" },
  renewGrace: {
    type: "integer",
    description: "Seconds after expiry during which a certificate may still renew",
  },
  createdAt: time,
  secretRotatedAt: time,
  enrollment: {
    enum: ["registered", "any"],
    description:
      "registered: the secret provisions only devices created in advance; any: it also creates them on first provisioning",
  },
  namePattern: {
    type: "string",
    description:
      "With enrollment any: the names the secret may create (* any run, ? one character)",
  },
  enrollPerHour: {
    type: "integer",
    minimum: 1,
    description: "With enrollment any: at most this many devices created per hour",
  },
  deviceCount: count,
  secretCheck: {
    type: "string",
    description:
      'In the answer for one group: base64url(HMAC-SHA256(key = the provisioning secret, msg = "secret-check:<group>")), no padding. Whoever holds a secret can tell whether it is the current one; it provisions nothing',
  },
};

/** Group fields only some groups have. */
const GROUP_OPTIONAL = ["deviceCount", "namePattern", "enrollPerHour", "secretCheck"];

const groupCounts = {
  devices: ref("DeviceCounts"),
  online: {
    ...count,
    description: "Provisioned devices online (a live broker session or a retained ready message)",
  },
  offline: {
    ...count,
    description:
      "Provisioned devices offline (a retained offline message, or gone); devices never seen are neither",
  },
  expiringWithin24h: {
    ...count,
    description: "Provisioned devices whose certificate expires within 24 h (not yet expired)",
  },
  expiringWithin7d: { ...count, description: "... within 7 days (including those within 24 h)" },
  overdueRenewals: {
    ...count,
    description:
      "Provisioned devices whose planned renewal passed more than overdueSlackSeconds ago with no renewal since",
  },
};

/** The schemas referenced from the paths. */
export const SCHEMAS: Record<string, object> = {
  Problem: object(
    "RFC 9457 problem details",
    {
      type: string,
      status: { type: "integer" },
      title: string,
      detail: string,
      errors: {
        type: "array",
        items: object("One invalid field", { field: string, message: string }),
      },
    },
    ["errors"],
  ),
  Health: object("The service answers", { status: { const: "ok" } }),
  Readiness: object("The service and its database answer", { status: { const: "ready" } }),
  OpenApiDocument: { type: "object", description: "This document" },
  Group: object(`A group (names: ${NAME_RULE})`, group, GROUP_OPTIONAL),
  GroupWithSecret: object(
    "A group with its provisioning secret: only in the answer that creates or rotates it",
    { ...group, provisioningSecret: string },
    GROUP_OPTIONAL,
  ),
  GroupList: object("Every group of the tenant in name order", {
    items: { type: "array", items: ref("Group") },
  }),
  Device: object("A device", {
    group: name,
    name,
    state: { enum: ["created", "provisioned", "revoked"] },
    serial: { type: ["string", "null"], description: "Serial (hex) of its current certificate" },
    notBefore: timeOrNull,
    notAfter: timeOrNull,
    provisionedAt: timeOrNull,
    lastRenewal: timeOrNull,
    createdAt: time,
    renewAt: { ...timeOrNull, description: "The next planned renewal of its current certificate" },
    online: {
      type: ["boolean", "null"],
      description: "Readiness from a watched broker; null: never seen",
    },
    seenAt: { ...timeOrNull, description: "When its readiness last changed" },
    enrolledAt: {
      ...timeOrNull,
      description:
        "When its group's credential created it on first provisioning (enrollment any); null when an operator created it",
    },
  }),
  DevicePage: object(
    "One page of devices; nextCursor is absent on the last page",
    { items: { type: "array", items: ref("Device") }, nextCursor: string },
    ["nextCursor"],
  ),
  BulkCreateResult: object("What a bulk creation did with each name", {
    created: { type: "array", items: string },
    existing: { type: "array", items: string },
    invalid: { type: "array", items: object("A refused name", { name: string, reason: string }) },
  }),
  IssuedCertificate: object("A device certificate and its chain", {
    certificate: { type: "string", description: "PEM" },
    chain: { type: "string", description: "The certificate, then the tenant CA (PEM)" },
    ca: { type: "string", description: "The tenant CA (PEM)" },
    serial: string,
    notBefore: time,
    notAfter: time,
    renewAt: { ...time, description: "When the device should renew" },
  }),
  DeviceCounts: object("Devices by state", {
    total: count,
    created: count,
    provisioned: count,
    revoked: count,
  }),
  GroupStatus: object("The counts of one group", { name, ...groupCounts }),
  FleetStatus: object(
    "The fleet summary of the tenant (with a page of its groups) or of one group",
    {
      at: { ...time, description: "When the summary was computed" },
      ...groupCounts,
      overdueSlackSeconds: count,
      forecast: object(
        "Renewals planned per bucket over the next renewal period (2/3 of the longest group validity), from the stored schedule; overdue renewals are not in it",
        {
          from: { ...time, description: "Start of the first bucket (the current hour)" },
          bucketSeconds: { type: "integer", minimum: 1 },
          renewals: {
            type: "array",
            items: count,
            description:
              "renewals[i]: renewals due in [from + i*bucketSeconds, from + (i+1)*bucketSeconds)",
          },
        },
      ),
      groups: {
        type: "array",
        items: ref("GroupStatus"),
        description: "GET /v1/status only: one page of groups in name order (?limit, ?cursor)",
      },
      nextCursor: { ...string, description: "More groups follow: pass it as ?cursor" },
    },
    ["groups", "nextCursor"],
  ),
  DeviceHistory: object("What happened to a device since it was created, oldest first", {
    items: {
      type: "array",
      items: object("One event", {
        at: time,
        event: { enum: ["created", "provisioned", "renewed", "revoked", "reset"] },
        serial: { type: ["string", "null"] },
      }),
    },
  }),
};
