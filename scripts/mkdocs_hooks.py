"""mkdocs hooks of the guide (mkdocs.yml `hooks:`).

The command line reference is written at build time from the `lightmic` parser itself
(`napari_lightmic.cli.build_parser`), so it says what the installed command does: a page
holding the line ``<!-- lightmic-cli-reference -->`` gets it in place of that line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

MARKER = "<!-- lightmic-cli-reference -->"
WIDTH = 88  # columns of the usage lines, whatever the terminal running mkdocs


def on_page_markdown(markdown: str, **_: object) -> str:
    """Put the command line reference where a page asks for it."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, cli_reference())


def cli_reference() -> str:
    """The markdown of `lightmic` and each of its subcommands, from the parser."""
    src = Path(__file__).resolve().parents[1] / "src"
    if str(src) not in sys.path:  # a checkout without an installed package
        sys.path.insert(0, str(src))
    from napari_lightmic.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)  # argparse wraps usage lines at the terminal's width
    try:
        parser = build_parser()
        out = [_usage(parser), _text(parser.description), _arguments(parser),
               _epilog(parser)]
        for _, help_text, sub in _subcommands(parser):
            out += [f"### `{sub.prog}`", _text(help_text), _text(sub.description),
                    _usage(sub), _arguments(sub), _epilog(sub)]
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return "\n\n".join(part for part in out if part) + "\n"


def _subcommands(parser: argparse.ArgumentParser,
                 ) -> list[tuple[str, str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                found.append((name, helps.get(name, ""), sub))
    return found


def _usage(parser: argparse.ArgumentParser) -> str:
    usage = parser.format_usage().strip()
    return f"```text\n{usage}\n```"


def _text(text: str | None) -> str:
    return _escape(text.strip()) if text else ""


def _epilog(parser: argparse.ArgumentParser) -> str:
    # epilogs hold examples laid out in lines: kept as they are
    return f"```text\n{parser.epilog.strip()}\n```" if parser.epilog else ""


def _arguments(parser: argparse.ArgumentParser) -> str:
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            rows += [(f"`{name}`", _escape(help_text))
                     for name, help_text, _ in _subcommands(parser)]
            continue
        if action.help == argparse.SUPPRESS:
            continue
        rows.append((_name(action), _meaning(action)))
    if not rows:
        return ""
    lines = ["| argument | meaning |", "|---|---|"]
    lines += [f"| {name} | {meaning} |" for name, meaning in rows]
    return "\n".join(lines)


def _name(action: argparse.Action) -> str:
    if not action.option_strings:
        metavar = action.metavar or action.dest
        return f"`{metavar}`" if action.nargs != "?" else f"`[{metavar}]`"
    takes_value = action.nargs != 0
    metavar = action.metavar or (action.dest.upper() if takes_value else "")
    if action.choices is not None and takes_value and action.metavar is None:
        metavar = "{" + ",".join(map(str, action.choices)) + "}"
    names = ", ".join(action.option_strings)
    return f"`{names} {metavar}`" if takes_value else f"`{names}`"


def _meaning(action: argparse.Action) -> str:
    parts = [_escape(action.help % vars(action)) if action.help else ""]
    if action.choices is not None and action.option_strings and action.nargs != 0:
        parts.append("one of " + ", ".join(f"`{c}`" for c in action.choices))
    default = action.default
    if (action.option_strings and action.nargs != 0 and default not in (None, [], False)
            and default != argparse.SUPPRESS and "default" not in (action.help or "")):
        parts.append(f"default `{default}`")
    if isinstance(action, argparse._AppendAction):
        parts.append("repeatable" if "repeatable" not in (action.help or "") else "")
    return "; ".join(p for p in parts if p)


def _escape(text: str) -> str:
    """Text of a table cell or paragraph: no line breaks, no table separators."""
    text = " ".join(text.split())
    for char, escaped in (("|", "\\|"), ("*", "\\*"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, escaped)
    return text
