/** What a completion script needs, derived from the declarative command table so the scripts never go stale. */

import type { Command } from "../command.ts";
import { GLOBAL_FLAGS, type Flag } from "../flags.ts";

/** How the value of a flag is completed. */
export type ValueKind = "group" | "file" | "dir" | "none";

/** One flag as a completion script offers it. */
export interface FlagSpec {
  /** `--group` */
  long: string;
  /** `-g`, when it has one. */
  short?: string;
  help: string;
  /** `undefined` for a boolean flag. */
  value?: ValueKind;
}

/** A word a user may type next, with a one-line description. */
export interface WordSpec {
  word: string;
  help: string;
}

/** One command: its key (`add device`), its flags and the choices of its first argument. */
export interface CommandSpec {
  key: string;
  words: string[];
  flags: FlagSpec[];
  choices: string[];
}

/** Everything the bash, zsh and fish scripts are written from. */
export interface CompletionModel {
  /** First words: whole commands (`configure`) and families (`add`). */
  heads: WordSpec[];
  /** Second words of each family (`add` → `group`, `device`). */
  families: Record<string, WordSpec[]>;
  commands: CommandSpec[];
  /** Flags every command takes. */
  globalFlags: FlagSpec[];
  /** Flags only before a command (`--version`). */
  topFlags: FlagSpec[];
  /** Every spelling of a flag that takes a value, so the scripts can skip its value. */
  valueFlags: string[];
}

function valueKind(flag: Flag): ValueKind | undefined {
  if (flag.type === "boolean") return undefined;
  if (flag.value === "GROUP") return "group";
  if (flag.value === "FILE") return "file";
  if (flag.value === "DIR") return "dir";
  return "none";
}

function flagSpec(flag: Flag): FlagSpec {
  const spec: FlagSpec = { long: `--${flag.name}`, help: flag.help };
  if (flag.short !== undefined) spec.short = `-${flag.short}`;
  const kind = valueKind(flag);
  if (kind !== undefined) spec.value = kind;
  return spec;
}

/** The spellings of a flag (`--group`, `-g`). */
export function spellings(flag: FlagSpec): string[] {
  return flag.short === undefined ? [flag.long] : [flag.long, flag.short];
}

/** The completion model of a command table. */
export function completionModel(commands: Command[]): CompletionModel {
  const heads: WordSpec[] = [];
  const families: Record<string, WordSpec[]> = {};
  for (const command of commands) {
    const [head = "", second] = command.words;
    if (second === undefined) {
      heads.push({ word: head, help: command.summary });
      continue;
    }
    if (!families[head]) {
      families[head] = [];
      heads.push({ word: head, help: "" });
    }
    families[head].push({ word: second, help: command.summary });
  }
  for (const head of heads)
    if (families[head.word]) head.help = (families[head.word] ?? []).map((w) => w.word).join(", ");
  const specs = commands.map((c) => ({
    key: c.words.join(" "),
    words: c.words,
    flags: c.flags.map(flagSpec),
    choices: c.choices ?? [],
  }));
  const globalFlags = GLOBAL_FLAGS.map(flagSpec);
  const topFlags: FlagSpec[] = [{ long: "--version", short: "-v", help: "show the version" }];
  const valueFlags = new Set<string>();
  for (const flag of [...specs.flatMap((s) => s.flags), ...globalFlags])
    if (flag.value !== undefined) for (const spelling of spellings(flag)) valueFlags.add(spelling);
  return {
    heads,
    families,
    commands: specs,
    globalFlags,
    topFlags,
    valueFlags: [...valueFlags].sort(),
  };
}

/** Every spelling of the flags whose value is completed as `kind` (for `case` patterns). */
export function flagsWithValue(model: CompletionModel, kind: ValueKind): string[] {
  const all = new Set<string>();
  for (const flag of [...model.commands.flatMap((c) => c.flags), ...model.globalFlags])
    if (flag.value === kind) for (const s of spellings(flag)) all.add(s);
  return [...all].sort();
}
