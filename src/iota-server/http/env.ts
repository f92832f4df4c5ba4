/** What the HTTP middleware hands the routes (hono's `Env`), in a module of its own so routes and app import it alike. */

/** Variables the middleware sets for the routes. */
export interface AppEnv {
  Variables: {
    /** The tenant the request's admin token belongs to. */
    tenant: string;
  };
}
