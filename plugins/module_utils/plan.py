# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of one deployment (or rollback), worked out once, in plain Python.

The deployment_plan action plugin gathers the inputs - the router's read-back (traffic_info), the
ledger's records and the inventory's app hosts - and hands them to :func:`plan_deployment` or
:func:`plan_rollback`; playbooks and roles then only read the plan.  Nothing here imports Ansible
or does I/O, so every decision (which slot is live, which address a host is checked at, which
version the slot we roll back to must answer with) is unit-tested.
"""

from __future__ import annotations

import datetime
import os

from ansible_collections.shipyard.deploy.plugins.module_utils import ledger as ledger_records
from ansible_collections.shipyard.deploy.plugins.module_utils import topology
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.storage import display_location

STRATEGIES = ("direct", "bluegreen", "canary", "rolling")
PURPOSES = ("deploy", "rollback")
DEFAULT_HEALTH_PATH = "/health"
ADDRESS_VARIABLE = "shipyard_app_address"


def argument_spec():
    """Options of shipyard.deploy.deployment_plan (the action plugin validates its arguments with it)."""
    return dict(
        purpose=dict(type="str", choices=list(PURPOSES), default="deploy"),
        router=dict(type="dict", required=True),
        slots=dict(type="raw", required=True),
        app_group=dict(type="str", default="app"),
        address_variable=dict(type="str", default=ADDRESS_VARIABLE),
        application=dict(type="str", default=""),
        environment=dict(type="str", default=""),
        version=dict(type="str", default=""),
        strategy=dict(type="str", choices=list(STRATEGIES), default="bluegreen"),
        health_path=dict(type="str", default=DEFAULT_HEALTH_PATH),
        health_json=dict(type="dict"),
        ledger=dict(type="str", default=""),
        ledger_aws=dict(type="dict", default={}, no_log=True),
        report_dest=dict(type="str", default=""),
        to_slot=dict(type="str", default=""),
        emergency=dict(type="bool", default=False),
        # shipyard_hooks and shipyard_smoke, checked before anything changes (module_utils/hooks.py, smoke/pipeline.py)
        hooks=dict(type="raw", default={}),
        hooks_dir=dict(type="str", default=""),
        smoke=dict(type="dict", default={}, no_log=True),
        rolling=dict(type="dict", default={}),
    )


# --- inputs ----------------------------------------------------------------------------------------
def normalise_slots(slots, need_ports):
    """``shipyard_slots`` -> ``{name: port or None}``, in order; a list of names is accepted without ports.

    A slot may also name its host group (``{group: app_blue, port: 8000}``, see module_utils/topology.py).
    """
    if isinstance(slots, (list, tuple)):
        slots = {str(name): {} for name in slots}
    if not isinstance(slots, dict) or len(slots) < 2:
        raise ConfigurationError(
            "slots (shipyard_slots) must name at least two slots with their port, for example "
            "{blue: {port: 8001}, green: {port: 8002}}; got %r" % (slots,))
    ports = {}
    for name, spec in slots.items():
        port = spec.get("port") if isinstance(spec, dict) else None
        if port is None and not need_ports:
            ports[str(name)] = None
            continue
        try:
            port = int(port)
        except (TypeError, ValueError):
            port = 0
        if not 0 < port < 65536:
            raise ConfigurationError(
                "slot %s of slots (shipyard_slots) needs a port between 1 and 65535, for example "
                "%s: {port: 8001}; got %r" % (name, name, spec))
        ports[str(name)] = port
    return ports


def app_address(name, variables, address_variable=ADDRESS_VARIABLE):
    """Where the router host reaches app host ``name``: its address variable, else ``ansible_host``, else its name.

    Never a loopback default: a production router checking 127.0.0.1 checks itself, not the app host.
    """
    for key in (address_variable, "ansible_host"):
        value = variables.get(key)
        if value not in (None, ""):
            return str(value)
    return name


def app_hosts(group, groups):
    """The hosts of inventory group ``group`` (``shipyard_app_group``), or a ConfigurationError saying what to set."""
    if not group:
        return []
    if group not in groups:
        raise ConfigurationError(
            "app_group (shipyard_app_group) %r is not a group of the inventory (its groups: %s); put the app "
            "hosts in a group named app or set shipyard_app_group to their group"
            % (group, ", ".join(sorted(g for g in groups if g not in ("all", "ungrouped"))) or "none"))
    hosts = list(groups[group])
    if not hosts:
        raise ConfigurationError(
            "app_group (shipyard_app_group) %r has no hosts; add the app hosts to it in the inventory" % group)
    return hosts


def base_url(address, port):
    """``http://address:port`` (IPv6 literals in brackets)."""
    if ":" in address and not address.startswith("["):
        address = "[%s]" % address
    return "http://%s:%d" % (address, port)


