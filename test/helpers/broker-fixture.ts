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
  /** Connects an mqtt.js client with `creds` (or none), resolving once CONNACK accepted it. */
  connect(creds: DeviceCredentials | undefined, extra?: IClientOptions): Promise<MqttClient>;
  /** Ends every client and the broker. */
  close(): Promise<void>;
}

/** Starts a service and its broker; live sessions are re-checked every 50 ms so revocation tests finish quickly. */
export async function startBrokerFixture(): Promise<BrokerFixture> {
  const svc = await createTestService();
  const { ca: serverCa } = await CertificateAuthority.createRoot("IoTA server CA", Date.now());
  const broker = await startEmbeddedBroker({
    listen: { host: "127.0.0.1", port: 0 },
    ctx: svc.ctx,
    tenant: DEFAULT_TENANT,
    serverCa,
    log: svc.log,
    recheckMs: 50,
  });
  const secrets = new Map<string, string>();
  const clients: MqttClient[] = [];
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
    connect(creds, extra = {}) {
      const options: IClientOptions = {
        ca: broker.caPem,
        reconnectPeriod: 0,
        connectTimeout: 20_000,
        ...extra,
      };
      if (creds) Object.assign(options, { cert: creds.certPem, key: creds.keyPem });
      const client = mqtt.connect(broker.url, options);
      clients.push(client);
      return new Promise((resolve, reject) => {
        client.once("connect", () => resolve(client));
        client.once("error", reject);
        client.once("close", () => reject(new Error("the connection closed before CONNACK")));
      });
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await broker.stop();
      await svc.store.close();
    },
  };
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
