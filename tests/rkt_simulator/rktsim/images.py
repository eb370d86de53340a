"""Image commands: image list, image rm, image cat-manifest and image gc.

rkt prefixes their errors with the leaf command name ("list:", "rm:", ...).
"""

import os

from rktsim.errors import RktError
from rktsim.formats import binary_size, go_json, go_time, relative_time, tabwriter
from rktsim.pods import all_pods, now_ns
from rktsim.store import Store, is_image_hash, normalise_image_manifest

FIELD_TITLES = {"id": "ID", "name": "NAME", "size": "SIZE", "importtime": "IMPORT TIME", "lastused": "LAST USED"}


def run_command(context):
    if not context.is_root():
        raise RktError("%s: cannot open store: mkdir %s: permission denied"
                       % (context.name, os.path.join(context.data_dir, "cas")))
    handlers = {"image list": _list, "image rm": _rm, "image cat-manifest": _cat_manifest, "image gc": _gc}
    return handlers[context.command.path](context)


def _display_name(entry):
    version = entry.get("labels", {}).get("version")
    return "%s:%s" % (entry["name"], version) if version else entry["name"]


def _list(context):
    store = Store(context.data_dir, "list")
    images = store.images()

    sort_keys = {"name": lambda item: item[1]["name"], "importtime": lambda item: item[1]["import_time"],
                 "lastused": lambda item: item[1]["last_used"], "size": lambda item: item[1]["size"]}
    items = list(images.items())
    for field in reversed(context.flag("sort")):
        items.sort(key=sort_keys[field])
    if context.flag("order") == "desc":
        items.reverse()

    output_format = context.flag("format")
    if output_format:
        objects = [{"id": image_id, "name": _display_name(entry), "import_time": entry["import_time"],
                    "last_used_time": entry["last_used"], "size": entry["size"]} for image_id, entry in items]
        context.out(go_json(objects or None, pretty=output_format == "json-pretty") + "\n")
        return 0

    full = context.flag("full")
    fields = context.flag("fields")
    now = now_ns()
    rows = [] if context.flag("no-legend") else [[FIELD_TITLES[field] for field in fields]]
    for image_id, entry in items:
        cells = {
            "id": image_id if full else image_id[:7 + 12],
            "name": _display_name(entry),
            "size": str(entry["size"]) if full else binary_size(entry["size"]),
            "importtime": go_time(entry["import_time"]) if full else relative_time(entry["import_time"], now),
            "lastused": go_time(entry["last_used"]) if full else relative_time(entry["last_used"], now),
        }
        rows.append([cells[field] for field in fields])
    if not rows:
        # NOTE: assumed to match `rkt list --no-legend` on an empty list.
        context.out("\n")
        return 0
    context.out(tabwriter(rows))
    return 0


def _resolve_for_removal(context, store, references):
    """Return the IDs that REFERENCES name, logging rkt's messages for the unknown ones."""
    found = []
    for reference in references:
        if is_image_hash(reference):
            image_id = store.resolve_id(reference)
            if image_id is None:
                context.err("rm: no image IDs found\n")
                continue
        else:
            image_id = store.resolve_name(reference)
            if image_id is None:
                context.err("rm: %s\n" % store.missing_name_message(reference))
                continue
        if image_id not in found:
            found.append(image_id)
    return found


def _remove_images(context, store, image_ids, prefix):
    for image_id in image_ids:
        store.remove(image_id)
        context.out('successfully removed aci for image: "%s"\n' % image_id)
    if image_ids:
        context.err("%s: %d image(s) successfully removed\n" % (prefix, len(image_ids)))


def _rm(context):
    if not context.args:
        raise RktError("rm: must provide at least one image ID")
    store = Store(context.data_dir, "rm")
    # Unknown references are only logged: image rm exits 0 unless a removal fails.
    _remove_images(context, store, _resolve_for_removal(context, store, context.args), "rm")
    return 0


def _cat_manifest(context):
    if len(context.args) != 1:
        from rktsim.texts import usage_text

        context.out(usage_text("image cat-manifest"))
        return 254
    store = Store(context.data_dir, "cat-manifest")
    image_id = store.find(context.args[0])
    manifest = normalise_image_manifest(store.manifest(image_id))
    context.out(go_json(manifest, pretty=context.flag("pretty-print")) + "\n")
    return 0


def _gc(context):
    store = Store(context.data_dir, "gc")

    # Rendered trees that no pod references go first, whatever the grace period.
    referenced = set()
    for pod in all_pods(context.data_dir):
        if pod.state_dir == "garbage":
            continue
        meta = pod.meta
        image_ids = [app.get("image_id") for app in meta.get("apps", [])] + [meta.get("stage1_id")]
        referenced.update(store.tree_id(image_id) for image_id in image_ids if image_id)
    for tree_id in store.tree_ids():
        if tree_id not in referenced:
            store.remove_tree(tree_id)
            context.err('gc: removed treestore "%s"\n' % tree_id)

    grace = context.flag("grace-period")
    now = now_ns()
    expired = sorted(image_id for image_id, entry in store.images().items()
                     if (now - entry["last_used"]) / 1e9 > grace)
    _remove_images(context, store, expired, "gc")
    return 0
