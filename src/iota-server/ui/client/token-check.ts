/** What is wrong with a typed admin token before it is sent: a browser cannot put every text in a header. */

/**
 * Why `token` cannot be an admin token, or undefined when it may be one. Tokens are printable ASCII; a
 * character beyond it (a zero-width or non-breaking space, a curly quote copied from a document or a chat)
 * would make the browser refuse to send the request at all, which must not read as an unreachable server.
 */
export function tokenProblem(token: string): string | undefined {
  const at = token.search(/[^\x21-\x7e]/);
  if (at < 0) return undefined;
  const code = token.codePointAt(at) ?? 0;
  const name = code === 0x20 ? "a space" : `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return `The admin token holds ${name} at character ${at + 1}: a token is letters, digits and ASCII signs only. Was something pasted with it?`;
}
