/** The MCP endpoint for tests: the app on a port of its own (the SDK client speaks real HTTP), and that client. */
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll } from 'vitest';
import type { TestApp } from './app.js';

/**
 * Starts the embedder (the tools embed and search) and listens on 127.0.0.1 for the suite;
 * returns the base URL's getter. Call inside a describe block.
 */
export function listenForMcp(ctx: () => TestApp): () => string {
  let baseUrl = '';
  let close: () => Promise<void> = async () => {};
  beforeAll(async () => {
    ctx().deps.embeddings.start();
    await ctx().deps.embeddings.embedder.load();
    const server = ctx().app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((r) => server.close(() => r()));
  });
  afterAll(() => close());
  return () => baseUrl;
}

/** The official SDK client, connected to /mcp with these headers. */
export async function connectMcp(baseUrl: string, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'chimera-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers } }));
  return client;
}
