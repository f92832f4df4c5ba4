import { describe, expect, test } from "bun:test";
import { ApiClient } from "./client.ts";
import { batches, createInBatches } from "./bulk.ts";
import type { CliError } from "./exit-codes.ts";

const problem = (status: number, detail: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: "about:blank", status, title: "x", detail }), {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });

async function failure(client: ApiClient): Promise<CliError> {
  try {
    await client.listGroups();
  } catch (error) {
    return error as CliError;
  }
  throw new Error("the call succeeded");
}

describe("ApiClient", () => {
  test.each([
    [400, 2],
    [401, 5],
    [403, 5],
    [404, 3],
    [409, 4],
    [429, 1],
    [500, 1],
  ])("HTTP %p maps to exit %p with the server's detail", async (status, code) => {
    const client = new ApiClient("http://s", "t", (async () =>
      problem(status, `detail ${status}`)) as unknown as typeof fetch);
    const error = await failure(client);
    expect(error.exitCode).toBe(code as never);
    expect(error.message).toContain(`detail ${status}`);
  });

  test("a network failure is exit 6 naming the server", async () => {
    const client = new ApiClient("http://s:1", "t", (async () => {
      throw Object.assign(new Error("Unable to connect"), { code: "ConnectionRefused" });
    }) as unknown as typeof fetch);
    const error = await failure(client);
    expect(error.exitCode).toBe(6);
    expect(error.message).toContain("http://s:1");
  });

  test.each([
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
    ["SELF_SIGNED_CERT_IN_CHAIN"],
    ["CERT_HAS_EXPIRED"],
    ["ERR_TLS_CERT_ALTNAME_INVALID"],
  ])("a certificate that does not verify (%p) is exit 7, not 'unreachable'", async (code) => {
    const fails = (async () => {
      throw Object.assign(new Error("unable to verify the first certificate"), { code });
    }) as unknown as typeof fetch;
    const pinned = await failure(new ApiClient("https://s", "t", fails, "PEM"));
    expect(pinned.exitCode).toBe(7);
    expect(pinned.message).toContain("cannot verify the identity of https://s");
    expect(pinned.message).toContain("pinned CA");
    const roots = await failure(new ApiClient("https://s", "t", fails));
    expect(roots.message).toContain("--fingerprint");
  });

  test("every request verifies TLS, with the pinned CA alone when there is one, and follows no redirect", async () => {
    const inits: BunFetchRequestInit[] = [];
    const fake = (async (_url: string, init: BunFetchRequestInit) => {
      inits.push(init);
      return new Response(null, {
        status: 302,
        headers: { location: "https://elsewhere/v1/groups" },
      });
    }) as unknown as typeof fetch;
    const error = await failure(new ApiClient("https://s", "t", fake, "PEM"));
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain("redirect (302) to https://elsewhere/v1/groups");
    expect(inits[0]).toMatchObject({
      redirect: "manual",
      tls: { rejectUnauthorized: true, ca: "PEM" },
    });
  });

  test("a non-IoTA error page still gives the status; admin calls carry the token, public calls do not", async () => {
    const seen: (string | null)[] = [];
    const fake = (async (_url: string, init: RequestInit) => {
      seen.push(new Headers(init.headers).get("authorization"));
      return new Response("<html>oops</html>", {
        status: 500,
        statusText: "Internal Server Error",
      });
    }) as unknown as typeof fetch;
    const client = new ApiClient("http://s", "secret-token", fake);
    expect((await failure(client)).message).toContain("HTTP 500");
    await client.ca().catch(() => undefined);
    expect(seen).toEqual(["Bearer secret-token", null]);
  });
});

/** A client over `answers` (one per attempt, an Error is thrown as fetch throws) on a clock that sleeps at once. */
function resending(answers: (Response | Error)[]) {
  const sent: { method: string; key: string | null }[] = [];
  const notes: string[] = [];
  const waits: number[] = [];
  let clock = 0;
  const fake = (async (_url: string, init: RequestInit) => {
    sent.push({
      method: String(init.method),
      key: new Headers(init.headers).get("idempotency-key"),
    });
    const next = answers.shift();
    if (next === undefined) throw new Error("no more answers");
    if (next instanceof Error) throw next;
    return next;
  }) as unknown as typeof fetch;
  const client = new ApiClient("http://s", "t", fake, undefined, {
    notify: (m) => notes.push(m),
    sleep: async (ms) => {
      waits.push(ms);
      clock += ms;
    },
    now: () => clock,
  });
  return { client, sent, notes, waits };
}

const reset = () => Object.assign(new Error("socket closed"), { code: "ECONNRESET" });
const created = () =>
  new Response(JSON.stringify({ name: "d1" }), {
    status: 201,
    headers: { "content-type": "application/json" },
  });

