/** A device: its certificate, readiness and history, and the revoke and reset actions (each confirmed). */

import { ApiError } from "./api.ts";
import type { Device, HistoryEvent } from "./api-types.ts";
import { confirmAction } from "./confirm-dialog.ts";
import { badge, expiryCell, onlineText } from "./device-table.ts";
import { dataTable, details, h, notice } from "./dom.ts";
import { timeCell } from "./format.ts";
import { breadcrumb } from "./group-page.ts";
import type { Route } from "./router.ts";
import type { Page, PageContext } from "./view.ts";

type DeviceRoute = Extract<Route, { page: "device" }>;

/** The device page. */
export const devicePage: Page<DeviceRoute> = async (ctx) => {
  const { group, device: name } = ctx.route;
  const [device, history] = await Promise.all([
    ctx.api.device(group, name),
    ctx.api.history(group, name),
  ]);
  const heading = h("h1", { tabindex: -1 }, name);
  return {
    title: `${name} (${group})`,
    body: [
      breadcrumb(group, name),
      heading,
      h(
        "p",
        { class: "device-state" },
        "State: ",
        badge(device.state),
        " ",
        badge(onlineText(device)),
      ),
      h(
        "section",
        { "aria-labelledby": "actions-title" },
        h("h2", { id: "actions-title" }, "Actions"),
        actions(ctx, device),
      ),
      h(
        "section",
        { "aria-labelledby": "certificate-title" },
        h("h2", { id: "certificate-title" }, "Certificate"),
        details([
          ["Serial", device.serial === null ? "—" : h("code", { class: "serial" }, device.serial)],
          ["Valid from", timeCell(device.notBefore)],
          ["Valid until", expiryCell(device.notAfter)],
          ["Next renewal", timeCell(device.renewAt)],
          ["Provisioned", timeCell(device.provisionedAt)],
          ["Last renewal", timeCell(device.lastRenewal)],
          ["Created", timeCell(device.createdAt)],
          ["Last seen (readiness changed)", timeCell(device.seenAt)],
        ]),
      ),
      h(
        "section",
        { "aria-labelledby": "history-title" },
        h("h2", { id: "history-title" }, "History"),
        historyView(history),
      ),
    ],
  };
};

function historyView(history: HistoryEvent[] | undefined): HTMLElement {
  if (history === undefined)
    return notice(
      "info",
      "History unavailable: this server does not answer GET /v1/groups/{group}/devices/{device}/history.",
    );
  if (history.length === 0) return notice("info", "Nothing has happened to this device yet.");
  return dataTable(
    "history",
    "Issuance, renewal and revocation, oldest first",
    [{ title: "When" }, { title: "Event" }, { title: "Certificate serial" }],
    history.map((e) => [
      timeCell(e.at, true),
      badge(e.event),
      e.serial === null ? "—" : h("code", { class: "serial" }, e.serial),
    ]),
  );
}

function actions(ctx: PageContext<DeviceRoute>, device: Device): HTMLElement {
  const { group, name } = device;
  const revoke = h(
    "button",
    { type: "button", class: "button danger", disabled: device.state === "revoked" },
    "Revoke…",
  );
  const reset = h("button", { type: "button", class: "button" }, "Reset…");
  const outcome = h("div", { class: "outcome" });
  const run = async (button: HTMLButtonElement, action: () => Promise<Device>, done: string) => {
    button.disabled = true;
    try {
      const after = await action();
      ctx.reload(`${done} Its state is now ${after.state}.`);
    } catch (error) {
      // Hint: a token rotated meanwhile is no failure of the action: the page itself asks for a new one.
      if (error instanceof ApiError && error.status === 401) return ctx.reload();
      outcome.replaceChildren(
        notice("error", error instanceof Error ? error.message : String(error)),
      );
      button.disabled = false;
      // Disabling the focused button sent the focus to <body>; the keyboard user gets it back where it was.
      button.focus();
    }
  };
  revoke.addEventListener("click", async () => {
    const answer = await confirmAction({
      title: `Revoke ${name}?`,
      text: `Its certificates go on the CRL at once: ${name} can no longer renew or connect to the broker, and cannot provision again until an operator resets it.`,
      confirmLabel: `Revoke ${name}`,
    });
    if (answer.confirmed)
      await run(revoke, () => ctx.api.revoke(group, name), `${name} is revoked.`);
  });
  reset.addEventListener("click", async () => {
    const answer = await confirmAction({
      title: `Reset ${name}?`,
      text: `Its certificates are revoked and ${name} goes back to created, so it may provision again. iotad does so by itself, proving it still holds its key.`,
      confirmLabel: `Reset ${name}`,
      option: {
        label: "The device lost its key",
        hint: "Lets any key provision it again with the device's token alone. Leave unchecked unless the device was wiped.",
      },
    });
    if (answer.confirmed)
      await run(reset, () => ctx.api.reset(group, name, answer.option), `${name} is reset.`);
  });
  return h("div", { class: "actions" }, revoke, reset, outcome);
}
