"""Usage texts of rkt 1.30.0, copied byte for byte from a recorded real rkt.

cobra prints a command's usage on stdout for flag-parse errors, for missing
positional arguments and for `rkt help COMMAND`. The root usage holds a
`{version}` placeholder that `usage_text()` fills from rktsim.version.
"""

GLOBAL_FLAGS = (
    '      --debug[=false]\t\t\tprint out more debug information to stderr\n'
    '      --dir=/var/lib/rkt\t\trkt data directory\n'
    '      --insecure-options=none\t\tcomma-separated list of security features to disable. Allowed values:'
    ' "none", "image", "tls", "ondisk", "http", "pubkey", "capabilities", "paths", "seccomp", "all-fetch"'
    ', "all-run", "all"\n'
    '      --local-config=/etc/rkt\t\tlocal configuration directory\n'
    '      --system-config=/usr/lib/rkt\tsystem configuration directory\n'
    '      --trust-keys-from-https[=false]\tautomatically trust gpg keys fetched from https\n'
    '      --user-config=\t\t\tuser configuration directory\n'
    '\n'
)

# rkt
USAGE_RKT = (
    'NAME:\n'
    '\trkt - rkt, the application container runner\n'
    '\n'
    'USAGE:\n'
    '\trkt [command]\n'
    '\n'
    'VERSION:\n'
    '\t{version}\n'
    '\n'
    'COMMANDS:\n'
    '\tapi-service\t\tRun API service (experimental)\n'
    '\tcat-manifest\t\tInspect and print the pod manifest\n'
    '\tcompletion\t\tOutput shell completion code for the specified shell\n'
    '\tconfig\t\t\tPrint configuration for each stage in JSON format\n'
    '\tenter\t\t\tEnter the namespaces of an app within a rkt pod\n'
    '\texport\t\t\tExport an app from an exited pod to an ACI file\n'
    '\tfetch\t\t\tFetch image(s) and store them in the local store\n'
    '\tgc\t\t\tGarbage collect rkt pods no longer in use\n'
    '\timage cat-manifest\tInspect and print the image manifest\n'
    '\timage export\t\tExport a stored image to an ACI file\n'
    '\timage extract\t\tExtract a stored image to a directory\n'
    '\timage gc\t\tGarbage collect local store\n'
    '\timage list\t\tList images in the local store\n'
    '\timage render\t\tRender a stored image to a directory with all its dependencies\n'
    '\timage rm\t\tRemove one or more images with the given IDs or image names from the local store\n'
    '\timage verify\t\tVerify one or more rendered images in the local store\n'
    '\tlist\t\t\tList pods\n'
    '\tmetadata-service\tRun metadata service\n'
    '\tprepare\t\t\tPrepare to run image(s) in a pod in rkt\n'
    '\trm\t\t\tRemove all files and resources associated with an exited pod\n'
    '\trun\t\t\tRun image(s) in a pod in rkt\n'
    '\trun-prepared\t\tRun a prepared application pod in rkt\n'
    '\tstatus\t\t\tCheck the status of a rkt pod\n'
    '\tstop\t\t\tStop a pod\n'
    '\ttrust\t\t\tTrust a key for image verification\n'
    '\tversion\t\t\tPrint the version and exit\n'
    '\thelp\t\t\tHelp about any command\n'
    '\n'
    'DESCRIPTION:\n'
    '\tA CLI for running app containers on Linux.\n'
    '\t\n'
    '\tTo get the help on any specific command, run "rkt help command".\n'
    '\n'
)

# fetch
USAGE_FETCH = (
    'NAME:\n'
    '\tfetch - Fetch image(s) and store them in the local store\n'
    '\n'
    'USAGE:\n'
    '\trkt fetch IMAGE_URL...\n'
    '\n'
    'DESCRIPTION:\n'
    '\tLocates and downloads remote ACIs and their attached signatures.\n'
    '\t\n'
    '\tIf the ACI is available in the local store, the image will not be fetched\n'
    '\tagain.\n'
    '\n'
    'OPTIONS:\n'
    '      --full[=false]\t\tprint the full image hash after fetching\n'
    '      --pull-policy="update"\twhen to pull an image\n'
    '      --signature=\t\tlocal signature file to use in validating the preceding image\n'
    '\n'
)

