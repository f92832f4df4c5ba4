/** The local status endpoint: `/healthz`, `/status` (JSON) and `/metrics` (Prometheus text). No secret is ever shown. */

import { Hono } from "hono";
import type { AgentSnapshot } from "./agent-status.ts";
import type { MqttStatus } from "./mqtt-announcer.ts";

/** What `/status` answers: the agent snapshot plus the MQTT connection. */
export interface StatusBody extends AgentSnapshot {
  mqtt: MqttStatus;
}

/** Builds the status app around a function giving the current status. */
export function statusApp(status: () => StatusBody, now: () => number): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => {
    const s = status();
    return s.certificateValid
      ? c.text("ok\n", 200)
      : c.text(`no valid certificate (${s.state})\n`, 503);
  });
  app.get("/status", (c) => c.json(status()));
  app.get("/metrics", (c) =>
    c.body(metricsText(status(), now()), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    }),
  );
  app.notFound((c) => c.text("not found; try /healthz, /status or /metrics\n", 404));
  return app;
}

/** Prometheus exposition text for a status. */
export function metricsText(s: StatusBody, now: number): string {
  const expiry = s.notAfter === null ? Number.NaN : (Date.parse(s.notAfter) - now) / 1000;
  const label = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  const lines = [
    "# HELP iotad_certificate_expiry_seconds Seconds until the held certificate expires (negative once expired, NaN when none is held).",
    "# TYPE iotad_certificate_expiry_seconds gauge",
    `iotad_certificate_expiry_seconds ${Number.isNaN(expiry) ? "NaN" : expiry.toFixed(0)}`,
    "# HELP iotad_renewals_total Successful certificate renewals since the agent started.",
    "# TYPE iotad_renewals_total counter",
    `iotad_renewals_total ${s.renewals}`,
    "# HELP iotad_renewal_failures_total Failed renewal attempts since the agent started.",
    "# TYPE iotad_renewal_failures_total counter",
    `iotad_renewal_failures_total ${s.renewalFailures}`,
    "# HELP iotad_mqtt_connected 1 while the readiness MQTT connection is up.",
    "# TYPE iotad_mqtt_connected gauge",
    `iotad_mqtt_connected ${s.mqtt.state === "connected" ? 1 : 0}`,
    "# HELP iotad_clock_skew_seconds Service clock minus local clock, as last measured.",
    "# TYPE iotad_clock_skew_seconds gauge",
    `iotad_clock_skew_seconds ${s.clockSkewMs === null ? "NaN" : (s.clockSkewMs / 1000).toFixed(3)}`,
    "# HELP iotad_device_name_mismatch 1 while the device's name source gives another name than the one pinned at provisioning.",
    "# TYPE iotad_device_name_mismatch gauge",
    `iotad_device_name_mismatch ${s.deviceSource?.mismatch ? 1 : 0}`,
    "# HELP iotad_info Agent version and identity.",
    "# TYPE iotad_info gauge",
    `iotad_info{version="${label(s.version)}",group="${label(s.group)}",device="${label(s.device)}",state="${s.state}"} 1`,
  ];
  return `${lines.join("\n")}\n`;
}
