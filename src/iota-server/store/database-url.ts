/** Database URLs as operators may see them: never with a password. */

/**
 * The URL without its password: everything between the user name and the last `@` (a password may hold `@` or
 * `/` unencoded), and a `password=` parameter. Hint: an `@` after the host (rare) only hides more, never less.
 */
export function redactUrl(url: string): string {
  const hidden = url.replace(/([?&]password=)[^&#]*/gi, "$1***");
  const match = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(hidden);
  if (!match) return hidden;
  const [, scheme = "", rest = ""] = match;
  const at = rest.lastIndexOf("@");
  const colon = rest.indexOf(":");
  if (at < 0 || colon < 0 || colon > at) return hidden;
  return `${scheme}${rest.slice(0, colon)}:***${rest.slice(at)}`;
}
