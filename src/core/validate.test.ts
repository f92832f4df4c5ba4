import { expect, test } from "bun:test";
import * as v from "valibot";
import { fieldErrors, parseOrThrow } from "./validate.ts";
import { IotaError } from "./errors.ts";
import { CreateGroupBody, ProvisionBody } from "./wire.ts";

const Schema = v.object({
  name: v.pipe(v.string("must be a string"), v.minLength(2, "is too short")),
  tags: v.array(v.string("must be a string")),
});

test("returns the parsed output when the input is valid", () => {
  expect(parseOrThrow(CreateGroupBody, { name: "room2-lights", validity: "1h" })).toEqual({
    name: "room2-lights",
    validity: 3600,
  });
});

test("throws an invalid-input IotaError naming every bad field by its dotted path", () => {
  let error: unknown;
  try {
    parseOrThrow(Schema, { name: "x", tags: ["ok", 3] }, "config file");
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(IotaError);
  const iota = error as IotaError;
  expect(iota.kind).toBe("invalid");
  expect(iota.errors).toEqual([
    { field: "name", message: "is too short" },
    { field: "tags.1", message: "must be a string" },
  ]);
  expect(iota.message).toBe("Invalid config file: name: is too short; tags.1: must be a string");
});

test("a missing field says it is required, a non-object body says what it got", () => {
  const missing = v.safeParse(Schema, { tags: [] });
  expect(missing.success).toBe(false);
  expect(fieldErrors(missing.issues ?? [])).toEqual([{ field: "name", message: "is required" }]);
  const notObject = v.safeParse(Schema, null);
  expect(fieldErrors(notObject.issues ?? [])).toEqual([
    { field: "(body)", message: "must be a JSON object, got null" },
  ]);
});

test("a name breaking the rule names the rule in the message", () => {
  const result = v.safeParse(CreateGroupBody, { name: "Room2" });
  expect(fieldErrors(result.issues ?? [])[0]?.message).toContain("uppercase");
});

test("cross-field checks land on the body", () => {
  const result = v.safeParse(ProvisionBody, {
    group: "g",
    device: "d",
    csr: "-----BEGIN CERTIFICATE REQUEST-----",
  });
  expect(fieldErrors(result.issues ?? [])).toEqual([
    { field: "(body)", message: "give exactly one of token and secret" },
  ]);
});
