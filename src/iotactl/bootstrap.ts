/**
 * The trust bootstrap of `iotactl configure --fingerprint` (as `step ca bootstrap` does it): fetch the
 * server CA over a connection not yet trusted, check its SHA-256 fingerprint, then make a second,
 * verified request that trusts only that CA. A man in the middle who relays the real (public) CA
 * but cannot present a certificate chained to it fails the second step. No token is ever sent.
 */

import { fingerprintOfDer } from "../core/fingerprint.ts";
import { decodePem, encodePem } from "../core/pem.ts";
import { parseProblem, problemMessage } from "../core/problem-parse.ts";
import { identityError } from "./client.ts";
import { CliError, EXIT } from "./exit-codes.ts";
import type { Io } from "./io.ts";
import { certificateFailure, type FetchTls, UNVERIFIED_TLS, verifiedTls } from "./trust.ts";

/** The path of the server CA (public, PEM). */
export const SERVER_CA_PATH = "/v1/server-ca";
/** A CA certificate is a few kilobytes; an untrusted server gets no more than this. */
const MAX_ANSWER_BYTES = 64 * 1024;
const TIMEOUT_MS = 30_000;

/** Fetches, checks and proves the CA of `server` whose fingerprint is `expected` (`AB:CD:...`); returns its PEM. */
export async function bootstrapServerCa(io: Io, server: string, expected: string): Promise<string> {
  const offered = await fetchServerCa(io, server, UNVERIFIED_TLS, (failure) =>
    identityError(server, failure, false),
  );
  const blocks = decodePem(offered).filter((b) => b.label === "CERTIFICATE");
  if (blocks.length === 0)
    throw new CliError(
      EXIT.IDENTITY,
      `${server} answered GET ${SERVER_CA_PATH} without a PEM certificate; is it an IoTA server? Nothing was saved`,
    );
  const match = blocks.find((b) => fingerprintOfDer(b.der) === expected);
  if (!match) {
    const got = blocks.map((b) => fingerprintOfDer(b.der)).join(", ");
    throw new CliError(
      EXIT.IDENTITY,
      `the server CA of ${server} has the SHA-256 fingerprint ${got}, not ${expected}: either the fingerprint is mistyped or another party answers in the server's place; nothing was saved`,
    );
  }
  const pem = encodePem(match.der, "CERTIFICATE");
  // Hint: the PEM is public, so holding it proves nothing; a connection that verifies against it does.
  const again = await fetchServerCa(
    io,
    server,
    verifiedTls(pem),
    (failure) =>
      new CliError(
        EXIT.IDENTITY,
        `cannot verify the identity of ${server}: it served the CA with the fingerprint ${expected}, but its own certificate does not verify against that CA (${failure}); another party may be relaying the real CA; nothing was saved`,
      ),
  );
  if (!decodePem(again).some((b) => fingerprintOfDer(b.der) === expected))
    throw new CliError(
      EXIT.IDENTITY,
      `${server} served a different CA over the verified connection; nothing was saved`,
    );
  return pem;
}

/** `GET /v1/server-ca` with the given TLS options, without credentials; the PEM text. */
async function fetchServerCa(
  io: Io,
  server: string,
  tls: FetchTls,
  certificateError: (failure: string) => CliError,
): Promise<string> {
  let response: Response;
  try {
    response = await io.fetch(`${server}${SERVER_CA_PATH}`, {
      headers: { accept: "application/x-pem-file", connection: "close" },
      redirect: "manual",
      // Hint: no connection reuse, so the verified request opens (and verifies) a connection of its own.
      keepalive: false,
      signal: AbortSignal.timeout(TIMEOUT_MS),
      tls,
    });
  } catch (error) {
    const failure = certificateFailure(error);
    if (failure !== undefined) throw certificateError(failure);
    const message = (error as Error).message ?? String(error);
    throw new CliError(EXIT.UNREACHABLE, `cannot reach the IoTA server at ${server}: ${message}`);
  }
  const text = await limitedText(response, server);
  if (response.status === 200) return text;
  const detail = problemMessage(parseProblem(text)) ?? `HTTP ${response.status}`;
  if (response.status === 404)
    throw new CliError(
      EXIT.IDENTITY,
      `${server} has no server CA to pin (GET ${SERVER_CA_PATH}: ${detail}); if its certificate is from a public CA, configure it without --fingerprint, or pin a CA file with --ca-file; nothing was saved`,
    );
  throw new CliError(
    EXIT.FAILURE,
    `${server} answered GET ${SERVER_CA_PATH} with ${response.status}: ${detail}; nothing was saved`,
  );
}

/** The body as text, refusing more than {@link MAX_ANSWER_BYTES}. */
async function limitedText(response: Response, server: string): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new CliError(
        EXIT.FAILURE,
        `${server} answered GET ${SERVER_CA_PATH} with more than ${MAX_ANSWER_BYTES} bytes; is it an IoTA server? Nothing was saved`,
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
