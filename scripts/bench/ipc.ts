import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/**
 * The bench's processes talk over Node's IPC channel: the parent starts a role in a child
 * (`runRole`), the child calls the parent (`callParent`: the queue lives in the parent) and ends
 * with its result. Each role runs in its own process so its CPU time and peak RSS are its own.
 */

/** The roles `scripts/bench/child.ts` can play. */
export type Role = 'dispatcher' | 'worker' | 'floor' | 'publisher';

/** The parent's answers to a child's calls, by method name. */
export type Handlers = Record<string, (payload: unknown) => unknown>;

interface CallMessage {
  call: number;
  method: string;
  payload: unknown;
}
interface ReplyMessage {
  reply: number;
  result?: unknown;
  error?: string;
}
interface StartMessage {
  start: Role;
  input: unknown;
}
interface DoneMessage {
  done: unknown;
}

const CHILD = path.join(__dirname, 'child.ts');

/**
 * Runs one role in a child process (the same `tsx` loader as this one) with `input`, answers its
 * calls with `handlers`, and resolves with the result it sends back. `env` is merged over this
 * process's environment (the worker turns its logs on to count their bytes).
 */
export function runRole<T>(role: Role, input: unknown, handlers: Handlers = {}, env: Record<string, string> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(CHILD, [], { execArgv: [...process.execArgv, '--expose-gc'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: { value: unknown } | undefined;
    child.on('message', (message: unknown) => {
      const m = message as Partial<CallMessage & DoneMessage>;
      if (typeof m.call === 'number' && typeof m.method === 'string') {
        const call = m.call;
        const handler = handlers[m.method];
        Promise.resolve()
          .then(() => {
            if (!handler) throw new Error(`the parent has no method ${m.method}`);
            return handler(m.payload);
          })
          .then(
            (value) => child.send({ reply: call, result: value } satisfies ReplyMessage),
            (error: unknown) => child.send({ reply: call, error: String(error) } satisfies ReplyMessage),
          );
      } else if ('done' in m) {
        result = { value: m.done };
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (result && code === 0) resolve(result.value as T);
      else reject(new Error(`bench ${role} process ended (${signal ?? `exit code ${code}`}) without a result`));
    });
    child.send({ start: role, input } satisfies StartMessage);
  });
}

let nextCall = 0;
const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

/** In a child: calls the parent's `method` and resolves with its answer. */
export function callParent<T>(method: string, payload: unknown): Promise<T> {
  const call = nextCall++;
  return new Promise((resolve, reject) => {
    pending.set(call, { resolve: (value) => resolve(value as T), reject });
    process.send?.({ call, method, payload } satisfies CallMessage);
  });
}

/**
 * In a child: waits for the parent's start message, runs `play(role, input)`, sends its result
 * and exits (non-zero, after printing it, on an error).
 */
export function serveRoles(play: (role: Role, input: unknown) => Promise<unknown>): void {
  // A parent that died (or was interrupted) takes its children with it.
  process.once('disconnect', () => process.exit(1));
  process.on('message', (message: unknown) => {
    const m = message as Partial<ReplyMessage & StartMessage>;
    if (typeof m.reply === 'number') {
      const waiter = pending.get(m.reply);
      pending.delete(m.reply);
      if (m.error !== undefined) waiter?.reject(new Error(m.error));
      else waiter?.resolve(m.result);
    } else if (m.start) {
      play(m.start, m.input).then(
        (done) => process.send?.({ done } satisfies DoneMessage, () => process.exit(0)),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
    }
  });
}
