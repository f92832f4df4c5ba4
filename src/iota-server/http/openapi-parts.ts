/** Building blocks of the OpenAPI document: answers, parameters and security, written once. */

import { toJsonSchema } from "@valibot/to-json-schema";
import type { GenericSchema } from "valibot";
import { NAME_RULE } from "../../core/names.ts";

/** A request body from a valibot schema; `required: false` for one the call may go without. */
export const body = (s: GenericSchema, required = true) => ({
  required,
  content: {
    "application/json": { schema: toJsonSchema(s, { errorMode: "ignore", typeMode: "input" }) },
  },
});

/** A problem+json answer. */
export const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

/** A JSON answer of the component schema `schema`. */
export const ok = (description: string, schema: string) => ({
  description,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${schema}` } } },
});

/** A PEM answer. */
export const pem = (description: string) => ({
  description,
  content: { "application/x-pem-file": { schema: { type: "string" } } },
});

/** A path parameter holding a group or device name. */
export const name = (param: string) => ({
  name: param,
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[a-z0-9]+(-[a-z0-9]+)*$", maxLength: 63 },
  description: NAME_RULE,
});

/** A query parameter. */
export const query = (param: string, description: string, schema: object) => ({
  name: param,
  in: "query",
  required: false,
  description,
  schema,
});

/** `?limit` and `?cursor` of a paged listing. */
export const paging = (what: string) => [
  query("limit", `${what} per page, 1-1000`, {
    type: "integer",
    minimum: 1,
    maximum: 1000,
    default: 100,
  }),
  query("cursor", "The nextCursor of the previous page", { type: "string" }),
];

/** Admin operations carry the tenant's admin token. */
export const admin = [{ adminToken: [] }];
/** Public operations need no credential (provisioning proves itself in its body). */
export const open: never[] = [];

/** The errors every admin operation may answer. */
export const errors = {
  400: problem("Invalid input; errors[] names each field"),
  401: problem("Missing or wrong admin token"),
  404: problem("No such group or device"),
};
