# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One validation layer for module options, run before a service does anything.

Ansible's argument spec checks types and choices; it lets through what hurts later: NaN and
infinity in a float (``timeout: .nan`` hangs a loop, ``weight: .inf`` overflows), NUL bytes (libpq
cuts a database name at the NUL and connects elsewhere; ``open()`` raises ValueError), text that
is not UTF-8 (a surrogate escape that cannot be written back), zero or negative numbers where they
mean "forever" or "nothing", PostgreSQL names longer than 63 bytes (the server truncates them
silently) and empty ids. :func:`check_options` walks every option of an argument spec, suboptions
included, applies the checks every option gets plus the rules a module declares, and raises
:class:`ConfigurationError` naming the option, the value and what to do.

Rules are keyed by option path: ``"jobs"``, ``"rules.max_error_rate"``, ``"targets[].port"``.
"""

from __future__ import annotations

import math
import os

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

# PostgreSQL's NAMEDATALEN - 1: a longer identifier is truncated by the server without an error.
PG_NAME_MAX_BYTES = 63
# Free-form dictionaries (ledger data, headers, weights) deeper than this are refused: they
# come from a playbook, and a deeper one would only exhaust the stack of whoever reads it back.
MAX_DEPTH = 32
_VALUE_SHOWN = 80


class Rule:
    """A check of one option's value; ``check(name, value)`` raises ConfigurationError."""

    def check(self, name, value):
        raise NotImplementedError


class Number(Rule):
    """A finite number within ``[minimum, maximum]``; ``above`` is an exclusive lower bound."""

    def __init__(self, minimum=None, maximum=None, above=None, hint=""):
        self.minimum, self.maximum, self.above, self.hint = minimum, maximum, above, hint

    def bounds(self):
        """The accepted range in words, e.g. ``more than 0 and at most 3600``."""
        parts = []
        if self.above is not None:
            parts.append("more than %s" % _num(self.above))
        if self.minimum is not None:
            parts.append("at least %s" % _num(self.minimum))
        if self.maximum is not None:
            parts.append("at most %s" % _num(self.maximum))
        return " and ".join(parts) or "a finite number"

    def check(self, name, value):
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise invalid(name, value, "is not a number; give %s" % self.bounds())
        if isinstance(value, float) and not math.isfinite(value):
            raise invalid(name, value, "is not a finite number; give %s" % self.bounds())
        low_ok = (self.minimum is None or value >= self.minimum) and (self.above is None or value > self.above)
        if not low_ok or (self.maximum is not None and value > self.maximum):
            raise invalid(name, value, "is out of range; give %s%s" % (
                self.bounds(), "; " + self.hint if self.hint else ""))


class Identifier(Rule):
    """A PostgreSQL name: not empty, at most 63 bytes in UTF-8 (the server would truncate it)."""

    def check(self, name, value):
        if value is None:
            return
        if value == "":
            raise invalid(name, value, "is empty; give a PostgreSQL name (1 to 63 bytes) or omit the option")
        size = len(value.encode("utf-8", "surrogateescape"))
        if size > PG_NAME_MAX_BYTES:
            raise invalid(name, value, "is %d bytes long; PostgreSQL names are at most %d bytes (longer ones "
                          "are truncated silently, so the task would act on another name); shorten it"
                          % (size, PG_NAME_MAX_BYTES))


class NotEmpty(Rule):
    """A string (or list) that, when given, must not be empty or blank."""

    def __init__(self, what="a value"):
        self.what = what

    def check(self, name, value):
        if value is None:
            return
        if (isinstance(value, str) and not value.strip()) or (isinstance(value, (list, dict)) and not value):
            raise invalid(name, value, "is empty; give %s or omit the option" % self.what)


class AbsolutePath(Rule):
    """A path that must be absolute: a module's working directory is not the playbook's."""

    def check(self, name, value):
        if value is None:
            return
        if not os.path.isabs(value):
            raise invalid(name, value, "is a relative path; give an absolute path (a module runs in a temporary "
                          "directory, not where the playbook is)")


def invalid(name, value, problem):
    """A ConfigurationError ``option NAME: VALUE PROBLEM`` (the value shortened, never a secret)."""
    return ConfigurationError("option %s: %s %s" % (name, show(value), problem), option=name)


def show(value):
    """``repr`` of a value cut to a readable length (NUL bytes and surrogates visible as escapes)."""
    text = repr(value)
    return text if len(text) <= _VALUE_SHOWN else text[:_VALUE_SHOWN - 3] + "..."


