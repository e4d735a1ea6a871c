/**
 * CDK entry point (`cdk.json` runs it with tsx): builds the `Prorata` stack with cdk-nag's
 * AwsSolutions checks registered, so `cdk synth`/`cdk deploy` fail on any unacknowledged finding.
 *
 * cdk-nag 3 is a CDK validation plugin, not an aspect: it is registered with
 * `Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }))` inside
 * `createProrataApp`, which the tests share.
 */
import { createProrataApp } from './prorata-stack';

createProrataApp();
