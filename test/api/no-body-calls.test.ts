/**
 * The destructive calls that take no body (revoke, rotate a secret, delete a group or a device): nothing, an
 * empty body or `{}` is taken; any other body is refused as reset refuses a bad one, before anything changes.
 */

import { describe, expect, test } from "bun:test";
import { groupWithDevice, readProblem } from "../helpers/test-service.ts";

/** Each call, and how its success answers. */
const CALLS: [string, string, number][] = [
  ["POST", "/v1/groups/g/devices/d/revoke", 200],
  ["POST", "/v1/groups/g/secret", 200],
  ["DELETE", "/v1/groups/g", 204],
  ["DELETE", "/v1/groups/g/devices/d", 204],
];

/** What a refused body answers: status, and the field and message of its one error (none for a 415). */
const REFUSED: [string, string, Record<string, string>, number, string | undefined, string][] = [
  [
    "malformed JSON",
    "garbage",
    { "content-type": "application/json" },
    400,
    "(body)",
    "is not valid JSON",
  ],
  [
    "unclosed JSON",
    "{not json",
    { "content-type": "application/json" },
    400,
    "(body)",
    "is not valid JSON",
  ],
  [
    "reset's field",
    '{"forgetKey":true}',
    { "content-type": "application/json" },
    400,
    "forgetKey",
    "is not a known field (this call takes no body)",
  ],
  [
    "an array",
    "[]",
    { "content-type": "application/json" },
    400,
    "(body)",
    "must be a JSON object, got an array",
  ],
  ["text", "hello", { "content-type": "text/plain" }, 415, undefined, "must be JSON"],
];

describe.each(CALLS)("%s %s", (method, path, success) => {
  test.each(REFUSED)(
    "refuses %s before changing anything",
    async (_what, body, headers, status, field, message) => {
      const { svc, state } = await groupWithDevice();
      const before = await state();
      const res = await svc.app.request(path, {
        method,
        headers: { authorization: `Bearer ${svc.adminToken}`, ...headers },
        body,
      });
      expect(res.status).toBe(status);
      const problem = await readProblem(res);
      if (field === undefined) expect(problem.detail).toContain(message);
      else expect(problem.errors).toEqual([{ field, message }]);
      expect(await state()).toEqual(before);
    },
  );

  test.each([
    ["no body", undefined, {}],
    ["an empty body", "", { "content-type": "application/json" }],
    ["an empty body of another type", "", { "content-type": "text/plain" }],
    ["{}", "{}", { "content-type": "application/json" }],
    ["{} with spaces", " { } ", { "content-type": "application/json; charset=utf-8" }],
  ])("takes %s", async (_what, body, headers: Record<string, string>) => {
    const { svc } = await groupWithDevice();
    // Hint: a group with a device is deleted only by force; the device goes first so the group is empty.
    if (path === "/v1/groups/g") await svc.call("DELETE", "/v1/groups/g/devices/d");
    const init: RequestInit = {
      method,
      headers: { authorization: `Bearer ${svc.adminToken}`, ...headers },
    };
    if (body !== undefined) init.body = body;
    expect((await svc.app.request(path, init)).status).toBe(success);
  });
});
