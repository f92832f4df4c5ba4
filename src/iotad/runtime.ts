/** Everything real the agent's commands use, built once by main.ts and replaced by fakes or temp folders in tests. */

import type { Clock } from "./clock.ts";
import type { HostPaths } from "./device-naming.ts";
import type { Disk } from "./disk.ts";
import type { HttpTransport } from "./http-transport.ts";
import type { Listener } from "./http-listener.ts";
import type { LockHost } from "../core/lock-host.ts";
import type { MqttConnect } from "./mqtt-announcer.ts";
import type { ReadText } from "./config.ts";

/** The signals the daemon reacts to. */
export type AgentSignal = "SIGTERM" | "SIGINT" | "SIGHUP";

/** The outside world of the agent. */
export interface Runtime {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Command results (for scripts). */
  stdout(text: string): void;
  /** Messages for people and the log. */
  stderr(text: string): void;
  clock: Clock;
  random: () => number;
  disk: Disk;
  /** What the data folder's lock needs: exclusive creation, and whether its holder's process lives. */
  locks: LockHost;
  readText: ReadText;
  /** Where the hardware information a device name may come from is mounted (`/sys`). */
  host: HostPaths;
  /** An HTTP client trusting only `ca` (PEM) for https when given, else the system roots. */
  transport(ca?: string): HttpTransport;
  mqttConnect: MqttConnect;
  listen(
    handler: (request: Request) => Response | Promise<Response>,
    host: string,
    port: number,
  ): Promise<Listener>;
  onSignal(signal: AgentSignal, handler: () => void): void;
}
