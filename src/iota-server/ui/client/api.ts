/** The dashboard's API client: same-origin calls to /v1 with the admin token as Bearer, errors as values. */

import type { Device, FleetStatus, GroupView, HistoryEvent, ListPage } from "./api-types.ts";

/** A failed call: the HTTP status (0 when the server was unreachable) and the problem's detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The device list's filters (`GET /v1/groups/{group}/devices`), all optional. */
export interface DeviceFilters {
  state?: string;
  online?: "true" | "false";
  overdue?: "true";
  expiringBefore?: string;
  q?: string;
}

const seg = encodeURIComponent;

/** A client bound to one admin token. */
export class Api {
  constructor(private readonly token: string) {}

  /** One call; the parsed JSON answer, or an ApiError naming what the server said. */
  async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: "application/json",
    };
    const init: RequestInit = { method, headers, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(path, init);
    } catch {
      throw new ApiError(0, "The server cannot be reached.");
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      throw new ApiError(res.status, `${method} ${path} answered ${res.status} with no JSON.`);
    }
    if (!res.ok) {
      throw new ApiError(res.status, problemText(json, `${method} ${path} answered ${res.status}`));
    }
    return json as T;
  }

  /** `GET /v1/groups`. */
  async groups(): Promise<GroupView[]> {
    return (await this.call<{ items: GroupView[] }>("GET", "/v1/groups")).items;
  }

  /** `GET /v1/groups/{group}`. */
  group(name: string): Promise<GroupView> {
    return this.call("GET", `/v1/groups/${seg(name)}`);
  }

  /** `GET /v1/status` (a page of its groups from `cursor`), or undefined when the server has no fleet API. */
  fleetStatus(cursor?: string): Promise<FleetStatus | undefined> {
    const query = cursor === undefined ? "" : `?cursor=${seg(cursor)}`;
    return optional(this.call<FleetStatus>("GET", `/v1/status${query}`));
  }

  /** `GET /v1/groups/{group}/status`, or undefined when the server has no fleet API. */
  groupStatus(group: string): Promise<FleetStatus | undefined> {
    return optional(this.call<FleetStatus>("GET", `/v1/groups/${seg(group)}/status`));
  }

  /** One page of a group's devices, filtered on the server. */
  devices(group: string, limit: number, cursor?: string, filters: DeviceFilters = {}) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor !== undefined) query.set("cursor", cursor);
    for (const [name, value] of Object.entries(filters))
      if (value !== undefined && value !== "") query.set(name, value);
    return this.call<ListPage<Device>>("GET", `/v1/groups/${seg(group)}/devices?${query}`);
  }

  /** `GET /v1/groups/{group}/devices/{device}`. */
  device(group: string, name: string): Promise<Device> {
    return this.call("GET", `/v1/groups/${seg(group)}/devices/${seg(name)}`);
  }

  /** The device's history, or undefined when the server has no fleet API. */
  async history(group: string, name: string): Promise<HistoryEvent[] | undefined> {
    const path = `/v1/groups/${seg(group)}/devices/${seg(name)}/history`;
    return (await optional(this.call<{ items: HistoryEvent[] }>("GET", path)))?.items;
  }

  /** `POST .../revoke`: the device afterwards. */
  revoke(group: string, name: string): Promise<Device> {
    return this.call("POST", `/v1/groups/${seg(group)}/devices/${seg(name)}/revoke`);
  }

  /** `POST .../reset` (`forgetKey`: any key may provision it again): the device afterwards. */
  reset(group: string, name: string, forgetKey: boolean): Promise<Device> {
    const path = `/v1/groups/${seg(group)}/devices/${seg(name)}/reset`;
    return this.call("POST", path, forgetKey ? { forgetKey: true } : undefined);
  }
}

/**
 * What a problem answer says for people: its `detail`, else its `title` with `what` (the call and its
 * status), else `what` alone; never "undefined" for an answer that is not the problem+json it should be.
 */
export function problemText(json: unknown, what: string): string {
  const problem = (typeof json === "object" && json !== null ? json : {}) as Record<
    string,
    unknown
  >;
  if (typeof problem.detail === "string" && problem.detail.trim() !== "") return problem.detail;
  if (typeof problem.title === "string" && problem.title.trim() !== "")
    return `${problem.title} (${what}).`;
  return `${what}.`;
}

/**
 * The answer, or undefined when the call answered 404: the fleet API's calls are asked only about a tenant,
 * group or device just read, so a 404 there means this server does not have the call.
 */
async function optional<T>(answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}