# trust
USAGE_TRUST = (
    'NAME:\n'
    '\ttrust - Trust a key for image verification\n'
    '\n'
    'USAGE:\n'
    '\trkt trust [--prefix=PREFIX] [--insecure-allow-http] [--skip-fingerprint-review] [--root] [PUBKEY ...]\n'
    '\n'
    'DESCRIPTION:\n'
    '\tAdds keys to the local keystore for use in verifying signed images.\n'
    '\t\n'
    '\tPUBKEY may be either a local file or URL.\n'
    '\t\n'
    '\tPREFIX scopes the applicability of PUBKEY to image names sharing PREFIX.\n'
    '\t\n'
    '\tMeta discovery of PUBKEY at PREFIX will be attempted if no PUBKEY is specified.\n'
    '\t\n'
    '\tTo trust a key for all images instead of for specific images, --root can be\n'
    '\tspecified. Path to a key file must be given (no discovery).\n'
    '\n'
    'OPTIONS:\n'
    '      --insecure-allow-http[=false]\tallow HTTP use for key discovery and/or retrieval\n'
    '      --prefix=""\t\t\tprefix to limit trust to\n'
    '      --root[=false]\t\t\tadd root key from filesystem without a prefix\n'
    '      --skip-fingerprint-review[=false]\taccept key without fingerprint confirmation\n'
    '\n'
)

# run
USAGE_RUN = (
    'NAME:\n'
    '\trun - Run image(s) in a pod in rkt\n'
    '\n'
    'USAGE:\n'
    '\trkt run [--volume=name,kind=host,...] [--mount volume=VOL,target=PATH] IMAGE [-- image-args...[---]]...\n'
    '\n'
    'DESCRIPTION:\n'
    '\tIMAGE should be a string referencing an image; either a hash, local file on\n'
    '\tdisk, or URL. They will be checked in that order and the first match will be\n'
    '\tused.\n'
    '\t\n'
    '\tVolumes are made available to the container via --volume. Mounts bind volumes\n'
    "\tinto each image's root within the container via --mount. --mount is\n"
    '\tposition-sensitive; occurring before any images applies to all images, occurring\n'
    '\tafter any images applies only to the nearest preceding image. Per-app mounts\n'
    '\ttake precedence over global ones if they have the same path.\n'
    '\t\n'
    '\tAn "--" may be used to inhibit rkt run\'s parsing of subsequent arguments, which\n'
    "\twill instead be appended to the preceding image app's exec arguments. End the\n"
    '\timage arguments with a lone "---" to resume argument parsing.\n'
    '\n'
    'OPTIONS:\n'
    "      --annotation=\t\tset the app's annotations (example: '--annotation=foo=bar')\n"
    "      --caps-remove=\t\tcapability to remove (example: '--caps-remove=CAP_MKNOD')\n"
    "      --caps-retain=\t\tcapability to retain (example: '--caps-retain=CAP_SYS_ADMIN')\n"
    "      --cpu=\t\t\tcpu limit for the preceding image (example: '--cpu=500m')\n"
    "      --cpu-shares=\t\tcpu-shares assigns the specified CPU time share weight (example: '--cpu-shares=2048')\n"
    "      --dns=\t\t\tname servers to write in /etc/resolv.conf. Pass 'host' to use host's resolv.conf. Pass 'none' to ignore CNI DNS config\n"
    '      --dns-domain=""\t\tDNS domain to write in /etc/resolv.conf\n'
    '      --dns-opt=\t\tDNS options to write in /etc/resolv.conf\n'
    '      --dns-search=\t\tDNS search domains to write in /etc/resolv.conf\n'
    "      --environment=\t\tset the app's environment variables (example: '--environment=foo=bar')\n"
    '      --exec=\t\t\toverride the exec command for the preceding image\n'
    "      --group=\t\t\tgroup override for the preceding image (example: '--group=group')\n"
    '      --hostname=""\t\tpod\'s hostname. If empty, it will be "rkt-$PODUUID"\n'
    "      --hosts-entry=\t\tEntries to add to the pod-wide /etc/hosts. Pass 'host' to use the host's /etc/hosts\n"
    '      --inherit-env[=false]\tinherit all environment variables not set by apps\n'
    '      --interactive[=false]\trun pod interactively. If true, only one image may be supplied.\n'
    '      --ipc=""\t\t\twhether to stay in the host IPC namespace. Syntax: --ipc=[auto|private|parent]\n'
    '      --mds-register[=false]\tregister pod with metadata service. needs network connectivity to the h'
    'ost (--net=(default|default-restricted|host)\n'
    "      --memory=\t\t\tmemory limit for the preceding image (example: '--memory=16Mi', '--memory=50M', '--memory=1G')\n"
    '      --mount=\t\t\tmount point binding a volume to a path within an app\n'
    "      --name=\t\t\tset the name of the app (example: '--name=foo'). If not set, then the app name default to the image's name\n"
    "      --net[=default]\t\tconfigure the pod's networking. Optionally, pass a list of user-configured ne"
    'tworks to load and set arguments to pass to each network, respectively. Syntax: --net[=n[:args], ...'
    ']\n'
    '      --no-overlay[=false]\tdisable overlay filesystem\n'
    '      --oom-score-adj=\t\toom-score-adj isolator override\n'
    '      --pod-manifest=""\t\tthe path to the pod manifest. If it\'s non-empty, then only \'--net\', \'--no-o'
    "verlay' and '--interactive' will have effect\n"
    '      --port=\t\t\tports to expose on the host (requires contained network). Syntax: --port=NAME:[HOSTIP:]HOSTPORT\n'
    '      --private-users[=false]\trun within user namespaces.\n'
    '      --pull-policy="new"\twhen to pull an image\n'
    "      --readonly-rootfs=\tif set, the app's rootfs will be mounted read-only\n"
    "      --seccomp=\t\tseccomp filter override (example: '--seccomp mode=retain,errno=EPERM,chmod,chown')\n"
    '      --set-env=\t\tenvironment variable to set for all the apps in the form key=value, this will be overridden by --environment\n'
    '      --set-env-file=\t\tpath to an environment variables file\n'
    '      --signature=\t\tlocal signature file to use in validating the preceding image\n'
    '      --stage1-from-dir=\tfilename of an image in stage1 images directory to use as stage1\n'
    '      --stage1-hash=\t\thash of an image to use as stage1\n'
    '      --stage1-name=\t\tname of an image to use as stage1\n'
    '      --stage1-path=\t\tabsolute or relative path to an image to use as stage1\n'
    '      --stage1-url=\t\tURL to an image to use as stage1\n'
    "      --supplementary-gids=\tsupplementary group IDs override for the preceding image (examples: '--supplementary-gids=1024,2048'\n"
    "      --user=\t\t\tuser override for the preceding image (example: '--user=user')\n"
    "      --user-annotation=\tset the app's annotations (example: '--user-annotation=foo=bar')\n"
    "      --user-label=\t\tset the app's labels (example: '--user-label=foo=bar')\n"
    '      --uuid-file-save=""\twrite out pod UUID to specified file\n'
    '      --volume=\t\t\tvolumes to make available in the pod\n'
    '      --working-dir=\t\toverride the working directory of the preceding image\n'
    '\n'
)

