/** The fish completion script of iotactl, written from the completion model. */

import type { CompletionModel, FlagSpec } from "./model.ts";

/** A single-quoted fish word. */
const quote = (text: string) => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;

/** One `complete` line for a flag, under `condition` (none for global flags). */
function flagLine(flag: FlagSpec, condition?: string): string {
  const parts = ["complete -c iotactl"];
  if (condition !== undefined) parts.push(`-n ${quote(condition)}`);
  if (flag.short !== undefined) parts.push(`-s ${flag.short.slice(1)}`);
  parts.push(`-l ${flag.long.slice(2)}`);
  if (flag.value === "group") parts.push("-x -a '(__iotactl_groups)'");
  else if (flag.value === "file") parts.push("-r -F");
  else if (flag.value === "dir") parts.push("-x -a '(__fish_complete_directories)'");
  else if (flag.value === "none") parts.push("-x");
  parts.push(`-d ${quote(flag.help)}`);
  return parts.join(" ");
}

/** The fish script: `iotactl completion fish | source`, or a file in ~/.config/fish/completions. */
export function fishScript(model: CompletionModel): string {
  const multi = model.commands.filter((c) => c.words.length === 2).map((c) => quote(c.key));
  const single = model.commands.filter((c) => c.words.length === 1).map((c) => c.key);
  const lines: string[] = ["complete -c iotactl -f"];
  for (const head of model.heads)
    lines.push(`complete -c iotactl -n '__iotactl_at 0' -a ${head.word} -d ${quote(head.help)}`);
  for (const [head, list] of Object.entries(model.families))
    for (const w of list)
      lines.push(
        `complete -c iotactl -n '__iotactl_family ${head}' -a ${w.word} -d ${quote(w.help)}`,
      );
  for (const flag of model.globalFlags) lines.push(flagLine(flag));
  for (const flag of model.topFlags) lines.push(flagLine(flag, "__iotactl_at 0"));
  for (const command of model.commands) {
    for (const flag of command.flags) lines.push(flagLine(flag, `__iotactl_using ${command.key}`));
    if (command.choices.length > 0)
      lines.push(
        `complete -c iotactl -n '__iotactl_using ${command.key}; and __iotactl_count ${command.words.length}' -a ${quote(command.choices.join(" "))}`,
      );
  }
  return `# fish completion for iotactl, written by "iotactl completion fish" from iotactl's command table.
# Load it:     iotactl completion fish | source
# Install it:  iotactl completion fish > ~/.config/fish/completions/iotactl.fish

# The words typed after "iotactl" so far, without flags and the values of flags that take one.
function __iotactl_typed
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l skip 0
    for t in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        switch $t
            case ${model.valueFlags.join(" ")}
                set skip 1
            case '-*'
            case '*'
                echo $t
        end
    end
end

# The command typed so far ("add device", "configure"), or nothing.
function __iotactl_command
    set -l w (__iotactl_typed)
    switch "$w[1] $w[2]"
        case ${multi.join(" ")}
            echo "$w[1] $w[2]"
            return
    end
    switch "$w[1]"
        case ${single.join(" ")}
            echo $w[1]
    end
end

function __iotactl_using
    set -l c (__iotactl_command)
    test "$c" = "$argv"
end

function __iotactl_count
    test (count (__iotactl_typed)) -eq $argv[1]
end

# No command yet and exactly N words typed.
function __iotactl_at
    set -l c (__iotactl_command)
    test -z "$c"; and __iotactl_count $argv[1]
end

# Only the first word of a family ("add") typed.
function __iotactl_family
    set -l w (__iotactl_typed)
    test (count $w) -eq 1; and test "$w[1]" = "$argv[1]"
end

# Group names, asked from the server (quietly; at most 5 s when timeout(1) is there).
function __iotactl_groups
    set -l program (commandline -opc)[1]
    if command -q timeout
        timeout 5 $program list groups --quiet 2>/dev/null
    else
        $program list groups --quiet 2>/dev/null
    end
end

${lines.join("\n")}
`;
}
