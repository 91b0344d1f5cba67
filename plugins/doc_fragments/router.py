# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by traffic_switch and traffic_info (see module_utils/routers/base.py).
    DOCUMENTATION = r"""
options:
  driver:
    description:
      - Which router carries the traffic.
      - C(haproxy) talks to the HAProxy runtime API (admin level), C(nginx) owns an include file
        with the upstream block, C(aws_alb) sets target group weights of an ALB listener or rule.
    type: str
    required: true
    choices: [haproxy, nginx, aws_alb]
  slots:
    description:
      - The members of each slot, as a dictionary of slot name to a list.
      - For C(haproxy), server names of O(haproxy_backend). Optional; by default servers are grouped by
        the part of their name before the first C(_) or C(-) (C(blue_1), C(blue-web2) are in slot C(blue)).
      - For C(nginx), the C(host:port) of every upstream server of the slot. Required.
      - For C(aws_alb), exactly one target group ARN per slot. Required.
    type: dict
  haproxy_socket:
    description:
      - Address of the HAProxy runtime API, a C(stats socket ... level admin) of C(haproxy.cfg).
      - A unix socket path (C(/run/haproxy/admin.sock)) or C(host:port) of a TCP stats socket.
      - Required with O(driver=haproxy).
    type: str
  haproxy_backend:
    description:
      - The backend whose servers form the slots. Required with O(driver=haproxy).
    type: str
  haproxy_state_file:
    description:
      - The C(server-state-file) of C(haproxy.cfg). After a change the output of C(show servers state) is
        written there (atomically), so that a reload with C(load-server-state-from-file) keeps the weights.
      - Without it the weights are live but a reload of HAProxy resets them; the task then warns.
    type: path
  nginx_include:
    description:
      - The file holding the C(upstream) block, included by the nginx configuration. This module
        owns the file and rewrites it. Required with O(driver=nginx).
    type: path
  nginx_upstream:
    description:
      - Name of the upstream block.
    type: str
    default: app
  nginx_config:
    description:
      - Main nginx configuration, passed to C(nginx -c) for C(nginx -t) and C(nginx -s reload).
    type: path
    default: /etc/nginx/nginx.conf
  nginx_binary:
    description:
      - The nginx program (looked up on C(PATH) when not a path).
    type: path
    default: nginx
  nginx_pid_file:
    description:
      - The C(pid) file of the nginx master, used to confirm that the reload started new workers.
    type: path
    default: /run/nginx.pid
  nginx_server_options:
    description:
      - Extra parameters appended to every C(server) line, for example C(max_fails=3 fail_timeout=10s).
    type: str
    default: ''
  nginx_upstream_options:
    description:
      - Extra directives inside the upstream block, for example C(keepalive 32).
    type: list
    elements: str
    default: []
  alb_listener_arn:
    description:
      - ARN of the ALB listener whose default forward action splits the traffic.
      - With O(driver=aws_alb), give this or O(alb_rule_arn).
    type: str
  alb_rule_arn:
    description:
      - ARN of the listener rule whose forward action splits the traffic.
    type: str
  timeout:
    description:
      - Seconds allowed for one runtime API call, C(nginx) command, or for nginx to start new workers.
    type: float
    default: 10.0
"""
