/** The OpenAPI 3.1 description of API v1, served at `GET /v1/openapi.json`; request schemas come from the valibot schemas. */

import { toJsonSchema } from "@valibot/to-json-schema";
import type { GenericSchema } from "valibot";
import { CreateDevicesBody, CreateGroupBody, ProvisionBody, RenewBody } from "../../core/wire.ts";
import { PatchGroupBody } from "../../core/enrollment.ts";
import { NAME_RULE } from "../../core/names.ts";

const schema = (s: GenericSchema) => toJsonSchema(s, { errorMode: "ignore", typeMode: "input" });
const body = (s: GenericSchema) => ({
  required: true,
  content: { "application/json": { schema: schema(s) } },
});
const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});
const ok = (description: string) => ({ description, content: { "application/json": {} } });
const pem = (description: string) => ({
  description,
  content: { "application/x-pem-file": { schema: { type: "string" } } },
});
const name = (param: string) => ({
  name: param,
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[a-z0-9]+(-[a-z0-9]+)*$", maxLength: 63 },
  description: NAME_RULE,
});
const admin = [{ adminToken: [] }];
const errors = {
  400: problem("Invalid input; errors[] names each field"),
  401: problem("Missing or wrong admin token"),
  404: problem("No such group or device"),
};

let cached: object | undefined;

/** The OpenAPI document (built once). */
export function openApiDocument(): object {
  cached ??= {
    openapi: "3.1.0",
    info: {
      title: "IoTA API",
      version: "1",
      description:
        "Device identities for IoT fleets: groups, devices, a CA, provisioning, renewal, revocation.",
    },
    components: {
      securitySchemes: {
        adminToken: {
          type: "http",
          scheme: "bearer",
          description:
            "The tenant's admin token (iota-server writes the first one to DATA/admin-token)",
        },
      },
      schemas: {
        Problem: {
          type: "object",
          description: "RFC 9457 problem details",
          properties: {
            type: { type: "string" },
            status: { type: "integer" },
            title: { type: "string" },
            detail: { type: "string" },
            errors: {
              type: "array",
              items: {
                type: "object",
                properties: { field: { type: "string" }, message: { type: "string" } },
              },
            },
          },
        },
      },
    },
    paths: {
      "/v1/groups": {
        post: {
          summary:
            'Create a group; the answer holds its provisioning secret, shown only here. enrollment "registered" (default): the secret provisions only devices created in advance; "any": it also creates a device on first provisioning when its name matches namePattern, at most enrollPerHour (default 1000) per hour',
          security: admin,
          requestBody: body(CreateGroupBody),
          responses: {
            201: ok("The group with provisioningSecret"),
            409: problem("A group of that name exists"),
            ...errors,
          },
        },
        get: {
          summary: "List groups",
          security: admin,
          responses: { 200: ok("{ items: [group] }"), ...errors },
        },
      },
      "/v1/groups/{group}": {
        parameters: [name("group")],
        get: {
          summary: "Show a group",
          security: admin,
          responses: { 200: ok("The group"), ...errors },
        },
        patch: {
          summary:
            'Change the group\'s enrollment ({ enrollment?, namePattern?, enrollPerHour? }); "registered" drops the pattern and limit, "any" needs a pattern',
          security: admin,
          requestBody: body(PatchGroupBody),
          responses: { 200: ok("The group"), ...errors },
        },
        delete: {
          summary:
            "Delete a group (?force=true also deletes its devices and revokes their certificates)",
          security: admin,
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
          summary: "Rotate the provisioning secret; tokens from the old secret stop working",
          security: admin,
          responses: { 200: ok("{ provisioningSecret, ... }"), ...errors },
        },
      },
      "/v1/groups/{group}/devices": {
        parameters: [name("group")],
        post: {
          summary:
            "Create one device ({ name } → 201) or many ({ names } → 200 { created, existing, invalid }), up to 100,000 per call in one transaction",
          security: admin,
          requestBody: body(CreateDevicesBody),
          responses: {
            200: ok("Bulk result"),
            201: ok("The device"),
            409: problem("The device exists"),
            ...errors,
          },
        },
        get: {
          summary:
            "List devices in name order, ?limit (1-1000, default 100) and ?cursor (nextCursor of the previous page)",
          security: admin,
          responses: { 200: ok("{ items, nextCursor? }"), ...errors },
        },
      },
      "/v1/groups/{group}/devices/{device}": {
        parameters: [name("group"), name("device")],
        get: {
          summary: "Show a device: state, serial, notAfter, lastRenewal",
          security: admin,
          responses: { 200: ok("The device"), ...errors },
        },
        delete: {
          summary: "Delete a device and revoke its certificates",
          security: admin,
          responses: { 204: { description: "Deleted" }, ...errors },
        },
      },
      "/v1/groups/{group}/devices/{device}/revoke": {
        parameters: [name("group"), name("device")],
        post: {
          summary:
            "Revoke a device: its certificates go on the CRL; it can neither renew nor provision until reset",
          security: admin,
          responses: { 200: ok("The device"), ...errors },
        },
      },
      "/v1/groups/{group}/devices/{device}/reset": {
        parameters: [name("group"), name("device")],
        post: {
          summary:
            "Reset a device to created so it may provision again with a new key; its certificates are revoked",
          security: admin,
          responses: { 200: ok("The device"), ...errors },
        },
      },
      "/v1/provision": {
        post: {
          summary:
            "Provision a device with a CSR (CN = device name, ECDSA P-256) and its device token or the group secret. Idempotent for the same key (200); another key on a provisioned device is 409. A device that does not exist is 404, unless its group enrolls any name matching its pattern: then it is created (429 once the group's hourly limit is used up).",
          requestBody: body(ProvisionBody),
          responses: {
            201: ok("{ certificate, chain, ca, serial, notBefore, notAfter, renewAt }"),
            200: ok("The same certificate again"),
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
          summary:
            "Renew with a new key. Proof of possession: signature = base64url(ECDSA P-256 SHA-256, r||s) by the current key over the UTF-8 text 'iota-renew-v1\\n<serial hex>\\n<timestamp>\\n<base64url SHA-256 of the CSR PEM, trimmed>'; the timestamp must be within 5 minutes of the service's clock (use the Date header when the device has no real-time clock). A superseded certificate cannot renew again, so a proof cannot be replayed once used; a retry with the same new key after a lost answer gets the same certificate (200).",
          requestBody: body(RenewBody),
          responses: {
            201: ok("{ certificate, chain, ca, serial, notBefore, notAfter, renewAt }"),
            200: ok("The same certificate again"),
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
          summary: "The tenant CA certificate (?tenant=, default 'default')",
          responses: { 200: pem("CA certificate") },
        },
      },
      "/v1/crl": {
        get: {
          summary: "The tenant CRL, PEM 'X509 CRL' (?tenant=)",
          responses: { 200: pem("CRL") },
        },
      },
    },
  };
  return cached;
}
