import { describe, expect, it } from 'vitest';
import { withinTokens } from '../../src/services/imports/summary.js';

describe('withinTokens (the bound of a summary prompt)', () => {
  it('counts an ASCII character as a third of a token and any other as a whole one', () => {
    expect(withinTokens('a'.repeat(30), 10)).toEqual({ text: 'a'.repeat(30), cut: false });
    expect(withinTokens('a'.repeat(31), 10)).toEqual({ text: 'a'.repeat(30), cut: true });
    expect(withinTokens('日本語の文書'.repeat(5), 10)).toEqual({ text: '日本語の文書日本語の', cut: true });
    expect(withinTokens('ab日本', 2)).toEqual({ text: 'ab日', cut: true });
  });

  it('never cuts between the halves of a surrogate pair', () => {
    // Each emoji is two UTF-16 units of 3 each: the third does not fit in 4 tokens (12 units).
    const { text, cut } = withinTokens('😀😀😀', 4);
    expect(cut).toBe(true);
    expect(text).toBe('😀😀');
    const odd = withinTokens('😀😀😀', 5);
    expect(odd.text).toBe('😀😀');
    expect([...odd.text].every((ch) => ch === '😀')).toBe(true);
  });
});
