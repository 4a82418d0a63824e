"""The ``toolrm`` console script: the runtime's commands plus the wings' groups.

The runtime (:mod:`toolrm_agent.cli`: ``version``, ``serve``, ``replay``) never names a
wing; this thin module, outside every package, adds ``demo``, ``eval`` and ``bench`` (the
``eval`` wing) and ``data`` and ``train`` (the ``train`` wing) as lazy groups, each
imported only when asked for.
"""

from __future__ import annotations

from toolrm_agent.cli import DEBUG_HELP, SUMMARY, add_lazy_group, app
from toolrm_agent.cli import main as main

app.info.help = (
    f"{SUMMARY}\n\n"
    "Groups: `toolrm eval --help` (measurements on BFCL), `toolrm bench --help` (reliability and "
    "speed benchmarks), `toolrm data --help` (preference data), `toolrm train --help` (critic training).\n\n"
    f"{DEBUG_HELP}"
)

# in the order `toolrm --help` lists them, after the runtime's commands
add_lazy_group("demo", "eval.commands.demo",
               "A real agent corrected by a real critic on BFCL tasks (see `toolrm demo --help`).", help_option=True)
add_lazy_group("eval", "eval.cli",
               "Measurements on BFCL: trbench, bon, selfcorrect, rescore, plot (`toolrm eval --help`).")
add_lazy_group("bench", "eval.bench.cli", "Reliability and speed benchmarks (`toolrm bench --help`).")
add_lazy_group("data", "train.data_cli",
               "Preference data for critic training: `toolrm data build` (`toolrm data --help`).")
add_lazy_group("train", "train.cli", "Train critics: disc (Bradley-Terry), gen (GRPO) (`toolrm train --help`).")

__all__ = ["app", "main"]

if __name__ == "__main__":
    main()
