/**
 * Dot-product kernels of the vector index over one flat buffer: WebAssembly SIMD (dot.wasm,
 * assembled from dot.wat) where the runtime supports it, else plain JavaScript with the same
 * results bit for bit (the float32 kernel reproduces the SIMD summation order with
 * Math.fround; the int8 kernel is exact integer arithmetic).
 *
 * All offsets are in bytes into `buffer` and 16-byte aligned; rows are `stride` values long,
 * stride a multiple of 16, padded with zeros.
 */
import { readFileSync } from 'node:fs';

export type KernelKind = 'wasm' | 'js';

export interface Kernel {
  readonly kind: KernelKind;
  readonly buffer: ArrayBuffer;
  /** float32 out[r] = matrix row r · query, r in [0, rows). */
  dotF32(mat: number, rows: number, stride: number, q: number, out: number): void;
  /** float32 out[j] = matrix row idx[j] · query (idx: int32 row numbers), j in [0, count). */
  dotF32Rows(mat: number, idx: number, count: number, stride: number, q: number, out: number): void;
  /** int32 out[r] = int8 matrix row r · int16 query, r in [0, rows); the caller keeps the sum within int32. */
  dotI8(mat: number, rows: number, stride: number, q: number, out: number): void;
  /**
   * int8 codes of float32 rows [0, rows) at `codes` (stride bytes a row), and per row four
   * float64 at `stats` (32 bytes a row): m = max |v|, Σ(v − ĉ)², Σv², Σĉ² where ĉ = code·m/127
   * and code = v·127/m rounded to nearest, ties to even; m non-finite: codes 0, sums 0.
   */
  quantizeI8(mat: number, codes: number, rows: number, stride: number, stats: number): void;
}

/** Rows are padded to a multiple of this many values. */
export const LANES = 16;
export const paddedStride = (dimensions: number) => Math.ceil(dimensions / LANES) * LANES;
/** Rounds a byte count up to the 16-byte alignment the kernels expect. */
export const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

const WASM_PAGE = 65_536;
/** 32-bit WebAssembly memory tops out at 4 GiB; leave headroom. */
const WASM_MAX_BYTES = 4 * 1024 ** 3 - WASM_PAGE;

let wasmModule: WebAssembly.Module | null | undefined;

function compiledModule(): WebAssembly.Module | null {
  if (wasmModule === undefined) {
    try {
      wasmModule = new WebAssembly.Module(readFileSync(new URL('./dot.wasm', import.meta.url)));
    } catch {
      wasmModule = null; // no SIMD support (or the file is missing): the JS kernel serves
    }
  }
  return wasmModule;
}

/** Whether the SIMD kernel is available in this runtime. */
export const wasmKernelAvailable = () => compiledModule() !== null;

/**
 * A kernel over a fresh zeroed buffer of at least `bytes` bytes: the SIMD one when possible
 * (and `prefer` is not 'js'), else the JavaScript one.
 */
export function createKernel(bytes: number, prefer: KernelKind = 'wasm'): Kernel {
  const instance = prefer === 'wasm' && bytes <= WASM_MAX_BYTES ? wasmInstance() : null;
  if (!instance || !growTo(instance, bytes)) return new JsKernel(new ArrayBuffer(align16(bytes)));
  return wasmKernel(instance);
}

function wasmInstance(): WebAssembly.Instance | null {
  const module = compiledModule();
  if (!module) return null;
  try {
    return new WebAssembly.Instance(module, {});
  } catch {
    return null; // e.g. out of address space for another memory
  }
}

/** Grows the instance's memory to at least `bytes` (contents kept); false when it cannot. */
function growTo(instance: WebAssembly.Instance, bytes: number): boolean {
  const memory = instance.exports.memory as WebAssembly.Memory;
  const pages = Math.ceil(bytes / WASM_PAGE) - memory.buffer.byteLength / WASM_PAGE;
  if (pages <= 0) return true;
  if (bytes > WASM_MAX_BYTES) return false;
  try {
    memory.grow(pages);
    return true;
  } catch {
    return false;
  }
}

/** The SIMD kernel keeps its instance: a matrix dropped from the cache lends its memory to the next load. */
interface WasmKernel extends Kernel {
  readonly instance: WebAssembly.Instance;
}