# prepare
USAGE_PREPARE = (
    'NAME:\n'
    '\tprepare - Prepare to run image(s) in a pod in rkt\n'
    '\n'
    'USAGE:\n'
    '\trkt prepare [--volume=name,kind=host,...] [--mount volume=VOL,target=PATH] [--quiet] IMAGE [-- image-args...[---]]...\n'
    '\n'
    'DESCRIPTION:\n'
    '\tPrepares the pod and returns its UUID for a subsequent call to run-prepared.\n'
    '\t\n'
    '\tPrepare is useful to get the UUID of the pod before running or when preparing\n'
    '\ttakes a long time.\n'
    '\t\n'
    '\tIMAGE should be a string referencing an image; either a hash, local file on\n'
    '\tdisk, or URL. They will be checked in that order and the first match will be\n'
    '\tused.\n'
    '\t\n'
    '\tAn "--" may be used to inhibit rkt prepare\'s parsing of subsequent arguments,\n'
    "\twhich will instead be appended to the preceding image app's exec arguments. End\n"
    '\tthe image arguments with a lone "---" to resume argument parsing.\n'
    '\n'
    'OPTIONS:\n'
    "      --annotation=\t\tset the app's annotations (example: '--annotation=foo=bar')\n"
    "      --caps-remove=\t\tcapability to remove (example: '--caps-remove=CAP_MKNOD')\n"
    "      --caps-retain=\t\tcapability to retain (example: '--caps-retain=CAP_SYS_ADMIN')\n"
    "      --cpu=\t\t\tcpu limit for the preceding image (example: '--cpu=500m')\n"
    "      --cpu-shares=\t\tcpu-shares assigns the specified CPU time share weight (example: '--cpu-shares=2048')\n"
    "      --environment=\t\tset the app's environment variables (example: '--environment=foo=bar')\n"
    '      --exec=\t\t\toverride the exec command for the preceding image\n'
    "      --group=\t\t\tgroup override for the preceding image (example: '--group=group')\n"
    '      --inherit-env[=false]\tinherit all environment variables not set by apps\n'
    "      --memory=\t\t\tmemory limit for the preceding image (example: '--memory=16Mi', '--memory=50M', '--memory=1G')\n"
    '      --mount=\t\t\tmount point binding a volume to a path within an app\n'
    "      --name=\t\t\tset the name of the app (example: '--name=foo'). If not set, then the app name default to the image's name\n"
    '      --no-overlay[=false]\tdisable overlay filesystem\n'
    '      --oom-score-adj=\t\toom-score-adj isolator override\n'
    '      --pod-manifest=""\t\tthe path to the pod manifest. If it\'s non-empty, then only \'--quiet\' and \'--no-overlay\' will have effect\n'
    '      --port=\t\t\tports to expose on the host (requires contained network). Syntax: --port=NAME:HOSTPORT\n'
    '      --private-users[=false]\trun within user namespaces.\n'
    '      --pull-policy="new"\twhen to pull an image\n'
    '      --quiet[=false]\t\tsuppress superfluous output on stdout, print only the UUID on success\n'
    "      --readonly-rootfs=\tif set, the app's rootfs will be mounted read-only\n"
    "      --seccomp=\t\tseccomp filter override (example: '--seccomp mode=retain,errno=EPERM,chmod,chown')\n"
    '      --set-env=\t\tenvironment variable to set for all the apps in the form key=value, this will be overridden by --environment\n'
    '      --set-env-file=\t\tthe path to an environment variables file\n'
    '      --signature=\t\tlocal signature file to use in validating the preceding image\n'
    '      --stage1-from-dir=\tfilename of an image in stage1 images directory to use as stage1\n'
    '      --stage1-hash=\t\thash of an image to use as stage1\n'
    '      --stage1-name=\t\tname of an image to use as stage1\n'
    '      --stage1-path=\t\tabsolute or relative path to an image to use as stage1\n'
    '      --stage1-url=\t\tURL to an image to use as stage1\n'
    "      --supplementary-gids=\tsupplementary group IDs override for the preceding image (examples: '--supplementary-gids=1024,2048'\n"
    "      --user=\t\t\tuser override for the preceding image (example: '--user=user')\n"
    "      --user-annotation=\tset the app's annotations (example: '--user-annotation=foo=bar')\n"
    "      --user-label=\t\tset the app's labels (example: '--user-label=foo=bar')\n"
    '      --volume=\t\t\tvolumes to make available in the pod\n'
    '      --working-dir=\t\toverride the working directory of the preceding image\n'
    '\n'
)

