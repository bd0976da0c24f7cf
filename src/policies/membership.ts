/**
 * Roles as the rules read them. Who holds which role in a workspace is the membership rule,
 * written once in data/membership.ts (a SQL fragment the subject loaders and the list
 * queries share); here is only how roles nest: owner ⊇ admin ⊇ researcher ⊇ observer.
 */
export type Role = 'owner' | 'admin' | 'researcher' | 'observer';

const RANK: Record<Role, number> = { observer: 0, researcher: 1, admin: 2, owner: 3 };

const isRole = (value: unknown): value is Role => typeof value === 'string' && value in RANK;

/** True when `role` is `least` or above; false for non-members (null) and unknown roles. */
export function atLeast(role: Role | null, least: Role): boolean {
  return role !== null && isRole(role) && RANK[role] >= RANK[least];
}

/** The role as the rules read it: a known role or null. */
export const roleFrom = (value: unknown): Role | null => (isRole(value) ? value : null);
