/** Test support: Debian's Mosquitto in the foreground, its log kept so a test can wait for lines. */

import { chownSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mosquittoAcl, mosquittoConfig } from "../../src/iota-server/mqtt/mosquitto-config.ts";
import { freePort } from "./free-port.ts";
export { freePort };

/** A tool the test needs; CI installs it (apt: mosquitto, mosquitto-clients, openssl). */
export function tool(name: string, ...extra: string[]): string {
  const found = Bun.which(name, { PATH: [process.env.PATH ?? "", ...extra].join(":") });
  if (!found)
    throw new Error(
      `${name} is not installed; install Debian's mosquitto, mosquitto-clients and openssl packages to run this test`,
    );
  return found;
}

/** Runs a command to completion; throws with its stderr when it fails. */
export function runOk(cmd: string[]): string {
  const result = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0)
    throw new Error(`${cmd.join(" ")} failed (${result.exitCode}): ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/**
 * Writes the ACL and the config IoTA's docs give for a Mosquitto on 127.0.0.1:`port`, over `dir`'s ca.pem,
 * crl.pem, broker.pem and broker.key (the key handed to user mosquitto, who reads it, when run as root);
 * returns the config's path.
 */
export function writeMosquittoSetup(dir: string, port: number): string {
  if (process.getuid?.() === 0) {
    const uid = Number(runOk(["id", "-u", "mosquitto"]).trim());
    const gid = Number(runOk(["id", "-g", "mosquitto"]).trim());
    chownSync(join(dir, "broker.key"), uid, gid);
  }
  writeFileSync(join(dir, "acl"), mosquittoAcl(), { mode: 0o644 });
  const config = mosquittoConfig({
    port,
    bindAddress: "127.0.0.1",
    caFile: join(dir, "ca.pem"),
    crlFile: join(dir, "crl.pem"),
    certFile: join(dir, "broker.pem"),
    keyFile: join(dir, "broker.key"),
    aclFile: join(dir, "acl"),
    logToStderr: true,
  });
  const path = join(dir, "mosquitto.conf");
  writeFileSync(path, config, { mode: 0o644 });
  return path;
}

/** A running Mosquitto. */
export class MosquittoProcess {
  log = "";
  private ended = false;
  private readonly proc;
  private waiters: (() => void)[] = [];

  constructor(config: string) {
    this.proc = Bun.spawn([tool("mosquitto", "/usr/sbin"), "-c", config], {
      stdout: "ignore",
      stderr: "pipe",
    });
    void this.pump(this.proc.stderr.getReader());
  }

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      this.log += decoder.decode(value, { stream: true });
      for (const wake of this.waiters.splice(0)) wake();
    }
    this.ended = true;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Waits until the log after `from` characters matches `pattern`; fails if Mosquitto exits first. */
  async waitFor(pattern: RegExp, from = 0): Promise<void> {
    while (!pattern.test(this.log.slice(from))) {
      if (this.ended) throw new Error(`mosquitto exited (${await this.proc.exited}):\n${this.log}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** SIGHUP: Mosquitto reloads its configuration, certificates and CRL. Resolves once it says so. */
  async reload(): Promise<void> {
    const from = this.log.length;
    this.proc.kill("SIGHUP");
    await this.waitFor(/Reloading config/, from);
  }

  async stop(): Promise<void> {
    this.proc.kill("SIGTERM");
    await this.proc.exited;
  }
}
