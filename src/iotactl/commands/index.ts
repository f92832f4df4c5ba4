/** Every iotactl command, in the order `iotactl --help` lists them. */

import type { Command } from "../command.ts";
import { configure } from "./configure.ts";
import { addGroup } from "./add-group.ts";
import { addDevice } from "./add-device.ts";
import { listGroups } from "./list-groups.ts";
import { listDevices } from "./list-devices.ts";
import { getGroup } from "./get-group.ts";
import { getDevice } from "./get-device.ts";
import { getCa } from "./get-ca.ts";
import { getCrl } from "./get-crl.ts";
import { deleteGroup } from "./delete-group.ts";
import { deleteDevice } from "./delete-device.ts";
import { revokeDevice } from "./revoke-device.ts";
import { resetDevice } from "./reset-device.ts";
import { rotateSecret } from "./rotate-secret.ts";
import { setGroup } from "./set-group.ts";
import { provision } from "./provision.ts";
import { genConfig } from "./gen-config.ts";
import { completion } from "./completion.ts";
import { status } from "./status.ts";

/** The command table. */
export const COMMANDS: Command[] = [
  configure,
  addGroup,
  addDevice,
  listGroups,
  listDevices,
  status,
  getGroup,
  getDevice,
  getCa,
  getCrl,
  deleteGroup,
  deleteDevice,
  revokeDevice,
  resetDevice,
  rotateSecret,
  setGroup,
  provision,
  genConfig,
  completion,
];
