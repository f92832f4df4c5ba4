/** The zsh completion script of iotactl, written from the completion model. */

import { type CompletionModel, type FlagSpec, flagsWithValue, spellings } from "./model.ts";

/** A single-quoted zsh word. */
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
const alternatives = (list: string[]) => list.map((w) => `"${w}"`).join("|");
/** `_describe` entries: `word:help`, a colon in the word escaped. */
const described = (entries: [string, string][]) =>
  entries.map(([word, help]) => quote(`${word.replace(/:/g, "\\:")}:${help}`)).join(" ");
const flagEntries = (flags: FlagSpec[]) =>
  described(flags.flatMap((f) => spellings(f).map((s): [string, string] => [s, f.help])));

/** The zsh script: a file `_iotactl` in `$fpath`, or `source <(iotactl completion zsh)` after compinit. */
export function zshScript(model: CompletionModel): string {
  const multi = model.commands.filter((c) => c.words.length === 2).map((c) => c.key);
  const single = model.commands.filter((c) => c.words.length === 1).map((c) => c.key);
  const none = flagsWithValue(model, "none");
  const flagArms = model.commands
    .filter((c) => c.flags.length > 0)
    .map((c) => `      ("${c.key}") items+=(${flagEntries(c.flags)}) ;;`)
    .join("\n");
  const familyArms = Object.entries(model.families)
    .map(
      ([head, list]) =>
        `          (${head}) items=(${described(list.map((w) => [w.word, w.help]))}) ;;`,
    )
    .join("\n");
  const choiceArms = model.commands
    .filter((c) => c.choices.length > 0)
    .map(
      (c) =>
        `    ("${c.key}") (( \${#typed} == ${c.words.length} )) && { items=(${c.choices.join(" ")}); compadd -a items; } ;;`,
    )
    .join("\n");
  return `#compdef iotactl
# zsh completion for iotactl, written by "iotactl completion zsh" from iotactl's command table.
# Install it:  iotactl completion zsh > ~/.zfunc/_iotactl   (a folder in $fpath; then a new shell)
# Or load it:  source <(iotactl completion zsh)                   (after compinit)

# Group names, asked from the server (quietly; at most 5 s when timeout(1) is there).
__iotactl_groups() {
  local -a groups limit
  (( $+commands[timeout] )) && limit=(timeout 5)
  groups=(\${(f)"$($limit $1 list groups --quiet 2>/dev/null)"})
  compadd -a groups
}

_iotactl() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]}
  local -a typed items
  local i w skip=0
  for (( i = 2; i < CURRENT; i++ )); do
    w=\${words[i]}
    if (( skip )); then skip=0; continue; fi
    case $w in
      (${alternatives(model.valueFlags)}) skip=1 ;;
      (-*) ;;
      (*) typed+=("$w") ;;
    esac
  done
  local cmd=""
  case "\${typed[1]-} \${typed[2]-}" in
    (${alternatives(multi)}) cmd="\${typed[1]} \${typed[2]}" ;;
    (*) case "\${typed[1]-}" in (${single.join("|")}) cmd=\${typed[1]} ;; esac ;;
  esac
  case $prev in
    (${alternatives(flagsWithValue(model, "group"))}) __iotactl_groups \${words[1]}; return ;;
    (${alternatives(flagsWithValue(model, "file"))}) _files; return ;;
    (${alternatives(flagsWithValue(model, "dir"))}) _files -/; return ;;${none.length > 0 ? `\n    (${alternatives(none)}) return 1 ;;` : ""}
  esac
  if [[ $cur == -* ]]; then
    items=(${flagEntries(model.globalFlags)})
    case $cmd in
${flagArms}
      ("") items+=(${flagEntries(model.topFlags)}) ;;
    esac
    _describe -t flags flag items
    return
  fi
  if [[ -z $cmd ]]; then
    case \${#typed} in
      (0) items=(${described(model.heads.map((h) => [h.word, h.help]))}) ;;
      (1)
        case \${typed[1]} in
${familyArms}
        esac ;;
    esac
    (( \${#items} )) && _describe -t commands command items
    return
  fi
  case $cmd in
${choiceArms}
  esac
}

if [[ \${funcstack[1]-} == _iotactl ]]; then
  _iotactl "$@"
else
  compdef _iotactl iotactl
fi
`;
}
