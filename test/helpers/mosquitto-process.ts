/** Test support: Debian's Mosquitto in the foreground, its log kept so a test can wait for lines. */

import { chmodSync, chownSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mosquittoAcl, mosquittoConfig } from "../../src/iota-server/mqtt/mosquitto-config.ts";
import { freePort } from "./free-port.ts";
import type { ServerProcess } from "./server-process.ts";
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
 * A self-signed P-256 certificate for `subject` with the extension `extension` (by default a broker's for
 * localhost, as an operator's PKI gives it): `dir/name.key` and `dir/name.pem`, readable by user mosquitto;
 * returns the certificate's path.
 */
export function selfSigned(
  dir: string,
  name: string,
  subject = "/CN=localhost",
  extension = "subjectAltName=DNS:localhost,IP:127.0.0.1",
): string {
  const cert = join(dir, `${name}.pem`);
  runOk(
    [tool("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
      .concat(["-nodes", "-days", "2", "-subj", subject, "-addext", extension])
      .concat(["-keyout", join(dir, `${name}.key`), "-out", cert]),
  );
  chmodSync(cert, 0o644);
  return cert;
}

/** GET /v1/crl into `dir/crl.pem` the way docs/mosquitto.md's refresh job does: a temp file renamed over the old one. */
export async function refreshCrl(server: ServerProcess, dir: string): Promise<void> {
  const res = await server.fetch("/v1/crl");
  if (res.status !== 200) throw new Error(`GET /v1/crl: ${res.status} ${await res.text()}`);
  writeFileSync(join(dir, "crl.pem.tmp"), await res.text(), { mode: 0o644 });
  renameSync(join(dir, "crl.pem.tmp"), join(dir, "crl.pem"));
}

/**
 * Lays out a Mosquitto for `server`'s devices in `dir` (which user mosquitto can enter): the tenant CA and CRL, a
 * broker certificate for localhost, the ACL and the config on a free port; the config's path and the port.
 */
export async function prepareMosquitto(
  server: ServerProcess,
  dir: string,
): Promise<{ config: string; port: number }> {
  writeFileSync(join(dir, "ca.pem"), await (await server.fetch("/v1/ca")).text(), { mode: 0o644 });
  await refreshCrl(server, dir);
  selfSigned(dir, "broker");
  const port = await freePort();
  return { config: writeMosquittoSetup(dir, port), port };
}

/** Starts Mosquitto on `config`; resolves once it says it runs. */
export async function startMosquitto(config: string): Promise<MosquittoProcess> {
  const broker = new MosquittoProcess(config);
  await broker.waitFor(/mosquitto version \S+ running/);
  return broker;
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
