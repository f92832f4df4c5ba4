/**
 * IoTA's expected failures: an error says what kind of failure it is, never how a transport shows it.
 * The edges map kinds to what their users see: iota-server to HTTP statuses (problem+json), the CLIs to
 * exit codes.
 */

import type { FieldError } from "./problem.ts";

/** What went wrong, in the words of the domain. */
export type ErrorKind =
  /** The input is malformed or breaks a rule; `errors` names the fields. */
  | "invalid"
  /** No credential, or one that is not valid for what it claims. */
  | "unauthorized"
  /** A valid caller asked for something its state forbids (a revoked device renewing). */
  | "forbidden"
  /** The named group, device or tenant does not exist (only where naming it reveals nothing). */
  | "not-found"
  /** It exists already, or the current state conflicts with the request. */
  | "conflict"
  /** The input is larger than allowed. */
  | "too-large"
  /** The input is not in a format the operation reads. */
  | "unsupported-media-type"
  /** The request did not arrive in time (a body sent too slowly). */
  | "timeout"
  /** Too many requests from this source; `retryAfter` says when to come back. */
  | "rate-limited"
  /** The service cannot take the work now (overload, a database down); `retryAfter` when known. */
  | "unavailable";

/** An expected failure; one handler per edge turns it into an answer. */
export class IotaError extends Error {
  /** The kind of failure. */
  readonly kind: ErrorKind;
  /** Per-field reasons, for invalid input. */
  readonly errors: FieldError[] | undefined;
  /** Seconds the caller should wait (rate-limited, unavailable). */
  readonly retryAfter: number | undefined;

  constructor(
    kind: ErrorKind,
    detail: string,
    options: { errors?: FieldError[]; retryAfter?: number } = {},
  ) {
    super(detail);
    this.name = "IotaError";
    this.kind = kind;
    this.errors = options.errors;
    this.retryAfter = options.retryAfter;
  }
}

/** Type guard for {@link IotaError}. */
export function isIotaError(error: unknown): error is IotaError {
  return error instanceof IotaError;
}

/** An `invalid` error naming one field. */
export function invalidField(field: string, message: string): IotaError {
  return new IotaError("invalid", `${field} ${message}`, { errors: [{ field, message }] });
}
