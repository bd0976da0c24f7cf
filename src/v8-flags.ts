/**
 * V8 settings of the server process, applied before any WebAssembly module is compiled
 * (server.ts imports this module first).
 *
 * WebAssembly tiering: V8 runs every function of a module through its baseline compiler
 * (Liftoff) and recompiles the ones that have run a while with its optimising compiler
 * (TurboFan), on background threads. The embedded PostgreSQL (PGlite, 8 MB of Wasm) and
 * Prisma's query compiler (3 MB) have thousands of functions that run a little at start-up
 * (initdb's catalogs, migrations, the first queries) and rarely after: with V8's default
 * budget they were all optimised during the start, which cost seconds of CPU and left the
 * compiler's memory in the threads' malloc arenas for good. With a larger budget only the
 * functions a workload keeps running are optimised (after proportionally more runs).
 * Measured: see docs/benchmarks.md (footprint).
 */
import { setFlagsFromString } from 'node:v8';

export const WASM_TIERING_BUDGET = 20_000_000;

setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);
