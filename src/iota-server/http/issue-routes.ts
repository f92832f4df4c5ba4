/**
 * POST /v1/provision and /v1/renew as plain `Request` handlers: Bun.serve routes them directly (no
 * router or middleware chain on the busiest path), and the hono app mounts the very same handlers.
 */

import { parseOrThrow } from "../../core/validate.ts";
import { ProvisionBody, RenewBody, type IssuedCertificate } from "../../core/wire.ts";
import type { DomainContext } from "../domain/context.ts";
import { provision, renew } from "../domain/issuance.ts";
import { DEFAULT_TENANT } from "../domain/tenants.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { Logger } from "../log.ts";
import { errorResponse, readJson } from "./problem-response.ts";
import { limitBody } from "./body-limit.ts";
import { logAccess, requestSource, type PeerSource } from "./access-log.ts";
import { IssuedJson } from "./issued-json.ts";

/** A complete endpoint: body limit, answer or problem, and the access-log line. `path` is what the log names. */
export type IssueHandler = (req: Request, server?: PeerSource, path?: string) => Promise<Response>;

/** The issuing endpoints in Bun.serve's `routes` shape. */
export interface IssueRoutes {
  "/v1/provision": { POST: IssueHandler };
  "/v1/renew": { POST: IssueHandler };
}

/** The limiters the endpoints share with the rest of the app. */
export interface IssueLimits {
  issue: RateLimiter;
  failures: RateLimiter;
}

const JSON_HEADERS = { "content-type": "application/json" };

/** The provision and renew endpoints over one service context, limits and log. */
export function issueRoutes(
  ctx: DomainContext,
  limits: IssueLimits,
  log: Logger,
  maxBody: number,
  trustedProxies?: ReadonlySet<string>,
): IssueRoutes {
  const json = new IssuedJson();
  /** The answer for an issued (201) or re-sent (200) certificate. */
  const issuedResponse = (result: { created: boolean; issued: IssuedCertificate }): Response =>
    new Response(json.write(result.issued), {
      status: result.created ? 201 : 200,
      headers: JSON_HEADERS,
    });
  const guard = (source: string) =>
    limits.issue.enforce(`issue:${source}`, "certificate requests from this address");
  const refuseIfThrottled = (key: string) => {
    if (limits.failures.wait(key) > 0)
      limits.failures.enforce(key, "failed attempts for this group");
  };

  const provisionAnswer = async (req: Request, source: string): Promise<Response> => {
    guard(source);
    const body = parseOrThrow(ProvisionBody, await readJson(req));
    refuseIfThrottled(`fail:${source}:${body.tenant ?? DEFAULT_TENANT}/${body.group}`);
    return issuedResponse(
      await provision(ctx, body, (scope) => limits.failures.take(`fail:${source}:${scope}`)),
    );
  };

  const renewAnswer = async (req: Request, source: string): Promise<Response> => {
    guard(source);
    const body = parseOrThrow(RenewBody, await readJson(req));
    const key = `fail:${source}:renew`;
    refuseIfThrottled(key);
    return issuedResponse(await renew(ctx, body, () => limits.failures.take(key)));
  };

  const endpoint = (
    route: string,
    answer: (req: Request, source: string) => Promise<Response>,
  ): IssueHandler => {
    return async (req, server, path = route) => {
      const started = performance.now();
      let res: Response;
      try {
        const limited = limitBody(req, maxBody);
        res = await answer(
          limited instanceof Promise ? await limited : limited,
          requestSource(server, req, trustedProxies),
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
