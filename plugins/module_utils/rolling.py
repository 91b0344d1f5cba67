# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``rolling`` strategy: app hosts that run one copy each, upgraded in place batch by batch.

Three pure steps, each reached through a task (nothing here imports Ansible or does I/O):

- :func:`plan_rolling` (deployment_plan with ``strategy: rolling``): the batches (a count, a
  percentage, or a list of them), each host's router member and health checks, the version the
  ledger says each host runs, and how many hosts may fail (``max_fail_percentage``).  Bad input
  is refused here, before anything changes.
- :func:`gate_batch` (rolling_gate ``phase: batch``, after each batch): given each host's outcome,
  the members to enable again, whether the roll stops, and which hosts must go back.
- :func:`finish` (rolling_gate ``phase: finish``, after the revert): which hosts run which version
  (read back from the hosts), the outcome and the message of the run, the ledger's ``rolling`` record.
"""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils import ledger as ledger_records
from ansible_collections.shipyard.deploy.plugins.module_utils import plan as plans
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

DEFAULTS = {"batch": 1, "max_fail_percentage": 0, "drain_timeout": 30, "health_timeout": 60}
MEMBER_VARIABLE = "shipyard_router_member"
PHASES = ("batch", "finish")


# --- options --------------------------------------------------------------------------------------
def _number(name, value, minimum, maximum=None):
    """``value`` as a float within bounds, or a ConfigurationError naming shipyard_rolling.<name>."""
    if isinstance(value, bool):
        value = None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        bounds = "between %s and %s" % (minimum, maximum) if maximum is not None else "of at least %s" % minimum
        raise ConfigurationError("shipyard_rolling.%s must be a number %s; got %r" % (name, bounds, value))
    return number


def batch_size(spec, host_count):
    """Hosts in one batch of ``spec``: a count (``2``) or a share of the hosts (``"25%"``, at least one host).

    Refused: 0, negative, fractions of hosts, more than 100 %, anything else - and a batch of every host,
    which takes them all out of the router at once (an outage: use the bluegreen strategy for that).
    """
    text = str(spec).strip()
    size = None
    if isinstance(spec, bool):
        size = None
    elif text.endswith("%"):
        try:
            percent = float(text[:-1])
        except ValueError:
            percent = -1.0
        if not 0 < percent <= 100:
            raise ConfigurationError(
                "shipyard_rolling.batch %r is not a share of the hosts between 1%% and 100%%; give a count of "
                "hosts (batch: 1) or a percentage (batch: \"25%%\")" % (spec,))
        size = max(1, int(host_count * percent / 100.0))
    elif text.isdigit():
        size = int(text)
    if size is None or size < 1:
        raise ConfigurationError(
            "shipyard_rolling.batch %r is not a number of hosts of at least 1 or a percentage such as \"25%%\"; "
            "a batch of 0 hosts would never upgrade anything" % (spec,))
    if size >= host_count:
        raise ConfigurationError(
            "shipyard_rolling.batch %r takes all %d app hosts out of the router at once (an outage); give a "
            "smaller batch so that some hosts keep serving, or use shipyard_strategy: bluegreen"
            % (spec, host_count))
    return size


def batches(spec, hosts):
    """``hosts`` cut into batches: ``spec`` is one batch size, or a list whose last entry repeats ([1, "50%"])."""
    specs = list(spec) if isinstance(spec, (list, tuple)) else [spec]
    if not specs:
        raise ConfigurationError("shipyard_rolling.batch is an empty list; give a count, a percentage or a list "
                                 "of them, for example [1, \"50%\"]")
    sizes = [batch_size(one, len(hosts)) for one in specs]
    cut, start, index = [], 0, 0
    while start < len(hosts):
        size = sizes[min(index, len(sizes) - 1)]
        cut.append(list(hosts[start:start + size]))
        start += size
        index += 1
    return cut


def rolling_options(options):
    """``shipyard_rolling`` with its defaults, every value checked; unknown keys are refused."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise ConfigurationError("shipyard_rolling has unknown option(s) %s; it takes %s"
                                 % (", ".join(unknown), ", ".join(sorted(DEFAULTS))))
    merged = dict(DEFAULTS, **{k: v for k, v in options.items() if v is not None})
    merged["max_fail_percentage"] = _number("max_fail_percentage", merged["max_fail_percentage"], 0, 100)
    merged["drain_timeout"] = _number("drain_timeout", merged["drain_timeout"], 0)
    merged["health_timeout"] = _number("health_timeout", merged["health_timeout"], 1)
    return merged


