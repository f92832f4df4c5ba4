import { expect, test } from "bun:test";
import { deviceToken, newProvisioningSecret, secretCheck } from "./token.ts";

test("device token matches the design's test vector", () => {
  expect(
    deviceToken("Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5", "room2-lights", "test-device-123"),
  ).toBe("KFyRFYOfNkEYgOdfHhKYTM7QtyBBB7I2DEMsmecRxdE");
});

test("device tokens differ per device and per secret", () => {
  const secret = newProvisioningSecret();
  expect(deviceToken(secret, "g", "a")).not.toBe(deviceToken(secret, "g", "b"));
  expect(deviceToken(secret, "g", "a")).not.toBe(deviceToken(newProvisioningSecret(), "g", "a"));
});

test("provisioning secrets carry 256 bits", () => {
  const secret = newProvisioningSecret();
  expect(Buffer.from(secret, "base64url").length).toBe(32);
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
});

test("a secret check is per secret and group, and is not a device token", () => {
  const secret = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5";
  const check = secretCheck(secret, "room2-lights");
  expect(check).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(secretCheck(secret, "room2-lights")).toBe(check);
  expect(secretCheck(secret, "room3")).not.toBe(check);
  expect(secretCheck(newProvisioningSecret(), "room2-lights")).not.toBe(check);
  expect(check).not.toBe(deviceToken(secret, "room2-lights", "secret-check"));
});
