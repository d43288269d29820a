"""`python -m ctxengine.cli` runs the command line."""

from . import main

main()
