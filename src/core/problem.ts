/** The one error shape of IoTA: RFC 9457 problem details, thrown as {@link IotaError} at the edges. */

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

/** Titles for the statuses IoTA uses. */
const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** An expected failure with an HTTP status; one handler turns it into a problem response. */
export class IotaError extends Error {
  /** HTTP status code. */
  readonly status: number;
  /** Per-field reasons, for invalid input. */
  readonly errors: FieldError[] | undefined;
  /** Seconds the client should wait (429, 503). */
  readonly retryAfter: number | undefined;

  constructor(
    status: number,
    detail: string,
    options: { errors?: FieldError[]; retryAfter?: number } = {},
  ) {
    super(detail);
    this.name = "IotaError";
    this.status = status;
    this.errors = options.errors;
    this.retryAfter = options.retryAfter;
  }

  /** The problem body for this error. */
  toProblem(): Problem {
    const problem: Problem = {
      type: "about:blank",
      status: this.status,
      title: TITLES[this.status] ?? "Error",
      detail: this.message,
    };
    if (this.errors) problem.errors = this.errors;
    return problem;
  }
}

/** Type guard for {@link IotaError}. */
export function isIotaError(error: unknown): error is IotaError {
  return error instanceof IotaError;
}

/** A 400 naming one invalid field. */
export function invalidField(field: string, message: string): IotaError {
  return new IotaError(400, `${field} ${message}`, { errors: [{ field, message }] });
}
