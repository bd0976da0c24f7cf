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

  ;; int8 codes of rows [0, rows) for the two-pass scan (stride a multiple of 4). Per row: m, the
  ;; largest |value| (float32, NaN when the row holds one); when m is finite, with s = m / 127
  ;; and inv = 127 / m (0 when m is 0), code_i = nearest(v_i × inv) (float64, ties to even) and
  ;; four float64 go to stats (32 bytes a row): m, Σ(v_i − code_i·s)², Σv_i², Σ(code_i·s)²
  ;; (each summed in two float64 lanes, value i in lane i mod 2, then the lanes added). A row with a NaN or an infinity gets codes 0 and the sums 0.
  (func (export "quantize_i8")
    (param $mat i32) (param $codes i32) (param $rows i32) (param $stride i32) (param $stats i32)
    (local $r i32) (local $p i32) (local $rowEnd i32) (local $c i32) (local $vmax v128) (local $m f64)
    (local $s f64) (local $inv f64) (local $err f64) (local $norm f64) (local $nh f64)
    (local $vs v128) (local $vinv v128) (local $x v128) (local $lo v128) (local $hi v128) (local $clo v128) (local $chi v128)
    (local $ci v128) (local $d v128) (local $err2 v128) (local $norm2 v128) (local $nh2 v128)
    (local.set $p (local.get $mat))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $rowEnd (i32.add (local.get $p) (i32.shl (local.get $stride) (i32.const 2))))
        ;; Pass 1: the largest |value| (f32x4.max keeps a NaN).
        (local.set $vmax (v128.const i32x4 0 0 0 0))
        (local.set $c (local.get $p))
        (loop $max
          (local.set $vmax (f32x4.max (local.get $vmax) (f32x4.abs (v128.load (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $max (i32.lt_u (local.get $c) (local.get $rowEnd))))
        (local.set $m (f64.promote_f32
          (f32.max
            (f32.max (f32x4.extract_lane 0 (local.get $vmax)) (f32x4.extract_lane 1 (local.get $vmax)))
            (f32.max (f32x4.extract_lane 2 (local.get $vmax)) (f32x4.extract_lane 3 (local.get $vmax))))))
        (local.set $err (f64.const 0))
        (local.set $norm (f64.const 0))
        (local.set $nh (f64.const 0))
        (local.set $c (local.get $codes))
        (if (f64.eq (f64.sub (local.get $m) (local.get $m)) (f64.const 0))
          (then
            ;; Pass 2: codes and the error-bound sums.
            (local.set $s (f64.div (local.get $m) (f64.const 127)))
            (local.set $inv (select (f64.const 0) (f64.div (f64.const 127) (local.get $m)) (f64.eq (local.get $s) (f64.const 0))))
            (local.set $vs (f64x2.splat (local.get $s)))
            (local.set $vinv (f64x2.splat (local.get $inv)))
            (local.set $err2 (v128.const i32x4 0 0 0 0))
            (local.set $norm2 (v128.const i32x4 0 0 0 0))
            (local.set $nh2 (v128.const i32x4 0 0 0 0))
            ;; Four values at a time, as two float64 pairs.
            (loop $code
              (local.set $x (v128.load (local.get $p)))
              (local.set $lo (f64x2.promote_low_f32x4 (local.get $x)))
              (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))
              (local.set $clo (f64x2.nearest (f64x2.mul (local.get $lo) (local.get $vinv))))
              (local.set $chi (f64x2.nearest (f64x2.mul (local.get $hi) (local.get $vinv))))
              (local.set $ci (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (i32x4.trunc_sat_f64x2_s_zero (local.get $clo)) (i32x4.trunc_sat_f64x2_s_zero (local.get $chi))))
              (local.set $ci (i16x8.narrow_i32x4_s (local.get $ci) (local.get $ci)))
              (local.set $ci (i8x16.narrow_i16x8_s (local.get $ci) (local.get $ci)))
              (v128.store32_lane 0 (local.get $c) (local.get $ci))
              (local.set $clo (f64x2.mul (local.get $clo) (local.get $vs)))
              (local.set $chi (f64x2.mul (local.get $chi) (local.get $vs)))
              (local.set $d (f64x2.sub (local.get $lo) (local.get $clo)))
              (local.set $err2 (f64x2.add (local.get $err2) (f64x2.mul (local.get $d) (local.get $d))))
              (local.set $d (f64x2.sub (local.get $hi) (local.get $chi)))
              (local.set $err2 (f64x2.add (local.get $err2) (f64x2.mul (local.get $d) (local.get $d))))
              (local.set $norm2 (f64x2.add (local.get $norm2) (f64x2.add (f64x2.mul (local.get $lo) (local.get $lo)) (f64x2.mul (local.get $hi) (local.get $hi)))))
              (local.set $nh2 (f64x2.add (local.get $nh2) (f64x2.add (f64x2.mul (local.get $clo) (local.get $clo)) (f64x2.mul (local.get $chi) (local.get $chi)))))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (local.set $c (i32.add (local.get $c) (i32.const 4)))
              (br_if $code (i32.lt_u (local.get $p) (local.get $rowEnd))))
            (local.set $err (f64.add (f64x2.extract_lane 0 (local.get $err2)) (f64x2.extract_lane 1 (local.get $err2))))
            (local.set $norm (f64.add (f64x2.extract_lane 0 (local.get $norm2)) (f64x2.extract_lane 1 (local.get $norm2))))
            (local.set $nh (f64.add (f64x2.extract_lane 0 (local.get $nh2)) (f64x2.extract_lane 1 (local.get $nh2)))))
          (else
            (loop $zero
              (i32.store (local.get $c) (i32.const 0))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (local.set $c (i32.add (local.get $c) (i32.const 4)))
              (br_if $zero (i32.lt_u (local.get $p) (local.get $rowEnd))))))
        (f64.store offset=0 (local.get $stats) (local.get $m))
        (f64.store offset=8 (local.get $stats) (local.get $err))
        (f64.store offset=16 (local.get $stats) (local.get $norm))
        (f64.store offset=24 (local.get $stats) (local.get $nh))
        (local.set $stats (i32.add (local.get $stats) (i32.const 32)))
        (local.set $codes (i32.add (local.get $codes) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))
)