def _num(value):
    return ("%d" % value) if float(value).is_integer() else ("%g" % value)


# Rules of the options several modules share (postgres, storage, router option sets). A module's
# own rules override these.
COMMON_RULES = {
    "port": Number(1, 65535),
    # libpq reads 0 (and anything under 2) as "wait forever"
    "connect_timeout": Number(2, 3600, hint="libpq waits forever with 0"),
    "database": Identifier(),
    "user": Identifier(),
    "s3_part_size": Number(5, 5120, hint="S3 parts are 5 MiB to 5 GiB"),
    "s3_concurrency": Number(1, 64),
    "aws_connect_timeout": Number(above=0, maximum=600),
    "aws_read_timeout": Number(above=0, maximum=3600),
    "deadline": Number(above=0, maximum=7 * 86400, hint="seconds the whole task may take"),
    "location": NotEmpty("a directory path or s3://bucket/prefix"),
    "ledger": NotEmpty("a file path or s3://bucket/key"),
}


def check_options(params, argument_spec, rules=None):
    """Check ``params`` (after Ansible's own validation) against ``argument_spec`` and ``rules``.

    Every string anywhere (options, list elements, suboptions, free-form dictionaries) must be
    free of NUL bytes and valid UTF-8; every float finite; free-form dictionaries at most
    ``MAX_DEPTH`` deep; then the rules (``COMMON_RULES`` for options of the spec, overridden
    by ``rules``) of each option path. Options marked ``no_log`` are checked but their values
    never appear in a message. Raises ConfigurationError at the first problem.
    """
    merged = {name: rule for name, rule in COMMON_RULES.items() if name in argument_spec}
    merged.update(rules or {})
    _walk_spec(params, argument_spec, "", merged)


def _walk_spec(params, spec, prefix, rules):
    for name, option in spec.items():
        value = params.get(name) if isinstance(params, dict) else None
        path = prefix + name
        secret = bool(option.get("no_log"))
        _check_value(path, value, option, secret)
        rule = rules.get(path)
        if rule is not None and value is not None:
            if option.get("type") == "list" and not isinstance(rule, NotEmpty):
                for index, element in enumerate(value):
                    _apply(rule, "%s[%d]" % (path, index), element, secret)
            else:
                _apply(rule, path, value, secret)
        suboptions = option.get("options")
        if suboptions and value is not None:
            if option.get("type") == "list":
                for index, item in enumerate(value):
                    _walk_items(item, suboptions, path, index, rules)
            else:
                _walk_spec(value, suboptions, path + ".", rules)


def _walk_items(item, suboptions, path, index, rules):
    # Rules name list items as ``targets[].port``; messages name the item: ``targets[2].port``.
    prefix = "%s[]." % path
    shown = "%s[%d]." % (path, index)
    local = {shown + key[len(prefix):]: rule for key, rule in rules.items() if key.startswith(prefix)}
    _walk_spec(item, suboptions, shown, local)


def _apply(rule, path, value, secret):
    try:
        rule.check(path, value)
    except ConfigurationError:
        if secret:
            raise ConfigurationError("option %s is not valid (value hidden: no_log)" % path, option=path) from None
        raise


def _check_value(path, value, option, secret, depth=0):
    if value is None:
        return
    if depth > MAX_DEPTH:
        raise ConfigurationError("option %s is nested more than %d levels deep; flatten it" % (path, MAX_DEPTH),
                                 option=path)
    if isinstance(value, str):
        _check_text(path, value, secret)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise invalid(path, value, "is not a finite number; give a number (NaN and infinity mean nothing here)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(path + " key", str(key), secret)
            if not option.get("options"):
                _check_value("%s.%s" % (path, key), item, {}, secret, depth + 1)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if isinstance(item, dict) and option.get("options"):
                continue  # suboptions are walked with their own spec
            _check_value("%s[%d]" % (path, index), item, {}, secret, depth + 1)


def _check_text(path, text, secret):
    shown = "(value hidden: no_log)" if secret else show(text)
    if "\x00" in text:
        raise ConfigurationError("option %s: %s contains a NUL byte; remove it (no name, path or URL can hold "
                                 "one, and PostgreSQL would cut the name there)" % (path, shown), option=path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigurationError("option %s: %s is not valid UTF-8 text; give it in UTF-8" % (path, shown),
                                 option=path) from None
