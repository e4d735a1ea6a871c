// Imported first by the simulator's entry points: Powertools reads its level when the logger
// is built, and the simulator's stdout is the report (or the JSON result), not Lambda logs.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// The AWS SDK warns once per process that its releases after January 2027 need Node 22. The
// Lambdas run nodejs24.x and the deploy floor is Node 22 (README); only local runs on Node 20
// (the simulator, scripts, tests) would print it, on every run. This silences that one warning
// through the SDK's own switch, and nothing else.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