describe("sending again after a transient failure", () => {
  test("a device creation lost to a reset goes again with the same Idempotency-Key, and says so", async () => {
    const { client, sent, notes, waits } = resending([
      reset(),
      problem(503, "db down", { "retry-after": "5" }),
      created(),
    ]);
    expect(await client.createDevice("g", "d1")).toEqual({ name: "d1" } as never);
    expect(sent.map((s) => s.method)).toEqual(["POST", "POST", "POST"]);
    const key = sent[0]?.key;
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent.map((s) => s.key)).toEqual([key, key, key] as never);
    expect(waits).toEqual([1000, 5000]);
    expect(notes[0]).toContain(
      "POST /v1/groups/g/devices: the connection was closed before an answer came; sending it again in 1 s (attempt 2)",
    );
    expect(notes[1]).toContain("unavailable for now (503); sending it again in 5 s (attempt 3)");
  });

  test("two creations carry two keys", async () => {
    const { client, sent } = resending([created(), created()]);
    await client.createDevice("g", "d1");
    await client.createDevice("g", "d2");
    expect(sent[0]?.key).not.toBe(sent[1]?.key as never);
  });

  test("reads, bulk creation and provisioning go again; other writes do not", async () => {
    const ok = () => new Response("{}", { headers: { "content-type": "application/json" } });
    for (const call of [
      (c: ApiClient) => c.listGroups(),
      (c: ApiClient) => c.createDevices("g", ["a"]),
      (c: ApiClient) => c.provision({ group: "g", device: "d", secret: "s", csr: "c" } as never),
    ]) {
      const { client, sent } = resending([reset(), ok()]);
      await call(client);
      expect(sent.length).toBe(2);
    }
    const writes = [
      (c: ApiClient) => c.createGroup({ name: "g" }),
      (c: ApiClient) => c.changeGroup("g", { enrollment: "registered" }),
      (c: ApiClient) => c.deleteGroup("g", false),
      (c: ApiClient) => c.rotateSecret("g"),
      (c: ApiClient) => c.revokeDevice("g", "d"),
      (c: ApiClient) => c.resetDevice("g", "d"),
      (c: ApiClient) => c.deleteDevice("g", "d"),
    ];
    for (const call of writes) {
      for (const [first, exit, words] of [
        [problem(503, "db down"), 1, "db down"],
        [reset(), 6, "the connection was closed before an answer came"],
      ] as const) {
        const { client, sent, notes } = resending([first, ok()]);
        const error = await call(client).then(
          () => undefined,
          (e: CliError) => e,
        );
        expect(error?.exitCode).toBe(exit as never);
        expect(error?.message).toContain(words);
        expect(sent.length).toBe(1);
        expect(notes).toEqual([]);
      }
    }
  });

  test("a refused connection, a 500 or a 409 is not sent again", async () => {
    const refused = Object.assign(new Error("Unable to connect"), { code: "ECONNREFUSED" });
    for (const [answer, exit] of [
      [refused, 6],
      [problem(500, "boom"), 1],
      [problem(409, "exists"), 4],
    ] as const) {
      const { client, sent } = resending([answer, created()]);
      const error = await client.createDevice("g", "d1").then(
        () => undefined,
        (e: CliError) => e,
      );
      expect(error?.exitCode).toBe(exit as never);
      expect(sent.length).toBe(1);
    }
  });

  test("an answer cut off after its headers is lost just the same: sent again", async () => {
    const cut = new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"na'));
          controller.error(Object.assign(new Error("socket closed"), { code: "ECONNRESET" }));
        },
      }),
      { status: 201, headers: { "content-type": "application/json" } },
    );
    const { client, sent, notes } = resending([cut, created()]);
    expect(await client.createDevice("g", "d1")).toEqual({ name: "d1" } as never);
    expect(sent.length).toBe(2);
    expect(sent[1]?.key).toBe(sent[0]?.key as never);
    expect(notes[0]).toContain("the connection was closed before an answer came");
  });

  test.each([
    ["0", 1000],
    ["7", 7000],
    ["120", 30000],
    ["Wed, 21 Oct 2026 07:28:00 GMT", 1000],
  ])("Retry-After %p waits %p ms", async (header, ms) => {
    const { client, waits } = resending([
      problem(503, "down", { "retry-after": header }),
      created(),
    ]);
    await client.createDevice("g", "d1");
    expect(waits).toEqual([ms]);
  });

  test.each([502, 504])("a %p from a gateway is sent again", async (status) => {
    const { client, sent } = resending([problem(status, "gateway"), created()]);
    await client.createDevice("g", "d1");
    expect(sent.length).toBe(2);
  });

  test("a certificate that does not verify is never sent again, even on a request safe to send twice", async () => {
    const bad = Object.assign(new Error("unable to verify"), {
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
    const { client, sent } = resending([bad, created()]);
    const error = await client.createDevice("g", "d1").then(
      () => undefined,
      (e: CliError) => e,
    );
    expect(error?.exitCode).toBe(7 as never);
    expect(sent.length).toBe(1);
  });

  test("an http:// server that closes unanswered but speaks TLS: exit 6 naming the https:// URL, sent once", async () => {
    for (const tls of [true, false]) {
      let sent = 0;
      const probed: string[] = [];
      const fake = (async () => {
        sent++;
        throw reset();
      }) as unknown as typeof fetch;
      const client = new ApiClient("http://s:8440", "t", fake, undefined, {
        sleep: async () => {},
        now: () => sent * 1000,
        speaksTls: async (server) => {
          probed.push(server);
          return tls;
        },
      });
      const error = await failure(client);
      expect(error.exitCode).toBe(6 as never);
      expect(probed).toEqual(["http://s:8440"]);
      if (tls) {
        expect(error.message).toContain("it speaks TLS there: use https://s:8440");
        expect(sent).toBe(1);
      } else {
        expect(error.message).not.toContain("https://");
        expect(sent).toBeGreaterThan(1);
      }
    }
  });

  test("connections closed until the minute is over: exit 6 in words, with the attempts", async () => {
    const { client, sent } = resending(Array.from({ length: 20 }, reset));
    const error = await failure(client);
    expect(error.exitCode).toBe(6 as never);
    expect(error.message).toBe(
      "cannot reach the IoTA server at http://s: the connection was closed before an answer came (10 attempts over 55 s)",
    );
    expect(sent.length).toBe(10);
  });

  test("a stop asked for during the wait sends nothing more; a bulk run ends as a stop between batches", async () => {
    let stop = false;
    const answers = [problem(503, "down"), problem(503, "down"), created()];
    const sent: string[] = [];
    const fake = (async (_url: string, init: RequestInit) => {
      sent.push(String(init.method));
      return answers.shift() as Response;
    }) as unknown as typeof fetch;
    const client = new ApiClient("http://s", "t", fake, undefined, {
      sleep: async () => {
        stop = true;
      },
      now: () => 0,
    });
    const summary = await createInBatches(
      client,
      "g",
      ["a", "b"],
      10,
      () => {},
      () => stop,
    );
    expect(sent).toEqual(["POST"]);
    expect(summary).toMatchObject({ total: 2, done: 0, created: 0 });
  });

  test("it gives up once the next wait would pass a minute, with the last failure", async () => {
    const answers = Array.from({ length: 20 }, () => problem(503, "still down"));
    const { client, sent, waits } = resending(answers);
    const error = await failure(client);
    expect(error.message).toBe("still down (10 attempts over 55 s)");
    expect(error.exitCode).toBe(1 as never);
    // 1 + 2 + 4 + 8 x 6 = 55 s; one more 8 s wait would end past 60 s.
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000, 8000, 8000, 8000, 8000]);
    expect(sent.length).toBe(10);
  });
});

