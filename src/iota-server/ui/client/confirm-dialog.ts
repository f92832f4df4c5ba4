/** A modal confirmation (<dialog>): focus starts on Cancel, Escape cancels, focus returns to the trigger. */

import { h } from "./dom.ts";

/** What to ask. */
export interface Confirmation {
  title: string;
  text: string;
  /** The confirming button, naming the action ("Revoke lamp-1"). */
  confirmLabel: string;
  /** An optional checkbox (unchecked by default), e.g. a variant of the action. */
  option?: { label: string; hint: string };
}

/** The operator's answer. */
export interface ConfirmAnswer {
  confirmed: boolean;
  /** Whether the option's box was checked. */
  option: boolean;
}

let dialogs = 0;

/** Asks for confirmation in a modal dialog; resolves when it closes. */
export function confirmAction(ask: Confirmation): Promise<ConfirmAnswer> {
  const id = `confirm-${++dialogs}`;
  const box = h("input", {
    type: "checkbox",
    id: `${id}-option`,
    "aria-describedby": `${id}-hint`,
  });
  const cancel = h("button", { type: "button", class: "button" }, "Cancel");
  const confirm = h("button", { type: "button", class: "button danger" }, ask.confirmLabel);
  const dialog = h(
    "dialog",
    { class: "confirm", "aria-labelledby": `${id}-title`, "aria-describedby": `${id}-text` },
    h("h2", { id: `${id}-title` }, ask.title),
    h("p", { id: `${id}-text` }, ask.text),
    ask.option &&
      h(
        "div",
        { class: "option" },
        box,
        h("label", { for: `${id}-option` }, ask.option.label),
        h("p", { id: `${id}-hint`, class: "muted" }, ask.option.hint),
      ),
    h("div", { class: "dialog-buttons" }, cancel, confirm),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    cancel.addEventListener("click", () => dialog.close("cancel"));
    confirm.addEventListener("click", () => dialog.close("confirm"));
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve({ confirmed: dialog.returnValue === "confirm", option: box.checked });
    });
    dialog.showModal();
    // Hint: the safe answer has focus, so an Enter pressed out of habit does not revoke anything.
    cancel.focus();
  });
}
