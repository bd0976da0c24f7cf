import { randomUUID } from 'node:crypto';

/** Resource id prefixes of the wire contract: prefix + the first 12 hex digits of a UUIDv4. */
export type IdPrefix = 'workspace' | 'tm' | 'inv' | 'int' | 'conv' | 'memory' | 'msg' | 'load' | 'activity' | 'memver' | 'key';

export function newId(prefix: IdPrefix): string {
  return `${prefix}-${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);
