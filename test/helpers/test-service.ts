/** Test support: a complete in-process service on in-memory SQLite with a real CA, and device-side helpers. */

import { Sealer, newMasterKey } from "../../src/iota-server/ca/sealer.ts";
import { openStore, type SqlStore } from "../../src/iota-server/store/sql-store.ts";
import { Tenants, DEFAULT_TENANT } from "../../src/iota-server/domain/tenants.ts";
import type { DomainContext } from "../../src/iota-server/domain/context.ts";
import { DeviceEvents } from "../../src/iota-server/domain/device-events.ts";
import {
  createHttp,
  DEFAULT_APP_OPTIONS,
  type AppOptions,
  type HttpHandlers,
} from "../../src/iota-server/http/app.ts";
import { memoryLogger } from "../../src/iota-server/log.ts";
import { createCsrPem, generateDeviceKey } from "../../src/core/csr.ts";
import type { IssuedCertificate } from "../../src/core/wire.ts";

/** A service under test with a controllable clock. */
export interface TestService {
  app: HttpHandlers["app"];
  /** The issuing routes as Bun.serve dispatches them (the app serves the same handlers). */
  routes: HttpHandlers["routes"];
  ctx: DomainContext;
  store: SqlStore;
  adminToken: string;
  log: ReturnType<typeof memoryLogger>;
  /** Moves the service's clock. */
  clock: { now: number; advance(ms: number): void };
  /** JSON request helper: `call("POST", "/v1/groups", body)` with the admin token. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
}

/** A domain context over `store`: a sealer over `masterKey`, the clock `now` and the log `log`. */
export function domainContext(
  store: SqlStore,
  masterKey: Uint8Array,
  now: () => number,
  log: ReturnType<typeof memoryLogger>,
): DomainContext {
  const sealer = new Sealer(masterKey);
  return { store, sealer, tenants: new Tenants(store, sealer), now, log };
}

/** Starts a fresh service in memory (`dbUrl` selects another database, e.g. PostgreSQL). */
export async function createTestService(
  options: Partial<AppOptions> = {},
  dbUrl = "sqlite::memory:",
): Promise<TestService> {
  const clock = {
    now: Date.now(),
    advance(ms: number) {
      this.now += ms;
    },
  };
  const store = await openStore(dbUrl);
  const log = memoryLogger();
  const ctx: DomainContext = {
    ...domainContext(store, newMasterKey(), () => clock.now, log),
    events: new DeviceEvents(),
  };
  const created = await ctx.tenants.create(DEFAULT_TENANT, clock.now);
  if (!created) throw new Error("the test database already has a default tenant");
  const { app, routes } = createHttp(ctx, log, { ...DEFAULT_APP_OPTIONS, ...options });
  const adminToken = created.adminToken;
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const init: RequestInit = {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...headers },
    };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] ??= "application/json";
    }
    return await app.request(path, init);
  };
  return { app, routes, ctx, store, adminToken, log, clock, call };
}

/** A device key pair and a CSR for `device`. */
export async function deviceCsr(device: string): Promise<{ keys: CryptoKeyPair; csr: string }> {
  const keys = await generateDeviceKey();
  return { keys, csr: await createCsrPem(keys, device) };
}

/** Creates a group through the API and returns its provisioning secret (fails the test on any other answer). */
export async function createGroup(
  svc: TestService,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await svc.call("POST", "/v1/groups", { name, ...extra });
  if (res.status !== 201)
    throw new Error(`creating group ${name}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { provisioningSecret: string }).provisioningSecret;
}

/** Creates devices through the API (bulk form). */
export async function createDevices(
  svc: TestService,
  group: string,
  names: string[],
): Promise<void> {
  const res = await svc.call("POST", `/v1/groups/${group}/devices`, { names });
  if (res.status !== 200)
    throw new Error(`creating devices in ${group}: ${res.status} ${await res.text()}`);
}

/**
 * A service with group `g` holding device `d`; `state()` reads what an admin call could change (the groups, `g`'s
 * secret check, the device), so a test can tell that a refused call changed nothing.
 */
export async function groupWithDevice(): Promise<{ svc: TestService; state(): Promise<unknown> }> {
  const svc = await createTestService();
  await createGroup(svc, "g");
  await createDevices(svc, "g", ["d"]);
  const state = async () => ({
    groups: await (await svc.call("GET", "/v1/groups")).json(),
    group: await (await svc.call("GET", "/v1/groups/g")).json(),
    device: await (await svc.call("GET", "/v1/groups/g/devices/d")).json(),
  });
  return { svc, state };
}

/** A public (no admin token) JSON POST to the app. */
export async function postJson(svc: TestService, path: string, body: unknown): Promise<Response> {
  return await svc.app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** What a successful provision or renew answers (the wire type, under the name the tests use). */
export type IssuedAnswer = IssuedCertificate;

/** Provisions `device` with a fresh key and the group secret; fails unless the answer is 201. */
export async function provisionDevice(
  svc: TestService,
  group: string,
  device: string,
  secret: string,
): Promise<{ keys: CryptoKeyPair; csr: string; issued: IssuedAnswer }> {
  const { keys, csr } = await deviceCsr(device);
  const res = await postJson(svc, "/v1/provision", { group, device, csr, secret });
  if (res.status !== 201)
    throw new Error(`provisioning ${group}/${device}: ${res.status} ${await res.text()}`);
  return { keys, csr, issued: (await res.json()) as IssuedAnswer };
}

/** The problem+json body of an error answer; throws when the answer is not problem+json. */
export async function readProblem(res: Response): Promise<{
  status: number;
  title: string;
  detail: string;
  errors?: { field: string; message: string }[];
}> {
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("application/problem+json"))
    throw new Error(`expected application/problem+json, got ${type}: ${await res.text()}`);
  return (await res.json()) as {
    status: number;
    title: string;
    detail: string;
    errors?: { field: string; message: string }[];
  };
}
