/** The agent's calls to iota-server (provision, renew), with every outcome as a value the scheduler can act on. */

import { parseProblem, problemMessage } from "../core/problem-parse.ts";
import type { IssuedCertificate } from "../core/wire.ts";
import type { RenewProof } from "../core/renew-proof.ts";
import type { RecoveryProof } from "../core/recovery-proof.ts";
import type { HttpAnswer, HttpTransport } from "./http-transport.ts";
import type { ServerClock } from "./server-clock.ts";

/** Why a call did not give a certificate. */
export type ServiceFailure =
  /** The service answered 4xx: retrying the same request will not help until someone changes something. */
  | { kind: "refused"; status: number; message: string }
  /** The service is overloaded, throttling, or failed (429, 5xx): retry later, no earlier than `retryAfterMs`. */
  | { kind: "busy"; status: number; message: string; retryAfterMs?: number }
  /** No answer at all (network, DNS, TLS, timeout). */
  | { kind: "unreachable"; message: string };

/** The outcome of one call. */
export type ServiceResult =
  | { ok: true; issued: IssuedCertificate }
  | { ok: false; failure: ServiceFailure };

/** The provisioning request, as the config gives it. */
export interface ProvisionRequest {
  tenant?: string;
  group: string;
  device: string;
  csr: string;
  credential: { kind: "token" | "secret"; value: string };
  /** Signed with the key the device held, for a device an operator reset (see core/recovery-proof.ts). */
  proof?: RecoveryProof;
}

/** A client of the device API of one service. */
export class ServiceClient {
  constructor(
    private readonly baseUrl: string,
    private readonly transport: HttpTransport,
    private readonly clock: ServerClock,
    private readonly localNow: () => number,
  ) {}

  /** `POST /v1/provision` with the device token or group secret. */
  async provision(request: ProvisionRequest): Promise<ServiceResult> {
    const body: Record<string, string | RecoveryProof> = {
      group: request.group,
      device: request.device,
      csr: request.csr,
    };
    if (request.tenant !== undefined) body.tenant = request.tenant;
    body[request.credential.kind] = request.credential.value;
    if (request.proof !== undefined) body.proof = request.proof;
    return await this.post("/v1/provision", body);
  }

  /** `POST /v1/renew` with the current certificate and a proof signed by its key. */
  async renew(certificate: string, proof: RenewProof): Promise<ServiceResult> {
    return await this.post("/v1/renew", {
      certificate,
      csr: proof.csr,
      timestamp: proof.timestamp,
      signature: proof.signature,
    });
  }

  private async post(path: string, body: Record<string, unknown>): Promise<ServiceResult> {
    const url = `${this.baseUrl.replace(/\/+$/, "")}${path}`;
    const sentAt = this.localNow();
    let answer: HttpAnswer;
    try {
      answer = await this.transport({
        method: "POST",
        url,
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
      });
    } catch (error) {
      return {
        ok: false,
        failure: { kind: "unreachable", message: `${url}: ${describeNetworkError(error)}` },
      };
    }
    this.clock.observe(answer.headers.date, sentAt, this.localNow());
    if (answer.status === 200 || answer.status === 201) {
      const issued = parseIssued(answer.body);
      if (issued) return { ok: true, issued };
      return {
        ok: false,
        failure: {
          kind: "busy",
          status: answer.status,
          message: `${url} answered ${answer.status} without a certificate`,
        },
      };
    }
    const message = `${url} answered ${answer.status}: ${problemDetail(answer.body)}`;
    if (answer.status === 429 || answer.status === 408 || answer.status >= 500) {
      const failure: ServiceFailure = { kind: "busy", status: answer.status, message };
      const retryAfterMs = parseRetryAfter(answer.headers["retry-after"], this.localNow());
      if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
      return { ok: false, failure };
    }
    return { ok: false, failure: { kind: "refused", status: answer.status, message } };
  }
}

/** `Retry-After` (seconds or an HTTP date) in ms from now. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function parseIssued(text: string): IssuedCertificate | undefined {
  try {
    const body = JSON.parse(text) as Partial<IssuedCertificate>;
    if (typeof body.certificate !== "string" || typeof body.ca !== "string") return undefined;
    return body as IssuedCertificate;
  } catch {
    return undefined;
  }
}

/** The `detail` of a problem body (a service message, never one of our secrets), shortened to one line. */
function problemDetail(text: string): string {
  return oneLine(problemMessage(parseProblem(text)) ?? text) || "(no details)";
}

/** TLS failures that mean the service's certificate does not chain to what the agent trusts. */
const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** A network failure in a person's words, its code kept for searching. */
export function describeNetworkError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const code = e.code;
  const message = String(e.message ?? error);
  if (code === "ECONNREFUSED") return "nothing accepts connections there (ECONNREFUSED)";
  if (code === "ENOTFOUND") return "the host name does not resolve (ENOTFOUND)";
  if (code !== undefined && UNTRUSTED.has(code))
    return oneLine(
      `its TLS certificate is not trusted (${code}: ${message}); the config's serverCa must be the service's server CA (server-ca.pem in its data folder), or absent for a certificate from a public CA`,
    );
  return oneLine(code && !message.includes(code) ? `${code} ${message}` : message);
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}
