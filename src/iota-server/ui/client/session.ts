/** The signed-in admin token, kept in this tab's sessionStorage only: never a cookie, localStorage or a URL. */

const KEY = "iota.adminToken";

/** The token of this tab's session, or undefined when signed out. */
export function sessionToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

/** Keeps `token` for this tab until it is closed or the operator signs out. */
export function startSession(token: string): void {
  sessionStorage.setItem(KEY, token);
}

/** Forgets the token. */
export function endSession(): void {
  sessionStorage.removeItem(KEY);
}
