/** Which MQTT client ids a device may connect with on the embedded broker: its own `<group>/<device>`, or none. */

import type { DeviceIdentity } from "../../core/profile.ts";

/** A device's client id: `<group>/<device>` of its certificate, what iotad connects with. */
export function deviceClientId(identity: DeviceIdentity): string {
  return `${identity.group}/${identity.device}`;
}

/** The client id and session a CONNECT asked for. */
export interface ClientIdRequest {
  /** The client id as sent; "" when the client leaves it to the broker. */
  clientId: string;
  /** The CONNECT clean-session flag. */
  clean: boolean;
}

/**
 * Why the device `identity` may not connect as `request` asks; undefined when it may. The client id is bound to
 * the certificate: exactly `<group>/<device>` (a persistent session is then the device's own, and a second
 * connection takes over only its own session), or empty with a clean session (the broker assigns a fresh id
 * and keeps nothing once the connection ends). So no device can occupy, take over or block another's session,
 * and the broker keeps at most one persistent session per device, with no record of who owns which id.
 */
export function clientIdProblem(
  identity: DeviceIdentity,
  request: ClientIdRequest,
): string | undefined {
  const own = deviceClientId(identity);
  if (request.clientId === own) return undefined;
  if (request.clientId === "")
    return request.clean
      ? undefined
      : "an empty client id needs a clean session (MQTT 3.1.3-8); a persistent session uses the device's own client id";
  return `client id ${JSON.stringify(request.clientId)} is not the device's own: a device connects as ${JSON.stringify(own)}, or with an empty client id and a clean session`;
}
