import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger every handler shares (service name from POWERTOOLS_SERVICE_NAME in AWS). */
export const logger = new Logger({ serviceName: 'prorata' });
