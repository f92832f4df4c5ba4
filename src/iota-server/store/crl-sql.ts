/**
 * The tenant's newest signed CRL in the database (`tenant_crls`), so every replica serves the same CRL under one
 * number, and a number once served is never followed by a smaller one from another replica.
 */

import type { CrlState, SignedCrl } from "./store.ts";
import type { Query } from "./sql-driver.ts";
import { num, type Row } from "./rows.ts";

/** The tenant's revocation counter and what the stored CRL was signed at, without its text; undefined: no tenant. */
export async function crlState(sql: Query, tenantId: string): Promise<CrlState | undefined> {
  const [row] = await sql`select t.crl_number, c.crl_serial, c.revision, c.signed_at, c.next_update
    from tenants t left join tenant_crls c on c.tenant_id = t.id where t.id = ${tenantId}`;
  if (!row) return undefined;
  const signed =
    row.crl_serial === null || row.crl_serial === undefined ? undefined : crlFields(row);
  return { revision: num(row.crl_number), signed };
}

/** The stored CRL of a tenant, text included. */
export async function storedCrl(sql: Query, tenantId: string): Promise<SignedCrl | undefined> {
  const [row] = await sql`select * from tenant_crls where tenant_id = ${tenantId}`;
  return row ? toSignedCrl(row) : undefined;
}

/**
 * Stores `crl` unless a CRL with a greater number is stored already, and returns what is stored after that.
 * Hint: replicas that sign at once finish in any order; the compare in the upsert keeps the greatest number.
 */
export async function saveCrl(tx: Query, tenantId: string, crl: SignedCrl): Promise<SignedCrl> {
  await tx`insert into tenant_crls (tenant_id, crl_serial, revision, signed_at, next_update, pem)
    values (${tenantId}, ${crl.crlNumber}, ${crl.revision}, ${crl.signedAt}, ${crl.nextUpdate}, ${crl.pem})
    on conflict (tenant_id) do update set crl_serial = excluded.crl_serial, revision = excluded.revision,
      signed_at = excluded.signed_at, next_update = excluded.next_update, pem = excluded.pem
    where tenant_crls.crl_serial < excluded.crl_serial`;
  return (await storedCrl(tx, tenantId)) ?? crl;
}

/** A `tenant_crls` row's figures, without the CRL's text. */
function crlFields(row: Row): Omit<SignedCrl, "pem"> {
  return {
    crlNumber: num(row.crl_serial),
    revision: num(row.revision),
    signedAt: num(row.signed_at),
    nextUpdate: num(row.next_update),
  };
}

function toSignedCrl(row: Row): SignedCrl {
  return { ...crlFields(row), pem: String(row.pem) };
}
