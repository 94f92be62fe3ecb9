/**
 * What the control-plane store refuses, independent of HTTP: the route layer maps each kind to the
 * API's one error shape (not_found 404, forbidden 403, conflict 409, invalid 400 naming the field).
 */
export type ControlErrorKind = 'not_found' | 'forbidden' | 'conflict' | 'invalid';

export class ControlError extends Error {
  override name = 'ControlError';
  constructor(
    readonly kind: ControlErrorKind,
    message: string,
    /** For `invalid`: the offending field, as the API names it (`json.embedding`). */
    readonly field?: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ControlError('not_found', `${what} not found`);
export const forbidden = (message: string) => new ControlError('forbidden', message);
export const conflict = (message: string) => new ControlError('conflict', message);
export const invalid = (field: string, message: string) => new ControlError('invalid', message, field);
