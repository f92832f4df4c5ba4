/** The OpenAPI 3.1 description of API v1, served at `GET /v1/openapi.json`; request schemas come from the valibot schemas. */

import {
  CreateDevicesBody,
  CreateGroupBody,
  ProvisionBody,
  RenewBody,
  ResetBody,
} from "../../core/wire.ts";
import { PatchGroupBody } from "../../core/enrollment.ts";
import { VERSION } from "../../core/version.ts";
import { SCHEMAS } from "./openapi-schemas.ts";
import { DEVICE_FILTERS, FLEET_PATHS } from "./openapi-fleet.ts";
import { admin, body, errors, name, ok, open, pem, problem, query } from "./openapi-parts.ts";

const tenantQuery = query("tenant", "The tenant (default: default)", {
  type: "string",
  pattern: "^[a-z0-9]+(-[a-z0-9]+)*$",
});

/** The groups and devices an operator manages. */
const ADMIN_PATHS = {
  "/v1/groups": {
    post: {
      operationId: "createGroup",
      tags: ["groups"],
      summary:
        'Create a group; the answer holds its provisioning secret, shown only here. enrollment "registered" (default): the secret provisions only devices created in advance; "any": it also creates a device on first provisioning when its name matches namePattern, at most enrollPerHour (default 1000) per hour',
      security: admin,
      requestBody: body(CreateGroupBody),
      responses: {
        201: ok("The group with provisioningSecret", "GroupWithSecret"),
        409: problem("A group of that name exists"),
        ...errors,
      },
    },
    get: {
      operationId: "listGroups",
      tags: ["groups"],
      summary: "List groups with their device counts",
      security: admin,
      responses: { 200: ok("Every group", "GroupList"), ...errors },
    },
  },
  "/v1/groups/{group}": {
    parameters: [name("group")],
    get: {
      operationId: "getGroup",
      tags: ["groups"],
      summary: "Show a group",
      security: admin,
      responses: { 200: ok("The group", "Group"), ...errors },
    },
    patch: {
      operationId: "changeGroup",
      tags: ["groups"],
      summary:
        'Change the group\'s enrollment ({ enrollment?, namePattern?, enrollPerHour? }); "registered" drops the pattern and limit, "any" needs a pattern',
      security: admin,
      requestBody: body(PatchGroupBody),
      responses: { 200: ok("The group", "Group"), ...errors },
    },
    delete: {
      operationId: "deleteGroup",
      tags: ["groups"],
      summary:
        "Delete a group (?force=true also deletes its devices and revokes their certificates)",
      security: admin,
      parameters: [query("force", "Also delete the group's devices", { type: "boolean" })],
      responses: {
        204: { description: "Deleted" },
        409: problem("The group has devices"),
        ...errors,
      },
    },
  },
  "/v1/groups/{group}/secret": {
    parameters: [name("group")],
    post: {
      operationId: "rotateSecret",
      tags: ["groups"],
      summary: "Rotate the provisioning secret; tokens from the old secret stop working",
      security: admin,
      responses: { 200: ok("The group with its new secret", "GroupWithSecret"), ...errors },
    },
  },
  "/v1/groups/{group}/devices": {
    parameters: [name("group")],
    post: {
      operationId: "createDevices",
      tags: ["devices"],
      summary:
        "Create one device ({ name } → 201) or many ({ names } → 200 { created, existing, invalid }), up to 100,000 per call in one transaction",
      security: admin,
      parameters: [
        {
          name: "Idempotency-Key",
          in: "header",
          required: false,
          schema: { type: "string", pattern: '^"?[A-Za-z0-9._~+/=:-]{16,128}"?$' },
          description:
            "One device ({ name }) only: a random key (a UUID) kept with the device. The same creation sent again with the same key within 24 hours (after a lost answer) gets 201 with the device as it is now and Idempotent-Replayed: true, instead of 409. The draft's quoted form is accepted. With { names }: 400",
        },
      ],
      requestBody: body(CreateDevicesBody),
      responses: {
        200: ok("Bulk result", "BulkCreateResult"),
        201: {
          ...ok("The device", "Device"),
          headers: {
            "Idempotent-Replayed": {
              description: "true when this answers a creation sent again with its Idempotency-Key",
              schema: { type: "string", enum: ["true"] },
            },
          },
        },
        409: problem("The device exists (and was not created with this request's Idempotency-Key)"),
        ...errors,
      },
    },
    get: {
      operationId: "listDevices",
      tags: ["devices"],
      summary:
        "List a group's devices, filtered (the filters combine), page by page: in name order, or by renewAt with overdue=true, or by notAfter with expiringBefore",
      security: admin,
      parameters: DEVICE_FILTERS,
      responses: { 200: ok("One page", "DevicePage"), ...errors },
    },
  },
  "/v1/groups/{group}/devices/{device}": {
    parameters: [name("group"), name("device")],
    get: {
      operationId: "getDevice",
      tags: ["devices"],
      summary: "Show a device: state, certificate, planned renewal, readiness",
      security: admin,
      responses: { 200: ok("The device", "Device"), ...errors },
    },
    delete: {
      operationId: "deleteDevice",
      tags: ["devices"],
      summary: "Delete a device and revoke its certificates",
      security: admin,
      responses: { 204: { description: "Deleted" }, ...errors },
    },
  },
  "/v1/groups/{group}/devices/{device}/revoke": {
    parameters: [name("group"), name("device")],
    post: {
      operationId: "revokeDevice",
      tags: ["devices"],
      summary:
        "Revoke a device: its certificates go on the CRL; it can neither renew nor provision until reset",
      security: admin,
      responses: { 200: ok("The device", "Device"), ...errors },
    },
  },
  "/v1/groups/{group}/devices/{device}/reset": {
    parameters: [name("group"), name("device")],
    post: {
      operationId: "resetDevice",
      tags: ["devices"],
      summary:
        "Reset a device to created so it may provision again with a new key; its certificates are revoked. To provision again it must prove it holds the key it had, unless the body says forgetKey: true (for a device that lost its key; its token alone then provisions it). The body is optional",
      security: admin,
      requestBody: body(ResetBody, false),
      responses: { 200: ok("The device", "Device"), ...errors },
    },
  },
};