def rolling_slot(slots):
    """``(name, port)`` of the one slot each host runs (``shipyard_slots: {app: {port: 8000}}``)."""
    if not isinstance(slots, dict) or len(slots) != 1:
        raise ConfigurationError(
            "shipyard_strategy rolling upgrades each host's one copy in place: shipyard_slots must name exactly "
            "one slot with its port, for example {app: {port: 8000}}; got %r" % (slots,))
    name, spec = next(iter(slots.items()))
    port = spec.get("port") if isinstance(spec, dict) else None
    if isinstance(port, bool) or not str(port).isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError("slot %s of shipyard_slots needs a port between 1 and 65535, for example "
                                 "%s: {port: 8000}; got %r" % (name, name, spec))
    return str(name), int(port)


def router_member(driver, name, address, port, variables):
    """The host's member at the router: ``shipyard_router_member``, else HAProxy's server = the inventory
    name, nginx's and an ALB's ``address:port``."""
    given = variables.get(MEMBER_VARIABLE)
    if given not in (None, ""):
        return str(given)
    if driver == "haproxy":
        return name
    host = "[%s]" % address if ":" in address and not address.startswith("[") else address
    return "%s:%d" % (host, port)


def check_members(members, member_states):
    """Every host's member is one the router has (traffic_info's member_states), and no two hosts share one."""
    seen = {}
    for host, member in members.items():
        if member in seen:
            raise ConfigurationError("app hosts %s and %s are both router member %s; give each host its own "
                                     "(host variable %s)" % (seen[member], host, member, MEMBER_VARIABLE))
        seen[member] = host
    if not member_states:
        return
    known = set()
    for states in member_states.values():
        known.update(states or {})
    missing = ["%s (%s)" % (host, member) for host, member in members.items() if member not in known]
    if missing:
        raise ConfigurationError(
            "the router has no member for app host(s) %s; its members are %s. Name each host's member with the "
            "host variable %s (HAProxy: the server name, nginx and ALB: address:port)"
            % (", ".join(missing), ", ".join(sorted(known)) or "none", MEMBER_VARIABLE))


def ledger_host_versions(records, environment, application):
    """{host: version} from the last ``rolling`` record naming each host (what the ledger says it runs)."""
    versions = {}
    for record in records:
        if (record.get("event") != "rolling" or record.get("environment") != environment
                or record.get("application") != application):
            continue
        data = record.get("data") if isinstance(record.get("data"), dict) else {}
        for host, version in (data.get("host_versions") or {}).items():
            if version:
                versions[str(host)] = str(version)
    return versions


# --- the plan -------------------------------------------------------------------------------------
def plan_rolling(params, traffic, records, hosts_vars, moment, groups=None):
    """The plan of a rolling deployment of ``params['version']`` (same inputs as plan.plan_deployment).

    ``groups`` (the inventory's, as plan.plan_deployment takes them) is not needed: every app host runs
    the one slot.  Keeps the keys the release play reads (``live_slot``/``idle_slot`` are the one slot, upgraded in
    place) and adds ``rolling``: batches, members, URLs and health checks per host, the ledger's
    versions per host, the number of failures tolerated.
    """
    plans.require_params(params, "version", "environment", "application")
    options = rolling_options(params.get("rolling"))
    slot, port = rolling_slot(params.get("slots"))
    hosts = [name for name, _variables in hosts_vars]
    if len(hosts) < 2:
        raise ConfigurationError(
            "shipyard_strategy rolling needs at least two app hosts (one keeps serving while another is "
            "upgraded); app group %r has %s" % (params.get("app_group"), ", ".join(hosts) or "none"))
    cut = batches(options["batch"], hosts)
    driver = (params.get("router") or {}).get("driver") or ""
    address_variable = params.get("address_variable") or plans.ADDRESS_VARIABLE
    version = str(params["version"])
    expected = params.get("health_json")
    if expected is None:
        expected = {"version": version}
    members, urls, targets = {}, {}, {}
    for name, variables in hosts_vars:
        address = plans.app_address(name, variables, address_variable)
        members[name] = router_member(driver, name, address, port, variables)
        urls[name] = plans.base_url(address, port)
        targets[name] = plans.health_targets([urls[name]], params.get("health_path"), expected)
    check_members(members, traffic.get("member_states"))
    good = ledger_records.good_versions(records, params["environment"], params["application"])
    identifier = plans.deployment_id(params["application"], params["environment"], moment)
    max_failures = int(len(hosts) * options["max_fail_percentage"] / 100.0 + 1e-9)
    return {
        "purpose": "deploy",
        "deployment_id": identifier,
        "application": params["application"],
        "environment": params["environment"],
        "version": version,
        "live_slot": slot,
        "idle_slot": slot,
        "live_version": good[0] if good else "",
        "slot_versions": {},
        "weights_before": {str(k): v for k, v in (traffic.get("weights") or {}).items()},
        "started": moment.timestamp(),
        "strategy": "rolling",
        "requested_strategy": "rolling",
        "app_hosts": hosts,
        # the host-group topology's keys: every app host gets the release (in its own time)
        "topology": "ports",
        "release_hosts": hosts,
        "slots": {slot: {"port": port, "hosts": hosts, "urls": [urls[h] for h in hosts],
                         "health_targets": [t for h in hosts for t in targets[h]]}},
        "slot_urls": {slot: [urls[h] for h in hosts]},
        "idle_health_targets": [t for h in hosts for t in targets[h]],
        "rolling": {
            "slot": slot,
            "port": port,
            "batch": options["batch"],
            "batches": cut,
            "serial": [len(b) for b in cut],
            "max_fail_percentage": options["max_fail_percentage"],
            "max_failures": max_failures,
            "drain_timeout": options["drain_timeout"],
            "health_timeout": options["health_timeout"],
            "members": members,
            "urls": urls,
            "health_targets": targets,
            "health_path": params.get("health_path") or plans.DEFAULT_HEALTH_PATH,
            "health_json": params.get("health_json"),
            "previous_versions": ledger_host_versions(records, params["environment"], params["application"]),
        },
        "record": plans.record_options(params.get("ledger"), identifier, params["environment"],
                                       params["application"], version, params.get("ledger_aws")),
        "report_dest": plans.report_destination(params.get("report_dest"), params.get("ledger")),
        "warnings": [],
    }


