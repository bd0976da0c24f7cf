/**
 * `npm run wasm:build`: assembles the vector-index kernels (src/services/memories/kernel/dot.wat)
 * into dot.wasm beside it. The assembled bytes are committed, so neither install nor start
 * needs this step; run it after editing the .wat.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const source = fileURLToPath(new URL('../src/services/memories/kernel/dot.wat', import.meta.url));
const target = source.replace(/\.wat$/, '.wasm');
const wabt = await wabtInit();
const parsed = wabt.parseWat(source, readFileSync(source, 'utf8'), { simd: true });
parsed.validate();
const { buffer } = parsed.toBinary({ log: false, write_debug_names: false });
parsed.destroy();
writeFileSync(target, buffer);
console.log(`wrote ${target} (${buffer.byteLength} bytes)`);
