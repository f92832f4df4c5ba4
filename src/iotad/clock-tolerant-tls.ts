/**
 * One HTTPS request to a server whose certificate chains to the pinned `serverCa`, for a device whose clock
 * is far off (a dead RTC battery: 1970, or a year ahead). TLS checks certificate validity against the local
 * clock, so such a device could never reach the service to learn the right time. This path verifies
 * everything TLS would (the signature chain up to the pinned CA, the host name) except the validity window,
 * and only then sends the request; the answer's Date header then corrects the agent's view of time.
 * It is used only with a pinned CA, and only after the normal, fully checked request failed for time.
 */

import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { connect, type PeerCertificate, type TLSSocket } from "node:tls";

/** An answer: status, lower-case headers, body text (the shape the agent's transport returns). */
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The TLS verification errors that mean "the clock and the certificate disagree", and nothing else. */
export const CLOCK_ERRORS = new Set(["CERT_NOT_YET_VALID", "CERT_HAS_EXPIRED"]);

/** True when `error` is TLS refusing the peer's certificate for the local clock alone. */
export function isClockError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && CLOCK_ERRORS.has(code);
}

/** The pinned CA certificates of a PEM text (one or more). */
function pinnedCas(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/** The certificates the server presented, leaf first. */
function presented(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert: PeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert?.raw && !seen.has(cert.fingerprint256) && chain.length < 8) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = (cert as { issuerCertificate?: PeerCertificate }).issuerCertificate;
  }
  return chain;
}

/**
 * Why the presented chain does not lead from a certificate for `host` to a pinned CA (signatures and names
 * only; validity times are not looked at), or undefined when it does.
 */
export function chainProblem(
  chain: X509Certificate[],
  cas: X509Certificate[],
  host: string,
  pinned = "serverCa",
): string | undefined {
  const leaf = chain[0];
  if (!leaf) return "the server presented no certificate";
  const named = isIP(host) ? leaf.checkIP(host) : leaf.checkHost(host);
  if (!named) return `the server's certificate does not name ${host}`;
  let current = leaf;
  for (let hop = 0; hop < 8; hop++) {
    if (cas.some((ca) => current.checkIssued(ca) && current.verify(ca.publicKey))) return undefined;
    const issuer = chain.find(
      (c) => c !== current && c.ca && current.checkIssued(c) && current.verify(c.publicKey),
    );
    if (!issuer) return `the server's certificate does not chain to the pinned ${pinned}`;
    current = issuer;
  }
  return "the server's certificate chain is too long";
}

/** The code of a TLS verification error (Node gives a string, other runtimes an Error). */
function verificationCode(error: unknown): string | undefined {
  if (error === null || error === undefined || error === "") return undefined;
  if (typeof error === "string") return error;
  const e = error as { code?: unknown; message?: unknown };
  return String(e.code ?? e.message);
}

/**
 * Why the TLS connection `socket` (opened with `rejectUnauthorized: false` and `ca: caPem`) must not be used, or
 * undefined when the only thing wrong with the server's certificate is the local clock: OpenSSL found nothing
 * but a validity error, and the chain leads from a certificate for `host` to a pinned CA.
 */
export function problemIgnoringClock(
  socket: TLSSocket,
  caPem: string,
  host: string,
  pinned = "serverCa",
): string | undefined {
  const code = verificationCode(socket.authorizationError as unknown);
  if (code !== undefined && !CLOCK_ERRORS.has(code)) return `${code} (the server's certificate)`;
  return chainProblem(presented(socket), pinnedCas(caPem), host, pinned);
}

/** Reads an HTTP/1.1 answer (status, headers, a Content-Length, chunked or read-to-close body). */
function parseAnswer(raw: Buffer): Answer {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) throw new Error("the answer ended before its headers");
  const [statusLine = "", ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!status) throw new Error(`not an HTTP answer: ${statusLine.slice(0, 40)}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
    const parts: Buffer[] = [];
    for (let at = 0; ; ) {
      const lineEnd = body.indexOf("\r\n", at);
      const size = Number.parseInt(body.subarray(at, lineEnd).toString("latin1"), 16);
      if (!(size > 0)) break;
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers["content-length"] !== undefined) {
    body = body.subarray(0, Number(headers["content-length"]));
  }
  return { status, headers, body: body.toString("utf8") };
}

/** Sends one request over TLS verified against `caPem` without the validity window (see the module comment). */
export function requestIgnoringClock(
  request: { method: string; url: URL; headers: Record<string, string>; body?: string },
  caPem: string,
  timeoutMs: number,
  maxBody: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { url } = request;
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const socket = connect({
      host,
      port: Number(url.port || 443),
      ...(isIP(host) ? {} : { servername: host }),
      ca: caPem,
      // Hint: checked by hand below, before a single byte of the request is written.
      rejectUnauthorized: false,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () =>
      fail(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)),
    );
    socket.once("error", fail);
    socket.once("secureConnect", () => {
      const problem = problemIgnoringClock(socket, caPem, host);
      if (problem) return fail(new Error(problem));
      const body = request.body ?? "";
      const head = [
        `${request.method} ${url.pathname}${url.search} HTTP/1.1`,
        `host: ${url.host}`,
        "connection: close",
        `content-length: ${Buffer.byteLength(body)}`,
        ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`),
      ];
      // Hint: write, not end: some servers drop a request whose client half-closed before the answer.
      socket.write(`${head.join("\r\n")}\r\n\r\n${body}`);
    });
    socket.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) return fail(new Error(`the answer is larger than ${maxBody} bytes`));
      chunks.push(chunk);
    });
    socket.once("end", () => {
      try {
        resolve(parseAnswer(Buffer.concat(chunks)));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}
