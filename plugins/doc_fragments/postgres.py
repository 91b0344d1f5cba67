# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options shared by every PostgreSQL module (see module_utils/postgres.py).
    DOCUMENTATION = r"""
options:
  host:
    description:
      - Host name, IP address or socket directory of the PostgreSQL server.
      - When omitted, libpq defaults apply (C(PGHOST) or the local socket).
    type: str
    aliases: [login_host]
  port:
    description:
      - TCP port of the server.
    type: int
    default: 5432
    aliases: [login_port]
  user:
    description:
      - Role to connect as. When omitted, libpq defaults apply (C(PGUSER) or the OS user).
    type: str
    aliases: [login_user]
  password:
    description:
      - Password of O(user).
      - It reaches PostgreSQL client programs only through their environment, never their
        command line, and is never logged or returned.
    type: str
    aliases: [login_password]
  database:
    description:
      - Database to connect to.
    type: str
    aliases: [db, dbname]
  sslmode:
    description:
      - libpq C(sslmode).
    type: str
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  conninfo:
    description:
      - A libpq connection URI (C(postgresql://user@host:5432/db)) or C(key=value) string.
      - The explicit options above override what it says.
      - It is treated as a secret because it may hold a password.
    type: str
    aliases: [uri]
  service:
    description:
      - Name of a service in C(pg_service.conf).
    type: str
  connect_timeout:
    description:
      - Seconds to wait for a connection.
    type: int
    default: 10
requirements:
  - psycopg >= 3.1 on the host that runs the task
"""