def health_targets(urls, health_path, expected_json):
    """health_check targets: each base URL with the health path, and the JSON it must answer with (if any)."""
    path = health_path or DEFAULT_HEALTH_PATH
    if not path.startswith("/"):
        path = "/" + path
    targets = []
    for url in urls:
        target = {"url": url + path}
        if expected_json:
            target["json"] = dict(expected_json)
        targets.append(target)
    return targets


def slot_table(ports, hosts, addresses, health_path, expected_json):
    """Per slot: its port, its hosts, one base URL per host, and the health checks of those URLs.

    ``hosts``: ``{slot: [inventory names]}`` (every app host with ports, the slot's group with host groups);
    ``addresses``: ``{inventory name: address}``.
    """
    table = {}
    for name, port in ports.items():
        names = list(hosts.get(name) or [])
        urls = [base_url(addresses[host], port) for host in names] if port else []
        table[name] = {"port": port, "hosts": names, "urls": urls,
                       "health_targets": health_targets(urls, health_path, expected_json)}
    return table


# --- what the router and the ledger say ------------------------------------------------------------
def ledger_view(records, environment, application):
    """What the ledger knows of an application in an environment.

    ``slot_versions``: the version last released onto each slot (a release event, whatever the outcome
    of its deployment: a rolled-back canary still runs on its slot); ``live_slot``: the slot the last
    succeeded deployment ended on; ``live_deployment``: that deployment's summary (or None);
    ``good_versions``: versions whose latest deployment succeeded, newest first.
    """
    slot_versions = {}
    for record in records:
        if record.get("environment") != environment or record.get("application") != application:
            continue
        data = record.get("data") or {}
        if record.get("event") == "release" and data.get("slot"):
            slot_versions[str(data["slot"])] = str(data.get("version") or record.get("version") or "")
    summaries = ledger_records.deployments(records, environment, application)
    succeeded = [s for s in summaries if s["outcome"] == "succeeded"]
    live_deployment = succeeded[-1] if succeeded else None
    live_slot = ""
    if live_deployment:
        ends = [e["data"].get("slot") for e in live_deployment["events"] if e["event"] == "succeeded"]
        live_slot = str(ends[-1] or "") if ends else ""
    return {"slot_versions": slot_versions, "live_slot": live_slot, "live_deployment": live_deployment,
            "good_versions": ledger_records.good_versions(records, environment, application)}


def check_router_slots(slot_names, weights):
    """Every slot of shipyard_slots is one of the router's slots, and the router sends traffic to no other."""
    unknown = [s for s in slot_names if s not in weights]
    if unknown:
        raise ConfigurationError(
            "slots (shipyard_slots) names %s but the router knows only %s; name the slots as the router does "
            "(HAProxy: the server name prefixes, nginx/ALB: shipyard_router.slots)"
            % (", ".join(unknown), ", ".join(sorted(weights)) or "none"))
    stray = [s for s, percent in sorted(weights.items()) if s not in slot_names and (percent or 0) > 0]
    if stray:
        raise ConfigurationError(
            "the router sends traffic to %s, which slots (shipyard_slots) does not name (it names %s); "
            "add it to shipyard_slots or move its traffic first" % (", ".join(stray), ", ".join(slot_names)))


