import { expect, test } from "bun:test";
import { parseRoute, routeHash, type Route } from "./router.ts";

test("every route survives a trip through its fragment", () => {
  const routes: Route[] = [
    { page: "overview" },
    { page: "overview", cursor: "room9" },
    { page: "group", group: "room2-lights", query: {} },
    {
      page: "group",
      group: "room2-lights",
      query: {
        q: "lamp",
        state: "revoked",
        online: "false",
        expiring: "7d",
        overdue: "true",
        cursor: "lamp-50",
      },
    },
    { page: "device", group: "room2-lights", device: "test-device-123" },
  ];
  for (const route of routes) expect(parseRoute(routeHash(route))).toEqual(route);
});

test("anything else is not found, and unknown query keys are dropped", () => {
  expect(parseRoute("#/groups")).toEqual({ page: "not-found", hash: "#/groups" });
  expect(parseRoute("#/groups/a/devices")).toEqual({
    page: "not-found",
    hash: "#/groups/a/devices",
  });
  expect(parseRoute("#/groups/a?token=x&state=created")).toEqual({
    page: "group",
    group: "a",
    query: { state: "created" },
  });
  expect(parseRoute("")).toEqual({ page: "overview" });
});

test("a segment that is not a name is not found: a broken escape, `.`, `..` or an escaped slash", () => {
  for (const hash of [
    "#/groups/g1/devices/d1%E0",
    "#/groups/%",
    "#/groups/..",
    "#/groups/.",
    "#/groups/g1/devices/..",
    "#/groups/%2E%2E/devices/d1",
    "#/groups/a%2Fb",
  ])
    expect(parseRoute(hash)).toEqual({ page: "not-found", hash });
});
