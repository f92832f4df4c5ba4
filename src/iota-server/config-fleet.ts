/** The fleet options of iota-server: the external broker it watches for readiness, and the metrics listener. */

import { resolve } from "node:path";
import { usageError } from "./exit.ts";
import { DEFAULT_METRICS_GROUPS } from "./metrics/fleet-metrics.ts";

/** An external MQTT broker whose retained readiness messages the service reads. */
export interface MqttWatch {
  /** `mqtts://HOST:PORT` as given (port 8883 when left out). */
  url: string;
  host: string;
  port: number;
  /** The CA that certifies the broker (PEM file); the service's server CA when absent. */
  caFile?: string;
}

/** The fleet options as {@link parseFleetOptions} returns them. */
export interface FleetOptions {
  mqttWatch?: MqttWatch;
  /** Serves `GET /metrics` without a token here (plain HTTP, for a private scrape network). */
  metricsListen?: { host: string; port: number };
  /** Groups with their own series in the metrics (default {@link DEFAULT_METRICS_GROUPS}). */
  metricsGroups?: number;
}

/** The usage lines of the fleet options (inside iota-server --help). */
export const FLEET_USAGE = `  --mqtt-watch URL        read device readiness from an external broker (IOTA_MQTT_WATCH;
                          mqtts://HOST[:PORT], port 8883 by default), as a monitor identity the
                          service issues itself (see docs/mosquitto.md for the broker's ACL)
  --mqtt-watch-ca FILE    the CA (PEM) that certifies that broker (IOTA_MQTT_WATCH_CA; default
                          the service's server CA, DIR/server-ca.pem)
  --metrics-listen HOST:PORT  serve GET /metrics without a token on a separate plain-HTTP listener,
                          for a private scrape network (IOTA_METRICS_LISTEN; off unless given);
                          the API serves it too, with the admin token
  --metrics-groups N      groups with their own series in /metrics; the others are summed under
                          group="_other" (IOTA_METRICS_GROUPS; default ${DEFAULT_METRICS_GROUPS})
`;

/** Parses `mqtts://HOST[:PORT]`; a usage error naming the flag otherwise. */
export function parseMqttWatch(text: string, caFile: string | undefined): MqttWatch {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(
      `--mqtt-watch must be a URL such as mqtts://broker.example:8883, got ${JSON.stringify(text)}`,
    );
  }
  if (url.protocol !== "mqtts:")
    throw usageError(
      `--mqtt-watch must start with mqtts:// (the monitor authenticates with a client certificate over TLS), got ${JSON.stringify(text)}`,
    );
  if (url.username || url.password || (url.pathname !== "" && url.pathname !== "/") || url.search)
    throw usageError(`--mqtt-watch takes only mqtts://HOST[:PORT], got ${JSON.stringify(text)}`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!host) throw usageError(`--mqtt-watch names no host: ${JSON.stringify(text)}`);
  const port = url.port === "" ? 8883 : Number(url.port);
  const watch: MqttWatch = {
    url: `mqtts://${url.host}${url.port === "" ? ":8883" : ""}`,
    host,
    port,
  };
  if (caFile !== undefined) watch.caFile = resolve(caFile);
  return watch;
}

/** The fleet options from the flag values (each already read from its flag or environment variable). */
export function parseFleetOptions(
  values: {
    mqttWatch: string | undefined;
    mqttWatchCa: string | undefined;
    metricsListen: string | undefined;
    metricsGroups: string | undefined;
  },
  parseHostPort: (text: string, what: string) => { host: string; port: number },
): FleetOptions {
  const options: FleetOptions = {};
  if (values.mqttWatch) options.mqttWatch = parseMqttWatch(values.mqttWatch, values.mqttWatchCa);
  else if (values.mqttWatchCa)
    throw usageError(
      "--mqtt-watch-ca names the CA of the --mqtt-watch broker; give --mqtt-watch too",
    );
  if (values.metricsListen)
    options.metricsListen = parseHostPort(values.metricsListen, "--metrics-listen");
  if (values.metricsGroups !== undefined) {
    const n = Number(values.metricsGroups);
    if (!/^\d+$/.test(values.metricsGroups.trim()) || n < 1 || n > 10_000)
      throw usageError(
        `--metrics-groups must be a whole number from 1 to 10000, got ${JSON.stringify(values.metricsGroups)}`,
      );
    options.metricsGroups = n;
  }
  return options;
}
