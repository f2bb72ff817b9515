/**
 * Reader of a kernel `.config`: `CONFIG_X=value` lines and `# CONFIG_X is not set` comments.
 * Errors name the file and line.
 */
import { InputError } from "../errors.js";
import type { KconfigMap } from "../kernel/kconfig.js";

const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const NOT_SET = /^#\s*(CONFIG_[A-Za-z0-9_]+) is not set\s*$/;
const VALUE = /^(y|m|n|-?\d+|0[xX][0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$/;

export function parseKconfigFile(text: string, fileName: string): KconfigMap {
  const map: KconfigMap = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const notSet = NOT_SET.exec(line);
    if (notSet) {
      map[notSet[1]] = "n";
      return;
    }
    if (line === "" || line.startsWith("#")) return;
    const set = SET.exec(line);
    if (!set)
      throw new InputError(
        `'${line.slice(0, 60)}' is not a .config line; accepted: CONFIG_NAME=value or '# CONFIG_NAME is not set'`,
        fileName,
        i + 1,
      );
    if (!VALUE.test(set[2]))
      throw new InputError(
        `${set[1]}: value '${set[2].slice(0, 40)}' is not y, m, n, a number or a "string"`,
        fileName,
        i + 1,
      );
    map[set[1]] = set[2];
  });
  return map;
}