const ISSUED = "{ certificate, chain, ca, serial, notBefore, notAfter, renewAt }";

/** A call under /v1 refuses a query parameter it does not read. */
const NO_QUERY = "A query parameter this call does not read; errors[] names it";
const BAD_TENANT =
  "A tenant that is not a valid name, or another query parameter; errors[] names it";

/** What devices and anyone may call without an admin token. */
const PUBLIC_PATHS = {
  "/v1/provision": {
    post: {
      operationId: "provision",
      tags: ["issuing"],
      summary:
        "Provision a device with a CSR (CN = device name, ECDSA P-256) and its device token or the group secret. Idempotent for the same key (200); another key on a provisioned device is 409. A device that does not exist is 404, unless its group enrolls any name matching its pattern: then it is created (429 once the group's hourly limit is used up).",
      security: open,
      requestBody: body(ProvisionBody),
      responses: {
        201: ok(ISSUED, "IssuedCertificate"),
        200: ok("The same certificate again", "IssuedCertificate"),
        401: problem("Wrong token or secret"),
        403: problem("Device revoked"),
        409: problem("Provisioned with another key"),
        429: problem("Rate limited, or the group's enrollment limit reached; see Retry-After"),
        400: errors[400],
        404: errors[404],
      },
    },
  },
  "/v1/renew": {
    post: {
      operationId: "renew",
      tags: ["issuing"],
      summary:
        "Renew with a new key. Proof of possession: signature = base64url(ECDSA P-256 SHA-256, r||s) by the current key over the UTF-8 text 'iota-renew-v1\\n<serial hex>\\n<timestamp>\\n<base64url SHA-256 of the CSR PEM, trimmed>'; the timestamp must be within 5 minutes of the service's clock (use the Date header when the device has no real-time clock). A superseded certificate cannot renew again, so a proof cannot be replayed once used; a retry with the same new key after a lost answer gets the same certificate (200).",
      security: open,
      requestBody: body(RenewBody),
      responses: {
        201: ok(ISSUED, "IssuedCertificate"),
        200: ok("The same certificate again", "IssuedCertificate"),
        401: problem("Proof or certificate not valid"),
        403: problem("Revoked, or expired past the group's renew grace"),
        409: problem("Not the current certificate"),
        429: problem("Rate limited"),
        400: errors[400],
      },
    },
  },
  "/v1/ca": {
    get: {
      operationId: "getCa",
      tags: ["trust"],
      summary: "The tenant CA certificate",
      security: open,
      parameters: [tenantQuery],
      responses: {
        200: pem("CA certificate"),
        400: problem(BAD_TENANT),
        404: problem("No such tenant"),
      },
    },
  },
  "/v1/crl": {
    get: {
      operationId: "getCrl",
      tags: ["trust"],
      summary: "The tenant CRL, PEM 'X509 CRL'",
      description:
        "While the database is unavailable, the last CRL this replica signed or read, until its nextUpdate.",
      security: open,
      parameters: [tenantQuery],
      responses: {
        200: pem("CRL"),
        400: problem(BAD_TENANT),
        404: problem("No such tenant"),
        503: problem(
          "The database is unavailable and this replica holds no CRL still valid; retry after Retry-After seconds",
        ),
      },
    },
  },
  "/v1/server-ca": {
    get: {
      operationId: "getServerCa",
      tags: ["trust"],
      summary: "The server CA clients pin for this service's TLS",
      security: open,
      responses: {
        200: pem("Server CA certificate"),
        400: problem(NO_QUERY),
        404: problem("An operator certificate whose chain ends in no root"),
      },
    },
  },
  "/v1/openapi.json": {
    get: {
      operationId: "getOpenApi",
      tags: ["service"],
      summary: "This document",
      security: open,
      responses: {
        200: ok("The OpenAPI document", "OpenApiDocument"),
        400: problem(NO_QUERY),
      },
    },
  },
  "/healthz": {
    get: {
      operationId: "getHealth",
      tags: ["service"],
      summary: "Liveness: 200 while the service answers",
      description:
        "Does not ask the database: a balancer on it keeps every replica in while the database is down, so the CA and the CRL go on being served.",
      security: open,
      responses: { 200: ok("Alive", "Health") },
    },
  },
  "/readyz": {
    get: {
      operationId: "getReadiness",
      tags: ["service"],
      summary: "Readiness: 200 while this replica's database answers a trivial query within 2 s",
      description:
        "For a balancer that should take a replica whose own path to the database broke out of rotation; with every replica probed so, a database outage takes them all out, the CRL included.",
      security: open,
      responses: {
        200: ok("Ready", "Readiness"),
        503: problem("The database did not answer within 2 s; see Retry-After"),
      },
    },
  },
};

