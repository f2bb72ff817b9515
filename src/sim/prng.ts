/**
 * Seeded pseudo-random numbers for the simulation: sfc32 (Chris Doty-Humphrey's Small Fast
 * Counting generator, 128-bit state, period >= 2^32) seeded through splitmix32. Only 32-bit
 * integer operations (Math.imul, >>>), so a seed gives the same stream on every machine, in the
 * main thread or in a worker. Floating-point transforms use only IEEE-exact operations and V8's
 * fdlibm-derived Math.log / Math.cos, which are the same on every platform.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is any integer (taken modulo 2^32); `stream` separates independent sequences of one seed. */
  constructor(seed: number, stream = 0) {
    let s = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      // splitmix32: spreads a small seed over the whole state
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform float in (0, 1]: safe for Math.log. */
  nextOpen(): number {
    return (this.nextU32() + 1) / 4294967296;
  }

  /** An exponential variate of the given mean (inter-arrival times, lifetimes). */
  exponential(mean: number): number {
    return -Math.log(this.nextOpen()) * mean;
  }

  /** the second value of the last Box-Muller pair, when `hasSpare` */
  private spare = 0;
  private hasSpare = false;

  /** A standard normal variate (Box-Muller: one logarithm and square root per two values). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const r = Math.sqrt(-2 * Math.log(this.nextOpen()));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }
}
