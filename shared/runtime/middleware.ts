import middy, { type MiddyfiedHandler } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { BillingError } from '../domain/errors';
import { logger } from './observability';

/**
 * Wraps a handler with the middlewares every function shares, composed once: Powertools
 * logger context, and one `onError` that logs billing errors with their code and field and
 * rethrows, so the invocation fails and the event goes to its retry policy and DLQ.
 */
export function withMiddlewares<TEvent, TResult>(handler: (event: TEvent, context: Context) => Promise<TResult>): MiddyfiedHandler<TEvent, TResult> {
  return middy<TEvent, TResult>()
    .use(injectLambdaContext(logger))
    .onError(async (request) => {
      const error = request.error;
      // Powertools drops a `message` key from extra attributes (it is the log line's own), so the
      // error's text travels as `errorMessage`.
      if (error instanceof BillingError) logger.error('billing error', { code: error.code, errorMessage: error.message, ...('field' in error ? { field: error.field } : {}) });
      else logger.error('unexpected error', error as Error);
    })
    .handler(handler);
}
