/** printk levels, as the kernel numbers them (KERN_EMERG = 0 ... KERN_DEBUG = 7). */
export type LogLevel = "emerg" | "alert" | "crit" | "err" | "warn" | "notice" | "info" | "debug";

export interface DmesgLine {
  level: LogLevel;
  text: string;
}

/**
 * The kernel log of one emulated boot or run. Models append lines (messages are data);
 * the CLI decides what to print. Lines carry no timestamps.
 */
export class Dmesg {
  readonly lines: DmesgLine[] = [];

  log(level: LogLevel, text: string): void {
    this.lines.push({ level, text });
  }
  err(text: string): void {
    this.log("err", text);
  }
  warn(text: string): void {
    this.log("warn", text);
  }
  notice(text: string): void {
    this.log("notice", text);
  }
  info(text: string): void {
    this.log("info", text);
  }
  debug(text: string): void {
    this.log("debug", text);
  }

  /** The plain texts, in order, as `dmesg` shows them without timestamps. */
  texts(): string[] {
    return this.lines.map((l) => l.text);
  }
}
