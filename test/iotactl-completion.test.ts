/**
 * `iotactl completion bash|zsh|fish`: the scripts parse in their shells, complete commands and flags
 * from iotactl's own command table, and offer group names asked from a server.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runIotactl } from "./helpers/iotactl-in-process.ts";
import { COMMANDS } from "../src/iotactl/commands/index.ts";
import { recordingServer } from "./helpers/throwaway-tls.ts";
import { tempDir } from "./iotactl-support.ts";

const ROOT = resolve(import.meta.dir, "..");
const TOKEN = "completion-admin-token-0123456789";
let dir: string;
let api: ReturnType<typeof recordingServer>;
const scripts: Record<string, string> = {};

async function iotactl(argv: string[]) {
  return await runIotactl(argv, { dir });
}

/**
 * Runs a shell (asynchronously: the API server answers from this process); a missing shell fails with
 * one line naming the package.
 */
async function shell(
  name: "bash" | "zsh" | "fish",
  args: string[],
  env: Record<string, string> = {},
) {
  let proc: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;
  try {
    proc = Bun.spawn([name, ...args], {
      cwd: dir,
      env: { PATH: `${join(dir, "bin")}:${process.env.PATH}`, HOME: dir, ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
  } catch (error) {
    throw new Error(`${name} is required for this test (apt-get install ${name}): ${error}`);
  }
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = tempDir("iotactl-completion-");
  for (const name of ["bash", "zsh", "fish"]) {
    const r = await iotactl(["completion", name]);
    expect(r.code).toBe(0);
    scripts[name] = join(dir, `iotactl.${name}`);
    writeFileSync(scripts[name], r.stdout);
  }
  // The server the scripts ask for group names, and an `iotactl` on PATH that reaches it.
  api = recordingServer((request) =>
    request.headers.get("authorization") === `Bearer ${TOKEN}`
      ? Response.json({
          items: [
            { name: "room2-lights", deviceCount: 0, validity: 60, createdAt: "x" },
            { name: "room3-heating", deviceCount: 0, validity: 60, createdAt: "x" },
          ],
        })
      : new Response(null, { status: 401 }),
  );
  const bin = join(dir, "bin");
  Bun.spawnSync(["mkdir", "-p", bin]);
  writeFileSync(
    join(bin, "iotactl"),
    `#!/bin/sh\nexec ${join(ROOT, "node_modules/.bin/bun")} ${join(ROOT, "src/iotactl/main.ts")} "$@"\n`,
  );
  chmodSync(join(bin, "iotactl"), 0o755);
});
afterAll(() => {
  api.stop();
  rmSync(dir, { recursive: true, force: true });
});

const serverEnv = () => ({ IOTA_SERVER: api.url, IOTA_TOKEN: TOKEN, XDG_CONFIG_HOME: dir });

/** What bash's completion function offers for the words typed (the last one being completed). */
async function bashComplete(words: string[], env: Record<string, string> = {}) {
  const array = words.map((w) => `'${w}'`).join(" ");
  const r = await shell(
    "bash",
    [
      "-c",
      `source '${scripts.bash}'; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _iotactl; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    env,
  );
  expect(r.stderr).toBe("");
  return r.stdout.split("\n").filter(Boolean);
}

async function fishComplete(line: string, env: Record<string, string> = {}) {
  const r = await shell("fish", ["-c", `source '${scripts.fish}'; complete -C '${line}'`], env);
  expect(r.stderr).toBe("");
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t")[0] ?? "");
}

describe("iotactl completion", () => {
  test("each script parses in its shell (bash -n, zsh -n, fish -n)", async () => {
    for (const name of ["bash", "zsh", "fish"] as const) {
      const r = await shell(name, ["-n", scripts[name] ?? ""]);
      expect({ name, code: r.code, stderr: r.stderr }).toEqual({ name, code: 0, stderr: "" });
    }
  });

  test("an unknown or missing shell is a usage error", async () => {
    expect((await iotactl(["completion"])).code).toBe(2);
    const tcsh = await iotactl(["completion", "tcsh"]);
    expect(tcsh.code).toBe(2);
    expect(tcsh.stderr).toContain("bash, zsh and fish");
  });

  test("bash: iotactl add g → group; the first words, flags and the shells", async () => {
    expect(await bashComplete(["iotactl", "add", "g"])).toEqual(["group"]);
    expect(await bashComplete(["iotactl", "con"])).toEqual(["configure"]);
    expect(await bashComplete(["iotactl", "gen", "config", "--server-"])).toEqual([
      "--server-url",
      "--server-ca",
    ]);
    expect(await bashComplete(["iotactl", "completion", ""])).toEqual(["bash", "zsh", "fish"]);
    expect(await bashComplete(["iotactl", "--ver"])).toEqual(["--version"]);
  });

  test("bash: every command and every flag of the command table is offered (the script cannot go stale)", async () => {
    for (const command of COMMANDS) {
      const [head = "", second] = command.words;
      if (second !== undefined)
        expect({ head, offered: await bashComplete(["iotactl", head, ""]) }).toMatchObject({
          head,
          offered: expect.arrayContaining([second]),
        });
      else expect(await bashComplete(["iotactl", head.slice(0, -1)])).toContain(head);
      const offered = await bashComplete(["iotactl", ...command.words, "-"]);
      for (const flag of command.flags)
        expect({ command: command.words.join(" "), offered }).toMatchObject({
          offered: expect.arrayContaining([`--${flag.name}`]),
        });
    }
  });

  test("bash: -g offers the group names the server lists; the values of flags are skipped", async () => {
    expect(await bashComplete(["iotactl", "add", "device", "-g", "ro"], serverEnv())).toEqual([
      "room2-lights",
      "room3-heating",
    ]);
    expect(
      await bashComplete(["iotactl", "list", "devices", "--group", "room3"], serverEnv()),
    ).toEqual(["room3-heating"]);
    expect(await bashComplete(["iotactl", "add", "-g", "room2-lights", "de"])).toEqual(["device"]);
    expect(api.seen.map((s) => s.path)).toContain("/v1/groups");
  });

  test("fish: iotactl add g → group; -g asks the server; flags of a command", async () => {
    expect(await fishComplete("iotactl add g")).toEqual(["group"]);
    expect(await fishComplete("iotactl list devices -g room", serverEnv())).toEqual([
      "room2-lights",
      "room3-heating",
    ]);
    expect((await fishComplete("iotactl gen config --sec")).sort()).toEqual([
      "--secret",
      "--secret-file",
    ]);
  });

  test("zsh: the completion function offers group for iotactl add g, and the flags of a command", async () => {
    const run = async (words: string[]) =>
      await shell("zsh", [
        "-c",
        // Hint: outside a completion widget the completion builtins are stand-ins that print what they are given.
        `compdef() { :; }; _describe() { print -l -- \${(P)4}; }; compadd() { print -l -- "$@"; }; _files() { print _files "$@"; }
source '${scripts.zsh}'; words=(${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${words.length}; _iotactl`,
      ]);
    const add = await run(["iotactl", "add", "g"]);
    expect(add.stderr).toBe("");
    expect(add.stdout).toContain("group:create a group");
    expect((await run(["iotactl", "list", "groups", "-"])).stdout).toContain(
      "--quiet:print only the group names",
    );
    expect((await run(["iotactl", "gen", "config", "--out", ""])).stdout).toBe("_files -/\n");
  });
});
