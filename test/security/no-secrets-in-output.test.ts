/** No secret, token or key appears in a log line, status answer or error message of the real programs. */

import { afterAll, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCsrPem, exportPrivateKeyPem, generateDeviceKey } from "../../src/core/csr.ts";
import { deviceToken } from "../../src/core/token.ts";
import { BUN, ROOT, startServerProcess } from "../helpers/server-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-secrets-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Every captured text must be free of every secret. */
function leaks(texts: Record<string, string>, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(texts)) {
    for (const [what, value] of Object.entries(secrets))
      if (value.length >= 8 && text.includes(value)) found.push(`${what} in ${where}`);
    if (text.includes("PRIVATE KEY")) found.push(`a private key in ${where}`);
  }
  return found;
}

test("iota-server, iotactl and iotad: logs, status answers and error messages hold no secret, token or key", async () => {
  const server = await startServerProcess({ tls: true, data: join(tmp, "server") });
  const texts: Record<string, string> = {};
  try {
    const admin = server.token();
    const created = (await server.adminCall("POST", "/v1/groups", { name: "g", validity: "1h" }))
      .json as { provisioningSecret: string };
    const secret = created.provisioningSecret;
    await server.adminCall("POST", "/v1/groups/g/devices", { names: ["a", "b", "agent"] });
    const keys = await generateDeviceKey();
    const guesses = [
      `${secret.slice(0, -2)}zz`,
      "a-wrong-secret-guess",
      deviceToken(secret, "g", "b"),
    ];
    const post = async (body: unknown) =>
      await (
        await server.fetch("/v1/provision", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        })
      ).text();
    texts["provision answers"] = [
      await post({
        group: "g",
        device: "a",
        csr: await createCsrPem(keys, "a"),
        secret: guesses[0],
      }),
      await post({
        group: "g",
        device: "a",
        csr: await createCsrPem(keys, "a"),
        token: guesses[2],
      }),
      await post({
        group: "g",
        device: "a",
        csr: await createCsrPem(keys, "a"),
        secret: guesses[1],
        extra: await exportPrivateKeyPem(keys.privateKey),
      }),
      await post({ group: "g", device: "a", csr: await createCsrPem(keys, "a"), secret }),
    ].join("\n");
    texts["admin answers"] = (
      await Promise.all(
        [`${admin}x`, admin.slice(0, -1)].map(
          async (t) =>
            await (
              await server.fetch("/v1/groups", { headers: { authorization: `Bearer ${t}` } })
            ).text(),
        ),
      )
    ).join("\n");
    const rotated = (
      (await server.adminCall("POST", "/v1/groups/g/secret")).json as {
        provisioningSecret: string;
      }
    ).provisioningSecret;

    // iotactl as a process: configure, provision, gen config, and a failing provision; its stderr is for people.
    writeFileSync(join(tmp, "token.txt"), `${admin}\n`, { mode: 0o600 });
    writeFileSync(join(tmp, "secret.txt"), `${rotated}\n`, { mode: 0o600 });
    writeFileSync(join(tmp, "wrong.txt"), `${guesses[1]}\n`, { mode: 0o600 });
    const env = { PATH: process.env.PATH ?? "", HOME: tmp, XDG_CONFIG_HOME: join(tmp, "xdg") };
    const ctl = (args: string[]) =>
      spawnSync(BUN, [join(ROOT, "src/iotactl/main.ts"), ...args], {
        cwd: tmp,
        env,
        encoding: "utf8",
      });
    const runs = [
      ctl([
        "configure",
        "--server",
        server.url,
        "--fingerprint",
        server.fingerprint,
        "--token-file",
        "token.txt",
      ]),
      ctl(["configure"]),
      ctl(["provision", "-g", "g", "b", "--secret-file", "secret.txt", "--out", "b"]),
      ctl(["provision", "-g", "g", "agent", "--secret-file", "wrong.txt", "--out", "x"]),
      ctl(["gen", "config", "-g", "g", "agent", "--secret-file", "secret.txt", "--out", "configs"]),
      ctl(["list", "devices", "-g", "g"]),
    ];
    texts["iotactl stderr"] = runs.map((r) => r.stderr).join("\n");
    texts["iotactl configure output"] = `${runs[1]?.stdout}`;
    expect(runs.map((r) => r.status)).toEqual([0, 0, 0, 5, 0, 0]);

    // iotad as a process with the generated config: provision, status and metrics, a forced renewal, then SIGTERM.
    const config = join(tmp, "configs", "agent.json");
    const cfg = JSON.parse(await Bun.file(config).text()) as Record<string, unknown>;
    writeFileSync(
      config,
      JSON.stringify({ ...cfg, dataDir: join(tmp, "agent-data"), statusListen: "127.0.0.1:0" }),
      { mode: 0o600 },
    );
    const agent = spawn(BUN, [join(ROOT, "src/iotad/main.ts"), "run", "--config", config], {
      cwd: tmp,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let agentLog = "";
    agent.stdout?.on("data", (d) => (agentLog += d));
    agent.stderr?.on("data", (d) => (agentLog += d));
    const exited = new Promise((done) => agent.once("exit", done));
    let status = "";
    for (let i = 0; i < 300 && !/"state":"ready"/.test(status); i++) {
      await Bun.sleep(100);
      const url = /status endpoint on (http:\/\/\S+)/.exec(agentLog)?.[1];
      if (url) status = await (await fetch(`${url.replace(/\/$/, "")}/status`)).text();
    }
    expect(status).toContain('"state":"ready"');
    const base = (/status endpoint on (http:\/\/\S+)/.exec(agentLog)?.[1] ?? "").replace(/\/$/, "");
    agent.kill("SIGHUP");
    for (let i = 0; i < 300 && !/"renewals":1/.test(status); i++) {
      await Bun.sleep(100);
      status = await (await fetch(`${base}/status`)).text();
    }
    texts["iotad /status"] = status;
    texts["iotad /metrics"] = await (await fetch(`${base}/metrics`)).text();
    agent.kill("SIGTERM");
    await exited;
    texts["iotad log"] = agentLog;
    expect(status).toContain('"renewals":1');

    await server.stop();
    texts["iota-server output"] = server.output();
    const found = leaks(texts, {
      "the admin token": admin,
      "the group secret": secret,
      "the rotated group secret": rotated,
      "a wrong secret": guesses[0] ?? "",
      "a wrong secret guess": guesses[1] ?? "",
      "a device token": guesses[2] ?? "",
      "the agent's device token": deviceToken(rotated, "g", "agent"),
    });
    expect(found).toEqual([]);
    // The checks looked at real output: the server logged requests, iotactl and iotad said what they did.
    expect(texts["iota-server output"]).toContain("POST /v1/provision 401");
    expect(texts["iotactl stderr"]).toContain("Provisioned g/b");
    expect(texts["iotad log"]).toContain("agent");
  } finally {
    await server.kill();
  }
}, 120_000);
