/** `npm run bench`: every benchmark in one run, each printing its own table and ratios. */

import { main as provision } from "./provision.ts";
import { main as renew } from "./renew.ts";
import { main as fleet } from "./fleet.ts";
import { main as agentFootprint } from "./agent-footprint.ts";
import { main as fleetStatus } from "./fleet-status.ts";
import { main as massCreate } from "./mass-create.ts";

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
results.push(["mass creation", await massCreate()]);

console.log("\n## Summary\n");
for (const [name, value] of results) console.log(`${name}: ${JSON.stringify(value)}`);
