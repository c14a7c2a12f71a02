"""Command line: ``txlint [OPTIONS] [PATH ...]``, ``txlint rule CODE``, ``txlint rules``, ``txlint server``."""

from __future__ import annotations

import os
import sys
import time

import click

from txlint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github")


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("--select", multiple=True, metavar="CODES", help="Comma-separated codes or prefixes to enable.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Comma-separated codes or prefixes to disable.")
@click.option("--exclude", multiple=True, metavar="GLOBS",
              help="Gitignore-style patterns added to the default excludes (comma-separated).")
@click.option("--config", type=click.Path(dir_okay=False), help="pyproject.toml ([tool.txlint]) or txlint.toml.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes [default: CPUs].")
@click.option("--no-cache", is_flag=True, help="Do not read or write the .txlint_cache/ result cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Where the result cache lives [default: .txlint_cache/ at the project root; env: TXLINT_CACHE_DIR].")
@click.option("--baseline", type=click.Path(dir_okay=False), help="Report only findings not in this baseline.")
@click.option("--write-baseline", type=click.Path(dir_okay=False), help="Record today's findings and exit 0.")
@click.option("--stdin-filename", metavar="NAME", help="Read source from stdin and report it as NAME.")
@click.option("--statistics", is_flag=True, help="Print a count per rule after the findings.")
@click.option("--show-source", is_flag=True,
              help="Under each text finding, show the source line with a caret, then the trace steps.")
@click.option("--fix", is_flag=True, help="Apply safe fixes.")
@click.option("--diff", is_flag=True, help="Show the safe fixes as a unified diff; write nothing.")
@click.option("--unsafe-fixes", is_flag=True,
              help="With --fix/--diff, also the fixes that change behaviour on purpose (TXL301).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are reported.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only.")
@click.option("--verbose", "-v", is_flag=True, help="Also print progress and timing to stderr.")
@click.version_option(__version__, "--version", prog_name="txlint")
def check(paths, fmt, select, ignore, exclude, config, jobs, no_cache, cache_dir, baseline, write_baseline,
          stdin_filename, statistics, show_source, fix, diff, unsafe_fixes, exit_zero, quiet, verbose):
    """Find database transaction and session leaks in Python code.

    \b
    Other commands:
      txlint rule CODE   print one rule's documentation
      txlint rules       list every rule
      txlint server      Language Server Protocol over stdio (editors)
    """
    from txlint.app import CheckRequest, run_check

    request = CheckRequest(
        paths=list(paths), fmt=fmt, select=list(select), ignore=list(ignore), exclude=list(exclude),
        config=config, jobs=jobs, use_cache=not no_cache, cache_dir=cache_dir, baseline=baseline, write_baseline=write_baseline,
        stdin_filename=stdin_filename, statistics=statistics, fix=fix, diff=diff, exit_zero=exit_zero,
        unsafe_fixes=unsafe_fixes, show_source=show_source,
        quiet=quiet, verbose=verbose,
    )
    sys.exit(run_check(request))


@click.command("rule")
@click.argument("code")
def rule_cmd(code):
    """Print the documentation of one rule."""
    from txlint.docs import rule_markdown

    text = rule_markdown(code)
    if text is not None:  # the same text as docs/rules/CODE.md, SARIF's rule help and the editor's hover
        click.echo(text.rstrip("\n"))
        return
    _echo_err(f"txlint: unknown rule {code!r}; `txlint rules` lists them")
    sys.exit(EXIT_ERROR)


@click.command("rules")
def rules_cmd():
    """List every rule: code, name, one-line summary."""
    from txlint.registry import all_codes, rule_summary

    for code, name in all_codes().items():
        click.echo(f"{code}  {name:<38} {rule_summary(code)}")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "server":  # pygls is imported only here, never by a check run
        from txlint.server import main as server_main

        sys.exit(server_main(argv[1:]))
    command, args, name = check, argv, "txlint"
    if argv and argv[0] in ("rule", "rules"):
        command = rule_cmd if argv[0] == "rule" else rules_cmd
        args, name = argv[1:], f"txlint {argv[0]}"
    try:
        command.main(args=args, prog_name=name, standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        _echo_err("txlint: interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
