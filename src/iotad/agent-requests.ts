/** The agent's two requests to the service, each with its disk steps: the key, the CSR, the call, the install. */

import { signRecoveryProof } from "../core/recovery-proof.ts";
import { signRenewProof } from "../core/renew-proof.ts";
import { say } from "./agent-messages.ts";
import type { AttemptResult } from "./agent-state.ts";
import type { Identity } from "./identity.ts";
import type { IdentityStore } from "./identity-store.ts";
import type { ServerClock } from "./server-clock.ts";
import type { ProvisionRequest, ServiceClient } from "./service-client.ts";

/** What the requests need. */
export interface RequestDeps {
  settings: {
    tenant?: string;
    group: string;
    device: string;
    credential: { kind: "token" | "secret"; value: string };
  };
  store: IdentityStore;
  service: ServiceClient;
  serverClock: ServerClock;
}

/** Provisions with the pending (or adopted) key, or a new one; installs what the service issued. */
export async function provisionRequest(
  deps: RequestDeps,
  replacing: Identity | undefined,
): Promise<AttemptResult> {
  const { settings, store, service } = deps;
  return await guardLocal(async () => {
    const request = await store.nextRequestKey(settings.device, replacing);
    const body: ProvisionRequest = {
      group: settings.group,
      device: settings.device,
      csr: request.csr,
      credential: settings.credential,
    };
    if (settings.tenant !== undefined) body.tenant = settings.tenant;
    // Hint: after an operator's reset the service asks for proof of the key the device held; the token alone is not enough.
    if (replacing) {
      const now = new Date(deps.serverClock.now());
      body.proof = await signRecoveryProof(
        replacing.keys.privateKey,
        settings.group,
        settings.device,
        request.csr,
        now,
      );
    }
    const answer = await service.provision(body);
    if (!answer.ok) return answer;
    return { ok: true, identity: await store.install(answer.issued, request.keyPem, true) };
  });
}

/** Renews `current` with a proof signed by its key; installs what the service issued. */
export async function renewRequest(deps: RequestDeps, current: Identity): Promise<AttemptResult> {
  const { settings, store, service, serverClock } = deps;
  return await guardLocal(async () => {
    const request = await store.nextRequestKey(settings.device, current);
    const offset = serverClock.offset();
    const proof = await signRenewProof(
      current.keys.privateKey,
      current.serial,
      request.csr,
      new Date(serverClock.now()),
    );
    const answer = await service.renew(current.certPem, proof);
    if (!answer.ok && answer.failure.kind === "refused" && serverClock.offset() !== offset) {
      // Hint: the proof was signed by a clock this very answer corrected (a device that booted with its clock far off); not a refusal for good.
      const { status, message } = answer.failure;
      return {
        ok: false,
        failure: { kind: "busy", status, message: say.signedBeforeClockKnown(message) },
      };
    }
    if (!answer.ok) return answer;
    return { ok: true, identity: await store.install(answer.issued, request.keyPem, false) };
  });
}

/** Turns a thrown local failure (disk full, permission) into a value. */
async function guardLocal(work: () => Promise<AttemptResult>): Promise<AttemptResult> {
  try {
    return await work();
  } catch (error) {
    return { ok: false, failure: { kind: "local", message: (error as Error).message } };
  }
}
