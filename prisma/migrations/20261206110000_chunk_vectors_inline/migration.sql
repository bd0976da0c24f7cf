-- A chunk's vector stays in its row; its text goes to TOAST first. A chunk row of 256 tokens of
-- text (about 1,400 characters) and a 384-dimension vector (1,536 bytes) is over PostgreSQL's
-- 2 kB TOAST threshold even with the text compressed, and by default the toaster then moved the
-- largest value out of line: the vector, which does not compress. A cold load of a workspace's
-- vectors then read each one through the TOAST index: 10,000 vectors in 41 ms against 20 ms
-- inline (docs/benchmarks.md). MAIN: kept inline, moved out only if the row cannot fit at all.
-- Rows written before keep their layout until rewritten (a re-embedding rewrites them).
ALTER TABLE "memory_chunks" ALTER COLUMN "vector" SET STORAGE MAIN;
