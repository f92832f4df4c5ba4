/** `iotactl get ca`: the tenant CA certificate, PEM on stdout. */

import type { Command } from "../command.ts";
import { positionals } from "../flags.ts";
import { printJson } from "../output.ts";

/** The `get ca` command. */
export const getCa: Command = {
  words: ["get", "ca"],
  summary: "print the tenant CA certificate (PEM)",
  usage: "get ca",
  description:
    "Prints the tenant CA certificate, PEM, on stdout: what brokers and services trust for device certificates.",
  flags: [],
  examples: ["iotactl get ca > ca.pem", "iotactl get ca | openssl x509 -noout -subject"],
  async run(ctx) {
    positionals(ctx.args, []);
    const pem = await ctx.anonymous().ca();
    if (ctx.json) printJson(ctx.io, { ca: pem });
    else ctx.io.stdout.write(pem);
    return 0;
  },
};
