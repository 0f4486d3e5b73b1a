/**
 * The one error shape: an HTTP status, a stable code for programs and tests, and a safe message key
 * (translated when shown). Anything thrown that is not an AppError is a bug and is shown as a 500
 * without details.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly messageKey: string,
    readonly params: Record<string, unknown> = {},
  ) {
    super(code);
    this.name = 'AppError';
  }
}

export const notFound = (code = 'not_found', messageKey = 'errors.page.notFound') =>
  new AppError(404, code, messageKey);
