/**
 * `npm run soak [-- --users=500 --minutes=10 --cpu-prof=DIR]`: the soak's load mix on its own, printing the
 * rate it targets, p50/p99 per request class, and the server's RSS and event-loop samples.
 * Needs the local PostgreSQL (a throwaway database is created and dropped). Loopback only.
 */
import { parseArgs } from 'node:util';
import { printRates, printReport, runSoak } from './soak-run.js';

const { values } = parseArgs({ options: { users: { type: 'string', default: '500' }, minutes: { type: 'string', default: '10' }, 'cpu-prof': { type: 'string' } } });
const users = Number(values.users);
const durationSeconds = Math.round(Number(values.minutes) * 60);
printRates(users);
// --cpu-prof=DIR writes a CPU profile of the server process into DIR when it stops
const serverNodeArgs = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
const report = await runSoak({ users, durationSeconds, serverNodeArgs });
printReport(report);
process.exit(0);
