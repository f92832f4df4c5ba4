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
      return new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" });
    }) as unknown as typeof fetch;
    const client = new ApiClient("http://s", "secret-token", fake);
    expect((await failure(client)).message).toContain("HTTP 502");
    await client.ca().catch(() => undefined);
    expect(seen).toEqual(["Bearer secret-token", null]);
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