function wasmKernel(instance: WebAssembly.Instance): WasmKernel {
  const e = instance.exports as unknown as {
    memory: WebAssembly.Memory;
    dot_f32: Kernel['dotF32'];
    dot_f32_rows: Kernel['dotF32Rows'];
    dot_i8: Kernel['dotI8'];
    quantize_i8: Kernel['quantizeI8'];
  };
  return { kind: 'wasm', instance, buffer: e.memory.buffer, dotF32: e.dot_f32, dotF32Rows: e.dot_f32_rows, dotI8: e.dot_i8, quantizeI8: e.quantize_i8 };
}

/**
 * A zeroed buffer that grows while rows are written into it, then becomes a kernel's buffer
 * without a copy (a cold load decodes its rows straight into the memory the scan reads). The
 * buffer object changes when it grows: read `buffer` again after `reserve`.
 */
export class KernelArena {
  private instance: WebAssembly.Instance | null;
  private plain: ArrayBuffer | null = null;

  /**
   * `spare`: the kernel of a matrix no longer used by anyone, whose memory this arena takes over
   * (zeroed): its pages are already resident, so the rows written into them cost no page faults,
   * and no new memory is reported to the garbage collector (bench `1M chunks`).
   */
  constructor(prefer: KernelKind = 'wasm', spare?: Kernel) {
    const recycled = prefer === 'wasm' && spare && 'instance' in spare ? (spare as WasmKernel).instance : null;
    if (recycled) new Uint8Array((recycled.exports.memory as WebAssembly.Memory).buffer).fill(0);
    this.instance = recycled ?? (prefer === 'wasm' ? wasmInstance() : null);
    if (!this.instance) this.plain = new ArrayBuffer(WASM_PAGE);
  }

  get buffer(): ArrayBuffer {
    return this.instance ? (this.instance.exports.memory as WebAssembly.Memory).buffer : this.plain!;
  }

  /** Makes the buffer at least `bytes` long, keeping its contents. */
  reserve(bytes: number): void {
    if (bytes <= this.buffer.byteLength) return;
    if (this.instance && growTo(this.instance, bytes)) return;
    // No SIMD memory (or it cannot grow that far): a plain buffer, copied as it doubles.
    const next = new ArrayBuffer(align16(Math.max(bytes, this.buffer.byteLength * 1.5)));
    new Uint8Array(next).set(new Uint8Array(this.buffer));
    this.instance = null;
    this.plain = next;
  }

  /**
   * The kernel over this arena's contents, its buffer at least `bytes` long: the SIMD memory
   * itself when `kind` is 'wasm' and it has one, else a plain buffer (a copy, for a small matrix).
   */
  kernel(bytes: number, kind: KernelKind): Kernel {
    if (kind === 'wasm' && this.instance && growTo(this.instance, bytes)) return wasmKernel(this.instance);
    const fits = this.plain && this.plain.byteLength >= align16(bytes) && this.plain.byteLength <= align16(bytes) * 1.25;
    const buffer = fits ? this.plain! : new ArrayBuffer(align16(bytes));
    if (buffer !== this.plain) new Uint8Array(buffer).set(new Uint8Array(this.buffer, 0, Math.min(this.buffer.byteLength, buffer.byteLength)));
    return new JsKernel(buffer);
  }
}

const f = Math.fround;

