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

import os
import traceback

from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import DeadlineExceeded, enforce
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ShipyardError
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import check_options


def run_module(module, service, rules=None):
    """Run ``service`` with the module's parameters and exit with its result dictionary.

    ``rules`` ({option path: validation.Rule}) are checked, with the checks every option gets,
    before the service starts. A ``warnings`` list in the result goes through ``module.warn``
    (passing it to ``exit_json`` is deprecated in ansible-core 2.19).
    """
    name = getattr(module, "_name", "the module")

    def abandon(seconds):
        # the cleanup after the deadline hangs too: report and end the process now
        try:
            module.fail_json(msg="%s did not finish within its deadline of %g seconds and its cleanup did not "
                             "finish either; check for leftovers (partial files, scratch databases)" % (name, seconds))
        finally:
            os._exit(1)

    try:
        check_options(module.params, module.argument_spec, rules)
        with enforce(module.params.get("deadline"), on_abandon=abandon):
            result = service(dict(module.params), module.check_mode, module._diff)
    except DeadlineExceeded as exc:
        try:
            module.fail_json(msg="%s did not finish within its deadline of %g seconds; it stopped and undid what it "
                             "had started (partial files, multipart uploads, scratch databases); raise deadline if the "
                             "work needs longer, or check the servers it waits for" % (name, exc.seconds),
                             deadline_exceeded=True)
        finally:
            # threads still blocked in a network call would keep the interpreter from exiting
            os._exit(1)
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
