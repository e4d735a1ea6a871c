/**
 * The engine's error hierarchy. Handlers map these to outcomes (DLQ, rejection record,
 * 4xx-like answers to on-demand calls) in one place instead of string-matching messages.
 */
export class BillingError extends Error {
  /** A stable machine-readable code, e.g. `invalid-event`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Input that fails validation; `field` names the offending path (e.g. `detail.member`). */
export class ValidationError extends BillingError {
  readonly field: string;

  constructor(field: string, message: string) {
    super('invalid-input', `${field}: ${message}`);
    this.field = field;
  }
}

/** A reference to something the store does not have (unknown plan, workspace, invoice). */
export class NotFoundError extends BillingError {
  constructor(what: string) {
    super('not-found', `${what} not found`);
  }
}

/** A concurrent writer won; the caller reloads and retries (or finds nothing left to do). */
export class ConflictError extends BillingError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** A change the rules refuse (R15): carries the rejection reason of the scenario format. */
export class RejectionError extends BillingError {
  readonly reason: string;

  constructor(reason: string, message: string) {
    super('rejected', message);
    this.reason = reason;
  }
}

/** A command called with arguments it does not take (an unknown flag, a missing value); exits 2. */
export class UsageError extends BillingError {
  constructor(message: string) {
    super('usage', message);
  }
}
