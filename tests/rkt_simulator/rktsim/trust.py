"""`rkt trust`: store armored public keys for a prefix or as root keys.

rkt 1.30.0 checks the prefix as an appc identifier (see rktsim/names.py) only
when it stores a key, after printing the key: a prefix such as
"127.0.0.1:8080/hello" fails there with rc 254. Discovery reads the prefix as
an appc app string first, so for such a prefix it requests the discovery page
of host "127.0.0.1" on the default port (443, or 80 with
--insecure-allow-http), never from port 8080.
"""

import os
import sys

from rktsim.discovery import DiscoveryError, discover
from rktsim.errors import RktError
from rktsim.httpget import FetchError, get
from rktsim.names import acidentifier_error, parse_app_string
from rktsim.pgp import PgpError, read_public_key

UNBOUNDED_TRUST = (
    "trust: aborting due to implicit unbounded trust (root domain)\n"
    "Please provide a specific domain prefix to trust:\n"
    '    rkt trust --prefix "example.com/foo" [PUBKEY]\n'
    '    rkt trust --prefix "example.com/foo/*" [PUBKEY]\n'
    "Otherwise, trust at the root domain (not recommended) must be explicitly requested:\n"
    "    rkt trust --root PUBKEY"
)


def run_command(context):
    prefix = context.flag("prefix")
    root = context.flag("root")
    locations = list(context.args)

    if not prefix and not root and not locations:
        from rktsim.texts import usage_text

        context.out(usage_text("trust"))
        return 254
    if root and prefix:
        raise RktError("trust: --root and --prefix usage mutually exclusive")
    if not prefix and not root:
        raise RktError(UNBOUNDED_TRUST)
    if "://" in prefix:
        raise RktError("trust: --prefix must not contain a URL scheme, omit %s://" % prefix.split("://", 1)[0])

    allow_http = context.flag("insecure-allow-http")
    if not locations:
        if root:
            raise RktError("trust: error determining key location: empty prefix")
        locations = _discover_keys(context, prefix, allow_http)

    for location in locations:
        _trust_one(context, prefix, root, location, allow_http)
    return 0


def _discover_keys(context, prefix, allow_http):
    # NOTE: the message for a prefix that is no valid app string was not
    # recorded; it follows rkt's error wrapping, which prints the innermost
    # error after "error determining key location".
    try:
        name, _labels = parse_app_string(prefix)
    except ValueError as error:
        raise RktError("trust: error determining key location: %s" % error)
    try:
        found = discover(name, "ac-discovery-pubkeys", allow_http, "pubkey")
    except DiscoveryError as error:
        if context.debug:
            raise RktError("\n".join(error.debug_lines + [
                "trust: error determining key location\n  \u2514\u2500prefix meta discovery error\n"
                "    \u2514\u2500discovery failed"]))
        raise RktError("trust: error determining key location: discovery failed")
    return [url for _prefix, url in found]


def _read_key(location, allow_http):
    """Return the bytes of the key at LOCATION (a file or an http(s) URL)."""
    if location.startswith("http://") or location.startswith("https://"):
        if location.startswith("http://") and not allow_http:
            raise RktError("trust: error adding keys: --insecure-allow-http required for http URLs")
        try:
            response = get(location)
        except FetchError as error:
            raise RktError("trust: error adding keys: %s" % error)
        if response.status != 200:
            raise RktError("trust: error adding keys: bad HTTP status code: %d" % response.status)
        return response.body
    try:
        with open(location, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise RktError("trust: error adding keys: open %s: no such file or directory" % location)
    except PermissionError:
        raise RktError("trust: error adding keys: open %s: permission denied" % location)


def _trust_one(context, prefix, root, location, allow_http):
    key_bytes = _read_key(location, allow_http)
    try:
        key = read_public_key(key_bytes)
    except PgpError as error:
        raise RktError("trust: error adding keys: %s" % error)

    context.err('pubkey: prefix: "%s"\nkey: "%s"\n' % (prefix, location))
    context.out("gpg key fingerprint is: %s\n" % key.spaced_fingerprint())
    for user_id in key.user_ids:
        context.out("\t%s\n" % user_id)

    if context.flag("skip-fingerprint-review"):
        review = "without"
    else:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            context.err('pubkey: To trust the key for "%s", do one of the following:\n'
                        "pubkey:  - call rkt with --trust-keys-from-https\n"
                        'pubkey:  - run: rkt trust --prefix "%s"\n' % (prefix, prefix))
            raise RktError("trust: error adding keys: error reviewing key: "
                           "unable to ask user to review fingerprint due to lack of tty")
        context.out("Are you sure you want to trust this key (yes/no)?\n")
        sys.stdout.flush()
        answer = sys.stdin.readline().strip().lower()
        # NOTE: rkt's exact answer parsing was not recorded beyond "yes" and "no".
        if answer not in ("yes", "y"):
            context.err('pubkey: not trusting "%s"\n' % location)
            return
        review = "after"

    context.out('Trusting "%s" for prefix "%s" %s fingerprint review.\n' % (location, prefix, review))

    # rkt's keystore validates the prefix before it creates any directory.
    # NOTE: the message for an invalid prefix was not recorded; it is appc's
    # ACIdentifier error after rkt's "error adding keys".
    if not root:
        error = acidentifier_error(prefix)
        if error:
            raise RktError("trust: error adding keys: %s" % error)

    if not context.is_root():
        raise RktError("trust: error adding keys: mkdir %s: permission denied" % context.local_config)

    base = os.path.join(context.local_config, "trustedkeys")
    folder = os.path.join(base, "root.d") if root else os.path.join(base, "prefix.d", prefix)
    path = os.path.join(folder, key.fingerprint.lower())
    try:
        os.makedirs(folder, mode=0o755, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(key_bytes)
        os.chmod(path, 0o644)
    except OSError as error:
        from rktsim.store import go_os_error

        raise RktError("trust: error adding keys: %s" % go_os_error("open", error))

    if root:
        context.out('Added root key at "%s"\n' % path)
    else:
        context.out('Added key for prefix "%s" at "%s"\n' % (prefix, path))
