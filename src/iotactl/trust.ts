/** How iotactl trusts a server: TLS options for Bun's fetch, and telling a certificate failure from a network one. */

/** Bun's TLS options for fetch. */
export interface FetchTls {
  rejectUnauthorized: boolean;
  ca?: string;
}

/**
 * The TLS options for a server: verification always on (an explicit `true` also outvotes
 * NODE_TLS_REJECT_UNAUTHORIZED=0), and with a pinned CA, that CA alone. Giving `ca` replaces the
 * system roots in Bun, so no public CA can vouch for a server whose private CA was pinned.
 */
export function verifiedTls(ca: string | undefined): FetchTls {
  return ca === undefined ? { rejectUnauthorized: true } : { rejectUnauthorized: true, ca };
}

/** TLS without verification: only for fetching a CA whose fingerprint is checked afterwards. */
export const UNVERIFIED_TLS: FetchTls = { rejectUnauthorized: false };

// Hint: OpenSSL's verification codes as Bun reports them (UNABLE_TO_VERIFY_LEAF_SIGNATURE,
// SELF_SIGNED_CERT_IN_CHAIN, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID, ...).
const VERIFY_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|INVALID_CA|ALTNAME/;

/** The verification failure in a fetch error (`unable to verify the first certificate`), or `undefined` for any other failure. */
export function certificateFailure(error: unknown): string | undefined {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  if (!VERIFY_CODE.test(code)) return undefined;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID")
    return "its certificate does not name the host in the URL";
  const message = typeof e.message === "string" ? e.message.split(/[.\n]/)[0] : "";
  return message && message !== code ? `${message} (${code})` : code;
}