# list
USAGE_LIST = (
    'NAME:\n'
    '\tlist - List pods\n'
    '\n'
    'USAGE:\n'
    '\trkt list\n'
    '\n'
    'DESCRIPTION:\n'
    '\tDisplays a table of information about the pods.\n'
    '\n'
    'OPTIONS:\n'
    "      --format=\t\t\tchoose the output format, allowed format includes 'json', 'json-pretty'. If empty,"
    ' then the result is printed as key value pairs\n'
    '      --full[=false]\t\tuse long output format\n'
    '      --no-legend[=false]\tsuppress a legend with the list\n'
    '\n'
)

# status
USAGE_STATUS = (
    'NAME:\n'
    '\tstatus - Check the status of a rkt pod\n'
    '\n'
    'USAGE:\n'
    '\trkt status [--wait=bool|timeout] [--wait-ready=bool|timeout] --uuid-file=FILE | UUID\n'
    '\n'
    'DESCRIPTION:\n'
    '\tPrints assorted information about the pod such as its state, pid and exit status.\n'
    '\t\n'
    "\tThe --wait and --wait-ready flags accept boolean or timeout values. If set to true, wait indefinitely. If set to false, don't wait at all.\n"
    "\tThey can also be set to a duration. If the duration is less than zero, wait indefinitely. If the duration is zero, don't wait at all.\n"
    '\n'
    'OPTIONS:\n'
    "      --format=\t\t\tchoose the output format. Allowed format includes 'json', 'json-pretty'. If empty,"
    ' then the result is printed as key value pairs\n'
    '      --uuid-file=""\t\tread pod UUID from file instead of argument\n'
    '      --wait[="false"]\t\ttoggles waiting for the pod to finish. Use the output to determine the actual terminal state.\n'
    '      --wait-ready[="false"]\ttoggles waiting until the pod is ready.\n'
    '\n'
)

