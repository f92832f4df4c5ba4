/** The public routes anyone may read without an admin token: the CA certificate and the CRL (provision and renew are in issue-routes.ts). */

import { Hono } from "hono";
import { invalidField } from "../../core/errors.ts";
import { isValidName } from "../../core/names.ts";
import type { DomainContext } from "../domain/context.ts";
import type { CrlCache } from "../domain/crl.ts";
import { DEFAULT_TENANT } from "../domain/tenants.ts";
import type { AppEnv } from "./env.ts";
import { singleParams } from "./fleet-query.ts";

const PEM_TYPE = "application/x-pem-file";

/** The tenant named by `?tenant=` (given once), the default tenant when absent. */
function tenantParam(value: string | undefined): string {
  if (value === undefined) return DEFAULT_TENANT;
  if (!isValidName(value)) throw invalidField("tenant", "is not a valid tenant name");
  return value;
}

/** Routes for devices and anyone who needs the trust anchors. */
export function deviceRoutes(ctx: DomainContext, crls: CrlCache): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/ca", async (c) => {
    const ca = await ctx.tenants.ca(tenantParam(singleParams(c.req.queries()).tenant));
    return c.body(ca.certPem, 200, { "content-type": PEM_TYPE });
  });

  app.get("/crl", async (c) => {
    const pem = await crls.get(ctx, tenantParam(singleParams(c.req.queries()).tenant));
    return c.body(pem, 200, { "content-type": PEM_TYPE, "cache-control": "no-cache" });
  });

  return app;
}
