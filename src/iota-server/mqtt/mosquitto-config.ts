/** Mosquitto configuration for an IoTA tenant: mutual TLS against the tenant CA, its CRL, and per-device topic ACLs. */

import { DEFAULT_TOPIC_PREFIX } from "../../core/agent-config.ts";
import { MONITOR_USER } from "./monitor-identity.ts";

/** Where the files of a Mosquitto listener for IoTA devices live, and where it listens. */
export interface MosquittoSettings {
  /** TCP port of the TLS listener (8883 is MQTT over TLS). */
  port: number;
  /** Address to bind; omitted = every interface. */
  bindAddress?: string;
  /** The tenant CA (`GET /v1/ca`): only certificates it signed may connect. */
  caFile: string;
  /** The tenant CRL (`GET /v1/crl`), refreshed by a timer; see docs/mosquitto.md. */
  crlFile: string;
  /** The broker's own server certificate (from your PKI; devices trust its CA via `iotactl gen config --mqtt-ca`). */
  certFile: string;
  keyFile: string;
  /** The ACL file written from {@link mosquittoAcl}. */
  aclFile: string;
  /** Write Mosquitto's log to stderr instead of its default destination (for foreground runs and tests). */
  logToStderr?: boolean;
}

/**
 * A `mosquitto.conf` for IoTA devices. Every client must present a certificate of the tenant CA that is not on
 * the CRL; its CN (the device name) becomes its MQTT user name, which the ACL uses. Anonymous clients are refused.
 */
export function mosquittoConfig(settings: MosquittoSettings): string {
  const lines = [
    "# IoTA devices: mutual TLS against the tenant CA, revocation by the tenant CRL",
    "per_listener_settings false",
    "allow_anonymous false",
    `acl_file ${settings.aclFile}`,
    ...(settings.logToStderr
      ? [
          "log_dest stderr",
          "log_type error",
          "log_type warning",
          "log_type notice",
          "log_type information",
        ]
      : []),
    "",
    settings.bindAddress
      ? `listener ${settings.port} ${settings.bindAddress}`
      : `listener ${settings.port}`,
    "protocol mqtt",
    `cafile ${settings.caFile}`,
    `certfile ${settings.certFile}`,
    `keyfile ${settings.keyFile}`,
    "tls_version tlsv1.2",
    "require_certificate true",
    "use_identity_as_username true",
    `crlfile ${settings.crlFile}`,
    "",
  ];
  return lines.join("\n");
}

/**
 * The ACL for IoTA devices under `prefix`. Mosquitto only knows the certificate's CN (the device name), not its
 * group, so `+` stands for the group: a device writes under `<prefix>/<any group>/<its name>/#`, and every device
 * may read every device's `status`. Name devices uniquely across groups if that difference matters; the embedded
 * broker, which reads the full identity URI, confines each device to its own group.
 *
 * `iota-server --mqtt-watch` connects as {@link MONITOR_USER} (the CN of the certificate it issues itself): it
 * reads the status topics and writes nothing. Hint: the device pattern applies to every user name, the monitor's
 * too, so its section denies the subtree that pattern would give it (a `deny` is checked before any grant).
 */
export function mosquittoAcl(prefix: string = DEFAULT_TOPIC_PREFIX): string {
  return [
    "# IoTA devices (user name = certificate CN = device name)",
    `pattern readwrite ${prefix}/+/%u/#`,
    `pattern read ${prefix}/+/+/status`,
    "",
    `# iota-server --mqtt-watch (user name = ${MONITOR_USER}): reads every status, writes nothing`,
    `user ${MONITOR_USER}`,
    `topic read ${prefix}/+/+/status`,
    `topic deny ${prefix}/+/${MONITOR_USER}/#`,
    "",
  ].join("\n");
}
