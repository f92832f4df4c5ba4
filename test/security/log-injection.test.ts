/** A client cannot forge or split lines of the service's log: request-controlled text is escaped before it is logged. */

import { describe, expect, test } from "bun:test";
import { createTestService } from "../helpers/test-service.ts";
import { logText } from "../../src/iota-server/log.ts";

/** The log as an operator reads it: every entry, split where a line break would end a line on stderr. */
const physicalLines = (entries: string[]): string[] => entries.join("\n").split(/\r\n|\r|\n/);

/** The forged entry an attacker hopes to see as a line of its own. */
const FORGED = "info POST /v1/groups/room2-lights/devices/lamp-1/revoke 200 0.4ms";

describe("log injection", () => {
  test("a path with %0a and %0d is one escaped access-log line and forges none", async () => {
    const svc = await createTestService();
    const before = svc.log.lines.length;
    const path =
      "/v1/nothing%0d%0aPOST%20/v1/groups/room2-lights/devices/lamp-1/revoke%20200%200.4ms";
    const res = await svc.app.request(path);
    expect(res.status).toBe(404);
    const added = svc.log.lines.slice(before);
    expect(added).toHaveLength(1);
    expect(physicalLines(added)).toHaveLength(1);
    expect(added[0]).toMatch(
      /^info GET \/v1\/nothing\\x0d\\x0aPOST\\x20\/v1\/groups\/room2-lights\/devices\/lamp-1\/revoke\\x20200\\x200\.4ms 404 \d+\.\dms$/,
    );
    expect(physicalLines(svc.log.lines)).not.toContain(FORGED);
  });

  test("the issuing routes log one line per request too, and a 405 on a hostile path stays one line", async () => {
    const svc = await createTestService();
    const before = svc.log.lines.length;
    await svc.app.request("/v1/provision", { method: "POST", body: "{" });
    await svc.app.request("/v1/ca%0a%0binfo%20x", { method: "DELETE" });
    const added = svc.log.lines.slice(before);
    expect(added).toHaveLength(2);
    expect(physicalLines(added)).toHaveLength(2);
    expect(added[0]).toMatch(/^info POST \/v1\/provision 4\d\d /);
    expect(added[1]).toMatch(/^info DELETE \/v1\/ca\\x0a\\x0binfo\\x20x 40\d /);
  });

  test("logText escapes controls, space, backslash and Unicode line separators, and leaves names alone", () => {
    expect(logText("/v1/groups/room2-lights/devices/test-device-123")).toBe(
      "/v1/groups/room2-lights/devices/test-device-123",
    );
    expect(logText("a\nb\rc\td e\u0000f\u007fg\u0085h")).toBe(
      "a\\x0ab\\x0dc\\x09d\\x20e\\x00f\\x7fg\\x85h",
    );
    expect(logText("x\u2028y\u2029z\u202e")).toBe("x\\u2028y\\u2029z\\u202e");
    // A backslash is doubled, so a literal "\x0a" in a path cannot pass for an escaped line break.
    expect(logText("a\\x0a")).toBe("a\\\\x0a");
    expect(logText("a\nb")).not.toBe(logText("a\\x0ab"));
    expect(logText("/ü/名前")).toBe("/ü/名前");
  });
});
