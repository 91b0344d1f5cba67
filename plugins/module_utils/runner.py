# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where module_utils exceptions become Ansible results.

Every module is ``run_module(AnsibleModule(...), service)``: the service is a plain function
``service(params, check_mode, diff_mode) -> dict`` that knows nothing of Ansible and raises
:class:`ShipyardError` subclasses; this turns those into ``fail_json`` with the message and
details, and anything unexpected into a failure that keeps the traceback (only at -vvv).
Before the service runs, :func:`validation.check_options` refuses bad option values (NaN, NUL
bytes, out-of-range numbers, over-long PostgreSQL names...) so nothing is touched on bad input.
"""

from __future__ import annotations

import traceback

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ShipyardError
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import check_options


def run_module(module, service, rules=None):
    """Run ``service`` with the module's parameters and exit with its result dictionary.

    ``rules`` ({option path: validation.Rule}) are checked, with the checks every option gets,
    before the service starts. A ``warnings`` list in the result goes through ``module.warn``
    (passing it to ``exit_json`` is deprecated in ansible-core 2.19).
    """
    try:
        check_options(module.params, module.argument_spec, rules)
        result = service(dict(module.params), module.check_mode, module._diff)
    except ShipyardError as exc:
        module.fail_json(msg=exc.message, **exc.details)
    except Exception as exc:  # a bug of ours: say so, keep the traceback for -vvv
        module.fail_json(
            msg="unexpected %s: %s (this is a bug in shipyard.deploy; run with -vvv for the traceback)"
            % (type(exc).__name__, exc),
            exception=traceback.format_exc(),
        )
    for warning in result.pop("warnings", None) or []:
        module.warn(str(warning))
    module.exit_json(**result)