def choose_live_slot(slot_names, weights, active, ledger_slot):
    """``(live slot, warnings)`` from the router's read-back, the ledger breaking ties.

    The router is the truth of where users are (a manual switch or an unrecorded emergency rollback
    leaves the ledger behind), so: its active slot, else the slot with the largest share.  A tie
    (an interrupted 50/50 canary) is broken by the ledger's live slot - the last one that succeeded;
    without it the deployment stops, since either choice would redeploy over half the users.  No
    traffic anywhere is a first deployment: live is ``""``.
    """
    warnings = []
    live = active or ""
    if not live:
        top = max(weights.values()) if weights else 0
        if top > 0:
            leaders = [s for s in slot_names if weights.get(s) == top]
            if len(leaders) == 1:
                live = leaders[0]
            elif ledger_slot in leaders:
                live = ledger_slot
                warnings.append("traffic is split evenly between %s; the ledger's last succeeded deployment "
                                "ended on %s, so %s is taken as live" % (" and ".join(leaders), live, live))
            else:
                raise ConfigurationError(
                    "traffic is split evenly between %s and the ledger does not say which one is live; send all "
                    "traffic to one slot first (shipyard.deploy.traffic_switch active=<slot>, or the rollback "
                    "playbook with rollback_to_slot=<slot>)" % " and ".join(leaders))
    if live and ledger_slot and ledger_slot != live:
        warnings.append("the router sends traffic to %s but the ledger's last succeeded deployment ended on %s "
                        "(a switch outside shipyard?); going by the router" % (live, ledger_slot))
    return live, warnings


def choose_idle_slot(slot_names, live, keep=""):
    """The slot that gets the new version: the first one that is not live (nor ``keep``, when there is a choice)."""
    others = [s for s in slot_names if s != live]
    preferred = [s for s in others if s != keep]
    return (preferred or others)[0]


