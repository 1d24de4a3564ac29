/** A request as the dashboard sees it, whatever server received it. */
export interface WebRequest {
  readonly method: string;
  /** The path below the dashboard's mount point, starting with `/`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: { get(name: string): string | null };
  /** The body as text (writes send JSON); read only for writes, at most 64 KiB. */
  readonly body: () => Promise<string>;
  /** The server's own request object, handed to `authorize`. */
  readonly raw: unknown;
}

export interface WebResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array;
}

export const maxBodyBytes = 65_536;

/** A body that cannot be read: too large (413), or read already by the app's own parser (500). */
export class RequestBodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const bodyTooLarge = () => new RequestBodyError(413, `the body is larger than ${maxBodyBytes} bytes`);

/** Headers every response carries: no framing, no sniffing, a strict content policy. */
export const securityHeaders: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): WebResponse {
  return {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...securityHeaders,
      ...headers,
    },
    body: JSON.stringify(value),
  };
}

/** An error answer that says what was wrong without echoing args, secrets or stacks. */
export function problem(status: number, message: string): WebResponse {
  return jsonResponse(status, { error: message });
}
