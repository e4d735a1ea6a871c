import { DynamoDBDocumentClientCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What a resolved middleware stack is: a function of the command whose `input` it sends. */
type Handler = (command: object) => Promise<{ output: unknown }>;

/**
 * The parts of a lib-dynamodb command that its own `resolveMiddleware` uses (TypeScript marks them
 * protected): the low-level command it wraps, and the step that adds its marshalling middlewares.
 */
interface DocumentCommandParts {
  clientCommand: { resolveMiddleware(stack: unknown, configuration: unknown, options: undefined): Handler };
  addMarshallingMiddleware(configuration: unknown): void;
  middlewareStack: unknown;
}

/** The stack methods that change what a resolved handler runs. */
const MUTATORS = ['add', 'addRelativeTo', 'remove', 'removeByTag', 'use'] as const;

/**
 * Makes a document client resolve each command class's middleware stack once and reuse it, as
 * the SDK's own `cacheMiddleware` option does for a low-level client (lib-dynamodb refuses that
 * option: its commands resolve per instance). Resolving a stack (concatenating, sorting, cloning
 * some 30 middlewares, twice for a document command) was a third of the client CPU of a request
 * against DynamoDB Local (`npm run bench`, "worker CPU ms per invoice").
 *
 * Every command still goes through the same middlewares with its own input, so what a middleware
 * sees (the document-level input, the marshalled request) is unchanged. Adding or removing a
 * middleware on the client's stack empties the cache, so a meter or a fault injector added at
 * any time applies to the next command. A send with options, or of a low-level command, is sent
 * the usual way. As with `cacheMiddleware`, the handler context is the one of the first command
 * of its class (its `commandInstance`): no middleware of this project reads it.
 */
export function cacheDocumentHandlers(doc: DynamoDBDocumentClient): DynamoDBDocumentClient {
  let handlers = new Map<unknown, Handler>();
  const stack = doc.middlewareStack as unknown as Record<(typeof MUTATORS)[number], (...args: unknown[]) => unknown>;
  for (const method of MUTATORS) {
    const original = stack[method].bind(stack);
    stack[method] = (...args: unknown[]) => {
      handlers = new Map();
      return original(...args);
    };
  }
  const send = doc.send.bind(doc) as (...args: unknown[]) => Promise<unknown>;
  const cachedSend = (command: unknown, ...rest: unknown[]): Promise<unknown> => {
    if (rest.length > 0 || !(command instanceof DynamoDBDocumentClientCommand)) return send(command, ...rest);
    const parts = command as unknown as DocumentCommandParts;
    let handler = handlers.get(command.constructor);
    if (!handler) {
      parts.addMarshallingMiddleware(doc.config);
      handler = parts.clientCommand.resolveMiddleware(doc.middlewareStack.concat(parts.middlewareStack as typeof doc.middlewareStack), doc.config, undefined);
      handlers.set(command.constructor, handler);
    }
    return handler(parts.clientCommand).then((result) => result.output);
  };
  Object.assign(doc, { send: cachedSend });
  return doc;
}
