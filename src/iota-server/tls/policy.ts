/** The service's TLS policy: protocol versions, cipher suites and the lifetime of its own certificates. */

/**
 * TLS 1.2 suites: ECDHE key exchange with AEAD ciphers only (Mozilla's "intermediate" list without DHE).
 * TLS 1.3 suites are all AEAD and need no list. Hint: the runtime's default would also accept CBC suites
 * with SHA-1 MACs; RSA variants stay for operators whose own certificate has an RSA key.
 */
export const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

/** The oldest protocol version the service speaks (TLS 1.0 and 1.1 are refused). */
export const TLS_MIN_VERSION = "TLSv1.2";

/**
 * Lifetime of the service's own server certificates (API and broker): 90 days, renewed by the service at
 * two thirds of it, so a certificate in use always has a month left.
 */
export const SERVER_CERT_VALIDITY_SECONDS = 90 * 86400;

/** The subject CN of the server CA (a 20-year root like the tenant CAs: clients pin it). */
export const SERVER_CA_NAME = "IoTA server CA";
