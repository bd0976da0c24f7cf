/**
 * The API's error type lives in lib/errors.ts, where every layer may import it; this module
 * re-exports it for the modules that import it from here (services among them are on the
 * allow-list of tests/unit/layers.test.ts until they import lib/errors.ts).
 */
export { AppError, badRequest, notFound, payloadTooLarge } from '../lib/errors.js';
