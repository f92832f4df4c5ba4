/** The public routes devices use without an admin token: provision, renew, CA and CRL. */

import { Hono } from "hono";
import { parseOrThrow } from "../../core/validate.ts";
import { ProvisionBody, RenewBody } from "../../core/wire.ts";
import { invalidField } from "../../core/problem.ts";
import { isValidName } from "../../core/names.ts";
import type { ServiceContext } from "../service/context.ts";
import { provision, renew } from "../service/issuance.ts";
import type { CrlCache } from "../service/crl.ts";
import { DEFAULT_TENANT } from "../service/tenants.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { readJson } from "./problem-response.ts";
import type { AppEnv } from "./app.ts";

const PEM_TYPE = "application/x-pem-file";

/** The tenant named by `?tenant=`, the default tenant when absent. */
function tenantParam(value: string | undefined): string {
  if (value === undefined) return DEFAULT_TENANT;
  if (!isValidName(value)) throw invalidField("tenant", "is not a valid tenant name");
  return value;
}

/** Routes for devices and anyone who needs the trust anchors. */
export function deviceRoutes(ctx: ServiceContext, limits: { issue: RateLimiter; failures: RateLimiter }, crls: CrlCache): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const guard = (source: string) => {
    limits.issue.enforce(`issue:${source}`, "certificate requests from this address");
  };
  const throttle = (source: string) => (scope: string) => {
    limits.failures.take(`fail:${source}:${scope}`);
  };
  const refuseIfThrottled = (source: string, scope: string) => {
    if (limits.failures.wait(`fail:${source}:${scope}`) > 0) limits.failures.enforce(`fail:${source}:${scope}`, "failed attempts for this group");
  };

  app.post("/provision", async (c) => {
    const source = c.get("source");
    guard(source);
    const body = parseOrThrow(ProvisionBody, await readJson(c));
    refuseIfThrottled(source, `${body.tenant ?? DEFAULT_TENANT}/${body.group}`);
    const result = await provision(ctx, body, throttle(source));
    return c.json(result.issued, result.created ? 201 : 200);
  });

  app.post("/renew", async (c) => {
    const source = c.get("source");
    guard(source);
    const body = parseOrThrow(RenewBody, await readJson(c));
    refuseIfThrottled(source, "renew");
    const result = await renew(ctx, body, () => throttle(source)("renew"));
    return c.json(result.issued, result.created ? 201 : 200);
  });

  app.get("/ca", async (c) => {
    const ca = await ctx.tenants.ca(tenantParam(c.req.query("tenant")));
    return c.body(ca.certPem, 200, { "content-type": PEM_TYPE });
  });

  app.get("/crl", async (c) => {
    const pem = await crls.get(ctx, tenantParam(c.req.query("tenant")));
    return c.body(pem, 200, { "content-type": PEM_TYPE, "cache-control": "no-cache" });
  });

  return app;
}
