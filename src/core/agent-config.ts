/**
 * The iotad configuration file: written by `iotactl gen config`, read by `iotad`. One schema for both,
 * so a file one program writes is always one the other accepts.
 */

import * as v from "valibot";
import { DeviceFieldSchema } from "./device-source.ts";
import { isPlainHttpBeyondLoopback, PLAIN_HTTP_RISK } from "./plain-http.ts";
import { NameSchema } from "./wire.ts";

/** Where iotad looks for its configuration when `--config` is not given. */
export const DEFAULT_AGENT_CONFIG_PATH = "/etc/iotad/config.json";
/** Where iotad keeps its key and certificate by default. */
export const DEFAULT_AGENT_DATA_DIR = "/var/lib/iotad";
/** The local status endpoint's default address (loopback only). */
export const DEFAULT_STATUS_LISTEN = "127.0.0.1:7780";
/** The default MQTT topic prefix: readiness goes to `<prefix>/<group>/<device>/status`. */
export const DEFAULT_TOPIC_PREFIX = "iota";

const HostPort = v.pipe(
  v.string("must be a string HOST:PORT"),
  v.regex(
    /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/,
    "must be HOST:PORT, e.g. 127.0.0.1:7780",
  ),
);
const Url = (schemes: string[]) =>
  v.pipe(
    v.string("must be a URL string"),
    v.url("must be a URL"),
    v.check(
      (u) => schemes.some((s) => u.startsWith(`${s}://`)),
      `must start with ${schemes.map((s) => `${s}://`).join(" or ")}`,
    ),
  );
const Pem = v.pipe(
  v.string("must be a PEM string"),
  v.includes("-----BEGIN CERTIFICATE-----", "must be a PEM certificate"),
);
const Fraction = (max: number) =>
  v.pipe(
    v.number("must be a number"),
    v.minValue(0, "must be at least 0"),
    v.maxValue(max, `must be at most ${max}`),
  );
const NonEmpty = v.pipe(v.string("must be a string"), v.minLength(1, "must not be empty"));

/** The least part of the lifetime before any renewal (`renewal.fraction - renewal.jitter`). */
const MIN_RENEWAL_GAP = 0.1;

/** The iotad configuration schema. Exactly one credential (token, secret, tokenFile, secretFile) is required. */
export const AgentConfigSchema = v.pipe(
  v.strictObject(
    {
      /** Base URL of iota-server as the device reaches it. */
      server: Url(["http", "https"]),
      /** PEM of the CA to trust for an https server: the only trust then, the system roots are not used. */
      serverCa: v.optional(Pem),
      /** Allows an `http://` server that is not on loopback (tokens then cross the network in clear text). */
      insecureHttp: v.optional(v.boolean("must be true or false"), false),
      tenant: v.optional(NameSchema),
      group: NameSchema,
      /** The device's name, or `{ from, prefix }`: named at every boot from its hardware (golden images). */
      device: DeviceFieldSchema,
      /** The device token (HMAC of the group secret); what `iotactl gen config` writes. */
      token: v.optional(NonEmpty),
      /** The group's provisioning secret (the mass-provisioning guide's flow); prefer `token`. */
      secret: v.optional(NonEmpty),
      /** A file holding the device token. */
      tokenFile: v.optional(NonEmpty),
      /** A file holding the group secret. */
      secretFile: v.optional(NonEmpty),
      /** Where the key, certificate and CA are kept (created 0700). */
      dataDir: v.optional(NonEmpty, DEFAULT_AGENT_DATA_DIR),
      /** The local status endpoint's HOST:PORT. */
      statusListen: v.optional(HostPort, DEFAULT_STATUS_LISTEN),
      /** The refresh window (fractions of the certificate lifetime). */
      renewal: v.optional(
        v.strictObject({
          fraction: v.optional(
            v.pipe(Fraction(0.95), v.minValue(0.1, "must be at least 0.1")),
            2 / 3,
          ),
          jitter: v.optional(Fraction(0.5), 1 / 20),
          spreadFirst: v.optional(v.boolean("must be true or false"), true),
        }),
        {},
      ),
      /** MQTT readiness announcements; omitted = no MQTT. */
      mqtt: v.optional(
        v.strictObject({
          url: Url(["mqtts", "mqtt", "wss", "ws"]),
          /** PEM of the broker's server CA, embedded. */
          ca: v.optional(Pem),
          /** Or a file holding it. */
          caFile: v.optional(NonEmpty),
          topicPrefix: v.optional(
            v.pipe(v.string(), v.regex(/^[A-Za-z0-9_/-]+$/, "must be letters, digits, _, - and /")),
            DEFAULT_TOPIC_PREFIX,
          ),
        }),
      ),
      /** A shell command run after each renewal (like `step ca renew --exec`). */
      afterRenew: v.optional(NonEmpty),
    },
    "is not a known field (check the spelling)",
  ),
  v.check(
    (c) =>
      [c.token, c.secret, c.tokenFile, c.secretFile].filter((x) => x !== undefined).length === 1,
    "give exactly one of token, secret, tokenFile, secretFile",
  ),
  v.forward(
    v.check(
      // Hint: an earlier renewal would fall before the certificate's issue (notBefore is set back up to 1/11 of
      // its span), be due at once, and so would the next one's: a renewal loop.
      (c) => c.renewal.jitter <= c.renewal.fraction - MIN_RENEWAL_GAP + 1e-9,
      `must be at most renewal.fraction - ${MIN_RENEWAL_GAP}, so that every renewal comes at least a tenth of the certificate's lifetime after its start`,
    ),
    ["renewal", "jitter"],
  ),
  v.forward(
    v.check(
      (c) => c.insecureHttp || !isPlainHttpBeyondLoopback(c.server),
      `http:// is allowed only to a loopback server (localhost, 127.0.0.0/8, [::1]): ${PLAIN_HTTP_RISK}; use https://, or set "insecureHttp": true to accept that risk`,
    ),
    ["server"],
  ),
);

/** A validated iotad configuration with defaults applied. */
export type AgentConfig = v.InferOutput<typeof AgentConfigSchema>;
/** What a configuration file may contain (defaults not yet applied). */
export type AgentConfigInput = v.InferInput<typeof AgentConfigSchema>;
