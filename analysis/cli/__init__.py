"""The command line, ``python -m analysis COMMAND``: one module per command.

Each command module has ``add_arguments(command)``, which adds its
options to its sub-command's parser, and ``run(args)``, which does its work;
:mod:`analysis.cli.main` lists the commands, imports the module of the one
that runs, and turns every problem with an input into one line.
"""
