/** What the .deb boot tests share: an unpacked image holding the release's .deb, a real server, a free port. */

import { copyFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { currentRelease } from "../../helpers/release.ts";
import type { Container } from "./container.ts";
import { type FleetServer, startFleetServer } from "./fleet-server.ts";
import { freePort } from "./host-tools.ts";
import { ALL_IMAGES, type ImageSpec, prefetchImages, unpackImage } from "./image-cache.ts";

/** Where the release's .deb waits inside the image for `dpkg -i`. */
export const DEB = "/var/tmp/iotad.deb";

/** An image ready to boot: its root folder, the server its agent provisions from, a port for the agent. */
export interface DebBoot {
  root: string;
  server: FleetServer;
  port: number;
}

/** Unpacks `spec` (every image is made first, once), puts `target`'s .deb into it, starts the server. */
export async function prepareDebBoot(
  spec: ImageSpec,
  target: string,
  serverName: string,
): Promise<DebBoot> {
  prefetchImages(ALL_IMAGES);
  const release = currentRelease(resolve(import.meta.dir, "../../.."));
  const root = await unpackImage(spec);
  copyFileSync(release.path(target, "deb"), join(root, DEB));
  const server = await startFleetServer(serverName);
  return { root, server, port: await freePort() };
}

/** Shuts the container down, stops the server and removes the image's root, whichever of them exist. */
export async function disposeDebBoot(
  container: Container | undefined,
  server: FleetServer | undefined,
  root: string | undefined,
): Promise<void> {
  await container?.shutdown();
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
}
