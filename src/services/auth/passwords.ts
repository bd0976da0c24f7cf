import { createHash } from 'node:crypto';
import bcrypt from 'bcrypt';

// bcrypt reads only the first 72 bytes; hashing first makes every character count.
const prehash = (password: string) => createHash('sha256').update(password, 'utf8').digest('base64');

export const hashPassword = (password: string, cost: number) => bcrypt.hash(prehash(password), cost);
export const verifyPassword = (password: string, hash: string) => bcrypt.compare(prehash(password), hash);

// Compared against when the email is unknown, so both failures take the same time.
let dummyHash: Promise<string> | undefined;
export const dummyPasswordHash = (cost: number) => (dummyHash ??= bcrypt.hash('not-a-real-password', cost));
