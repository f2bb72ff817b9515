/**
 * ___ratelimit (lib/ratelimit.c): at most `burst` messages per `intervalMs`; the window opens at the
 * first message. printk_ratelimit() and pr_err_ratelimited() both default to 10 per 5 s.
 */
export class RateLimit {
  private windowStartMs = Number.NEGATIVE_INFINITY;
  private printed = 0;
  /** messages suppressed since the window opened */
  missed = 0;

  constructor(
    private readonly burst = 10,
    private readonly intervalMs = 5000,
  ) {}

  /** True when a message may be printed at time `nowMs`. */
  allow(nowMs: number): boolean {
    if (nowMs >= this.windowStartMs + this.intervalMs) {
      this.windowStartMs = nowMs;
      this.printed = 0;
      this.missed = 0;
    }
    if (this.printed < this.burst) {
      this.printed++;
      return true;
    }
    this.missed++;
    return false;
  }
}
