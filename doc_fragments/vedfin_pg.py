"""Shared documentation of the PostgreSQL connection options of our modules.

The options themselves come from ``pg_connection_argument_spec()`` in module_utils/vedfin_pg.py;
modules say ``extends_documentation_fragment: [vedfin_pg]`` instead of repeating them.
"""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  login_host:
    description:
      - Host of the PostgreSQL server.
    type: str
    default: localhost
  login_port:
    description:
      - Port of the PostgreSQL server.
    type: int
    default: 5432
  login_user:
    description:
      - Role to connect as.
    type: str
    default: postgres
  login_password:
    description:
      - Password of O(login_user). Empty means libpq's own sources (C(~/.pgpass), C(PGPASSWORD)).
    type: str
    default: ""
  login_unix_socket:
    description:
      - Directory of the server's Unix socket. When set it is used instead of O(login_host).
    type: str
    default: ""
  connect_timeout:
    description:
      - Seconds to wait for the connection.
    type: int
    default: 10
  ssl_mode:
    description:
      - libpq C(sslmode) of the connection.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  ca_cert:
    description:
      - File with the certificate authority (libpq C(sslrootcert)).
    type: path
    aliases: [ssl_rootcert]
"""
