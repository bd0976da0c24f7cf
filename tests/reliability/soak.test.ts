/**
 * Load and soak: 500 simulated frontend users polling as the React app does (contract Part B
 * §1.13), chatting with a fake OpenAI (JSON and streamed) and searching their memories (real
 * embeddings on the tiny model), against a real server process on a throwaway PostgreSQL
 * database, loopback only. The mix lives in bench/load-mix.ts (`npm run soak` runs it alone).
 *
 * 500 users for 10 minutes by default. RELIABILITY_SHORT=1 (CI) is a smoke run of the same
 * mix: 200 users for 25 s, so a busy CI machine checks behaviour, not capacity; the capacity
 * claim is the full run's. SOAK_USERS and SOAK_SECONDS override both.
 *
 * Asserts: every answer is the expected 2xx (or a 304 to a revalidated poll), no timeouts, no
 * connection errors, streams end with `done`, searches are semantic; the achieved rate is
 * the target (a slow server shows as a shortfall); the server survives; its RSS does not
 * grow without bound over the second half of the run (the 10-minute run; the short one is
 * still warming up and only bounds the total growth).
 */
import { describe, expect, it } from 'vitest';
import { MIN_SLOPE_WINDOW_MINUTES, printRates, printReport, rssSlopeLimit, runSoak, SHORT_RUN_RSS_GROWTH_LIMIT_MB } from '../../bench/soak-run.js';

const SHORT = process.env.RELIABILITY_SHORT === '1';
const USERS = Number(process.env.SOAK_USERS ?? (SHORT ? 200 : 500));
const SECONDS = Number(process.env.SOAK_SECONDS ?? (SHORT ? 25 : 600));

describe('soak: the frontend polling of many users, plus chat and search', () => {
  // seeding 500 users takes from ~30 s on an idle machine to several minutes on a busy one
  it(`${USERS} users for ${SECONDS} s: no errors, no timeouts, bounded RSS`, { timeout: (SECONDS + 900) * 1000 }, async () => {
    printRates(USERS);
    const report = await runSoak({ users: USERS, durationSeconds: SECONDS });
    printReport(report);
    const limit = rssSlopeLimit(report.slopeWindowMinutes);

    // soft: a failing run reports every broken promise at once, not just the first
    expect.soft(report.serverAlive).toBe(true);
    expect.soft(report.mix.errors).toBe(0);
    expect.soft(report.mix.timeouts).toBe(0);
    expect.soft(report.mix.failureSamples).toEqual([]);
    for (const c of report.mix.classes) {
      expect.soft({ class: c.name, failures: c.failures }).toEqual({ class: c.name, failures: {} });
      // every class ran (one expected to run at least 5 times in the run)
      if (c.target * SECONDS >= 5) expect.soft(c.count, c.name).toBeGreaterThan(0);
    }
    expect.soft(report.mix.achieved).toBeGreaterThan(report.mix.target * 0.9);
    expect.soft(report.samples.length).toBeGreaterThanOrEqual(Math.floor(SECONDS / 10));
    expect.soft(report.samples.every((s) => s.eventLoop !== null)).toBe(true);
    if (report.slopeWindowMinutes >= MIN_SLOPE_WINDOW_MINUTES) {
      expect.soft(report.rssSlopeMbPerMin).toBeLessThan(limit);
    } else {
      // too short to see past the warm-up (see rssSlopeLimit): only a gross leak is caught here
      expect.soft(report.samples.at(-1)!.rssMb - report.samples[0]!.rssMb).toBeLessThan(SHORT_RUN_RSS_GROWTH_LIMIT_MB);
    }
  });
});