# --- the gate after each batch --------------------------------------------------------------------
def new_state():
    """The roll before its first batch."""
    return {"batches_done": 0, "upgraded": [], "failed": [], "failures": {}, "before": {}, "stopped": False,
            "passed": [], "enable": [], "revert": {}, "cannot_revert": []}


def _revert_entry(rolling, host, version):
    """How ``host`` goes back to ``version``: its member and the health checks answering with that version."""
    expected = rolling.get("health_json")
    if expected is None:
        expected = {"version": version}
    return {"version": version, "member": rolling["members"][host],
            "health_targets": plans.health_targets([rolling["urls"][host]], rolling.get("health_path"), expected)}


def gate_batch(rolling, state, outcomes):
    """The roll after one batch: ``outcomes`` is one ``{host, ok, reason, before}`` per host of the batch.

    A host without an outcome (unreachable, it left the play) counts as failed.  The roll stops when
    more hosts failed than ``max_failures`` (``max_fail_percentage`` of all hosts, rounded down:
    25 % of 4 hosts tolerates 1).  ``enable``: the members of this batch's hosts that passed.
    ``revert``: failed hosts always; when the roll stops, every host upgraded so far too - each back
    to the version it ran before (its slot link read before the upgrade, else the ledger's).
    """
    state = dict(new_state(), **(state or {}))
    if state["stopped"]:
        raise ConfigurationError("the roll already stopped after batch %d; no batch runs after that"
                                 % state["batches_done"])
    index = state["batches_done"]
    if index >= len(rolling["batches"]):
        raise ConfigurationError("the plan has %d batches and all of them ran" % len(rolling["batches"]))
    expected = rolling["batches"][index]
    by_host = {}
    for outcome in outcomes or []:
        host = str((outcome or {}).get("host") or "")
        if host not in expected:
            raise ConfigurationError(
                "host %r is not in batch %d of the plan (%s); the play's batches must follow the plan (serial: "
                "shipyard_plan.rolling.serial, hosts in inventory order)" % (host, index + 1, ", ".join(expected)))
        by_host[host] = outcome
    upgraded, failed = list(state["upgraded"]), list(state["failed"])
    failures, before = dict(state["failures"]), dict(state["before"])
    passed = []
    for host in expected:
        outcome = by_host.get(host) or {"ok": False, "reason": "no outcome: the host left the play (unreachable?)"}
        before[host] = str(outcome.get("before") or rolling["previous_versions"].get(host) or "")
        if outcome.get("ok"):
            upgraded.append(host)
            passed.append(host)
        else:
            failed.append(host)
            failures[host] = str(outcome.get("reason") or "failed")
    stopped = len(failed) > rolling["max_failures"]
    # in inventory order, the order they were upgraded in
    going_back = [h for batch in rolling["batches"] for h in batch if h in failed or (stopped and h in upgraded)]
    revert = {h: _revert_entry(rolling, h, before[h]) for h in going_back if before.get(h)}
    return {"batches_done": index + 1, "upgraded": upgraded, "failed": failed, "failures": failures,
            "before": before, "stopped": stopped, "passed": passed,
            "enable": [rolling["members"][h] for h in passed], "revert": revert,
            "cannot_revert": [h for h in going_back if not before.get(h)]}


