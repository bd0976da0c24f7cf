// Worker threads start without the TypeScript loader the tests or `tsx` gave the main
// thread; register it here, then run the worker proper.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
