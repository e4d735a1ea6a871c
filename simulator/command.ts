import { BillingError, ValidationError } from '../shared/domain/errors';

/** How a command names its failures: `invalid <what>: …` for bad input, `<verb> failed: …` otherwise. */
export interface CommandWords {
  /** What the user's file is ("scenario", "config"). */
  input: string;
  /** What the command does ("simulation", "configure"). */
  action: string;
}

/**
 * One line for the user, never a stack trace: bad input names its field, anything else
 * (DynamoDB Local failing to start, a bug) says what failed.
 */
export function describeCommandFailure(error: unknown, words: CommandWords): string {
  if (error instanceof ValidationError || (error instanceof BillingError && error.code === `invalid-${words.input}`)) return `invalid ${words.input}: ${error.message}`;
  if (error instanceof BillingError) return `${words.action} failed (${error.code}): ${error.message}`;
  return `${words.action} failed: ${error instanceof Error ? error.message : String(error)}`;
}

/** Runs a command's `main` and exits with its code; a failure prints its one line and exits 1. */
export function runCommand(main: (argv: string[]) => Promise<number>, words: CommandWords): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${describeCommandFailure(error, words)}\n`);
      process.exit(1);
    },
  );
}
