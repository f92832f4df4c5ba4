/** `npm run bench`: every benchmark in one run, each printing its own table and ratios. */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { main as provision } from "./provision.ts";
import { main as renew } from "./renew.ts";
import { main as fleet } from "./fleet.ts";
import { main as agentFootprint } from "./agent-footprint.ts";
import { main as fleetStatus } from "./fleet-status.ts";

const started = new Date();
console.log(`# IoTA benchmarks, ${started.toISOString()}`);
console.log(
  `machine: ${navigator.hardwareConcurrency} cores, Bun ${Bun.version}, ${process.platform}/${process.arch}`,
);

const results: [string, unknown][] = [];
results.push(["provisioning", await provision()]);
results.push(["renewal", await renew()]);
results.push(["fleet renewal", await fleet()]);
results.push(["agent footprint", await agentFootprint()]);
results.push(["fleet status", await fleetStatus()]);
// Hint: mass device creation is written separately; it joins the run once its module exists.
const massCreate = join(import.meta.dir, "mass-create.ts");
if (existsSync(massCreate)) {
  const module = (await import(massCreate)) as { main?: () => Promise<unknown> };
  if (typeof module.main === "function") results.push(["mass creation", await module.main()]);
}

console.log("\n## Summary\n");
for (const [name, value] of results) console.log(`${name}: ${JSON.stringify(value)}`);
