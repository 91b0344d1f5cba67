# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A team's own task files at the phase boundaries of a deployment (``shipyard_hooks``), checked once.

``shipyard_hooks`` maps a hook name - ``before_<phase>`` or ``after_<phase>`` - to a task file.
:func:`resolve_hooks` is called by the deployment plan, before anything changes: an unknown name or
a file that is not there stops the deployment with a message naming it (and the valid names), so a
typo never surfaces half way through a release.  Relative paths are relative to the inventory
directory (where group_vars live), so ``hooks/before_migrate.yml`` next to ``hosts.yml`` works
wherever the playbook is started from.  The plan's ``hooks`` (name -> absolute path) is what
``playbooks/tasks/hook.yml`` includes.
"""

from __future__ import annotations

import os

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

# In the order a deployment passes them (docs/hooks.md says where each one runs).
PHASES = ("fetch", "preflight", "backup", "migrate", "activate", "switch", "smoke", "rollback")
HOOK_NAMES = tuple("%s_%s" % (when, phase) for phase in PHASES for when in ("before", "after"))


def resolve_hooks(hooks, base_dir, is_file=os.path.isfile):
    """``{hook name: absolute path}`` of ``hooks`` (``shipyard_hooks``), or a ConfigurationError.

    A hook whose file is empty or null is no hook (so an environment's group_vars can switch one
    off). ``base_dir`` is the directory relative paths are resolved against (the inventory's).
    """
    if hooks in (None, ""):
        return {}
    if not isinstance(hooks, dict):
        raise ConfigurationError("shipyard_hooks must be a dictionary of hook name to task file, for example "
                                 "{before_migrate: hooks/maintenance_on.yml}; got %r" % (hooks,))
    unknown = sorted(str(name) for name in hooks if name not in HOOK_NAMES)
    if unknown:
        raise ConfigurationError("shipyard_hooks names %s, which %s not a hook; the hooks are %s"
                                 % (", ".join(unknown), "is" if len(unknown) == 1 else "are", ", ".join(HOOK_NAMES)),
                                 unknown_hooks=unknown)
    resolved = {}
    for name in HOOK_NAMES:
        path = hooks.get(name)
        if path in (None, ""):
            continue
        if not isinstance(path, str):
            raise ConfigurationError("shipyard_hooks.%s must be the path of a task file; got %r" % (name, path))
        full = hook_path(path, base_dir)
        if not is_file(full):
            where = " (relative paths are resolved against the inventory directory %s)" % base_dir \
                if not os.path.isabs(os.path.expanduser(path)) else ""
            raise ConfigurationError("shipyard_hooks.%s: the task file %s does not exist%s; create it or remove "
                                     "the hook" % (name, full, where), hook=name, path=full)
        resolved[name] = full
    return resolved


def hook_path(path, base_dir):
    """``path`` made absolute: ``~`` expanded, a relative path joined to ``base_dir``."""
    path = os.path.expanduser(path)
    if not os.path.isabs(path):
        path = os.path.join(base_dir or os.getcwd(), path)
    return os.path.normpath(path)
