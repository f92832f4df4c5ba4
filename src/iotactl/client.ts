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
import { randomUUID } from "node:crypto";
import { parseProblem, problemMessage } from "../core/problem-parse.ts";
import { EXIT, CliError, exitCodeForStatus } from "./exit-codes.ts";
import { certificateFailure, verifiedTls } from "./trust.ts";
import {
  RESEND_BUDGET_MS,
  resendWait,
  transientNetworkFailure,
  transientStatus,
} from "./resend.ts";

/** How long one request may take; a bulk batch of 10,000 names needs a few seconds at most. */
const REQUEST_TIMEOUT_MS = 300_000;

/** How a client waits and tells of a request it sends again; the defaults sleep and write nothing. */
export interface ResendOptions {
  /** Told of each attempt about to be sent again: what failed and when the next one goes. */
  notify?: (message: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /**
   * Whether an `http://` server that closed the connection unanswered speaks TLS there (see tls-probe.ts): then the
   * URL is wrong, and nothing is sent again. Without it, such a close counts as transient like any other.
   */
  speaksTls?: (server: string) => Promise<boolean>;
}

/** What a request may carry besides its body, and whether it is safe to send twice (see resend.ts). */
interface RequestOptions {
  admin?: boolean;
  resend?: boolean;
  headers?: Record<string, string>;
  /** True once the user asked to stop: no attempt is sent again, and a wait for one ends early. */
  stopped?: () => boolean;
}

/** How often a wait before sending again looks whether a stop was asked for. */
const STOP_CHECK_MS = 250;

/**
 * A client for one server; `token` is needed only for admin calls and is sent to this server only
 * (redirects are not followed). `ca`: the pinned CA, the only trust; the system roots when absent.
 */
export class ApiClient {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(
    private readonly server: string,
    private readonly token: string | undefined,
    private readonly fetcher: typeof fetch,
    private readonly pinnedCa?: string,
    private readonly resendOptions: ResendOptions = {},
  ) {
    this.sleep = resendOptions.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = resendOptions.now ?? Date.now;
  }

  /**
   * Sends one request and returns the parsed JSON (or text for PEM answers); throws {@link CliError} on failure.
   * A GET, or a request marked `resend`, is sent again after a transient failure: a new attempt starts only within
   * {@link RESEND_BUDGET_MS} of the first, and none once `stopped()` turns true.
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<T> {
    const admin = options.admin ?? true;
    const resend = options.resend ?? method === "GET";
    const stopped = options.stopped ?? (() => false);
    const started = this.now();
    for (let attempt = 1; ; attempt++) {
      let answer: { response: Response; text: string } | undefined;
      let failure: unknown;
      try {
        const response = await this.send(method, path, body, admin, options.headers);
        // Hint: read within the attempt: a connection cut after the headers has lost the answer just the same.
        answer = { response, text: await response.text() };
      } catch (error) {
        failure = error;
      }
      const why =
        answer === undefined
          ? transientNetworkFailure(failure)
          : transientStatus(answer.response.status);
      if (answer === undefined && why !== undefined && attempt === 1) await this.checkScheme();
      if (resend && why !== undefined && !stopped()) {
        const wait = resendWait(attempt, answer?.response.headers.get("retry-after"));
        if (this.now() + wait - started <= RESEND_BUDGET_MS) {
          this.resendOptions.notify?.(
            `${method} ${path}: ${why}; sending it again in ${Math.ceil(wait / 1000)} s (attempt ${attempt + 1})`,
          );
          await this.pause(wait, options.stopped);
          if (!stopped()) continue;
        }
      }
      try {
        if (answer === undefined) throw this.networkError(failure);
        return this.parse<T>(answer.response, answer.text, method, path, admin);
      } catch (error) {
        // Hint: after attempts sent again, the last failure says how long iotactl went on trying.
        if (attempt === 1 || !(error instanceof CliError)) throw error;
        const seconds = Math.round((this.now() - started) / 1000);
        throw new CliError(
          error.exitCode,
          `${error.message} (${attempt} attempts over ${seconds} s)`,
        );
      }
    }
  }

  /** Throws when this `http://` server speaks TLS: the connection it closed unanswered was a TLS listener's. */
  private async checkScheme(): Promise<void> {
    const probe = this.resendOptions.speaksTls;
    if (!this.server.startsWith("http://") || probe === undefined || !(await probe(this.server)))
      return;
    const https = `https://${this.server.slice("http://".length)}`;
    throw new CliError(
      EXIT.UNREACHABLE,
      `cannot reach the IoTA server at ${this.server}: it closed the connection without an answer, and it speaks TLS there: use ${https} (iota-server serves HTTPS unless started with --plain-http)`,
    );
  }

  /** Waits `ms`, in short steps when a stop may be asked for meanwhile (Ctrl-C during a bulk creation). */
  private async pause(ms: number, stopped: (() => boolean) | undefined): Promise<void> {
    if (stopped === undefined) return await this.sleep(ms);
    for (let left = ms; left > 0 && !stopped(); left -= STOP_CHECK_MS)
      await this.sleep(Math.min(STOP_CHECK_MS, left));
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    admin: boolean,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {
      accept: "application/json, application/x-pem-file",
      ...extra,
    };
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
    return await this.fetcher(`${this.server}${path}`, init);
  }

  private networkError(error: unknown): CliError {
    const failure = certificateFailure(error);
    if (failure !== undefined)
      return identityError(this.server, failure, this.pinnedCa !== undefined);
    return new CliError(
      EXIT.UNREACHABLE,
      `cannot reach the IoTA server at ${this.server}: ${reason(error)}`,
    );
  }

  private parse<T>(
    response: Response,
    text: string,
    method: string,
    path: string,
    admin: boolean,
  ): T {
    if (response.status >= 300 && response.status < 400) {
      const to = response.headers.get("location") ?? "elsewhere";
      throw new CliError(
        EXIT.FAILURE,
        `${this.server} answered ${method} ${path} with a redirect (${response.status}) to ${to}; iotactl does not follow redirects, so the admin token never goes to another server: configure the server's own URL`,
      );
    }
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
  /** One device; its Idempotency-Key lets it be sent again after a lost answer without a false "exists". */
  createDevice = (group: string, name: string) =>
    this.request<DeviceView>(
      "POST",
      `/v1/groups/${group}/devices`,
      { name },
      { resend: true, headers: { "idempotency-key": randomUUID() } },
    );
  /** Safe to send again: a name the lost attempt created comes back among the existing ones. */
  createDevices = (group: string, names: string[], stopped?: () => boolean) =>
    this.request<BulkCreateResult>(
      "POST",
      `/v1/groups/${group}/devices`,
      { names },
      { resend: true, ...(stopped ? { stopped } : {}) },
    );
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
  /** Safe to send again: provisioning with the same key answers with the certificate already issued. */
  provision = (body: ProvisionBody) =>
    this.request<IssuedCertificate>("POST", "/v1/provision", body, { admin: false, resend: true });
  /** The fleet summary of the tenant (one page of groups from `cursor`) or of one group. */
  status = (group?: string, cursor?: string) =>
    this.request<FleetStatus>(
      "GET",
      group === undefined
        ? `/v1/status${cursor === undefined ? "" : `?cursor=${encodeURIComponent(cursor)}`}`
        : `/v1/groups/${group}/status`,
    );
  ca = () => this.request<string>("GET", "/v1/ca", undefined, { admin: false });
  crl = () => this.request<string>("GET", "/v1/crl", undefined, { admin: false });

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
  const closed = transientNetworkFailure(error);
  if (closed !== undefined) return closed;
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
