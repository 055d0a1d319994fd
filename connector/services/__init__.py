"""Use cases shared by the operator API and the CLI: router -> service -> repository."""
