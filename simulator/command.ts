import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BillingError, UsageError, ValidationError } from '../shared/domain/errors';
import { closestName } from './strict';

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
  if (error instanceof UsageError) return error.message;
  if (error instanceof ValidationError || (error instanceof BillingError && error.code === `invalid-${words.input}`)) return `invalid ${words.input}: ${error.message}`;
  if (error instanceof BillingError) return `${words.action} failed (${error.code}): ${error.message}`;
  return `${words.action} failed: ${error instanceof Error ? error.message : String(error)}`;
}

/** Runs a command's `main` and exits with its code; a usage error exits 2, any other failure prints its one line and exits 1. */
export function runCommand(main: (argv: string[]) => Promise<number>, words: CommandWords): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${describeCommandFailure(error, words)}\n`);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command line strictly with `node:util` `parseArgs`: an unknown flag, a flag without
 * its value or a wrong number of positionals is a `UsageError` whose one line says what is
 * wrong (suggesting the closest known flag) and then the usage.
 */
export function parseCommandLine<T extends Options>(argv: string[], options: T, usage: string, positionals: { min: number; max: number }) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const option = /'(-[^' ]+)/.exec(error instanceof Error ? error.message : '')?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const closest = closestName(option.replace(/^-+/, ''), Object.keys(options));
      throw new UsageError(`unknown option ${option}${closest ? ` (did you mean --${closest}?)` : ''}. ${usage}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`option ${option} needs a value. ${usage}`);
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}. ${usage}`);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min) throw new UsageError(`missing argument. ${usage}`);
  if (count > positionals.max) throw new UsageError(`unexpected argument ${parsed.positionals[positionals.max]}. ${usage}`);
  return parsed;
}
