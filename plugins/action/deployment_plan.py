# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of shipyard.deploy.deployment_plan (documented in plugins/modules/deployment_plan.py).

An action plugin because the plan needs what only the controller has: the inventory's app hosts and
their variables, and the ledger (a file on the controller, or S3).  The router is read on the task's
host by running shipyard.deploy.traffic_info there; every decision is module_utils/plan.py.
"""

from __future__ import annotations

import datetime

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.shipyard.deploy.plugins.module_utils import hooks, plan, rolling
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ShipyardError
from ansible_collections.shipyard.deploy.plugins.module_utils.ledger import open_ledger
from ansible_collections.shipyard.deploy.plugins.module_utils.smoke import pipeline as smoke


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        # raises (the task fails, naming the option) when an option is unknown or of the wrong type
        _validation, params = self.validate_argument_spec(argument_spec=plan.argument_spec())
        try:
            # the team's hooks and smoke steps first: a typo stops the deployment before it reads or changes anything
            resolved_hooks = hooks.resolve_hooks(params["hooks"], params["hooks_dir"] or task_vars.get("inventory_dir"))
            smoke_plan = smoke.summary(smoke.check_smoke(params["smoke"], need_url=True))
            hosts = plan.app_hosts(params["app_group"], task_vars.get("groups") or {})
            hosts_vars = [(name, self._host_variables(task_vars, name, params["address_variable"]))
                          for name in hosts]
            traffic = self._read_router(params["router"], task_vars)
            records = open_ledger(params["ledger"], params["ledger_aws"]).read() if params["ledger"] else []
            build = self._planner(params)
            planned = build(params, traffic, records, hosts_vars, datetime.datetime.now(datetime.timezone.utc),
                            groups=task_vars.get("groups") or {})
        except ShipyardError as exc:
            result.update(failed=True, msg=exc.message, **exc.details)
            return result
        planned.update(hooks=resolved_hooks, smoke=smoke_plan)
        result.update(changed=False, plan=planned)
        if planned["warnings"]:
            result["warnings"] = list(planned["warnings"])
        return result

    @staticmethod
    def _planner(params):
        """plan.py's rollback or deployment plan, or rolling.py's for ``strategy: rolling``."""
        if params["purpose"] == "rollback":
            return plan.plan_rollback
        return rolling.plan_rolling if params["strategy"] == "rolling" else plan.plan_deployment

    @staticmethod
    def _host_variables(task_vars, name, address_variable):
        """The variables of app host ``name`` that decide its address (templated, as a play would see them)."""
        variables = task_vars["hostvars"][name]
        found = {}
        for key in (address_variable, "ansible_host", rolling.MEMBER_VARIABLE):
            try:
                value = variables.get(key)
            except AnsibleError as exc:
                raise ShipyardError("cannot read %s of app host %s: %s" % (key, name, exc)) from None
            if value is not None:
                found[key] = value
        return found

    def _read_router(self, router, task_vars):
        """traffic_info's result on this task's host (where the router's socket or API is reachable)."""
        answer = self._execute_module(module_name="shipyard.deploy.traffic_info", module_args=dict(router),
                                      task_vars=task_vars)
        if answer.get("failed"):
            raise ShipyardError("cannot read where traffic is (shipyard.deploy.traffic_info with router "
                                "options shipyard_router): %s" % answer.get("msg", "no message"))
        return answer