# stop
USAGE_STOP = (
    'NAME:\n'
    '\tstop - Stop a pod\n'
    '\n'
    'USAGE:\n'
    '\trkt stop --uuid-file=FILE | UUID ...\n'
    '\n'
    'OPTIONS:\n'
    '      --force[=false]\tforced stopping\n'
    '      --uuid-file=""\tread pod UUID from file instead of argument\n'
    '\n'
)

# rm
USAGE_RM = (
    'NAME:\n'
    '\trm - Remove all files and resources associated with an exited pod\n'
    '\n'
    'USAGE:\n'
    '\trkt rm --uuid-file=FILE | UUID ...\n'
    '\n'
    'DESCRIPTION:\n'
    '\tUnlike gc, rm allows users to remove specific pods.\n'
    '\n'
    'OPTIONS:\n'
    '      --uuid-file=""\tread pod UUID from file instead of argument\n'
    '\n'
)

# gc
USAGE_GC = (
    'NAME:\n'
    '\tgc - Garbage collect rkt pods no longer in use\n'
    '\n'
    'USAGE:\n'
    '\trkt gc [--grace-period=duration] [--expire-prepared=duration]\n'
    '\n'
    'DESCRIPTION:\n'
    '\tThis is intended to be run periodically from a timer or cron job.\n'
    '\t\n'
    '\tGarbage collection is a 2-step process. First, stopped pods are moved to the\n'
    '\tgarbage by one invocation of the gc command. A subsequent invocation will clean\n'
    '\tup the pod, assuming the pod has been in the garbage for more time than the\n'
    '\tspecified grace period.\n'
    '\t\n'
    '\tUse --grace-period=0s to effectively disable the grace-period.\n'
    '\n'
    'OPTIONS:\n'
    '      --expire-prepared=24h0m0s\tduration to wait before expiring prepared pods\n'
    '      --grace-period=30m0s\tduration to wait before discarding inactive pods from garbage\n'
    '      --mark-only[=false]\tif set to true, then the exited/aborted pods will be moved to the garbage '
    'directories without actually deleting them, this is useful for marking the exit time of a pod\n'
    '\n'
)

# image list
USAGE_IMAGE_LIST = (
    'NAME:\n'
    '\timage list - List images in the local store\n'
    '\n'
    'USAGE:\n'
    '\trkt image list\n'
    '\n'
    'DESCRIPTION:\n'
    '\tOptionally, allows the user to specify the fields and sort order.\n'
    '\n'
    'OPTIONS:\n'
    '      --fields=id,name,size,importtime,lastused\tcomma-separated list of fields to display. Accepted '
    'values: "id", "name", "size", "importtime", "lastused"\n'
    "      --format=\t\t\t\t\tchoose the output format, allowed format includes 'json', 'json-pretty'. If empt"
    'y, then the result is printed as key value pairs\n'
    '      --full[=false]\t\t\t\tuse long output format\n'
    '      --no-legend[=false]\t\t\tsuppress a legend with the list\n'
    '      --order=asc\t\t\t\tchoose the sorting order if at least one sort field is provided (--sort). Accepted values: "asc", "desc"\n'
    '      --sort=importtime\t\t\t\tsort the output according to the provided comma-separated list of fields.'
    ' Accepted values: "name", "importtime", "lastused", "size"\n'
    '\n'
)


# NOTE: the usages below were not recorded; they follow the recorded template
# and the command and flag descriptions of rkt's documentation
# (docs/subcommands/*.md).
USAGE_CAT_MANIFEST = (
    'NAME:\n'
    '\tcat-manifest - Inspect and print the pod manifest\n'
    '\n'
    'USAGE:\n'
    '\trkt cat-manifest --uuid-file=FILE | UUID\n'
    '\n'
    'DESCRIPTION:\n'
    '\tUUID should be the UUID of a pod\n'
    '\n'
    'OPTIONS:\n'
    '      --pretty-print[=true]\tapply indent to format the output\n'
    '      --uuid-file=""\t\tread pod UUID from file instead of argument\n'
    '\n'
)

