"""`python -m ctxengine` runs the command line."""

from .cli import main

main()
