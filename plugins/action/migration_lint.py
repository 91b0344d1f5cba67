# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``migration_lint``: a relative ``paths`` entry means the playbook's directory.

A module resolves a relative path against its working directory on the host that runs it,
which is wherever ``ansible-playbook`` was started - not what a user writing
``paths: [migrations]`` next to the playbook means.  Like ``include_vars`` and ``lookup('file')``,
resolve it on the controller with the loader's ``path_dwim`` (the playbook directory), then run
the module unchanged.
"""

from __future__ import annotations

import os

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Resolve relative ``paths`` against the playbook directory, then run the module."""

    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False

    def _resolve(self, path):
        text = to_text(path)
        if os.path.isabs(text) or text.startswith("~"):
            return text
        return self._loader.path_dwim(text)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        paths = args.get("paths")
        if isinstance(paths, str):  # the module's list type also takes "a,b"
            paths = [p.strip() for p in paths.split(",") if p.strip()]
        if isinstance(paths, (list, tuple)):
            args["paths"] = [self._resolve(p) for p in paths]
        result.update(self._execute_module(module_name="shipyard.deploy.migration_lint", module_args=args,
                                           task_vars=task_vars))
        return result
