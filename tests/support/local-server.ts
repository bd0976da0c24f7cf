/** A throwaway HTTP server on 127.0.0.1 that records every TCP connection it accepts. */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  server: Server;
  port: number;
  url(path?: string): string;
  connections: number;
  close(): Promise<void>;
}

export async function startLocalServer(handler: RequestListener = (_req, res) => res.end('ok')): Promise<LocalServer> {
  const server = createServer(handler);
  const local = {
    server,
    port: 0,
    connections: 0,
    url: (path = '/') => `http://127.0.0.1:${local.port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => {
    local.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  local.port = (server.address() as AddressInfo).port;
  return local;
}
