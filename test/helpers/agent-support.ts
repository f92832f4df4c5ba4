/**
 * Test support for the device agent: a fake clock, an in-process transport to a test service, polling, and
 * what the MQTT announcer's tests share (a TCP "broker" on loopback, an identity to announce).
 */

import type { Server } from "node:net";
import type { Clock } from "../../src/iotad/clock.ts";
import type { HttpAnswer, HttpTransport } from "../../src/iotad/http-transport.ts";
import type { Identity } from "../../src/iotad/identity.ts";

/** An identity for the announcer, which reads only its serial and validity (no key or certificate). */
export const ANNOUNCED_IDENTITY = {
  serial: "0a1b2c",
  keyPem: "",
  certPem: "",
  notBefore: 0,
  notAfter: Date.now() + 3600_000,
} as unknown as Identity;

/** Starts `server` (a test's TCP "broker") on a loopback port; the mqtt:// URL to reach it. */
export async function listenAsBroker(server: Server): Promise<string> {
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `mqtt://127.0.0.1:${address.port}`;
}

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** A clock whose time moves only when the test says so; timers fire in order as it advances. */
export class FakeClock implements Clock {
  private timers: FakeTimer[] = [];
  private nextId = 1;

  constructor(private nowMs: number) {}

  now(): number {
    return this.nowMs;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.nowMs + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Pending timers' due times (fake time), earliest first. */
  pending(): number[] {
    return this.timers.map((t) => t.at).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing every timer that comes due, in order. */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      const next = [...this.timers].sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next || next.at > target) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.nowMs = Math.max(this.nowMs, next.at);
      next.fn();
    }
    this.nowMs = target;
  }

  /** Moves the wall clock without firing timers: what a suspended device sees on resume. */
  jump(ms: number): void {
    this.nowMs += ms;
  }

  /** Fires the earliest timer, moving time to it (no-op when none). Returns false when there was none. */
  fireNext(): boolean {
    const next = this.pending()[0];
    if (next === undefined) return false;
    this.advance(Math.max(0, next - this.nowMs));
    return true;
  }
}

/** A transport into an in-process hono app (`app.request`), optionally stamping a `Date` header from `serverNow`. */
export function appTransport(
  app: { request(url: string, init: RequestInit): Response | Promise<Response> },
  serverNow?: () => number,
): HttpTransport & { calls: string[]; down: boolean } {
  const transport = Object.assign(
    async (request: Parameters<HttpTransport>[0]): Promise<HttpAnswer> => {
      transport.calls.push(`${request.method} ${new URL(request.url).pathname}`);
      if (transport.down)
        throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
      const init: RequestInit = { method: request.method, headers: request.headers };
      if (request.body !== undefined) init.body = request.body;
      const response = await app.request(new URL(request.url).pathname, init);
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name] = value;
      });
      if (serverNow) headers.date = new Date(serverNow()).toUTCString();
      return { status: response.status, headers, body: await response.text() };
    },
    { calls: [] as string[], down: false },
  );
  return transport;
}

/** Waits (real time, polling) until `condition` holds; fails with `what` after a generous limit. */
export async function eventually(
  condition: () => boolean,
  what: string,
  limitMs = 20_000,
): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
