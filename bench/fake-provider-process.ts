/**
 * The fake providers (tests/support/fake-providers.ts) in a process of their own, so a bench
 * can keep the provider's CPU apart from the API's and the load generator's. Started with
 * `fork()`; sends `{ env }` (the *_BASE_URL settings) over IPC once listening and stops when
 * the parent disconnects. Connections are kept alive as the real vendors keep them.
 */
import { startFakeProviders } from '../tests/support/fake-providers.js';

const fake = await startFakeProviders({ keepAliveTimeoutMs: 60_000 });
process.send?.({ env: fake.env, pid: process.pid });
process.on('disconnect', () => {
  void fake.close().then(() => process.exit(0));
});