USAGE_RUN_PREPARED = (
    'NAME:\n'
    '\trun-prepared - Run a prepared application pod in rkt\n'
    '\n'
    'USAGE:\n'
    '\trkt run-prepared UUID\n'
    '\n'
    'DESCRIPTION:\n'
    '\tUUID must have been acquired via `rkt prepare`\n'
    '\n'
    'OPTIONS:\n'
    '      --dns=\t\t\tname servers to write in /etc/resolv.conf\n'
    '      --dns-domain=""\t\tDNS domain to write in /etc/resolv.conf\n'
    '      --dns-opt=\t\tDNS options to write in /etc/resolv.conf\n'
    '      --dns-search=\t\tDNS search domains to write in /etc/resolv.conf\n'
    '      --hostname=""\t\tpod\'s hostname. If empty, it will be "rkt-$PODUUID"\n'
    '      --hosts-entry=\t\tEntries to add to the pod-wide /etc/hosts. Pass \'host\' to use the host\'s /etc/hosts\n'
    '      --interactive[=false]\trun pod interactively\n'
    '      --ipc=""\t\t\twhether to stay in the host IPC namespace. Syntax: --ipc=[auto|private|parent]\n'
    '      --mds-register[=false]\tregister pod with metadata service\n'
    "      --net[=default]\t\tconfigure the pod's networking. Optionally, pass a list of user-configured ne"
    'tworks to load and set arguments to pass to each network, respectively. Syntax: --net[=n[:args], ...'
    ']\n'
    '\n'
)

USAGE_IMAGE_RM = (
    'NAME:\n'
    '\timage rm - Remove one or more images with the given IDs or image names from the local store\n'
    '\n'
    'USAGE:\n'
    '\trkt image rm IMAGE...\n'
    '\n'
    'DESCRIPTION:\n'
    '\tUnlike image gc, image rm allows users to remove specific images.\n'
    '\n'
)

USAGE_IMAGE_CAT_MANIFEST = (
    'NAME:\n'
    '\timage cat-manifest - Inspect and print the image manifest\n'
    '\n'
    'USAGE:\n'
    '\trkt image cat-manifest IMAGE\n'
    '\n'
    'DESCRIPTION:\n'
    '\tIMAGE should be a string referencing an image; either an ID or an image name.\n'
    '\n'
    'OPTIONS:\n'
    '      --pretty-print[=true]\tapply indent to format the output\n'
    '\n'
)

USAGE_IMAGE_GC = (
    'NAME:\n'
    '\timage gc - Garbage collect local store\n'
    '\n'
    'USAGE:\n'
    '\trkt image gc [--grace-period=duration]\n'
    '\n'
    'OPTIONS:\n'
    '      --grace-period=24h0m0s\tduration to wait since an image was last used before removing it\n'
    '\n'
)

USAGE_IMAGE = (
    'NAME:\n'
    '\timage - Operate on image(s) in the local store\n'
    '\n'
    'USAGE:\n'
    '\trkt image [command]\n'
    '\n'
)

USAGE_CONFIG = (
    'NAME:\n'
    '\tconfig - Print configuration for each stage in JSON format\n'
    '\n'
    'USAGE:\n'
    '\trkt config\n'
    '\n'
)

USAGE_VERSION = (
    'NAME:\n'
    '\tversion - Print the version and exit\n'
    '\n'
    'USAGE:\n'
    '\trkt version\n'
    '\n'
)

USAGE_HELP = (
    'NAME:\n'
    '\thelp - Help about any command\n'
    '\n'
    'USAGE:\n'
    '\trkt help [command]\n'
    '\n'
)

USAGES = {
    "rkt": USAGE_RKT,
    "fetch": USAGE_FETCH,
    "trust": USAGE_TRUST,
    "run": USAGE_RUN,
    "prepare": USAGE_PREPARE,
    "list": USAGE_LIST,
    "status": USAGE_STATUS,
    "stop": USAGE_STOP,
    "rm": USAGE_RM,
    "gc": USAGE_GC,
    "image list": USAGE_IMAGE_LIST,
    "cat-manifest": USAGE_CAT_MANIFEST,
    "run-prepared": USAGE_RUN_PREPARED,
    "image rm": USAGE_IMAGE_RM,
    "image cat-manifest": USAGE_IMAGE_CAT_MANIFEST,
    "image gc": USAGE_IMAGE_GC,
    "image": USAGE_IMAGE,
    "config": USAGE_CONFIG,
    "version": USAGE_VERSION,
    "help": USAGE_HELP,
}


def usage_text(command):
    """Return the full usage text of COMMAND ("rkt" for the root command)."""
    from rktsim.version import RKT_VERSION

    body = USAGES[command]
    if command == "rkt":
        return body.replace("{version}", RKT_VERSION) + "OPTIONS:\n" + GLOBAL_FLAGS
    return body + "GLOBAL OPTIONS:\n" + GLOBAL_FLAGS
