/** The iota-server API v1 client: JSON over the injected fetch, problem+json answers mapped to exit codes. */

import type {
  BulkCreateResult,
  DeviceView,
  GroupView,
  GroupWithSecret,
  IssuedCertificate,
  Page,
  ProvisionBody,
} from "../core/wire.ts";
import type { EnrollmentChange } from "../core/enrollment.ts";
import type { FleetStatus } from "../core/fleet.ts";
import { parseProblem, problemMessage } from "../core/problem-parse.ts";
import { EXIT, CliError, exitCodeForStatus } from "./exit-codes.ts";
import { certificateFailure, verifiedTls } from "./trust.ts";

/** How long one request may take; a bulk batch of 10,000 names needs a few seconds at most. */
const REQUEST_TIMEOUT_MS = 300_000;

/**
 * A client for one server; `token` is needed only for admin calls and is sent to this server only
 * (redirects are not followed). `ca`: the pinned CA, the only trust; the system roots when absent.
 */
export class ApiClient {
  constructor(
    private readonly server: string,
    private readonly token: string | undefined,
    private readonly fetcher: typeof fetch,
    private readonly pinnedCa?: string,
  ) {}

  /** Sends one request and returns the parsed JSON (or text for PEM answers); throws {@link CliError} on failure. */
  async request<T>(method: string, path: string, body?: unknown, admin = true): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json, application/x-pem-file" };
    if (admin && this.token) headers.authorization = `Bearer ${this.token}`;
    const init: BunFetchRequestInit = {
      method,
      headers,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      // Hint: a redirect could lead to another host; IoTA never redirects, so one is reported, not followed.
      redirect: "manual",
      tls: verifiedTls(this.pinnedCa),
    };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await this.fetcher(`${this.server}${path}`, init);
    } catch (error) {
      const failure = certificateFailure(error);
      if (failure !== undefined)
        throw identityError(this.server, failure, this.pinnedCa !== undefined);
      throw new CliError(
        EXIT.UNREACHABLE,
        `cannot reach the IoTA server at ${this.server}: ${reason(error)}`,
      );
    }
    if (response.status >= 300 && response.status < 400) {
      const to = response.headers.get("location") ?? "elsewhere";
      throw new CliError(
        EXIT.FAILURE,
        `${this.server} answered ${method} ${path} with a redirect (${response.status}) to ${to}; iotactl does not follow redirects, so the admin token never goes to another server: configure the server's own URL`,
      );
    }
    const text = await response.text();
    if (!response.ok) throw problemError(response, text, this.server, admin);
    if (response.status === 204 || text === "") return undefined as T;
    if (!(response.headers.get("content-type") ?? "").includes("json")) return text as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(
        EXIT.FAILURE,
        `${this.server} answered ${method} ${path} with invalid JSON; is it an IoTA server?`,
      );
    }
  }

  createGroup = (
    body: { name: string; validity?: string; renewGrace?: string } & EnrollmentChange,
  ) => this.request<GroupWithSecret>("POST", "/v1/groups", body);
  changeGroup = (group: string, change: EnrollmentChange) =>
    this.request<GroupView>("PATCH", `/v1/groups/${group}`, change);
  listGroups = () => this.request<{ items: GroupView[] }>("GET", "/v1/groups");
  getGroup = (group: string) => this.request<GroupView>("GET", `/v1/groups/${group}`);
  deleteGroup = (group: string, force: boolean) =>
    this.request<void>("DELETE", `/v1/groups/${group}${force ? "?force=true" : ""}`);
  rotateSecret = (group: string) =>
    this.request<GroupWithSecret>("POST", `/v1/groups/${group}/secret`);
  createDevice = (group: string, name: string) =>
    this.request<DeviceView>("POST", `/v1/groups/${group}/devices`, { name });
  createDevices = (group: string, names: string[]) =>
    this.request<BulkCreateResult>("POST", `/v1/groups/${group}/devices`, { names });
  getDevice = (group: string, device: string) =>
    this.request<DeviceView>("GET", `/v1/groups/${group}/devices/${device}`);
  deleteDevice = (group: string, device: string) =>
    this.request<void>("DELETE", `/v1/groups/${group}/devices/${device}`);
  revokeDevice = (group: string, device: string) =>
    this.request<DeviceView>("POST", `/v1/groups/${group}/devices/${device}/revoke`);
  resetDevice = (group: string, device: string, forgetKey = false) =>
    this.request<DeviceView>(
      "POST",
      `/v1/groups/${group}/devices/${device}/reset`,
      forgetKey ? { forgetKey: true } : undefined,
    );
  provision = (body: ProvisionBody) =>
    this.request<IssuedCertificate>("POST", "/v1/provision", body, false);
  /** The fleet summary of the tenant (one page of groups from `cursor`) or of one group. */
  status = (group?: string, cursor?: string) =>
    this.request<FleetStatus>(
      "GET",
      group === undefined
        ? `/v1/status${cursor === undefined ? "" : `?cursor=${encodeURIComponent(cursor)}`}`
        : `/v1/groups/${group}/status`,
    );
  ca = () => this.request<string>("GET", "/v1/ca", undefined, false);
  crl = () => this.request<string>("GET", "/v1/crl", undefined, false);

  /**
   * Every device of a group, page by page, so a listing of a million devices never sits in memory. `filters` are
   * the listing's query parameters (`state`, `online`, `overdue`, ...), passed as they are.
   */
  async *devices(
    group: string,
    pageSize = 1000,
    filters: Record<string, string> = {},
  ): AsyncGenerator<DeviceView> {
    let cursor: string | undefined;
    const filter = Object.entries(filters)
      .map(([k, v]) => `&${k}=${encodeURIComponent(v)}`)
      .join("");
    do {
      const query = `?limit=${pageSize}${filter}${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page = await this.request<Page<DeviceView>>(
        "GET",
        `/v1/groups/${group}/devices${query}`,
      );
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
}

/** A one-line reason for a network failure (connection refused, timeout, DNS). */
function reason(error: unknown): string {
  const e = error as { code?: string; name?: string; message?: string };
  if (e.name === "TimeoutError") return "no answer within 5 minutes";
  if (e.code === "ConnectionRefused" || e.code === "ECONNREFUSED")
    return "connection refused (is iota-server running?)";
  return e.message ?? String(error);
}

/** The error for a certificate that does not verify (exit 7): what failed and how to pin the right CA. */
export function identityError(server: string, failure: string, pinned: boolean): CliError {
  const pin = `iotactl configure --server ${server} --fingerprint HEX (the SHA-256 fingerprint iota-server prints at start) or --ca-file FILE`;
  const trust = pinned
    ? `it does not chain to the pinned CA (if the server's CA changed, pin the new one: ${pin})`
    : `the system roots do not vouch for it (for a server with its own CA, pin it: ${pin})`;
  return new CliError(
    EXIT.IDENTITY,
    `cannot verify the identity of ${server}: ${failure}; ${trust}`,
  );
}

/** The error for a non-2xx answer, quoting the server's problem detail. */
function problemError(response: Response, text: string, server: string, admin: boolean): CliError {
  // Hint: not an IoTA answer (a proxy's HTML page) gives no message; the status line is all we can say.
  const detail =
    problemMessage(parseProblem(text)) ?? `HTTP ${response.status} ${response.statusText}`.trim();
  const code = exitCodeForStatus(response.status);
  if (code === EXIT.AUTH && admin)
    return new CliError(
      code,
      `${server} refused the admin token: ${detail} (check IOTA_TOKEN or run iotactl configure)`,
    );
  if (code === EXIT.AUTH) return new CliError(code, `${server} refused the credentials: ${detail}`);
  if (response.status === 429) {
    const wait = response.headers.get("retry-after");
    return new CliError(code, `${detail}${wait ? `; retry after ${wait} s` : ""}`);
  }
  return new CliError(code, detail);
}
