/**
 * Compiled distributions: a scenario's size or duration distribution turned into a sampler that
 * draws from a Prng without allocating (the simulation draws millions of values).
 */
import { frameSizeBytes, parseResolution } from "./frames.js";
import type { Prng } from "./prng.js";
import type { DurationDistribution, FrameSpec, SizeDistribution } from "./scenario.js";

enum Kind {
  Fixed,
  Uniform,
  Exponential,
  LogNormal,
  Table,
}

/** Draws values of one distribution; integers when built for sizes. */
export class Sampler {
  private readonly kind: Kind;
  private readonly a: number;
  private readonly b: number;
  private readonly lo: number;
  private readonly hi: number;
  private readonly values: Float64Array;
  /** cumulative weights, normalised to end at 1 */
  private readonly cdf: Float64Array;
  private readonly integer: boolean;

  constructor(d: SizeDistribution | DurationDistribution, integer: boolean) {
    this.integer = integer;
    this.a = 0;
    this.b = 0;
    this.lo = 0;
    this.hi = Number.POSITIVE_INFINITY;
    this.values = new Float64Array(0);
    this.cdf = new Float64Array(0);
    const frame = (d as { frame?: FrameSpec }).frame;
    if (frame) {
      const [w, h] = parseResolution(frame.resolution)!;
      this.kind = Kind.Fixed;
      this.a = frameSizeBytes(frame.format, w, h, frame.strideAlign);
    } else if (d.fixed !== undefined) {
      this.kind = Kind.Fixed;
      this.a = d.fixed;
    } else if (d.uniform) {
      this.kind = Kind.Uniform;
      this.a = d.uniform.min;
      this.b = d.uniform.max - d.uniform.min;
    } else if (d.exponential) {
      this.kind = Kind.Exponential;
      this.a = d.exponential.mean;
    } else if (d.logNormal) {
      this.kind = Kind.LogNormal;
      this.a = Math.log(d.logNormal.median);
      this.b = d.logNormal.sigma;
      this.lo = d.logNormal.min ?? 0;
      this.hi = d.logNormal.max ?? Number.POSITIVE_INFINITY;
    } else {
      const table = d.table!;
      this.kind = Kind.Table;
      this.values = Float64Array.from(table, (r) => r.value);
      const total = table.reduce((s, r) => s + r.weight, 0);
      let acc = 0;
      this.cdf = Float64Array.from(table, (r) => {
        acc += r.weight;
        return acc / total;
      });
    }
  }

  /** The mean of the distribution (before clamping), for load estimates. */
  mean(): number {
    switch (this.kind) {
      case Kind.Fixed:
        return this.a;
      case Kind.Uniform:
        return this.a + this.b / 2;
      case Kind.Exponential:
        return this.a;
      case Kind.LogNormal:
        return Math.min(this.hi, Math.exp(this.a + (this.b * this.b) / 2));
      case Kind.Table: {
        let m = 0;
        let prev = 0;
        for (let i = 0; i < this.values.length; i++) {
          m += this.values[i] * (this.cdf[i] - prev);
          prev = this.cdf[i];
        }
        return m;
      }
    }
  }

  sample(rng: Prng): number {
    let v: number;
    switch (this.kind) {
      case Kind.Fixed:
        return this.a;
      case Kind.Uniform:
        v = this.a + rng.next() * this.b;
        break;
      case Kind.Exponential:
        v = rng.exponential(this.a);
        break;
      case Kind.LogNormal:
        v = Math.min(this.hi, Math.max(this.lo, Math.exp(this.a + this.b * rng.normal())));
        break;
      case Kind.Table: {
        const u = rng.next();
        let i = 0;
        while (i < this.cdf.length - 1 && u >= this.cdf[i]) i++;
        return this.values[i];
      }
    }
    return this.integer ? Math.max(1, Math.round(v)) : v;
  }
}
