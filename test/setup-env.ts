// Tests assert on results, not on Lambda logs.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
