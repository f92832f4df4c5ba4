/** The admin token check every admin route (and `GET /metrics`) runs first. */

import type { Context } from "hono";
import { IotaError } from "../../core/errors.ts";
import type { DomainContext } from "../domain/context.ts";
import type { AppEnv } from "./env.ts";

/**
 * Middleware: `Authorization: Bearer <admin token>` names the tenant (set as `tenant`), else 401. The answer
 * carries `Cache-Control: no-store`.
 */
export function requireAdmin(ctx: DomainContext) {
  return async (c: Context<AppEnv>, next: () => Promise<void>): Promise<void> => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    if (!match?.[1])
      throw new IotaError(
        "unauthorized",
        "This call needs an admin token: Authorization: Bearer <token>",
      );
    c.set("tenant", await ctx.tenants.authenticate(match[1]));
    await next();
    // Hint: admin answers carry provisioning secrets (create, rotate) and fleet data: no cache may keep them.
    c.header("cache-control", "no-store");
  };
}
