"""The command line, ``python -m analysis COMMAND``: one module per command.

Each command module has ``add_parser(commands)``, which adds its
sub-command, and ``run(args)``, which does its work; :mod:`analysis.cli.main`
puts them together and turns every problem with an input into one line.
"""
