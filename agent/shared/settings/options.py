"""Flags that also read SWARMGAUGE_<FLAG> from the environment, validated in one place.

A flag on the command line wins over the environment, which wins over the default.
Any invalid value raises ConfigError naming the flag or variable; the CLI turns it
into one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from agent.shared.errors import ConfigError

ENV_PREFIX = "SWARMGAUGE_"


REQUIRED = object()  # an Option's default where it has none (a positional to give)


@dataclass(frozen=True)
class Option:
    flag: str  # "--interval"; or "node": a positional argument, from the command line only
    convert: Callable[[str], Any]  # text -> value; raises ValueError with a short reason
    default: Any
    help: str
    metavar: str | None = None
    switch: bool = False  # a flag without a value (store_true)
    secret: bool = False  # its value may hold a password: never echoed whole

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.dest.upper()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)


def parse_options(
    prog: str,
    description: str,
    options: Sequence[Option],
    argv: Sequence[str] | None,
    environ: Mapping[str, str],
) -> dict[str, Any]:
    """The value of every option, by dest name."""
    parser = _Parser(prog=prog, description=description)
    for opt in options:
        default_text = "off" if opt.switch else opt.default
        help_text = f"{opt.help} [env {opt.env}; default {default_text}]"
        if not opt.flag.startswith("-"):
            if opt.default is REQUIRED:
                parser.add_argument(opt.flag, metavar=opt.metavar, help=opt.help)
            else:
                more = f" (default {opt.default})"
                parser.add_argument(opt.flag, nargs="?", metavar=opt.metavar, help=opt.help + more)
        elif opt.switch:
            parser.add_argument(
                opt.flag, action="store_const", const="1", default=None, help=help_text
            )
        else:
            parser.add_argument(opt.flag, default=None, metavar=opt.metavar, help=help_text)
    # intermixed: positionals may follow flags (`identify pi-7 --broker URL 5`)
    given = vars(parser.parse_intermixed_args(argv))

    values: dict[str, Any] = {}
    for opt in options:
        text, source = given[opt.dest], opt.flag
        positional = not opt.flag.startswith("-")
        if text is None and not positional and environ.get(opt.env, "").strip():
            text, source = environ[opt.env], opt.env
        if text is None:
            if opt.default is REQUIRED:
                raise ConfigError(f"{opt.metavar or opt.flag} is missing")
            values[opt.dest] = opt.default
            continue
        try:
            values[opt.dest] = opt.convert(text)
        except ValueError as exc:
            got = f" (got {text[:200]!r})" if not opt.secret or shows_no_secret(text) else ""
            raise ConfigError(f"{source}: {exc}{got}") from None
    return values


_PLAIN = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^:@\s\\]*")


def shows_no_secret(text: str) -> bool:
    """Whether text can be shown although its option may hold a password: no ':' or
    '@' past a leading scheme://, no backslash, no white space or control character.
    Anything else may carry one, in forms no parser agrees on (user:pw@host,
    mqtt:u:pw@h, a '/' or '@' in the user, a line end in the password): not shown."""
    return _PLAIN.fullmatch(text) is not None and text.isprintable()


# --- converters: text -> value, ValueError with a short reason ------------------------


def _between(
    kind: Callable[[str], Any], what: str, low: float, high: float
) -> Callable[[str], Any]:
    """A converter: text read by `kind` (float or int), from low to high."""

    def convert(text: str) -> Any:
        try:
            value = kind(text.strip())
        except ValueError:
            raise ValueError(f"must be {what} from {low:g} to {high:g}") from None
        if not low <= value <= high:
            raise ValueError(f"must be from {low:g} to {high:g}")
        return value

    return convert


def number_between(low: float, high: float) -> Callable[[str], float]:
    """A converter for a number from low to high (NaN is not one)."""
    return _between(float, "a number", low, high)


def whole_between(low: int, high: int) -> Callable[[str], int]:
    """A converter for a whole number from low to high."""
    return _between(int, "a whole number", low, high)


fraction = number_between(0.0, 1.0)  # a number from 0 to 1


def one_of(*choices: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value

    return convert


def switch(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be 1/true/yes/on or 0/false/no/off")


def text_value(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


def readable_file(text: str) -> str:
    path = text.strip()
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise ValueError(f"cannot read the file ({exc.strerror})") from None
    return path
