"""appc identifiers and app strings, checked as rkt 1.30.0 checks them.

rkt validates trust prefixes and image names as appc ACIdentifiers (appc spec
schema/types/acidentifier.go): lower-case letters, digits and "-._~/", with a
letter or digit at both ends. A host with a port ("127.0.0.1:8080/hello") is
therefore no valid prefix or image name.

Image names and discovery prefixes are first parsed as appc "app strings"
(appc spec discovery/parse.go, NewAppFromString): "name[:version][,label=value]...",
where the first colon starts the version label.
"""

import re

# The checks of ACIdentifier.assertValid, in its order. Note that they do
# not reject two separators in a row ("a..b"), which the spec's regular
# expression ^[a-z0-9]+([-._~/][a-z0-9]+)*$ does.
INVALID_CHARACTERS = re.compile(r"[^a-z0-9\-._~/]")
INVALID_EDGES = re.compile(r"(^[\-._~/]+)|([\-._~/]+$)")

EMPTY_IDENTIFIER = "ACIdentifier cannot be empty"
INVALID_EDGE = "ACIdentifier must start and end with only lower case alphanumeric characters"
INVALID_CHARACTER = 'ACIdentifier must contain only lower case alphanumeric characters plus "-._~/"'

# Go's net/url: a scheme is a letter followed by letters, digits, "+", "-"
# or "." and ends at the first colon.
URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def acidentifier_error(value):
    """Return the appc error message for VALUE, or None when it is a valid ACIdentifier."""
    if not value:
        return EMPTY_IDENTIFIER
    if INVALID_CHARACTERS.search(value):
        return INVALID_CHARACTER
    if INVALID_EDGES.search(value):
        return INVALID_EDGE
    return None


def parse_app_string(app):
    """Split an appc app string into (name, labels) like appc's NewAppFromString.

    Raises ValueError with appc's message when the string is malformed or the
    name or a label key is no valid ACIdentifier.
    """
    first_comma = app.find(",")
    first_colon = app.find(":")
    if first_colon > first_comma > -1:
        raise ValueError("malformed app string - colon may appear only right after the app name")
    if app.count(":") > 1:
        raise ValueError("malformed app string - colon may appear at most once")

    query = "name=" + app.replace(":", ",version=", 1)
    values = {}
    for part in query.split(","):
        if "=" not in part:
            raise ValueError("malformed app string - has a label without a value: %s" % part)
        key, value = part.split("=", 1)
        values.setdefault(key, []).append(value)

    labels = {}
    for key, found in values.items():
        if len(found) > 1:
            raise ValueError("label %s with multiple values %s" % (key, go_quoted_list(found)))
        if key == "name":
            continue
        error = acidentifier_error(key)
        if error:
            raise ValueError(error)
        labels[key] = found[0]

    name = values["name"][0]
    error = acidentifier_error(name)
    if error:
        raise ValueError(error)
    return name, labels


def go_quoted_list(items):
    """Format a list of strings as Go's %q does: ["a" "b"]."""
    return "[%s]" % " ".join('"%s"' % item.replace("\\", "\\\\").replace('"', '\\"') for item in items)


def image_name_error(reference):
    """Return rkt's error text for an image name it cannot parse, or None.

    rkt 1.30.0 first parses an image string as a URL (Go's net/url). Without
    a scheme, a colon in the first path segment is a URL error; a string that
    starts with a letter and has a colon ("localhost:8080/x") parses as a URL
    whose scheme is the host, and rkt then reads it as an app string.
    """
    if not URL_SCHEME.match(reference):
        first_segment = reference.split("/", 1)[0]
        if ":" in first_segment:
            return 'parse "%s": first path segment in URL cannot contain colon' % reference
    try:
        parse_app_string(reference)
    except ValueError as error:
        return 'invalid appc image string "%s": %s' % (reference, error)
    return None
