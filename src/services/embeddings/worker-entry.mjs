// The worker proper is TypeScript when run from sources (tests, `tsx`): worker threads start
// without the loader the main thread was given, so register it here. The built server
// (dist/, `npm start`) has the compiled worker next to this file and needs no loader.
import { existsSync } from 'node:fs';

const compiled = new URL('./worker.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./worker.ts');
}
