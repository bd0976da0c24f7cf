/**
 * SDK clients kept per API key and timeout. Building one (options, default headers, its
 * fetch wiring) costs a noticeable share of a chat's CPU, and a user's key is the same on
 * every message. Bounded, least recently used out; the map is keyed by a digest of the key.
 */
import { createHash } from 'node:crypto';

export function clientCache<T>(create: (apiKey: string, timeoutMs: number) => T, capacity = 256): (apiKey: string, timeoutMs: number) => T {
  const clients = new Map<string, T>();
  return (apiKey, timeoutMs) => {
    const key = `${timeoutMs}:${createHash('sha256').update(apiKey).digest('base64')}`;
    let client = clients.get(key);
    if (client === undefined) {
      client = create(apiKey, timeoutMs);
      if (clients.size >= capacity) clients.delete(clients.keys().next().value!);
    } else {
      clients.delete(key);
    }
    clients.set(key, client);
    return client;
  };
}
