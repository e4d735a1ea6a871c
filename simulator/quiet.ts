// Imported first by the simulator's entry points: Powertools reads its level when the logger
// is built, and the simulator's stdout is the report (or the JSON result), not Lambda logs.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
