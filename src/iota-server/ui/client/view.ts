/** What every page of the dashboard gets and gives back. */

import type { Api } from "./api.ts";
import type { Route } from "./router.ts";

/** A rendered page: its title, its content for <main>, and where keyboard focus goes. */
export interface View {
  title: string;
  body: Node[];
  /** Focused when the page is reached by a navigation (default: its heading). */
  focus?: HTMLElement;
}

/** What a page may use. */
export interface PageContext<R extends Route = Route> {
  api: Api;
  route: R;
  /** Shows another page (a new history entry). */
  go(route: Route): void;
  /** Shows the current page again, with `message` (role=status) at its top, focused. */
  reload(message?: string): void;
}

/** Renders a page. */
export type Page<R extends Route = Route> = (ctx: PageContext<R>) => Promise<View>;
