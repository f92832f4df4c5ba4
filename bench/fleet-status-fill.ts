/**
 * The bulk SQL that fills the fleet-status benchmark's database: one statement for the devices (the same text on
 * SQLite and PostgreSQL; `$1` = now in epoch ms, `$2` = a certificate-sized text), then the counters computed
 * from them as schema migration 4 does. Values are spread by integer hashes of the row number, so every run
 * builds the same fleet.
 *
 * The fleet: 19 % of the devices in one large group, the rest in groups of 9,000; 3 % created, 2 % revoked, the
 * rest provisioned (92 % of those online, 6 % offline, 2 % never seen). Certificates are 30-day ones between
 * issue and their planned renewal (18.5-20 days in, as a fleet renewing on schedule is), except 0.1 % whose
 * renewal is overdue and 0.3 % that expire within a week.
 */

import type { Dialect } from "../src/iota-server/store/migrations.ts";

/** The large group, where the filtered pages are measured. */
export const BIG_GROUP = "fleet-big";
const GROUP_SIZE = Number(process.env.BENCH_FLEET_GROUP_SIZE ?? 9000);

/** Devices in the large group for a fleet of `devices`. */
const bigOf = (devices: number) => Math.floor(devices * 0.19);

/** Every group of a fleet of `devices`. */
export function groupNames(devices: number): string[] {
  const rest = Math.ceil((devices - bigOf(devices)) / GROUP_SIZE);
  return [BIG_GROUP, ...Array.from({ length: rest }, (_, i) => `g-${i}`)];
}

/** The fill statements: the devices (with `$1`, `$2`), then the counters (no parameters). */
export function fillSql(
  _dialect: Dialect,
  devices: number,
): { devices: string; counters: string[] } {
  const big = bigOf(devices);
  const now = "cast($1 as bigint)";
  const insert = `with recursive c(i) as (select cast(0 as bigint) union all select i + 1 from c where i < ${devices - 1}),
    h as (select i, (i * 7919) % 1000 as r, (i * 104729) % 1000003 % 100 as r2,
                 (i * 2654435761) % 1000003 % 1000 as r3,
                 1598400 + (i * 69621) % 129600 as off from c),
    v as (select i, r2, off,
                 case when r < 30 then 'created' when r < 50 then 'revoked' else 'provisioned' end as state,
                 case when r3 = 0 then off + 7200 + i % 86400
                      when r3 <= 3 then 1987200 + i % 518400
                      else (i * 48271) % off end as age from h)
    insert into devices (tenant_id, group_name, name, state, serial, key_hash, certificate, not_before, not_after,
      first_issue, provisioned_at, created_at, renew_at, online, seen_at)
    select 'default',
      case when i < ${big} then '${BIG_GROUP}' else 'g-' || ((i - ${big}) / ${GROUP_SIZE}) end,
      'dev-' || i, state,
      case when state = 'created' then null else 'b0' || i end,
      case when state = 'created' then null else 'k' || i end,
      case when state = 'created' then null else $2 end,
      case when state = 'created' then null else ${now} - age * 1000 end,
      case when state = 'created' then null else ${now} - age * 1000 + 2592000000 end,
      0,
      case when state = 'created' then null else ${now} - age * 1000 end,
      ${now} - 3456000000,
      case when state = 'created' then null else ${now} - age * 1000 + off * 1000 end,
      case when state <> 'provisioned' then null when r2 < 92 then 1 when r2 < 98 then 0 else null end,
      case when state = 'provisioned' and r2 < 98 then ${now} - (i * 13) % 86400000 else null end
    from v`;
  return {
    devices: insert,
    counters: [
      `insert into group_tallies (tenant_id, group_name, state, readiness, n)
        select tenant_id, group_name, state,
          case when online is null then 'unseen' when online = 1 then 'online' else 'offline' end, count(*)
        from devices group by tenant_id, group_name, state,
          case when online is null then 'unseen' when online = 1 then 'online' else 'offline' end`,
      `insert into renewal_hours (tenant_id, group_name, hour, n)
        select tenant_id, group_name, renew_at / 3600000, count(*) from devices
        where state = 'provisioned' group by tenant_id, group_name, renew_at / 3600000`,
      `insert into renewal_hours (tenant_id, group_name, hour, n)
        select tenant_id, '', renew_at / 3600000, count(*) from devices
        where state = 'provisioned' group by tenant_id, renew_at / 3600000`,
    ],
  };
}
