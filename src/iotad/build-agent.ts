/** Wires an {@link Agent} from settings and a runtime: the store, the service client, the service clock. */

import { Agent } from "./agent.ts";
import { IdentityStore } from "./identity-store.ts";
import type { Logger } from "./logger.ts";
import type { Runtime } from "./runtime.ts";
import { ServerClock } from "./server-clock.ts";
import { ServiceClient } from "./service-client.ts";
import type { AgentSettings } from "./config.ts";

/** An agent and the parts the daemon also needs. */
export interface BuiltAgent {
  agent: Agent;
  store: IdentityStore;
  serverClock: ServerClock;
}

/** Builds the agent for `settings`. */
export function buildAgent(settings: AgentSettings, runtime: Runtime, log: Logger): BuiltAgent {
  const localNow = () => runtime.clock.now();
  const serverClock = new ServerClock(localNow);
  const { tenant, group, device } = settings;
  const owner = { ...(tenant === undefined ? {} : { tenant }), group, device };
  const store = new IdentityStore(runtime.disk, settings.dataDir, owner);
  const service = new ServiceClient(
    settings.server,
    runtime.transport(settings.serverCa),
    serverClock,
    localNow,
  );
  const agent = new Agent({
    settings,
    store,
    service,
    serverClock,
    clock: runtime.clock,
    random: runtime.random,
    log,
  });
  return { agent, store, serverClock };
}