def deployment_id(application, environment, moment):
    """``shop-production-20261122T050000Z``."""
    return "%s-%s-%s" % (application, environment, moment.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"))


def effective_strategy(strategy, live_slot):
    """``direct`` when nothing is live (nothing to compare with or go back to), else the one asked for."""
    if strategy not in STRATEGIES:
        raise ConfigurationError("strategy (shipyard_strategy) must be one of %s; got %r"
                                 % (", ".join(STRATEGIES), strategy))
    return strategy if live_slot else "direct"


# AWS options that are credentials: they stay out of the plan (a task result is printed and registered);
# playbooks combine shipyard_ledger_aws into the record where they use it.
SECRET_AWS_OPTIONS = ("access_key", "secret_key", "session_token", "aws_access_key_id", "aws_secret_access_key",
                      "aws_session_token")


def record_options(ledger, deployment, environment, application, version, ledger_aws):
    """The deployment_record options of one deployment, with the ledger's AWS options but not its credentials."""
    if not ledger or not deployment:
        return {}
    options = {key: value for key, value in (ledger_aws or {}).items() if key not in SECRET_AWS_OPTIONS}
    options.update({"ledger": display_location(ledger), "deployment_id": deployment, "environment": environment,
                    "application": application, "version": str(version or "")})
    return options


def report_destination(report_dest, ledger):
    """Where deploy reports go: ``report_dest``, else ``reports/`` next to the ledger."""
    if report_dest:
        return display_location(report_dest)
    if not ledger:
        return ""
    if ledger.startswith("s3://"):
        return ledger.rsplit("/", 1)[0] + "/reports"
    return os.path.join(os.path.dirname(display_location(ledger)), "reports")


def require_params(params, *names):
    """A ConfigurationError naming the first of ``names`` missing from ``params`` and how to set it."""
    for name in names:
        if not params.get(name):
            raise ConfigurationError("%s (shipyard_%s) is required; %s" % (name, name, {
                "version": "give the version to deploy: -e shipyard_version=1.4.2",
                "environment": "the inventory sets it, for example shipyard_environment: production",
                "application": "the inventory sets it, for example shipyard_application: shop",
            }[name]))


def _common(params, traffic, records, hosts_vars, need_ports, groups):
    """Slots, their hosts, router read-back and ledger view shared by both plans (layout checked first)."""
    ports = normalise_slots(params["slots"], need_ports)
    names = list(ports)
    layout, hosts = topology.slot_hosts(params["slots"], [name for name, _variables in hosts_vars], groups,
                                        params.get("app_group") or "app")
    weights = {str(k): v for k, v in (traffic.get("weights") or {}).items()}
    check_router_slots(names, weights)
    view = ledger_view(records, params.get("environment"), params.get("application"))
    live, warnings = choose_live_slot(names, weights, traffic.get("active"), view["live_slot"])
    addresses = {name: app_address(name, variables, params.get("address_variable") or ADDRESS_VARIABLE)
                 for name, variables in hosts_vars}
    return ports, names, weights, view, live, warnings, (layout, hosts, addresses)


def plan_deployment(params, traffic, records, hosts_vars, moment, groups=None):
    """The plan of deploying ``params['version']``.

    ``traffic``: traffic_info's result; ``records``: the ledger's records; ``hosts_vars``: ``[(inventory
    name, variables)]`` of the app hosts, in inventory order; ``moment``: now (timezone-aware);
    ``groups``: the inventory's groups (needed when the slots are host groups).
    """
    require_params(params, "version", "environment", "application")
    ports, names, weights, view, live, warnings, (layout, hosts, addresses) = _common(
        params, traffic, records, hosts_vars, True, groups)
    version = str(params["version"])
    idle = choose_idle_slot(names, live, keep=view["live_slot"])
    expected = params.get("health_json")
    if expected is None:
        expected = {"version": version}
    table = slot_table(ports, hosts, addresses, params.get("health_path"), expected)
    identifier = deployment_id(params["application"], params["environment"], moment)
    return {
        "purpose": "deploy",
        "deployment_id": identifier,
        "application": params["application"],
        "environment": params["environment"],
        "version": version,
        "live_slot": live,
        "idle_slot": idle,
        "live_version": view["slot_versions"].get(live, "") if live else "",
        "slot_versions": view["slot_versions"],
        "weights_before": weights,
        "started": moment.timestamp(),
        "strategy": effective_strategy(params.get("strategy") or "bluegreen", live),
        "requested_strategy": params.get("strategy") or "bluegreen",
        "app_hosts": [name for name, _variables in hosts_vars],
        "topology": layout,
        "release_hosts": table[idle]["hosts"],
        "slots": table,
        "slot_urls": {name: slot["urls"] for name, slot in table.items()},
        "idle_health_targets": table[idle]["health_targets"],
        "record": record_options(params.get("ledger"), identifier, params["environment"], params["application"],
                                 version, params.get("ledger_aws")),
        "report_dest": report_destination(params.get("report_dest"), params.get("ledger")),
        "warnings": warnings,
    }


def refuse_rollback_of_rolling(params, records):
    """Raise the ConfigurationError that says how to go back from a rolling deployment: it has one slot,
    upgraded in place on every host, so there is no other slot, still warm, to send the traffic to."""
    good = ledger_records.good_versions(records, params.get("environment") or "", params.get("application") or "")
    previous = good[1] if len(good) > 1 else ""
    raise ConfigurationError(
        "shipyard_strategy is rolling: every app host runs the one slot, upgraded in place, so there is no "
        "other slot to send the traffic back to; roll the previous version out instead: ansible-playbook "
        "shipyard.deploy.deploy -e shipyard_version=%s (batch by batch, like any rolling deployment)%s"
        % (previous or "<previous version>",
           "" if previous else "; the ledger names no earlier succeeded version in %s" % (
               params.get("environment") or "this environment")))


def plan_rollback(params, traffic, records, hosts_vars, moment, groups=None):
    """The plan of sending all traffic back to the other slot, which must still run the previous good version.

    Refused (ConfigurationError, nothing moves) when the ledger says that slot runs another version -
    a rolled-back canary, a release that never succeeded - unless ``emergency``: the message names the
    version there and the command that redeploys the wanted one.
    """
    if params.get("strategy") == "rolling":
        refuse_rollback_of_rolling(params, records)
    ports, names, weights, view, live, warnings, (layout, hosts, addresses) = _common(
        params, traffic, records, hosts_vars, bool(hosts_vars), groups)
    if not live:
        raise ConfigurationError("no slot receives traffic (router weights %s): there is nothing to roll back; "
                                 "deploy a version instead: ansible-playbook shipyard.deploy.deploy "
                                 "-e shipyard_version=<version>" % (weights or "none"))
    target = params.get("to_slot") or ""
    if target and target not in ports:
        raise ConfigurationError("to_slot (rollback_to_slot) %r is not one of the slots (shipyard_slots) %s"
                                 % (target, ", ".join(names)))
    if target == live:
        raise ConfigurationError("to_slot (rollback_to_slot) %s already receives the traffic; name the other slot"
                                 % target)
    live_version = view["slot_versions"].get(live, "")
    wanted = next((v for v in view["good_versions"] if v != live_version), "")
    if not target:
        # with more than two slots, the one running the wanted version
        holding = [s for s in names if s != live and wanted and view["slot_versions"].get(s) == wanted]
        target = holding[0] if holding else choose_idle_slot(names, live)
    there = view["slot_versions"].get(target, "")
    if there and not params.get("emergency"):
        refuse_rollback(params, target, there, wanted, view["good_versions"])
    expected = params.get("health_json")
    if expected is None:
        expected = {"version": wanted or there} if (wanted or there) else {}
    table = slot_table(ports, hosts, addresses, params.get("health_path"), expected)
    deployment = view["live_deployment"] or {}
    identifier = deployment.get("deployment_id") or ""
    return {
        "purpose": "rollback",
        "deployment_id": identifier,
        "application": params.get("application") or "",
        "environment": params.get("environment") or "",
        "version": deployment.get("version") or "",
        "live_slot": live,
        "idle_slot": target,
        "live_version": live_version,
        "target_version": wanted or there,
        "slot_versions": view["slot_versions"],
        "weights_before": weights,
        "started": moment.timestamp(),
        "strategy": "direct",
        "app_hosts": [name for name, _variables in hosts_vars],
        "topology": layout,
        "release_hosts": [],
        "slots": table,
        "slot_urls": {name: slot["urls"] for name, slot in table.items()},
        "idle_health_targets": table[target]["health_targets"],
        "health_targets": {name: slot["health_targets"] for name, slot in table.items()},
        "backup_id": deployment.get("backup_id") or "",
        "record": record_options(params.get("ledger"), identifier, params.get("environment"),
                                 params.get("application"), deployment.get("version"), params.get("ledger_aws")),
        "report_dest": report_destination(params.get("report_dest"), params.get("ledger")),
        "warnings": warnings,
    }


def refuse_rollback(params, target, there, wanted, good_versions):
    """Raise when slot ``target`` runs ``there`` and that is not the version a rollback must bring back."""
    if wanted and there == wanted:
        return
    if not wanted and there in good_versions:
        return
    redeploy = "ansible-playbook shipyard.deploy.deploy -e shipyard_version=%s" % (wanted or "<a good version>")
    if wanted:
        why = "not %s, the previous good version" % wanted
    else:
        why = "a version with no succeeded deployment in %s" % (params.get("environment") or "this environment")
    raise ConfigurationError(
        "refusing to roll back: slot %s runs %s (the ledger's last release there), %s; sending traffic there "
        "would serve %s again. To serve %s, redeploy it: %s (rollback_emergency=true moves the traffic "
        "anyway)" % (target, there, why, there, wanted or "a good version", redeploy),
        slot=target, slot_version=there, wanted_version=wanted)
