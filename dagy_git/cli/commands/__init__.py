"""One module per subcommand: plain functions that call the core, render, return an exit code."""
