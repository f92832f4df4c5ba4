/** `iotactl completion bash|zsh|fish`: prints a shell completion script written from the command table. */

import type { Command } from "../command.ts";
import { bashScript } from "../completion/bash.ts";
import { fishScript } from "../completion/fish.ts";
import { completionModel } from "../completion/model.ts";
import { zshScript } from "../completion/zsh.ts";
import { usageError } from "../exit-codes.ts";
import { positionals } from "../flags.ts";

const SHELLS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

/** The `completion` command. */
export const completion: Command = {
  words: ["completion"],
  summary: "print a shell completion script (bash, zsh, fish)",
  usage: "completion bash|zsh|fish",
  description: `Prints a completion script for the shell on stdout: iotactl's commands and flags (taken
from iotactl itself, so the script matches this version), file and folder names for flags that
take them, and group names for -g/--group, asked from the server with "iotactl list groups
--quiet" (at most 5 s; nothing is offered when the server cannot be asked). Regenerate the
script after upgrading iotactl.`,
  flags: [],
  choices: Object.keys(SHELLS),
  examples: [
    "iotactl completion bash > ~/.local/share/bash-completion/completions/iotactl",
    "source <(iotactl completion bash)      # this bash session only",
    "iotactl completion zsh > ~/.zfunc/_iotactl      # zsh: a folder in $fpath, then a new shell",
    "iotactl completion fish > ~/.config/fish/completions/iotactl.fish",
  ],
  async run(ctx) {
    const [shell = ""] = positionals(ctx.args, ["the shell (bash, zsh or fish)"]);
    if (!Object.hasOwn(SHELLS, shell))
      throw usageError(
        `unknown shell ${JSON.stringify(shell)}; iotactl writes completions for bash, zsh and fish`,
      );
    ctx.io.stdout.write(SHELLS[shell as keyof typeof SHELLS](completionModel(ctx.commands)));
    return 0;
  },
};
