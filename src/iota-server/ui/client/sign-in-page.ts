/** The sign-in form: the admin token in a password field, checked against the API before it is kept. */

import { Api, ApiError } from "./api.ts";
import { h, notice } from "./dom.ts";
import { startSession } from "./session.ts";
import { tokenProblem } from "./token-check.ts";
import type { View } from "./view.ts";

/** The sign-in page; `signedIn` runs once a token the server accepts is kept. `message` says why it shows. */
export function signInView(message: string | undefined, signedIn: () => void): View {
  const input = h("input", {
    type: "password",
    id: "token",
    name: "token",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "token-hint",
  });
  const status = h("div", { id: "sign-in-status" }, message && notice("info", message));
  const button = h("button", { type: "submit", class: "button primary" }, "Sign in");
  // Hint: method=post and the CSP's form-action 'none' mean a token is never put in a URL, script or not.
  const form = h(
    "form",
    { class: "sign-in", method: "post", "aria-labelledby": "sign-in-title" },
    h("label", { for: "token" }, "Admin token"),
    input,
    h(
      "p",
      { id: "token-hint", class: "muted" },
      "The token iota-server wrote to its data folder (",
      h("code", {}, ".iota/admin-token"),
      " after npm start). It stays in this browser tab only and is sent to this server alone.",
    ),
    button,
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    const problem = token === "" ? "Enter the admin token." : tokenProblem(token);
    if (problem !== undefined) {
      status.replaceChildren(notice("error", problem));
      input.focus();
      return;
    }
    button.disabled = true;
    status.replaceChildren(h("p", { role: "status" }, "Checking the token…"));
    try {
      await new Api(token).groups();
      startSession(token);
      input.value = "";
      signedIn();
    } catch (error) {
      const text =
        error instanceof ApiError && error.status === 401
          ? "The server refused this token. Check that it is the admin token of this server."
          : `Signing in failed: ${error instanceof Error ? error.message : String(error)}`;
      status.replaceChildren(notice("error", text));
      button.disabled = false;
      input.focus();
      input.select();
    }
  });
  return {
    title: "Sign in",
    body: [h("h1", { id: "sign-in-title", tabindex: -1 }, "Sign in to IoTA"), form],
    focus: input,
  };
}