/** WebAssembly's f64.nearest: to the nearest integer, ties to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

class JsKernel implements Kernel {
  readonly kind = 'js' as const;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly i16: Int16Array;
  private readonly i8: Int8Array;

  constructor(readonly buffer: ArrayBuffer) {
    this.f32 = new Float32Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.i16 = new Int16Array(buffer, 0, buffer.byteLength >> 1);
    this.i8 = new Int8Array(buffer);
  }

  dotF32(mat: number, rows: number, stride: number, q: number, out: number): void {
    for (let r = 0; r < rows; r++) this.f32[(out >> 2) + r] = this.row(mat + r * stride * 4, stride, q);
  }

  dotF32Rows(mat: number, idx: number, count: number, stride: number, q: number, out: number): void {
    for (let j = 0; j < count; j++) this.f32[(out >> 2) + j] = this.row(mat + this.i32[(idx >> 2) + j]! * stride * 4, stride, q);
  }

  dotI8(mat: number, rows: number, stride: number, q: number, out: number): void {
    const { i8, i16, i32 } = this;
    const q0 = q >> 1;
    for (let r = 0; r < rows; r++) {
      const base = mat + r * stride;
      let sum = 0;
      for (let i = 0; i < stride; i++) sum += i8[base + i]! * i16[q0 + i]!;
      i32[(out >> 2) + r] = sum;
    }
  }

  /** dot.wat's quantize_i8, same arithmetic in the same order (two float64 lanes per sum). */
  quantizeI8(mat: number, codes: number, rows: number, stride: number, stats: number): void {
    const { f32, i8 } = this;
    const f64 = new Float64Array(this.buffer, stats, rows * 4);
    for (let r = 0; r < rows; r++) {
      const base = (mat >> 2) + r * stride;
      const c = codes + r * stride;
      let max = 0;
      for (let i = 0; i < stride; i++) max = Math.max(max, Math.abs(f32[base + i]!));
      let err0 = 0, err1 = 0, norm0 = 0, norm1 = 0, nh0 = 0, nh1 = 0;
      if (Number.isFinite(max)) {
        const s = max / 127;
        const inv = s === 0 ? 0 : 127 / max;
        for (let i = 0; i < stride; i += 4) {
          const v0 = f32[base + i]!, v1 = f32[base + i + 1]!, v2 = f32[base + i + 2]!, v3 = f32[base + i + 3]!;
          const c0 = roundHalfEven(v0 * inv), c1 = roundHalfEven(v1 * inv), c2 = roundHalfEven(v2 * inv), c3 = roundHalfEven(v3 * inv);
          i8[c + i] = c0;
          i8[c + i + 1] = c1;
          i8[c + i + 2] = c2;
          i8[c + i + 3] = c3;
          const h0 = c0 * s, h1 = c1 * s, h2 = c2 * s, h3 = c3 * s;
          err0 += (v0 - h0) * (v0 - h0);
          err1 += (v1 - h1) * (v1 - h1);
          err0 += (v2 - h2) * (v2 - h2);
          err1 += (v3 - h3) * (v3 - h3);
          norm0 += v0 * v0 + v2 * v2;
          norm1 += v1 * v1 + v3 * v3;
          nh0 += h0 * h0 + h2 * h2;
          nh1 += h1 * h1 + h3 * h3;
        }
      } else i8.fill(0, c, c + stride);
      f64[r * 4] = max;
      f64[r * 4 + 1] = err0 + err1;
      f64[r * 4 + 2] = norm0 + norm1;
      f64[r * 4 + 3] = nh0 + nh1;
    }
  }

  /** One float32 row dot product in dot.wat's summation order (16 partial sums). */
  private row(at: number, stride: number, q: number): number {
    const m = this.f32;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0, s9 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0, s14 = 0, s15 = 0;
    for (let i = 0; i < stride; i += LANES) {
      const a = (at >> 2) + i;
      const b = (q >> 2) + i;
      s0 = f(s0 + f(m[a + 0]! * m[b + 0]!));
      s1 = f(s1 + f(m[a + 1]! * m[b + 1]!));
      s2 = f(s2 + f(m[a + 2]! * m[b + 2]!));
      s3 = f(s3 + f(m[a + 3]! * m[b + 3]!));
      s4 = f(s4 + f(m[a + 4]! * m[b + 4]!));
      s5 = f(s5 + f(m[a + 5]! * m[b + 5]!));
      s6 = f(s6 + f(m[a + 6]! * m[b + 6]!));
      s7 = f(s7 + f(m[a + 7]! * m[b + 7]!));
      s8 = f(s8 + f(m[a + 8]! * m[b + 8]!));
      s9 = f(s9 + f(m[a + 9]! * m[b + 9]!));
      s10 = f(s10 + f(m[a + 10]! * m[b + 10]!));
      s11 = f(s11 + f(m[a + 11]! * m[b + 11]!));
      s12 = f(s12 + f(m[a + 12]! * m[b + 12]!));
      s13 = f(s13 + f(m[a + 13]! * m[b + 13]!));
      s14 = f(s14 + f(m[a + 14]! * m[b + 14]!));
      s15 = f(s15 + f(m[a + 15]! * m[b + 15]!));
    }
    // (a0 + a1) + (a2 + a3) per lane, then (l0 + l1) + (l2 + l3).
    const l0 = f(f(s0 + s4) + f(s8 + s12));
    const l1 = f(f(s1 + s5) + f(s9 + s13));
    const l2 = f(f(s2 + s6) + f(s10 + s14));
    const l3 = f(f(s3 + s7) + f(s11 + s15));
    return f(f(l0 + l1) + f(l2 + l3));
  }
}
