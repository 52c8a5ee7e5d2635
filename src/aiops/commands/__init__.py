"""One module per `aiops` command. Each exposes `register(subparsers)`, which adds its parser
and sets `handler` to a function of the parsed arguments returning the exit code."""

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