let cached: object | undefined;

/** The OpenAPI document (built once). */
export function openApiDocument(): object {
  cached ??= {
    openapi: "3.1.0",
    info: {
      title: "IoTA API",
      version: VERSION,
      description:
        "Device identities for IoT fleets: groups, devices, a CA, provisioning, renewal, revocation, and the fleet's status.",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [
      {
        url: "/",
        description:
          "The iota-server that serves this document (https://HOST:8440 by default; the URL it prints at start)",
      },
    ],
    security: admin,
    tags: [
      { name: "groups", description: "Groups and their provisioning secrets" },
      { name: "devices", description: "Devices: create, list, show, revoke, reset, delete" },
      { name: "issuing", description: "Certificates for devices: provision and renew" },
      { name: "trust", description: "The tenant CA, its CRL, and the server CA" },
      { name: "fleet", description: "Fleet status, device history and metrics" },
      { name: "service", description: "The service itself" },
    ],
    components: {
      securitySchemes: {
        adminToken: {
          type: "http",
          scheme: "bearer",
          description:
            "The tenant's admin token (iota-server writes the first one to DATA/admin-token)",
        },
      },
      schemas: SCHEMAS,
    },
    paths: { ...ADMIN_PATHS, ...FLEET_PATHS, ...PUBLIC_PATHS },
  };
  return cached;
}
