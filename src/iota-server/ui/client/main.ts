/** The dashboard's entry: the sign-in gate, the router and the page shell (header, focus, announcements). */

import { Api, ApiError } from "./api.ts";
import { devicePage } from "./device-page.ts";
import { byId, h, notice } from "./dom.ts";
import { groupPage } from "./group-page.ts";
import { overviewPage } from "./overview-page.ts";
import { parseRoute, routeHash, type Route } from "./router.ts";
import { endSession, sessionToken } from "./session.ts";
import { signInView } from "./sign-in-page.ts";
import type { PageContext, View } from "./view.ts";

const main = byId("main");
let generation = 0;
let signInMessage: string | undefined;
let flash: string | undefined;

/** The view of `ctx.route`. */
function render(ctx: PageContext): Promise<View> {
  const route = ctx.route;
  switch (route.page) {
    case "overview":
      return overviewPage({ ...ctx, route });
    case "group":
      return groupPage({ ...ctx, route });
    case "device":
      return devicePage({ ...ctx, route });
    case "not-found":
      return Promise.resolve({
        title: "Not found",
        body: [
          h("h1", { tabindex: -1 }, "Page not found"),
          h(
            "p",
            {},
            "The dashboard has no such page. ",
            h("a", { href: "#/" }, "Go to the overview."),
          ),
        ],
      });
  }
}

/** The header: the main navigation and, when signed in, the sign-out button. */
function renderHeader(route: Route | undefined): void {
  const overview = h(
    "a",
    { href: "#/", "aria-current": route?.page === "overview" ? "page" : undefined },
    "Overview",
  );
  byId("nav").replaceChildren(...(route ? [overview] : []));
  const session = byId("session");
  if (!route) {
    session.replaceChildren();
    return;
  }
  const signOut = h("button", { type: "button", class: "button" }, "Sign out");
  signOut.addEventListener("click", () => {
    endSession();
    signInMessage = "You are signed out; the token is forgotten by this tab.";
    void show();
  });
  session.replaceChildren(signOut);
}

/**
 * Puts `view` in <main>. Focus moves to the new page only after a navigation within the dashboard: on a
 * fresh load the reader starts at the top (the skip link first), except on the sign-in form.
 */
function place(view: View, moveFocus: boolean): void {
  document.title = `${view.title} · IoTA`;
  const message = flash;
  flash = undefined;
  const status = message
    ? h("p", { class: "notice notice-done", role: "status", tabindex: -1 }, message)
    : undefined;
  main.replaceChildren(...(status ? [status] : []), ...view.body);
  main.removeAttribute("aria-busy");
  if (status) status.focus();
  else if (moveFocus) (view.focus ?? main.querySelector<HTMLElement>("h1") ?? main).focus();
}

/** Shows the page the URL names (or the sign-in form); a newer navigation wins over a slower older one. */
async function show(): Promise<void> {
  const current = ++generation;
  const token = sessionToken();
  if (token === undefined) {
    renderHeader(undefined);
    const message = signInMessage;
    signInMessage = undefined;
    place(
      signInView(message, () => void show()),
      true,
    );
    return;
  }
  const route = parseRoute(location.hash);
  renderHeader(route);
  main.setAttribute("aria-busy", "true");
  const ctx: PageContext = {
    api: new Api(token),
    route,
    go: (next) => {
      location.hash = routeHash(next);
    },
    reload: (message) => {
      flash = message;
      void show();
    },
  };
  try {
    const view = await render(ctx);
    if (current === generation) place(view, current > 1);
  } catch (error) {
    if (current !== generation) return;
    if (error instanceof ApiError && error.status === 401) {
      endSession();
      signInMessage = "The server no longer accepts this tab's token; sign in again.";
      void show();
      return;
    }
    const retry = h("button", { type: "button", class: "button" }, "Try again");
    retry.addEventListener("click", () => void show());
    place(
      {
        title: "Error",
        body: [
          h("h1", { tabindex: -1 }, "This page could not be loaded"),
          notice("error", error instanceof Error ? error.message : String(error)),
          h("p", {}, retry, " ", h("a", { href: "#/" }, "Go to the overview")),
        ],
      },
      true,
    );
  }
}

byId("skip-link").addEventListener("click", (event) => {
  // Hint: the fragment names pages here, so the skip link moves focus itself instead of changing it.
  event.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", () => void show());
void show();
