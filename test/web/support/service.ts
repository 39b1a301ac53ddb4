// Starts the real inkling service for the browser tests with the service's own test fixtures
// (test/server/helpers.ts): a real PostgreSQL (a fresh copy of the per-machine template
// cluster, so the history starts empty), the shipped model from models/, rate limiting off (the
// tests click fast). INKLING_E2E_URL points the tests at a service that is already running
// instead (its history for a new browser profile starts empty, so the counts still hold).
import { startServer } from '../../../src/server/server.ts';
import { startTestDatabase, testConfig } from '../../server/helpers.ts';

export interface RunningService {
  baseUrl: string;
  /** Whether the service may fetch images from 127.0.0.1 (only the one started here). */
  loopbackUrls: boolean;
  stop(): Promise<void>;
}

export async function startService(): Promise<RunningService> {
  const external = process.env.INKLING_E2E_URL;
  if (external) return { baseUrl: external.replace(/\/$/, ''), loopbackUrls: false, stop: async () => {} };

  const db = await startTestDatabase();
  try {
    // No model passed: the server loads the shipped one (INKLING_MODEL_DIR default, models/).
    // Loopback URLs allowed (test-only switch): the Link test serves its image from this process.
    const server = await startServer(testConfig(db, { rateLimit: 0, allowLoopbackUrlsForTests: true }));
    return {
      baseUrl: server.url.replace(/\/$/, ''),
      loopbackUrls: true,
      stop: async () => {
        await server.close();
        await db.destroy();
      },
    };
  } catch (error) {
    await db.destroy();
    throw error;
  }
}
