import { afterEach, expect, test } from "bun:test";
import { Api, ApiError, problemText } from "./api.ts";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** Api calls answered by `body` with `status` (and the media type of a problem). */
function answering(status: number, body: string): Api {
  globalThis.fetch = Object.assign(
    async () =>
      new Response(body, { status, headers: { "content-type": "application/problem+json" } }),
    { preconnect: realFetch.preconnect },
  );
  return new Api("iota_token");
}

async function failure(api: Api): Promise<ApiError> {
  const error = await api.revoke("room2-lights", "lamp-1").catch((e: unknown) => e);
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

test("a problem's detail is what the operator reads", async () => {
  const error = await failure(
    answering(409, JSON.stringify({ status: 409, title: "Conflict", detail: "lamp-1 is gone" })),
  );
  expect([error.status, error.message]).toEqual([409, "lamp-1 is gone"]);
});

test("a problem without a detail names its title and the call; one with neither names the call", async () => {
  const path = "/v1/groups/room2-lights/devices/lamp-1/revoke";
  let error = await failure(
    answering(500, JSON.stringify({ status: 500, title: "Internal Server Error" })),
  );
  expect(error.message).toBe(`Internal Server Error (POST ${path} answered 500).`);
  error = await failure(answering(503, JSON.stringify({ status: 503 })));
  expect(error.message).toBe(`POST ${path} answered 503.`);
  error = await failure(answering(502, "null"));
  expect(error.message).toBe(`POST ${path} answered 502.`);
  expect(problemText({ detail: "", title: 42 }, "GET /v1/status answered 500")).toBe(
    "GET /v1/status answered 500.",
  );
});
