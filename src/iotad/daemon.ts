/** `iotad run`: the daemon. Status endpoint, agent, MQTT readiness and the afterRenew hook, until SIGTERM. */

import { VERSION } from "../core/version.ts";
import { runAfterRenew } from "./after-renew.ts";
import { say } from "./agent-messages.ts";
import { buildAgent } from "./build-agent.ts";
import { namingWarning } from "./device-naming.ts";
import { pinHeldName } from "./device-pin.ts";
import { EXIT } from "./exit-codes.ts";
import type { Listener } from "./http-listener.ts";
import type { Logger } from "./logger.ts";
import { MqttAnnouncer, type MqttStatus } from "./mqtt-announcer.ts";
import type { Runtime } from "./runtime.ts";
import type { AgentSettings } from "./config.ts";
import { statusApp } from "./status-app.ts";

/** Runs until SIGTERM or SIGINT; resolves with the exit status. */
export async function runDaemon(
  settings: AgentSettings,
  runtime: Runtime,
  log: Logger,
): Promise<number> {
  const { agent, store, serverClock } = buildAgent(settings, runtime, log);
  const announcer = settings.mqtt
    ? new MqttAnnouncer({
        url: settings.mqtt.url,
        ...(settings.mqtt.ca !== undefined ? { ca: settings.mqtt.ca } : {}),
        topicPrefix: settings.mqtt.topicPrefix,
        group: settings.group,
        device: settings.device,
        version: VERSION,
        connect: runtime.mqttConnect,
        clock: runtime.clock,
        random: runtime.random,
        log,
        renewing: () => agent.snapshot().state === "renewing",
        // Hint: a broker refusing the certificate (revoked, reset, deleted) is news to ask the service about now.
        onVerdict: ({ verdict, serial }) =>
          verdict === "refused" ? agent.brokerRefused(serial) : agent.brokerAccepted(serial),
      })
    : undefined;
  const mqttStatus = (): MqttStatus =>
    announcer?.status() ?? { state: "disabled", lastError: null };

  const app = statusApp(
    () => ({ ...agent.snapshot(), mqtt: mqttStatus() }),
    () => serverClock.now(),
  );
  let listener: Listener;
  try {
    listener = await runtime.listen(
      app.fetch,
      settings.statusListen.host,
      settings.statusListen.port,
    );
  } catch (error) {
    log.error(
      `cannot serve the status endpoint on ${settings.statusListen.host}:${settings.statusListen.port}: ${(error as Error).message}`,
    );
    return EXIT.local;
  }
  log.info(
    `iotad ${VERSION} for ${settings.group}/${settings.device}; status endpoint on ${listener.url}`,
  );

  const { naming } = settings;
  if (naming !== undefined) {
    log.info(say.namedBy(settings.device, naming.from, naming.pinned !== null));
    const warning = namingWarning(naming);
    if (warning !== undefined) log.warn(warning);
  }

  let lastSerial: string | undefined;
  agent.onIdentity((identity, cause) => {
    if (cause !== "renewed") pinHeldName(settings, runtime.disk, log);
    announcer?.use(identity);
    // Hint: provisioning again (after a reset) replaces a certificate in use, as a renewal does.
    const replaced = cause === "renewed" || (cause === "provisioned" && lastSerial !== undefined);
    lastSerial = identity.serial;
    if (replaced && settings.afterRenew !== undefined) {
      void runAfterRenew(settings.afterRenew, store.paths, identity.serial, runtime.env, log);
    }
  });

  agent.onWithdraw((serial) => void announcer?.withdraw(serial));

  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down`);
    void (async () => {
      await agent.stop();
      await announcer?.stop();
      await listener.close();
      finish(EXIT.ok);
    })();
  };
  runtime.onSignal("SIGTERM", () => shutdown("SIGTERM"));
  runtime.onSignal("SIGINT", () => shutdown("SIGINT"));
  runtime.onSignal("SIGHUP", () => {
    log.info("SIGHUP: renewing now");
    agent.renewNow();
  });

  await agent.start();
  return await finished;
}
