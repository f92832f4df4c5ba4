/** Admin routes (Bearer admin token): groups, their secrets, devices, and the fleet status. */

import { Hono, type Context } from "hono";
import * as v from "valibot";
import { parseOrThrow } from "../../core/validate.ts";
import {
  createDevicesSchema,
  CreateGroupBody,
  ResetBody,
  type CreateDevicesBody,
} from "../../core/wire.ts";
import { invalidField } from "../../core/errors.ts";
import type { DomainContext } from "../domain/context.ts";
import * as groups from "../domain/groups.ts";
import * as devices from "../domain/devices.ts";
import { changeGroupEnrollment } from "../domain/enrollment.ts";
import { PatchGroupBody } from "../../core/enrollment.ts";
import { deviceHistory, listDevices } from "../domain/device-pages.ts";
import { fleetStatus } from "../domain/fleet-status.ts";
import type { DeviceKey } from "../store/store.ts";
import { readJson, readOptionalJson } from "./problem-response.ts";
import { IDEMPOTENCY_KEY, idempotencyKey } from "./idempotency-key.ts";
import { bodyLimit } from "./body-limit.ts";
import type { AppEnv } from "./env.ts";
import { requireAdmin } from "./admin-auth.ts";
import { deviceQuery, limitParam, singleParams } from "./fleet-query.ts";
import { nameParam } from "./name-param.ts";

/** The optional body of a reset: `{ "forgetKey": true }` lets any key provision the device again. */
async function resetOptions(req: Request): Promise<{ forgetKey: boolean }> {
  const input = await readOptionalJson(req);
  if (input === undefined) return { forgetKey: false };
  return { forgetKey: parseOrThrow(ResetBody, input).forgetKey ?? false };
}

/** The only body, besides none or an empty one, that a call taking no body accepts: `{}`. */
const NoBody = v.strictObject({}, "is not a known field (this call takes no body)");

/**
 * Checks that a call which takes no body got none (or an empty one, or `{}`), before the call does anything: a
 * field meant for another call (`forgetKey` sent to revoke) or a body that is not JSON is refused, not ignored.
 */
async function noBody(req: Request): Promise<void> {
  const input = await readOptionalJson(req);
  if (input !== undefined) parseOrThrow(NoBody, input);
}

/** The admin routes; every one needs `Authorization: Bearer <admin token>`. */
export function adminRoutes(
  ctx: DomainContext,
  limits: { maxBody: number; maxBulkBody: number; overdueSlackSeconds: number },
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const admin = requireAdmin(ctx);
  app.use("/groups", admin);
  app.use("/groups/*", admin);
  app.use("/status", admin);
  const slack = limits.overdueSlackSeconds;
  // Hint: after the token check, so a caller without one never gets a body read (or buffered) at all.
  const bulkLimit = bodyLimit(limits.maxBulkBody);
  const limit = bodyLimit(limits.maxBody);
  app.use("/groups/*", async (c, next) =>
    c.req.path.endsWith("/devices") ? await bulkLimit(c, next) : await limit(c, next),
  );
  app.use("/groups", limit);

  const device = (c: Context<AppEnv>): DeviceKey => ({
    tenantId: c.get("tenant"),
    group: nameParam(c, "group"),
    name: nameParam(c, "device"),
  });

  app.post("/groups", async (c) => {
    const body = parseOrThrow(CreateGroupBody, await readJson(c.req.raw));
    return c.json(await groups.createGroup(ctx, c.get("tenant"), body), 201);
  });
  app.get("/groups", async (c) => c.json({ items: await groups.listGroups(ctx, c.get("tenant")) }));
  app.get("/groups/:group", async (c) =>
    c.json(await groups.getGroup(ctx, c.get("tenant"), nameParam(c, "group"))),
  );
  app.patch("/groups/:group", async (c) => {
    const body = parseOrThrow(PatchGroupBody, await readJson(c.req.raw));
    return c.json(await changeGroupEnrollment(ctx, c.get("tenant"), nameParam(c, "group"), body));
  });
  app.delete("/groups/:group", async (c) => {
    await noBody(c.req.raw);
    const { force } = singleParams(c.req.queries());
    if (force !== undefined && force !== "true" && force !== "false")
      throw invalidField("force", "must be true or false");
    await groups.deleteGroup(ctx, c.get("tenant"), nameParam(c, "group"), force === "true");
    return c.body(null, 204);
  });
  app.post("/groups/:group/secret", async (c) => {
    await noBody(c.req.raw);
    return c.json(await groups.rotateSecret(ctx, c.get("tenant"), nameParam(c, "group")));
  });

  app.post("/groups/:group/devices", async (c) => {
    const group = nameParam(c, "group");
    const input = await readJson(c.req.raw);
    const body: CreateDevicesBody = parseOrThrow(createDevicesSchema(input), input);
    const key = idempotencyKey(c.req.header(IDEMPOTENCY_KEY));
    if ("names" in body) {
      if (key !== undefined)
        throw invalidField(
          "Idempotency-Key",
          "applies to creating one device (name); a bulk creation (names) reports the names that already exist instead",
        );
      return c.json(await devices.createDevices(ctx, c.get("tenant"), group, body.names), 200);
    }
    const made = await devices.createDevice(ctx, c.get("tenant"), group, body.name, key);
    // Hint: a replay answers as the first request did; the header tells a curious client which one this was.
    if (made.replayed) c.header("idempotent-replayed", "true");
    return c.json(made.device, 201);
  });
  app.get("/groups/:group/devices", async (c) => {
    const params = singleParams(c.req.queries());
    const page = {
      limit: limitParam(params.limit),
      cursor: params.cursor,
      query: deviceQuery(params),
      overdueSlackSeconds: slack,
    };
    return c.json(await listDevices(ctx, c.get("tenant"), nameParam(c, "group"), page));
  });
  app.get("/groups/:group/devices/:device/history", async (c) =>
    c.json(await deviceHistory(ctx, device(c))),
  );
  app.get("/status", async (c) => {
    const params = singleParams(c.req.queries());
    const query = { limit: limitParam(params.limit), overdueSlackSeconds: slack };
    const cursor = params.cursor;
    const status = { ...query, ...(cursor === undefined ? {} : { cursor }) };
    return c.json(await fleetStatus(ctx, c.get("tenant"), status));
  });
  app.get("/groups/:group/status", async (c) => {
    const query = { group: nameParam(c, "group"), limit: 1, overdueSlackSeconds: slack };
    return c.json(await fleetStatus(ctx, c.get("tenant"), query));
  });
  app.get("/groups/:group/devices/:device", async (c) =>
    c.json(await devices.getDevice(ctx, device(c))),
  );
  app.delete("/groups/:group/devices/:device", async (c) => {
    await noBody(c.req.raw);
    await devices.deleteDevice(ctx, device(c));
    return c.body(null, 204);
  });
  app.post("/groups/:group/devices/:device/revoke", async (c) => {
    await noBody(c.req.raw);
    return c.json(await devices.revokeDevice(ctx, device(c)));
  });
  app.post("/groups/:group/devices/:device/reset", async (c) =>
    c.json(await devices.resetDevice(ctx, device(c), await resetOptions(c.req.raw))),
  );
  return app;
}
