"""appc meta discovery over http: `?ac-discovery=1` pages with <meta> tags.

For a name "host/a/b" rkt requests http(s)://host/a/b?ac-discovery=1, then
the parent prefixes host/a and host, and uses the first page whose
`ac-discovery-pubkeys` (keys) or `ac-discovery` (image URL templates) meta
tags have a prefix that the name starts with.
"""

import re

from rktsim.httpget import FetchError, get

META_PATTERN = re.compile(r"<meta\s+([^>]*)>", re.IGNORECASE)
ATTRIBUTE_PATTERN = re.compile(r'(\w[\w-]*)\s*=\s*"([^"]*)"')


class DiscoveryError(Exception):
    """Discovery found nothing; DEBUG_LINES explain each failed prefix for --debug."""

    def __init__(self, debug_lines):
        super().__init__("discovery failed")
        self.debug_lines = debug_lines


def meta_tags(html, tag_name):
    """Return the content attributes of the <meta name=TAG_NAME> tags in HTML."""
    contents = []
    for match in META_PATTERN.finditer(html):
        attributes = dict(ATTRIBUTE_PATTERN.findall(match.group(1)))
        if attributes.get("name") == tag_name and "content" in attributes:
            contents.append(attributes["content"])
    return contents


def discover(name, tag_name, allow_http, log_prefix):
    """Return [(prefix, value)] from the first page with matching TAG_NAME meta tags.

    Without ALLOW_HTTP only https is tried, which the simulator never
    serves. Raises DiscoveryError.
    """
    parts = name.split("/")
    debug_lines = []
    for end in range(len(parts), 0, -1):
        prefix = "/".join(parts[:end])
        if not allow_http:
            url = "https://%s?ac-discovery=1" % prefix
        else:
            url = "http://%s?ac-discovery=1" % prefix
        try:
            response = get(url)
        except FetchError as error:
            debug_lines.append("%s: meta tag '%s' not found on %s\n  \u2514\u2500%s" % (log_prefix, tag_name, prefix, error))
            continue
        if response.status != 200:
            debug_lines.append("%s: meta tag '%s' not found on %s\n  \u2514\u2500expected a 200 OK got %d"
                               % (log_prefix, tag_name, prefix, response.status))
            continue
        found = []
        for content in meta_tags(response.body.decode("utf-8", "replace"), tag_name):
            fields = content.split()
            if len(fields) >= 2 and name.startswith(fields[0]):
                found.append((fields[0], " ".join(fields[1:])))
        if found:
            return found
    raise DiscoveryError(debug_lines)
