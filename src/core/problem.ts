/** The one error shape of IoTA's API: RFC 9457 problem details (`application/problem+json`). */

/** One invalid input field. */
export interface FieldError {
  /** Dotted path of the field (`csr`, `names.3`). */
  field: string;
  /** What was wrong with it. */
  message: string;
}

/** An `application/problem+json` body. */
export interface Problem {
  /** A URI naming the problem kind; `about:blank` when the status says it all. */
  type: string;
  /** HTTP status code. */
  status: number;
  /** Short summary of the kind of problem. */
  title: string;
  /** What happened in this case, in a sentence. */
  detail: string;
  /** Per-field reasons, for invalid input. */
  errors?: FieldError[];
}
