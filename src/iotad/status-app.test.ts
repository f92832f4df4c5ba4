import { expect, test } from "bun:test";
import { statusApp, type StatusBody } from "./status-app.ts";

const base: StatusBody = {
  state: "ready",
  group: "room2-lights",
  device: "test-device-123",
  serial: "ab".repeat(16),
  notBefore: "2030-01-01T00:00:00.000Z",
  notAfter: "2030-01-31T00:00:00.000Z",
  nextRenewal: "2030-01-20T00:00:00.000Z",
  lastRenewal: null,
  lastError: null,
  lastErrorAt: null,
  clockSkewMs: 1200,
  renewals: 3,
  renewalFailures: 1,
  certificateValid: true,
  version: "0.1.0",
  mqtt: { state: "connected", topic: "iota/room2-lights/test-device-123/status", lastError: null },
};
const now = Date.parse("2030-01-30T00:00:00.000Z");

test("/healthz is 200 with a valid certificate and 503 without", async () => {
  expect(
    (
      await statusApp(
        () => base,
        () => now,
      ).request("/healthz")
    ).status,
  ).toBe(200);
  const res = await statusApp(
    () => ({ ...base, state: "expired", certificateValid: false }),
    () => now,
  ).request("/healthz");
  expect(res.status).toBe(503);
  expect(await res.text()).toContain("expired");
});

test("/status is the JSON status", async () => {
  const body = (await (
    await statusApp(
      () => base,
      () => now,
    ).request("/status")
  ).json()) as StatusBody;
  expect(body).toEqual(base);
});

test("/metrics speaks Prometheus text", async () => {
  const res = await statusApp(
    () => base,
    () => now,
  ).request("/metrics");
  expect(res.headers.get("content-type")).toContain("text/plain");
  const text = await res.text();
  expect(text).toContain("iotad_certificate_expiry_seconds 86400\n");
  expect(text).toContain("iotad_renewals_total 3\n");
  expect(text).toContain("iotad_renewal_failures_total 1\n");
  expect(text).toContain("iotad_mqtt_connected 1\n");
  expect(text).toContain("# TYPE iotad_renewals_total counter");
  const none = await (
    await statusApp(
      () => ({ ...base, notAfter: null, mqtt: { state: "disabled", lastError: null } }),
      () => now,
    ).request("/metrics")
  ).text();
  expect(none).toContain("iotad_certificate_expiry_seconds NaN");
  expect(none).toContain("iotad_mqtt_connected 0");
});
