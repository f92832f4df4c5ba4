/** Test support for the embedded broker: a service with a running broker, provisioned devices and mqtt.js clients. */

import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import {
  createDevices,
  createGroup,
  createTestService,
  provisionDevice,
  type TestService,
} from "./test-service.ts";
import { exportPrivateKeyPem } from "../../src/core/csr.ts";
import { CertificateAuthority } from "../../src/iota-server/ca/authority.ts";
import { DEFAULT_TENANT } from "../../src/iota-server/domain/tenants.ts";
import {
  startEmbeddedBroker,
  type EmbeddedBroker,
  type EmbeddedBrokerOptions,
} from "../../src/iota-server/mqtt/embedded-broker.ts";

/** A device's TLS credentials as issued by the service. */
export interface DeviceCredentials {
  group: string;
  device: string;
  certPem: string;
  keyPem: string;
}

/** A test service with an embedded broker on a port the OS chose. */
export interface BrokerFixture {
  svc: TestService;
  broker: EmbeddedBroker;
  /** Creates (if needed) and provisions a device; returns its key and certificate. */
  device(group: string, device: string): Promise<DeviceCredentials>;
  /**
   * Connects an mqtt.js client with `creds` (or none), resolving once CONNACK accepted it. The client id is the
   * device's own (`<group>/<device>`, as iotad uses) unless `extra` names another.
   */
  connect(creds: DeviceCredentials | undefined, extra?: IClientOptions): Promise<MqttClient>;
  /** {@link connect}, also telling whether the CONNACK said a stored session was resumed. */
  connectSession(
    creds: DeviceCredentials | undefined,
    extra?: IClientOptions,
  ): Promise<{ client: MqttClient; sessionPresent: boolean }>;
  /** Ends every client and the broker. */
  close(): Promise<void>;
}

/** Starts a service and its broker; live sessions are re-checked every 50 ms so revocation tests finish quickly. */
export async function startBrokerFixture(
  limits: Pick<EmbeddedBrokerOptions, "maxPacketBytes" | "maxConnections" | "recheckMs"> = {},
): Promise<BrokerFixture> {
  const svc = await createTestService();
  const { ca: serverCa } = await CertificateAuthority.createRoot("IoTA server CA", Date.now());
  const broker = await startEmbeddedBroker({
    listen: { host: "127.0.0.1", port: 0 },
    ctx: svc.ctx,
    tenant: DEFAULT_TENANT,
    serverCa,
    log: svc.log,
    recheckMs: 50,
    ...limits,
  });
  const secrets = new Map<string, string>();
  const clients: MqttClient[] = [];
  const connectSession: BrokerFixture["connectSession"] = (creds, extra = {}) => {
    const options: IClientOptions = {
      ca: broker.caPem,
      reconnectPeriod: 0,
      connectTimeout: 20_000,
      ...(creds ? { clientId: `${creds.group}/${creds.device}` } : {}),
      ...extra,
    };
    if (creds) Object.assign(options, { cert: creds.certPem, key: creds.keyPem });
    const client = mqtt.connect(broker.url, options);
    clients.push(client);
    const seen: Received[] = [];
    received.set(client, seen);
    // Hint: recorded from the start, since a resumed session's queued messages may arrive with the CONNACK.
    client.on("message", (topic, payload, packet) =>
      seen.push({ topic, payload: payload.toString("utf8"), retain: packet.retain }),
    );
    return new Promise((resolve, reject) => {
      client.once("connect", (connack) =>
        resolve({ client, sessionPresent: connack.sessionPresent }),
      );
      client.once("error", reject);
      client.once("close", () => reject(new Error("the connection closed before CONNACK")));
    });
  };

  return {
    svc,
    broker,
    async device(group, device) {
      let secret = secrets.get(group);
      if (!secret) {
        secret = await createGroup(svc, group);
        secrets.set(group, secret);
      }
      await createDevices(svc, group, [device]);
      const { keys, issued } = await provisionDevice(svc, group, device, secret);
      return {
        group,
        device,
        certPem: issued.certificate,
        keyPem: await exportPrivateKeyPem(keys.privateKey),
      };
    },
    connectSession,
    async connect(creds, extra = {}) {
      return (await connectSession(creds, extra)).client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await broker.stop();
      await svc.store.close();
    },
  };
}

/** A message a client received. */
export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

const received = new WeakMap<MqttClient, Received[]>();

/** Every message `client` (connected by a fixture) received so far, in order. */
export function receivedBy(client: MqttClient): Received[] {
  return received.get(client) ?? [];
}

/** Resolves with the first message on `topic` that `client` receives from now on. */
export function nextMessage(
  client: MqttClient,
  topic: string,
): Promise<{ payload: string; retain: boolean }> {
  return new Promise((resolve) => {
    const onMessage = (t: string, payload: Buffer, packet: { retain: boolean }) => {
      if (t !== topic) return;
      client.off("message", onMessage);
      resolve({ payload: payload.toString("utf8"), retain: packet.retain });
    };
    client.on("message", onMessage);
  });
}

/** Resolves when `client`'s connection has closed. */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) =>
    client.connected ? client.once("close", () => resolve()) : resolve(),
  );
}
