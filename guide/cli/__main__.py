"""`python -m guide.cli`: the `guide` command."""

from guide.cli import main

main()
