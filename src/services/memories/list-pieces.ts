/**
 * The whole memory list (M1, the frontend's poll every 10 s) sent from pieces kept
 * compressed between requests, so that an answer costs the server what changed since the
 * last one rather than the whole list: at 50,000 memories the text is about 45 MB.
 *
 * A request reads the list's ids and row stamps in order (one statement, data/memories.ts
 * workspaceMemoryStamps) and cuts it into pieces of about PIECE_TARGET memories. The cuts
 * fall after the memories whose id hashes to a multiple of PIECE_TARGET, so they move with
 * the memories and not with positions: a memory created, edited (moved to the top) or deleted
 * changes the one or two pieces it leaves and enters, and the others keep their keys. A
 * piece's key is the digest of its memories' ids and stamps, and its entry is its text
 * deflated (src/fast/gzip-pieces.ts). Pieces not cached are read in one statement, with the
 * stamps they were read at; should one differ from the list's (a write in between) or a
 * memory be gone, the request answers without the pieces (`null`: the caller builds the text
 * whole) rather than mix two states.
 *
 * Entries are shared across workspaces and requests (keys name memory ids, which belong to one
 * workspace, and the list statement is scoped to the workspace the policy authorized), and
 * evicted least recently used beyond the budget (MEMORY_LIST_CACHE_MB).
 */
import { createHash } from 'node:crypto';
import { type MemoryOrder, type MemoryTextRow, memoryTextsByIds, workspaceMemoryStamps } from '../../data/memories.js';
import type { Database } from '../../db/client.js';
import { type DeflatedPiece, deflatePiece, deflatePieceSync } from '../../fast/gzip-pieces.js';
import { bytesToVector } from '../../lib/vectors.js';

/** Memories per piece on average: about 60 kB of text at 80 words a memory (deflate's window is 32 kB). */
const PIECE_TARGET = 64;
/** A piece is cut after this many memories whatever their ids, so no run of unlucky ids makes one huge. */
const PIECE_MAX = 4 * PIECE_TARGET;
/** Below this many memories the list is small enough to compress whole (the JSON writer's path). */
export const PIECES_MIN_MEMORIES = PIECE_TARGET;

/**
 * Past this many pieces to compress at once (a list nothing of which is cached: after a
 * start, or an order first asked), deflate's fastest level: at 50,000 memories it codes the
 * list in about a third of the CPU time of level 6, for about 15 % more bytes, until the
 * pieces are next written. A few changed pieces get level 6.
 */
const MANY_PIECES = 32;

const OPEN = deflatePieceSync('{"ok":true,"data":{"memories":[');
const COMMA = deflatePieceSync(',');

interface Entry {
  piece: DeflatedPiece;
  bytes: number;
}

/** FNV-1a of the id: where the cuts fall. */
function cutAfter(id: string): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % PIECE_TARGET === 0;
}

type Stamped = { id: string; stamp: string };

function cut(list: Stamped[]): Stamped[][] {
  const pieces: Stamped[][] = [];
  let current: Stamped[] = [];
  for (const memory of list) {
    current.push(memory);
    if (cutAfter(memory.id) || current.length === PIECE_MAX) {
      pieces.push(current);
      current = [];
    }
  }
  if (current.length > 0) pieces.push(current);
  return pieces;
}

const keyOf = (piece: Stamped[]) => {
  const hash = createHash('sha1');
  for (const m of piece) hash.update(`${m.id} ${m.stamp}\n`);
  return hash.digest('base64');
};

export class MemoryListPieces {
  private readonly entries = new Map<string, Entry>();
  /** Pieces being compressed, so that concurrent requests compress each once. */
  private readonly pending = new Map<string, Promise<DeflatedPiece>>();
  private bytes = 0;

  constructor(
    private readonly db: Pick<Database, 'query'>,
    private readonly budgetBytes: number,
    /** How the route presents one memory from its serialized parts and first vector (presenters/memory.ts). */
    private readonly render: (memory: MemoryTextRow, firstVector: Float32Array | null) => string,
  ) {}

  /** Bytes of compressed pieces held, and how many. */
  usage(): { bytes: number; pieces: number } {
    return { bytes: this.bytes, pieces: this.entries.size };
  }

  /**
   * The envelope of the whole list (with any of `tags`) in `order`, as deflated pieces to send
   * in turn (gzip-coded, or inflated for a client that takes no coding); null when the list is
   * too short to need them or changed while being read.
   */
  async list(workspaceId: string, page: { order: MemoryOrder; tags?: string[] }): Promise<DeflatedPiece[] | null> {
    const list = await workspaceMemoryStamps(this.db, workspaceId, page);
    if (list.length < PIECES_MIN_MEMORIES) return null;
    const pieces = cut(list).map((memories) => ({ memories, key: keyOf(memories) }));
    // Cached pieces are taken now: a concurrent request's stores may evict them while this one waits.
    const found = new Map<string, DeflatedPiece | Promise<DeflatedPiece>>();
    const missing: { memories: Stamped[]; key: string }[] = [];
    for (const piece of pieces) {
      const cached = this.hit(piece.key) ?? this.pending.get(piece.key);
      if (cached) found.set(piece.key, cached);
      else missing.push(piece);
    }
    if (missing.length > 0) {
      const fresh = await this.compress(missing);
      if (!fresh) return null;
      for (const [key, piece] of fresh) found.set(key, piece);
    }
    const deflated: DeflatedPiece[] = [OPEN];
    for (const [i, { key }] of pieces.entries()) {
      if (i > 0) deflated.push(COMMA);
      deflated.push(await found.get(key)!);
    }
    deflated.push(deflatePieceSync(`],"total":${list.length}},"error":null}`));
    return deflated;
  }

  /** The cached piece, marked most recently used. */
  private hit(key: string): DeflatedPiece | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.piece;
  }

  /** Reads and compresses these pieces (and caches them); null when one no longer matches the list read. */
  private async compress(missing: { memories: Stamped[]; key: string }[]): Promise<Map<string, DeflatedPiece> | null> {
    const rows = await memoryTextsByIds(this.db, missing.flatMap((p) => p.memories.map((m) => m.id)));
    const byId = new Map(rows.map((r) => [r.id, r]));
    const texts: string[] = [];
    for (const { memories } of missing) {
      const parts: string[] = [];
      for (const m of memories) {
        const row = byId.get(m.id);
        if (!row || row.stamp !== m.stamp) return null;
        parts.push(this.render(row, row.embeddingStatus === 'ready' && row.vector ? bytesToVector(row.vector) : null));
      }
      texts.push(parts.join(','));
    }
    const fresh = new Map<string, DeflatedPiece>();
    const level = missing.length > MANY_PIECES ? 1 : 6;
    await Promise.all(
      missing.map(async ({ key }, i) => {
        const compressing = deflatePiece(texts[i]!, level);
        this.pending.set(key, compressing);
        try {
          const piece = await compressing;
          fresh.set(key, piece);
          this.store(key, piece);
        } finally {
          this.pending.delete(key);
        }
      }),
    );
    return fresh;
  }

  private store(key: string, piece: DeflatedPiece): void {
    const bytes = piece.deflated.length + 64;
    this.entries.set(key, { piece, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.budgetBytes || oldest === key) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }
}
