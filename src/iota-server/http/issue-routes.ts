/**
 * POST /v1/provision and /v1/renew as plain `Request` handlers: Bun.serve routes them directly (no
 * router or middleware chain on the busiest path), and the hono app mounts the very same handlers.
 */

import { IotaError } from "../../core/errors.ts";
import { parseOrThrow } from "../../core/validate.ts";
import { ProvisionBody, RenewBody } from "../../core/wire.ts";
import type { DomainContext } from "../domain/context.ts";
import type { IssueOutcome } from "../domain/issued-answer.ts";
import { provision } from "../domain/provision.ts";
import { renew } from "../domain/renew.ts";
import { DEFAULT_TENANT } from "../domain/tenants.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { Logger } from "../log.ts";
import { errorResponse, readJson } from "./problem-response.ts";
import { limitBody } from "./body-limit.ts";
import { logAccess, requestSource, type PeerSource } from "./access-log.ts";
import { IssuedJson } from "./issued-json.ts";
import type { WorkQueue } from "./work-queue.ts";
import { refuseUnknownQuery } from "./known-query.ts";

/** A complete endpoint: body limit, answer or problem, and the access-log line. `path` is what the log names. */
export type IssueHandler = (req: Request, server?: PeerSource, path?: string) => Promise<Response>;

/** The issuing endpoints in Bun.serve's `routes` shape. */
export interface IssueRoutes {
  "/v1/provision": { POST: IssueHandler };
  "/v1/renew": { POST: IssueHandler };
}

/** What the endpoints share with the rest of the app. */
export interface IssueLimits {
  /** Requests per source address; undefined when the operator lifted the limit (`--issue-rate 0`). */
  issue: RateLimiter | undefined;
  /** Failed credentials and proofs per source (and group). */
  failures: RateLimiter;
  /** The bounded queue of issuing work. */
  queue: WorkQueue;
  /** Largest body of an issuing request (no credential has been checked yet, so it is small). */
  maxBody: number;
}

/**
 * The address a request is counted against, asked for only when a limit needs it. Hint: Bun answers it with a
 * getpeername call, which a request that passes every check never needs.
 */
type Source = () => string;

/** Provision and renew read everything from their body. */
const NO_PARAMS: readonly string[] = [];

const JSON_HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/** The provision and renew endpoints over one service context, limits and log. */
export function issueRoutes(
  ctx: DomainContext,
  limits: IssueLimits,
  log: Logger,
  trustedProxies?: ReadonlySet<string>,
): IssueRoutes {
  const json = new IssuedJson();
  /** The answer for an issued (201) or re-sent (200) certificate. */
  const issuedResponse = (result: IssueOutcome): Response =>
    new Response(json.write(result.issued), {
      status: result.created ? 201 : 200,
      headers: JSON_HEADERS,
    });
  const guard = (source: Source) =>
    limits.issue?.enforce(`issue:${source()}`, "certificate requests from this address");
  /**
   * Counts one failed credential or proof; once `key` has used its budget, the failure is answered 429.
   * Hint: only failures are counted, after they were checked, so a request whose credential or proof
   * verifies is never throttled, whoever else shares its address.
   */
  const failed = (key: () => string, what: string) => () => {
    const wait = limits.failures.take(key());
    if (wait > 0)
      throw new IotaError(
        "rate-limited",
        `Too many failed ${what} from this address; retry in ${wait} s`,
        {
          retryAfter: wait,
        },
      );
  };

  const provisionAnswer = async (req: Request, source: Source): Promise<Response> => {
    guard(source);
    const body = parseOrThrow(ProvisionBody, await readJson(req));
    const key = () => `fail:${source()}:${body.tenant ?? DEFAULT_TENANT}/${body.group}`;
    return issuedResponse(
      await limits.queue.run(() => provision(ctx, body, failed(key, "provisioning attempts"))),
    );
  };

  const renewAnswer = async (req: Request, source: Source): Promise<Response> => {
    guard(source);
    const body = parseOrThrow(RenewBody, await readJson(req));
    return issuedResponse(
      await limits.queue.run(() =>
        renew(
          ctx,
          body,
          failed(() => `fail:${source()}:renew`, "renewal proofs"),
        ),
      ),
    );
  };

  const endpoint = (
    route: string,
    answer: (req: Request, source: Source) => Promise<Response>,
  ): IssueHandler => {
    return async (req, server, path = route) => {
      const started = performance.now();
      let res: Response;
      try {
        refuseUnknownQuery(req.url, NO_PARAMS);
        const limited = limitBody(req, limits.maxBody);
        let source: string | undefined;
        res = await answer(
          limited instanceof Promise ? await limited : limited,
          () => (source ??= requestSource(server, req, trustedProxies)),
        );
      } catch (error) {
        res = errorResponse(log, error as Error, "POST", path);
      }
      logAccess(log, "POST", path, res.status, started);
      return res;
    };
  };

  return {
    "/v1/provision": { POST: endpoint("/v1/provision", provisionAnswer) },
    "/v1/renew": { POST: endpoint("/v1/renew", renewAnswer) },
  };
}
