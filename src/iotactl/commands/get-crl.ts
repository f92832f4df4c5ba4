/** `iotactl get crl`: the tenant certificate revocation list, PEM on stdout. */

import type { Command } from "../command.ts";
import { positionals } from "../flags.ts";
import { printJson } from "../output.ts";

/** The `get crl` command. */
export const getCrl: Command = {
  words: ["get", "crl"],
  summary: "print the tenant CRL (PEM, X509 CRL)",
  usage: "get crl",
  description:
    "Prints the tenant's certificate revocation list, PEM (X509 CRL), on stdout; openssl and Mosquitto read it.",
  flags: [],
  examples: ["iotactl get crl > crl.pem", "iotactl get crl | openssl crl -noout -text"],
  async run(ctx) {
    positionals(ctx.args, []);
    const pem = await ctx.anonymous().crl();
    if (ctx.json) printJson(ctx.io, { crl: pem });
    else ctx.io.stdout.write(pem);
    return 0;
  },
};
