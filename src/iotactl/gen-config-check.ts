/**
 * What `iotactl gen config` confirms with the server before it writes a file: the group exists, the
 * secret is its current one, and every named device can provision (created in advance, or, in a group
 * enrolling `any`, named by the group's pattern).
 */

import { timingSafeEqual } from "node:crypto";
import { matchesNamePattern } from "../core/name-pattern.ts";
import { secretCheck } from "../core/token.ts";
import type { DeviceState, GroupView } from "../core/wire.ts";
import type { ApiClient } from "./client.ts";
import type { CommandContext } from "./command.ts";
import { CliError, EXIT, isCliError } from "./exit-codes.ts";

/** Names shown in a message before "and N more". */
const SHOWN = 5;
/** A listing page: the API's largest. */
const PAGE = 1000;
/** Devices looked up one by one at the same time, when that takes fewer requests than listing the group. */
const LOOKUPS_AT_ONCE = 8;

const NOT_WRITTEN = "nothing was written";
const OFFLINE_HINT =
  "to write configs without asking any server (air-gapped), give --offline: then nothing is checked";

/** The first few of `names`, and how many more there are. */
export function someOf(names: string[]): string {
  const shown = names.slice(0, SHOWN).join(", ");
  return names.length > SHOWN ? `${shown} and ${names.length - SHOWN} more` : shown;
}

/** "1 device is", "3 devices are". */
const devicesAre = (n: number) => (n === 1 ? "1 device is" : `${n} devices are`);

/**
 * The admin client for the check; exit 6 (mentioning --offline) when no server is configured at all, and
 * the same hint on a server that cannot be reached.
 */
function checkingClient(ctx: CommandContext): ApiClient {
  const settings = ctx.settings();
  if (settings.serverSource === "default" && settings.token === undefined)
    throw new CliError(
      EXIT.UNREACHABLE,
      `no IoTA server is configured, and gen config checks the group, its secret and the device names with the server before it writes: run "iotactl configure --server URL --token-file FILE" (or set IOTA_SERVER and IOTA_TOKEN); ${OFFLINE_HINT}`,
    );
  return ctx.admin();
}

/** Runs one request of the check; an unreachable server is exit 6 naming --offline. */
async function ask<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isCliError(error) && error.exitCode === EXIT.UNREACHABLE)
      throw new CliError(EXIT.UNREACHABLE, `${error.message}; ${NOT_WRITTEN}; ${OFFLINE_HINT}`);
    throw error;
  }
}

/**
 * Confirms `group` exists on the server and `secret` is its current provisioning secret, comparing
 * the group's secret check in constant time (the secret itself is never sent). `source` names where the
 * secret came from. Returns the group and the client for further checks.
 */
export async function checkGroupSecret(
  ctx: CommandContext,
  group: string,
  secret: string,
  source: string,
): Promise<{ view: GroupView; client: ApiClient }> {
  const client = checkingClient(ctx);
  const server = ctx.settings().server;
  let view: GroupView;
  try {
    view = await ask(() => client.getGroup(group));
  } catch (error) {
    if (isCliError(error) && error.exitCode === EXIT.NOT_FOUND)
      throw new CliError(
        EXIT.NOT_FOUND,
        `group ${group} does not exist on ${server}; ${NOT_WRITTEN} (create it with iotactl add group ${group}, or check -g)`,
      );
    throw error;
  }
  if (view.secretCheck === undefined)
    throw new CliError(
      EXIT.FAILURE,
      `${server} does not say whether the secret is group ${group}'s current one (an older iota-server); ${NOT_WRITTEN}; upgrade it, or ${OFFLINE_HINT}`,
    );
  const expected = Buffer.from(view.secretCheck, "utf8");
  const actual = Buffer.from(secretCheck(secret, group), "utf8");
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual))
    throw new CliError(
      EXIT.AUTH,
      `${source} is not the current provisioning secret of group ${group} (on ${server}, last rotated ${view.secretRotatedAt}): every device would be refused with "The device token is not valid"; ${NOT_WRITTEN}. Give that group's prov_secret.txt, or the secret iotactl rotate secret -g ${group} printed`,
    );
  return { view, client };
}

/**
 * Confirms every name can provision in the group: in a group enrolling `registered` each device must
 * exist; with `any`, a name the pattern does not match must exist. Exit 3 naming how many are missing
 * and the first few; devices already provisioned or revoked are a warning (their token cannot provision
 * them again until an operator resets them).
 */
export async function checkDeviceNames(
  ctx: CommandContext,
  client: ApiClient,
  view: GroupView,
  names: string[],
): Promise<void> {
  const pattern = view.enrollment === "any" ? view.namePattern : undefined;
  const mustExist =
    pattern === undefined ? names : names.filter((n) => !matchesNamePattern(pattern, n));
  const states = await deviceStates(client, view, mustExist);
  const missing = mustExist.filter((n) => !states.has(n));
  if (missing.length > 0) {
    const why =
      pattern === undefined
        ? `do not exist in group ${view.name}, which provisions only devices created in advance (enrollment "registered")`
        : `neither match group ${view.name}'s name pattern ${pattern} nor exist in it`;
    const fix =
      pattern === undefined
        ? `create them first (iotactl add device -g ${view.name} --from-file FILE), or check -g`
        : `create them first, or use names the pattern matches`;
    throw new CliError(
      EXIT.NOT_FOUND,
      `${missing.length} of ${names.length} device names ${why}: ${someOf(missing)}; ${NOT_WRITTEN}; ${fix}`,
    );
  }
  const inState = (state: DeviceState) =>
    [...states].filter(([, s]) => s === state).map(([n]) => n);
  const provisioned = inState("provisioned");
  if (provisioned.length > 0)
    ctx.console.warn(
      `${devicesAre(provisioned.length)} already provisioned, so their tokens cannot provision them again until an operator resets them (iotactl reset device): ${someOf(provisioned)}`,
    );
  const revoked = inState("revoked");
  if (revoked.length > 0)
    ctx.console.warn(
      `${devicesAre(revoked.length)} revoked and cannot provision until an operator resets them: ${someOf(revoked)}`,
    );
}

/**
 * The state of each of `names` that exists in the group. Hint: whichever takes fewer requests: one
 * lookup per name (a few names in a big group), or the group's listing page by page (many names).
 */
async function deviceStates(
  client: ApiClient,
  view: GroupView,
  names: string[],
): Promise<Map<string, DeviceState>> {
  const states = new Map<string, DeviceState>();
  if (names.length === 0) return states;
  const pages = Math.ceil((view.deviceCount ?? Number.POSITIVE_INFINITY) / PAGE);
  if (names.length <= pages) {
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const name = names[next++] as string;
        try {
          states.set(name, (await ask(() => client.getDevice(view.name, name))).state);
        } catch (error) {
          if (!isCliError(error) || error.exitCode !== EXIT.NOT_FOUND) throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: LOOKUPS_AT_ONCE }, worker));
    return states;
  }
  const wanted = new Set(names);
  await ask(async () => {
    for await (const device of client.devices(view.name, PAGE))
      if (wanted.has(device.name)) states.set(device.name, device.state);
  });
  return states;
}