describe("bulk creation", () => {
  test("batches respect the count and the byte budget", () => {
    const names = Array.from({ length: 25 }, (_, i) => `n${i}`);
    expect(batches(names, 10).map((b) => b.length)).toEqual([10, 10, 5]);
    expect(
      batches(["a".repeat(600), "b".repeat(600), "c"], 100, 1000).map((b) => b.length),
    ).toEqual([1, 2]);
  });

  test("results are added up over batches; a failing later batch says how far it got", async () => {
    let calls = 0;
    const fake = (async (_url: string, init: RequestInit) => {
      calls += 1;
      if (calls === 5) return problem(500, "disk full");
      const { names } = JSON.parse(String(init.body)) as { names: string[] };
      return Response.json({ created: names.slice(1), existing: names.slice(0, 1), invalid: [] });
    }) as unknown as typeof fetch;
    const client = new ApiClient("http://s", "t", fake);
    const names = Array.from({ length: 20 }, (_, i) => `n${i}`);
    const progress: number[] = [];
    const summary = await createInBatches(client, "g", names, 10, (done) => progress.push(done));
    expect(summary).toEqual({ total: 20, done: 20, created: 18, existing: 2, invalid: [] });
    expect(progress).toEqual([0, 10, 20]);
    const error = await createInBatches(client, "g", [...names, "n20"], 10, () => {}).catch(
      (e: CliError) => e,
    );
    expect((error as CliError).message).toContain("stopped after 20 of 21 names");
  });

  test("a stop asked for during a batch sends no further batch; the summary says how far it got", async () => {
    let calls = 0;
    let stop = false;
    const fake = (async (_url: string, init: RequestInit) => {
      calls += 1;
      if (calls === 2) stop = true;
      const { names } = JSON.parse(String(init.body)) as { names: string[] };
      return Response.json({ created: names, existing: [], invalid: [] });
    }) as unknown as typeof fetch;
    const client = new ApiClient("http://s", "t", fake);
    const names = Array.from({ length: 50 }, (_, i) => `n${i}`);
    const summary = await createInBatches(
      client,
      "g",
      names,
      10,
      () => {},
      () => stop,
    );
    expect(calls).toBe(2);
    expect(summary).toEqual({ total: 50, done: 20, created: 20, existing: 0, invalid: [] });
  });
});