# --- the end of the roll --------------------------------------------------------------------------
def batch_record(state, version):
    """The ledger's ``rolling`` data after one batch: the hosts that now serve ``version``, the failed ones."""
    batch = state["batches_done"]
    return {"batch": batch, "stopped": state["stopped"], "failed": list(state["failed"]),
            "host_versions": {h: str(version) for h in state["passed"]}}


def finish(rolling, state, version, found):
    """How the roll ends, from the gate's last state and ``found``: per host ``{host, version, back}`` read
    after the revert (``version``: what its slot points at; ``back``: ``{ok, reason}`` of its revert, if any).

    ``outcome``: ``succeeded`` when every batch ran (tolerated failures went back), else ``failed``;
    ``message``: what happened and where each host stands; ``record``: the ledger's ``rolling`` data
    (``host_versions``: who runs what).
    """
    state = dict(new_state(), **(state or {}))
    hosts = [h for batch in rolling["batches"] for h in batch]
    by_host = {str(entry.get("host")): entry for entry in found or [] if isinstance(entry, dict)}
    host_versions = {h: str((by_host.get(h) or {}).get("version") or "") for h in hosts}
    back_ok = [h for h in state["revert"] if ((by_host.get(h) or {}).get("back") or {}).get("ok")]
    back_failed = {h: ((by_host.get(h) or {}).get("back") or {}).get("reason") or "no answer from the host"
                   for h in state["revert"] if h not in back_ok}
    untouched = [h for h in hosts if h not in state["upgraded"] and h not in state["failed"]]
    completed = not state["stopped"] and state["batches_done"] == len(rolling["batches"])
    parts = []
    if state["failed"]:
        parts.append("; ".join("%s failed: %s" % (h, state["failures"].get(h, "failed")) for h in state["failed"]))
    if back_ok:
        parts.append("back on the previous release and enabled: %s"
                     % ", ".join("%s (%s)" % (h, state["revert"][h]["version"]) for h in back_ok))
    if back_failed:
        parts.append("could not go back, left out of the router: %s"
                     % "; ".join("%s: %s" % kv for kv in back_failed.items()))
    if state["cannot_revert"]:
        parts.append("no previous release to go back to, left out of the router: %s"
                     % ", ".join(state["cannot_revert"]))
    if untouched:
        parts.append("not upgraded: %s" % ", ".join(untouched))
    on_new = [h for h in hosts if host_versions[h] == str(version)]
    if completed:
        outcome = "succeeded"
        head = "rolled %s onto %d of %d hosts" % (version, len(on_new), len(hosts))
        if state["failed"]:
            head += " (%d failure(s) tolerated by max_fail_percentage %g)" % (
                len(state["failed"]), rolling["max_fail_percentage"])
    else:
        outcome = "failed"
        head = ("rolling deployment of %s stopped after batch %d of %d: %d host(s) failed, max_fail_percentage %g "
                "tolerates %d" % (version, state["batches_done"], len(rolling["batches"]), len(state["failed"]),
                                  rolling["max_fail_percentage"], rolling["max_failures"]))
    record = {"outcome": outcome, "host_versions": host_versions,
              "upgraded": [h for h in state["upgraded"] if h not in state["revert"]],
              "failed": list(state["failed"]), "reverted": back_ok, "not_reverted": sorted(back_failed)
              + list(state["cannot_revert"]), "untouched": untouched,
              "batches_done": state["batches_done"], "batches": len(rolling["batches"])}
    return {"outcome": outcome, "message": head + (". " + ". ".join(parts) if parts else ""), "record": record,
            "host_versions": host_versions}


def gate_service(params, check_mode, diff_mode):
    """Service of shipyard.deploy.rolling_gate: one of :func:`gate_batch` or :func:`finish` (it changes nothing,
    so check mode answers the same)."""
    plan = params.get("plan") or {}
    rolling = plan.get("rolling")
    if not isinstance(rolling, dict):
        raise ConfigurationError("plan has no rolling section: pass shipyard_plan of a deployment planned with "
                                 "shipyard_strategy rolling")
    if params["phase"] == "batch":
        state = gate_batch(rolling, params.get("state"), params.get("outcomes"))
        return {"changed": False, "state": state, "record": batch_record(state, plan.get("version"))}
    return dict(finish(rolling, params.get("state"), plan.get("version"), params.get("outcomes")), changed=False)
