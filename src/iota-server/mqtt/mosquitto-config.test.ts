/** The Mosquitto configuration generator, and docs/mosquitto.md showing exactly what it generates. */

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { mosquittoAcl, mosquittoConfig } from "./mosquitto-config.ts";

const documented = {
  port: 8883,
  caFile: "/etc/mosquitto/iota/ca.pem",
  crlFile: "/etc/mosquitto/iota/crl.pem",
  certFile: "/etc/mosquitto/iota/broker.pem",
  keyFile: "/etc/mosquitto/iota/broker.key",
  aclFile: "/etc/mosquitto/iota/acl",
};

describe("mosquitto config", () => {
  test("requires a client certificate of the tenant CA, checks the CRL and names clients by their CN", () => {
    const conf = mosquittoConfig(documented).split("\n");
    for (const line of [
      "allow_anonymous false",
      "listener 8883",
      "cafile /etc/mosquitto/iota/ca.pem",
      "require_certificate true",
      "use_identity_as_username true",
      "crlfile /etc/mosquitto/iota/crl.pem",
      "acl_file /etc/mosquitto/iota/acl",
    ]) {
      expect(conf).toContain(line);
    }
    expect(conf.join("\n")).not.toContain("log_dest");
  });

  test("binds an address and logs to stderr when asked", () => {
    const conf = mosquittoConfig({
      ...documented,
      bindAddress: "127.0.0.1",
      logToStderr: true,
    }).split("\n");
    expect(conf).toContain("listener 8883 127.0.0.1");
    expect(conf).toContain("log_dest stderr");
  });

  test("the ACL confines writes to the device's own subtree under the prefix", () => {
    expect(mosquittoAcl("acme").split("\n")).toContain("pattern readwrite acme/+/%u/#");
    expect(mosquittoAcl().split("\n")).toEqual(
      expect.arrayContaining(["pattern readwrite iota/+/%u/#", "pattern read iota/+/+/status"]),
    );
  });

  test("docs/mosquitto.md shows the generated config and ACL verbatim", () => {
    const docs = readFileSync(join(import.meta.dir, "../../../docs/mosquitto.md"), "utf8");
    expect(docs).toContain(`\`\`\`conf\n${mosquittoConfig(documented)}\`\`\``);
    expect(docs).toContain(`\`\`\`conf\n${mosquittoAcl()}\`\`\``);
  });
});
