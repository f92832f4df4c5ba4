/** SIGKILL of iota-server during bulk creation: every device the client was told about survives, and a re-run completes the rest. */

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countFromEnv, createPrng, Histogram } from "../fuzz/prng.ts";
import { startServerProcess } from "../helpers/server-process.ts";

const TRIALS = countFromEnv("FAULT_TRIALS", 3);
const BATCHES = 8;
const BATCH = 2_000;
const tmp = mkdtempSync(join(tmpdir(), "iota-kill-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test(`${TRIALS} trials: SIGKILL at a random instant of a bulk creation loses no acknowledged device`, async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
  console.log(`server kill: FUZZ_SEED=${seed}, FAULT_TRIALS=${TRIALS}`);
  const rng = createPrng(seed);
  const outcomes = new Histogram();
  for (let trial = 0; trial < TRIALS; trial++) {
    const data = join(tmp, `t${trial}`);
    let server = await startServerProcess({ tls: true, data: data });
    const group = "kill-test";
    expect((await server.adminCall("POST", "/v1/groups", { name: group })).status).toBe(201);
    const names = Array.from({ length: BATCHES * BATCH }, (_, i) => `dev-${trial}-${i}`);
    const acknowledged: string[] = [];
    // The client sends the batches one after another; the kill comes at a random instant within them.
    const killAt = rng.int(0, 300);
    const client = (async () => {
      for (let b = 0; b < BATCHES; b++) {
        try {
          const res = await server.adminCall("POST", `/v1/groups/${group}/devices`, {
            names: names.slice(b * BATCH, (b + 1) * BATCH),
          });
          if (res.status !== 200) return;
          acknowledged.push(...(res.json as { created: string[] }).created);
        } catch {
          return;
        }
      }
    })();
    await Bun.sleep(killAt);
    await server.kill();
    await client;
    server = await startServerProcess({ tls: true, data: data });
    try {
      const listed = new Set<string>();
      let cursor: string | undefined;
      do {
        const page = (
          await server.adminCall(
            "GET",
            `/v1/groups/${group}/devices?limit=1000${cursor ? `&cursor=${cursor}` : ""}`,
          )
        ).json as { items: { name: string }[]; nextCursor?: string };
        for (const d of page.items) listed.add(d.name);
        cursor = page.nextCursor;
      } while (cursor);
      const lost = acknowledged.filter((n) => !listed.has(n));
      expect(lost).toEqual([]);
      // Re-running the whole bulk request creates exactly the rest.
      const rerun = (await server.adminCall("POST", `/v1/groups/${group}/devices`, { names }))
        .json as { created: string[]; existing: string[] };
      expect(rerun.created.length + rerun.existing.length).toBe(names.length);
      expect(rerun.existing.length).toBe(listed.size);
      const group2 = (await server.adminCall("GET", `/v1/groups/${group}`)).json as {
        deviceCount: number;
      };
      expect(group2.deviceCount).toBe(names.length);
      const batchesDone = acknowledged.length / BATCH;
      outcomes.add(
        batchesDone === BATCHES
          ? "killed after the last batch"
          : `killed after ${batchesDone} acknowledged batches (${listed.size - acknowledged.length} more committed unacknowledged)`,
      );
    } finally {
      await server.stop();
      rmSync(data, { recursive: true, force: true });
    }
  }
  console.log(`server kill: ${TRIALS} trials:\n${outcomes.format()}`);
}, 900_000);
