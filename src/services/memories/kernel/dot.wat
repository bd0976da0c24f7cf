;; Dot-product kernels of the in-memory vector index (WebAssembly SIMD, 128-bit).
;; Regenerate dot.wasm after editing: `npm run wasm:build`.
;;
;; Layout (all offsets in bytes into the instance's own memory, 16-byte aligned):
;;   rows are `stride` values long, stride a multiple of 16, padded with zeros.
;;
;; Summation order of dot_f32 (the JS fallback in kernel.ts reproduces it bit for bit):
;;   16 float32 partial sums, value i of a row goes to partial sum i mod 16
;;   (accumulator a[(i / 4) mod 4], lane i mod 4); then lanes are combined as
;;   (a0 + a1) + (a2 + a3), then (l0 + l1) + (l2 + l3).
(module
  (memory (export "memory") 1)

  ;; out[r] = float32 dot(matrix row r, query) for r in [0, rows).
  (func $dot_f32 (export "dot_f32")
    (param $mat i32) (param $rows i32) (param $stride i32) (param $q i32) (param $out i32)
    (local $rowEnd i32) (local $p i32) (local $qp i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $end (i32.add (local.get $mat) (i32.mul (i32.mul (local.get $rows) (local.get $stride)) (i32.const 4))))
    (local.set $p (local.get $mat))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $p) (i32.mul (local.get $stride) (i32.const 4))))
        (local.set $qp (local.get $q))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (loop $col
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load offset=0 (local.get $p)) (v128.load offset=0 (local.get $qp)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $p)) (v128.load offset=16 (local.get $qp)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $p)) (v128.load offset=32 (local.get $qp)))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $p)) (v128.load offset=48 (local.get $qp)))))
          (local.set $p (i32.add (local.get $p) (i32.const 64)))
          (local.set $qp (i32.add (local.get $qp) (i32.const 64)))
          (br_if $col (i32.lt_u (local.get $p) (local.get $rowEnd))))
        (local.set $a0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
        (f32.store (local.get $out)
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
            (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $row))))

  ;; out[j] = float32 dot(matrix row idx[j], query) for j in [0, count): the exact rescoring
  ;; of a candidate set, same summation order as dot_f32.
  (func (export "dot_f32_rows")
    (param $mat i32) (param $idx i32) (param $count i32) (param $stride i32) (param $q i32) (param $out i32)
    (local $end i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.mul (local.get $stride) (i32.const 4)))
    (local.set $end (i32.add (local.get $idx) (i32.mul (local.get $count) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $idx) (local.get $end)))
        (call $dot_f32
          (i32.add (local.get $mat) (i32.mul (i32.load (local.get $idx)) (local.get $rowBytes)))
          (i32.const 1) (local.get $stride) (local.get $q) (local.get $out))
        (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $next))))

  ;; out[r] = int32 dot(int8 matrix row r, int16 query) for r in [0, rows); stride a multiple of 16.
  ;; The caller bounds the query codes so that stride × 127 × max|code| < 2^31 (no overflow).
  (func (export "dot_i8")
    (param $mat i32) (param $rows i32) (param $stride i32) (param $q i32) (param $out i32)
    (local $rowEnd i32) (local $p i32) (local $qp i32) (local $end i32)
    (local $a0 v128) (local $a1 v128)
    (local.set $end (i32.add (local.get $mat) (i32.mul (local.get $rows) (local.get $stride))))
    (local.set $p (local.get $mat))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $p) (local.get $stride)))
        (local.set $qp (local.get $q))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (loop $col
          (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (v128.load8x8_s offset=0 (local.get $p)) (v128.load offset=0 (local.get $qp)))))
          (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $p)) (v128.load offset=16 (local.get $qp)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $qp (i32.add (local.get $qp) (i32.const 32)))
          (br_if $col (i32.lt_u (local.get $p) (local.get $rowEnd))))
        (local.set $a0 (i32x4.add (local.get $a0) (local.get $a1)))
        (i32.store (local.get $out)
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $a0)) (i32x4.extract_lane 1 (local.get $a0)))
            (i32.add (i32x4.extract_lane 2 (local.get $a0)) (i32x4.extract_lane 3 (local.get $a0)))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $row))))
)
