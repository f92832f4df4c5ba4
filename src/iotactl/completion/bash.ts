/** The bash completion script of iotactl, written from the completion model. */

import { type CompletionModel, flagsWithValue, spellings } from "./model.ts";

const words = (list: string[]) => list.join(" ");
const alternatives = (list: string[]) => list.map((w) => `"${w}"`).join("|");

/** `case` arms completing flags of each command. */
function flagArms(model: CompletionModel): string {
  return model.commands
    .filter((c) => c.flags.length > 0)
    .map((c) => `      "${c.key}") flags+=" ${words(c.flags.flatMap(spellings))}" ;;`)
    .join("\n");
}

/** The bash script: `source <(iotactl completion bash)`. */
export function bashScript(model: CompletionModel): string {
  const multi = model.commands.filter((c) => c.words.length === 2).map((c) => c.key);
  const single = model.commands.filter((c) => c.words.length === 1).map((c) => c.key);
  const none = flagsWithValue(model, "none");
  const familyArms = Object.entries(model.families)
    .map(
      ([head, list]) =>
        `          ${head}) COMPREPLY=($(compgen -W "${words(list.map((w) => w.word))}" -- "$cur")) ;;`,
    )
    .join("\n");
  const choiceArms = model.commands
    .filter((c) => c.choices.length > 0)
    .map(
      (c) =>
        `    "${c.key}") (( \${#typed[@]} == ${c.words.length} )) && COMPREPLY=($(compgen -W "${words(c.choices)}" -- "$cur")) ;;`,
    )
    .join("\n");
  return `# bash completion for iotactl, written by "iotactl completion bash" from iotactl's command table.
# Load it in this shell:  source <(iotactl completion bash)
# Install it for a user:  iotactl completion bash > ~/.local/share/bash-completion/completions/iotactl

# Group names, asked from the server (quietly; at most 5 s when timeout(1) is there).
__iotactl_groups() {
  local limit=()
  command -v timeout >/dev/null 2>&1 && limit=(timeout 5)
  "\${limit[@]}" "$1" list groups --quiet 2>/dev/null
}

_iotactl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev=""
  (( COMP_CWORD > 0 )) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local -a typed=()
  local i w skip=0
  for (( i = 1; i < COMP_CWORD; i++ )); do
    w="\${COMP_WORDS[i]}"
    if (( skip )); then skip=0; continue; fi
    case "$w" in
      ${alternatives(model.valueFlags)}) skip=1 ;;
      -*) ;;
      *) typed+=("$w") ;;
    esac
  done
  local cmd=""
  case "\${typed[0]-} \${typed[1]-}" in
    ${alternatives(multi)}) cmd="\${typed[0]} \${typed[1]}" ;;
    *) case "\${typed[0]-}" in ${single.join("|")}) cmd="\${typed[0]}" ;; esac ;;
  esac
  case "$prev" in
    ${alternatives(flagsWithValue(model, "group"))})
      COMPREPLY=($(compgen -W "$(__iotactl_groups "\${COMP_WORDS[0]}")" -- "$cur")); return ;;
    ${alternatives(flagsWithValue(model, "file"))})
      compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    ${alternatives(flagsWithValue(model, "dir"))})
      compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;${none.length > 0 ? `\n    ${alternatives(none)}) return ;;` : ""}
  esac
  if [[ "$cur" == -* ]]; then
    local flags="${words(model.globalFlags.flatMap(spellings))}"
    case "$cmd" in
${flagArms(model)}
      "") flags+=" ${words(model.topFlags.flatMap(spellings))}" ;;
    esac
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi
  if [[ -z "$cmd" ]]; then
    case "\${#typed[@]}" in
      0) COMPREPLY=($(compgen -W "${words(model.heads.map((h) => h.word))}" -- "$cur")) ;;
      1)
        case "\${typed[0]}" in
${familyArms}
        esac ;;
    esac
    return
  fi
  case "$cmd" in
${choiceArms}
  esac
}

complete -F _iotactl iotactl
`;
}
