import { expect } from 'chai';
import { intRange, intThreshold, potIntThreshold, bitsForRange, worstCaseAccumulatorBits, validateBitWidth } from '../../src/quant/int_range.js';
import { ConfigError } from '../../src/errors.js';

describe('quant/int_range', () => {
  const cases: Array<[number, boolean, boolean, number, number, number]> = [
    // bitWidth, signed, narrow, min, max, T
    [2, true, false, -2, 1, 2], [3, true, false, -4, 3, 4], [4, true, false, -8, 7, 8], [8, true, false, -128, 127, 128],
    [2, true, true, -1, 1, 1], [3, true, true, -3, 3, 3], [4, true, true, -7, 7, 7], [8, true, true, -127, 127, 127],
    [2, false, false, 0, 3, 3], [3, false, false, 0, 7, 7], [4, false, false, 0, 15, 15], [8, false, false, 0, 255, 255],
    [2, false, true, 0, 2, 2], [3, false, true, 0, 6, 6], [4, false, true, 0, 14, 14], [8, false, true, 0, 254, 254],
  ];
  for (const [b, s, n, lo, hi, T] of cases) {
    it(`${s ? 's' : 'u'}${b}${n ? ' narrow' : ''}: [${lo}, ${hi}], T = ${T}`, () => {
      expect(intRange({ bitWidth: b, signed: s, narrowRange: n })).to.deep.equal({ minInt: lo, maxInt: hi });
      expect(intThreshold({ bitWidth: b, signed: s, narrowRange: n })).to.equal(T);
    });
  }
  it('16-bit and 32-bit bias ranges', () => {
    expect(intRange({ bitWidth: 16, signed: true, narrowRange: false })).to.deep.equal({ minInt: -32768, maxInt: 32767 });
    expect(intRange({ bitWidth: 32, signed: true, narrowRange: false })).to.deep.equal({ minInt: -2147483648, maxInt: 2147483647 });
  });
  it('PoT int scaling is 2^(b-1) signed and 2^b unsigned', () => {
    expect(potIntThreshold({ bitWidth: 4, signed: true, narrowRange: true })).to.equal(8);
    expect(potIntThreshold({ bitWidth: 4, signed: false, narrowRange: false })).to.equal(16);
  });
  it('bitsForRange follows the signed/unsigned convention', () => {
    expect(bitsForRange(0, 255)).to.equal(8);
    expect(bitsForRange(0, 256)).to.equal(9);
    expect(bitsForRange(-128, 127)).to.equal(8);
    expect(bitsForRange(-129, 0)).to.equal(9);
    expect(bitsForRange(-1, 0)).to.equal(1);
  });
  it("worst-case accumulator = ceil(log2((2^in-1)(2^w-1) fanIn)): 8-bit in, 4-bit w, 8 inputs -> 15 (Brevitas' case)", () => {
    expect(worstCaseAccumulatorBits(8, 4, 8)).to.equal(15);
    expect(worstCaseAccumulatorBits(4, 4, 30)).to.equal(13);
  });
  it('rejects bit widths outside 1..16 (32 only where allowed)', () => {
    expect(() => validateBitWidth(0)).to.throw(ConfigError, /bitWidth must be an integer in 1\.\.16, got 0/);
    expect(() => validateBitWidth(32)).to.throw(ConfigError);
    expect(() => validateBitWidth(32, 'bias', true)).not.to.throw();
    expect(() => validateBitWidth(4.5)).to.throw(ConfigError, /got 4\.5/);
  });
});
